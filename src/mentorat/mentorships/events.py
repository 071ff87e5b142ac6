"""What clients are told about mentorships (the event outbox), in the change's transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.events.outbox import emit_about_pair
from mentorat.models import Mentorship


async def emit_mentorship_event(
    session: AsyncSession, event_type: str, mentorship: Mentorship
) -> None:
    """Ids, state and codes only (the end reason is a code)."""
    await emit_about_pair(
        session,
        event_type,
        entity_type="mentorship",
        entity_id=mentorship.id,
        departement_code=mentorship.departement_code,
        mentor_id=mentorship.mentor_id,
        data={
            "mentorship_id": str(mentorship.id),
            "proposal_id": str(mentorship.proposal_id) if mentorship.proposal_id else None,
            "child_id": str(mentorship.child_id),
            "mentor_id": str(mentorship.mentor_id),
            "state": mentorship.state,
            "end_reason": mentorship.end_reason,
        },
    )
