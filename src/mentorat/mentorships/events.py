"""What clients are told about mentorships (the event outbox), in the change's transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.events.outbox import NewEvent, emit
from mentorat.models import Mentor, Mentorship


async def emit_mentorship_event(
    session: AsyncSession, event_type: str, mentorship: Mentorship
) -> None:
    """Ids, state and codes only (the end reason is a code); the mentor's association is the
    event's association."""
    association_id = await session.scalar(
        select(Mentor.association_id).where(Mentor.id == mentorship.mentor_id)
    )
    data = {
        "mentorship_id": str(mentorship.id),
        "proposal_id": str(mentorship.proposal_id) if mentorship.proposal_id else None,
        "child_id": str(mentorship.child_id),
        "mentor_id": str(mentorship.mentor_id),
        "association_id": str(association_id) if association_id is not None else None,
        "departement_code": mentorship.departement_code,
        "state": mentorship.state,
        "end_reason": mentorship.end_reason,
    }
    await emit(
        session,
        [
            NewEvent(
                type=event_type,
                entity_type="mentorship",
                entity_id=mentorship.id,
                departement_code=mentorship.departement_code,
                association_id=association_id,
                data=data,
            )
        ],
    )
