"""The daily reminders, written to the events outbox in one transaction.

- `mentorship.needs_attention`: a live mentorship that has started needing attention, with its
  reasons; told again only when its reasons change (a new one, or one gone while others
  stay), or after it stopped needing attention and starts again.
- `honorability.expiring`: a mentor whose honorability check expires within 30 days; once per
  mentor and expiry date. One event for the association's side, and one for each
  département where the mentor has a live mentorship.
- `assessment.due`: a child whose assessment (first or yearly) is due within the legal-duty
  window (60 days) or late, per the situation's derivation; once per child and due date.

`reminder_sent` remembers what was told. Each kind is one statement: the records concerned
now, the reminders not yet sent among them (inserted, a conflict meaning told already), and
for attention the mentorships to forget; then their events are written, all in one
transaction. Running the day twice, even at the same time, tells nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import CTE, Row, Text, cast, delete, exists, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from mentorat.events.outbox import NewEvent, emit
from mentorat.kit.clock import today_in
from mentorat.kit.db import Database
from mentorat.mentorships.attention import with_attention
from mentorat.models import Child, Mentor, Mentorship, ReminderSent
from mentorat.models.mentorship import LIVE_MENTORSHIP_STATES
from mentorat.situation.derivation import DUE_WINDOW_DAYS, with_situation

NEEDS_ATTENTION = "mentorship.needs_attention"
HONORABILITY_EXPIRING = "honorability.expiring"
ASSESSMENT_DUE = "assessment.due"
HONORABILITY_WINDOW_DAYS = 30
ASSESSMENT_ACTIONS = ("assess", "renew_assessment")


@dataclass(frozen=True, slots=True)
class DailyReminders:
    """What one day's run told: the records each kind of event was emitted for."""

    needs_attention: int
    honorability_expiring: int
    assessment_due: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


async def send_daily_reminders(database: Database, *, today: date | None = None) -> DailyReminders:
    """Emit the day's reminders in one transaction. `today` defaults to each record's local
    day (the metropole's for mentors, who belong to no département)."""
    async with database.sessionmaker() as session:
        attention = await _needs_attention(session, today)
        honorability = await _honorability_expiring(session, today or today_in(None))
        assessments = await _assessments_due(session, today)
        await emit(session, [*attention, *honorability, *assessments])
        await session.commit()
    return DailyReminders(
        needs_attention=len(attention),
        honorability_expiring=sum(1 for e in honorability if e.association_id is not None),
        assessment_due=len(assessments),
    )


def _told(kind: str, current: CTE, occasion: ColumnElement[str]) -> CTE:
    """Remember `kind` for each row of `current` (its `id`) on `occasion`; returns those that
    were not already remembered."""
    return (
        insert(ReminderSent)
        .from_select(
            ["kind", "entity_id", "occasion"],
            select(literal(kind, Text), current.c.id, occasion),
        )
        .on_conflict_do_nothing(index_elements=["kind", "entity_id", "occasion"])
        .returning(ReminderSent.entity_id)
        .cte(f"told_{kind.replace('.', '_')}")
    )


async def _newly_told(
    session: AsyncSession,
    kind: str,
    current: CTE,
    occasion: ColumnElement[str],
    *also: CTE,
) -> Sequence[Row[Any]]:
    """The rows of `current` whose reminder was not sent yet, now remembered as sent; `also`
    are statements run with it (on the same snapshot)."""
    told = _told(kind, current, occasion)
    statement = select(current).join(told, told.c.entity_id == current.c.id).add_cte(*also)
    return (await session.execute(statement)).all()


def _attention_now(today: date | None) -> CTE:
    """Live mentorships needing attention on `today`, with their reasons and their codes."""
    association = (
        select(Mentor.association_id)
        .where(Mentor.id == Mentorship.mentor_id)
        .correlate(Mentorship)
        .scalar_subquery()
    )
    statement, attention = with_attention(
        select(
            Mentorship.id,
            Mentorship.departement_code,
            Mentorship.state,
            Mentorship.mentor_id,
            association.label("association_id"),
        ),
        today,
    )
    return (
        statement.add_columns(attention.reasons.label("reasons"), attention.codes.label("codes"))
        .where(Mentorship.state.in_(LIVE_MENTORSHIP_STATES), attention.needed)
        .cte("attention_now")
    )


