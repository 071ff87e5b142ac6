"""The due list: what a département's educators must do this week, and what is late."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import record_child_reads
from mentorat.auth.principal import Principal
from mentorat.errors import InvalidInput, NotFound
from mentorat.kit.bounds import date_in_range
from mentorat.kit.clock import today_in
from mentorat.kit.pagination import paginate_rows
from mentorat.models import Child, Departement
from mentorat.situation.derivation import with_situation

MAX_SPAN_DAYS = 366
OUT_OF_RANGE_DATE = "must lie between 1900-01-01 and 2200-12-31"
# Actions due by the end of the period; a mentor to propose only once the child has waited
# more than the 30 days it is due within.
DUE_BY_END = ("assess", "renew_assessment", "inform_and_offer", "collect_agreements")
LATE_ONLY = "propose_mentor"


def end_of_week(day: date) -> date:
    """The Sunday of `day`'s week."""
    return day + timedelta(days=6 - day.weekday())


def link_for(kind: str, child_id: object) -> str:
    if kind in ("assess", "renew_assessment"):
        return f"/v1/children/{child_id}/assessments"
    if kind == "propose_mentor":
        return f"/v1/children/{child_id}/mentor-candidates"
    return f"/v1/children/{child_id}/offers"


async def due_list(
    session: AsyncSession,
    principal: Principal,
    code: str,
    *,
    as_of: date | None,
    until: date | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Actions due on or before `until` (default: the Sunday of `as_of`'s week) and late ones,
    the earliest due first."""
    if not principal.is_admin and principal.departement_code != code:
        raise NotFound(f"No département {code} in your scope.")
    if await session.get(Departement, code) is None:
        raise NotFound(f"No département {code}.")
    for name, value in (("as_of", as_of), ("until", until)):
        if value is not None and not date_in_range(value):
            raise InvalidInput(f"{name} {OUT_OF_RANGE_DATE}.", field=("query", name))
    day = as_of or today_in(code)
    end = until or end_of_week(day)
    if end < day:
        raise InvalidInput("until must not be before as_of.", field=("query", "until"))
    if end > day + timedelta(days=MAX_SPAN_DAYS):
        raise InvalidInput(
            f"until must be within {MAX_SPAN_DAYS} days of as_of.", field=("query", "until")
        )
    children = select(Child.id, Child.reference, Child.first_name).where(
        Child.departement_code == code, Child.deleted_at.is_(None)
    )
    statement, columns = with_situation(children, as_of=day)
    due_on = columns.next_action_due_on
    statement = statement.add_columns(columns.next_action, columns.situation, due_on).where(
        or_(
            and_(columns.next_action.in_(DUE_BY_END), due_on <= end),
            and_(columns.next_action == LATE_ONLY, due_on < day),
        )
    )
    rows, next_cursor = await paginate_rows(
        session, statement, [due_on, Child.id], lambda row: [row.next_action_due_on, row.id],
        limit=limit, cursor=cursor, scope="due",
        filters={"departement": code, "as_of": day, "until": end},
    )  # fmt: skip
    await record_child_reads(session, principal, [(row.id, code) for row in rows], via="due")
    items = [
        {
            "kind": row.next_action,
            "child": {"id": row.id, "reference": row.reference, "first_name": row.first_name},
            "situation": row.situation,
            "due_on": row.next_action_due_on,
            "days_late": max(0, (day - row.next_action_due_on).days),
            "link": link_for(row.next_action, row.id),
        }
        for row in rows
    ]
    return items, next_cursor
