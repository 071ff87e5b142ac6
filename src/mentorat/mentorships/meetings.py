"""Meetings (check-ins) between mentor and child."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import record
from mentorat.auth.principal import Principal
from mentorat.errors import Conflict, InvalidInput
from mentorat.kit.clock import local_date, today_in
from mentorat.kit.pagination import paginate
from mentorat.kit.repository import flush
from mentorat.mentorships import repository
from mentorat.mentorships.service import apply_transition
from mentorat.models import Child, Meeting


async def create_meeting(
    session: AsyncSession, principal: Principal, mentorship_id: uuid.UUID, values: dict[str, Any]
) -> Meeting:
    """A first meeting makes an accepted mentorship active. A meeting held before the
    mentorship was recorded here (entered after the fact) needs the backfill flag, and only
    such a meeting takes it."""
    mentorship = await repository.get_scoped(session, principal, mentorship_id, for_update=True)
    if mentorship.state == "ended":
        raise Conflict("The mentorship has ended.")
    held_on: date = values["held_on"]
    if held_on > today_in(mentorship.departement_code):
        raise InvalidInput("A meeting cannot be in the future.", field=("body", "held_on"))
    recorded_on = local_date(mentorship.created_at, mentorship.departement_code)
    if held_on < recorded_on and not values["backfill"]:
        raise InvalidInput(
            f"A meeting cannot predate the mentorship (recorded on {recorded_on}); one held "
            "before it was recorded here is entered with backfill: true.",
            field=("body", "held_on"),
        )
    if held_on >= recorded_on and values["backfill"]:
        raise InvalidInput(
            f"Only a meeting held before the mentorship was recorded (on {recorded_on}) is a "
            "backfill; enter this one without the flag.",
            field=("body", "backfill"),
        )
    if values["backfill"]:
        born_on = await session.scalar(
            select(Child.birth_date).where(Child.id == mentorship.child_id)
        )
        if born_on is not None and held_on < born_on:
            raise InvalidInput(
                "A meeting cannot predate the child's birth.", field=("body", "held_on")
            )
    meeting = Meeting(
        mentorship_id=mentorship.id,
        entered_by_id=principal.id,
        entered_by_name=principal.name,
        **values,
    )
    session.add(meeting)
    await flush(session)
    if mentorship.state == "accepted":
        await apply_transition(
            session, principal, mentorship, "active", reason=None, note="first meeting held"
        )
    await record(
        session, principal, "create", "meeting", [meeting.id],
        departement_code=mentorship.departement_code,
        details={"backfill": True, "held_on": held_on.isoformat()} if meeting.backfill else None,
    )  # fmt: skip
    return meeting


async def list_meetings(
    session: AsyncSession,
    principal: Principal,
    mentorship_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Meeting], str | None]:
    mentorship = await repository.read_scoped(session, principal, mentorship_id, via="meetings")
    statement = select(Meeting).where(Meeting.mentorship_id == mentorship.id)
    return await paginate(
        session, statement, [Meeting.held_on, Meeting.id], limit=limit, cursor=cursor,
        scope="meetings", filters={"mentorship": mentorship.id},
    )  # fmt: skip