async def _needs_attention(session: AsyncSession, today: date | None) -> list[NewEvent]:
    current = _attention_now(today)
    # A mentorship that no longer needs attention, or not for the same reasons, is forgotten:
    # it is told again when it (again) needs it.
    forgotten = (
        delete(ReminderSent)
        .where(
            ReminderSent.kind == NEEDS_ATTENTION,
            ~exists().where(
                current.c.id == ReminderSent.entity_id, current.c.codes == ReminderSent.occasion
            ),
        )
        .cte("attention_forgotten")
    )
    rows = await _newly_told(session, NEEDS_ATTENTION, current, current.c.codes, forgotten)
    return [
        NewEvent(
            NEEDS_ATTENTION,
            "mentorship",
            row.id,
            row.departement_code,
            row.association_id,
            {"mentor_id": str(row.mentor_id), "state": row.state, "reasons": row.reasons},
        )
        for row in rows
    ]


async def _honorability_expiring(session: AsyncSession, today: date) -> list[NewEvent]:
    live_departements = (
        select(func.array_agg(Mentorship.departement_code.distinct()))
        .where(Mentorship.mentor_id == Mentor.id, Mentorship.state.in_(LIVE_MENTORSHIP_STATES))
        .correlate(Mentor)
        .scalar_subquery()
    )
    current = (
        select(
            Mentor.id,
            Mentor.association_id,
            Mentor.honorability_valid_until.label("valid_until"),
            func.coalesce(live_departements, cast([], ARRAY(Text))).label("departements"),
        )
        .where(
            Mentor.deleted_at.is_(None),
            Mentor.honorability_valid_until >= today,
            Mentor.honorability_valid_until <= today + timedelta(days=HONORABILITY_WINDOW_DAYS),
        )
        .cte("honorability_now")
    )
    rows = await _newly_told(
        session, HONORABILITY_EXPIRING, current, cast(current.c.valid_until, Text)
    )
    events = []
    for row in rows:
        data = {
            "mentor_id": str(row.id),
            "valid_until": row.valid_until.isoformat(),
            "days_left": (row.valid_until - today).days,
        }
        # The association's side is told once; each département where the mentor has a live
        # mentorship is told on its own, without the association's scope.
        events.append(
            NewEvent(HONORABILITY_EXPIRING, "mentor", row.id, None, row.association_id, data)
        )
        events += [
            NewEvent(HONORABILITY_EXPIRING, "mentor", row.id, code, None, data)
            for code in sorted(row.departements)
        ]
    return events


async def _assessments_due(session: AsyncSession, today: date | None) -> list[NewEvent]:
    children = select(Child.id, Child.departement_code).where(Child.deleted_at.is_(None))
    statement, situation = with_situation(children, as_of=today)
    due_on = situation.next_action_due_on
    current = (
        statement.add_columns(
            situation.situation.label("situation"),
            situation.next_action.label("next_action"),
            due_on.label("due_on"),
            situation.as_of.label("as_of"),
        )
        .where(
            situation.next_action.in_(ASSESSMENT_ACTIONS),
            due_on <= situation.as_of + DUE_WINDOW_DAYS,
        )
        .cte("assessment_now")
    )
    rows = await _newly_told(session, ASSESSMENT_DUE, current, cast(current.c.due_on, Text))
    return [
        NewEvent(
            ASSESSMENT_DUE,
            "child",
            row.id,
            row.departement_code,
            None,
            {
                "child_id": str(row.id),
                "situation": row.situation,
                "next_action": row.next_action,
                "due_on": row.due_on.isoformat(),
                "days_late": max(0, (row.as_of - row.due_on).days),
            },
        )
        for row in rows
    ]
