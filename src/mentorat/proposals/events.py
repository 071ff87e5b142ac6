"""What clients are told about proposals (the event outbox), in the change's transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.events.outbox import emit_about_pair
from mentorat.models import Mentorship, Proposal


async def emit_proposal_event(
    session: AsyncSession,
    event_type: str,
    proposal: Proposal,
    mentorship: Mentorship | None = None,
) -> None:
    """Ids, status and codes only; `mentorship_id` once the pair became a mentorship."""
    await emit_about_pair(
        session,
        event_type,
        entity_type="proposal",
        entity_id=proposal.id,
        departement_code=proposal.departement_code,
        mentor_id=proposal.mentor_id,
        data={
            "proposal_id": str(proposal.id),
            "run_id": str(proposal.run_id) if proposal.run_id is not None else None,
            "child_id": str(proposal.child_id),
            "mentor_id": str(proposal.mentor_id),
            "status": proposal.status,
            "mentorship_id": str(mentorship.id) if mentorship is not None else None,
        },
    )
