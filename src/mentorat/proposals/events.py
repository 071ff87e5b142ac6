"""What clients are told about proposals (the event outbox), in the change's transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.events.outbox import NewEvent, emit
from mentorat.models import Mentor, Mentorship, Proposal


async def emit_proposal_event(
    session: AsyncSession,
    event_type: str,
    proposal: Proposal,
    mentorship: Mentorship | None = None,
) -> None:
    """Ids, status and codes only; the mentor's association is the event's association."""
    association_id = await session.scalar(
        select(Mentor.association_id).where(Mentor.id == proposal.mentor_id)
    )
    data = {
        "proposal_id": str(proposal.id),
        "run_id": str(proposal.run_id) if proposal.run_id is not None else None,
        "child_id": str(proposal.child_id),
        "mentor_id": str(proposal.mentor_id),
        "association_id": str(association_id) if association_id is not None else None,
        "departement_code": proposal.departement_code,
        "status": proposal.status,
        "mentorship_id": str(mentorship.id) if mentorship is not None else None,
    }
    await emit(
        session,
        [
            NewEvent(
                type=event_type,
                entity_type="proposal",
                entity_id=proposal.id,
                departement_code=proposal.departement_code,
                association_id=association_id,
                data=data,
            )
        ],
    )
