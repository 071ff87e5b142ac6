"""Why a mentorship needs attention, derived by PostgreSQL in the statement that reads it.

`with_attention` joins each mentorship row to its reasons, a JSON array, on a day D (each
mentorship's local today unless given). With the département's thresholds (default 30, 30
and 90 days):

- `no_meeting`: active, and more than `attention_meeting_days` days since the latest meeting
  (or, without one, since it started, or was created when it never started);
- `objectives_stale`: active with live objectives (open or in progress), every one of them
  stale: unchanged for more than `attention_objective_days` days, or past its target date;
- `paused_too_long`: paused for more than `attention_pause_days` days.

A mentorship needs attention exactly when it has at least one reason: the list filter reads
the same array. Days are calendar days in the département's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement

from mentorat.kit.clock import METROPOLE, OVERSEAS_TIME_ZONES
from mentorat.models import Departement, Meeting, Mentorship, MentorshipEvent, Objective

REASON_CODES: tuple[str, ...] = ("no_meeting", "objectives_stale", "paused_too_long")
LIVE_OBJECTIVE_STATUSES: tuple[str, ...] = ("open", "in_progress")
_CODES_PATH = literal_column("'$[*].code'::jsonpath")


@dataclass(frozen=True, slots=True)
class AttentionColumns:
    """The derived columns: the reasons (a JSON array), whether there is any, and their codes
    as one text (the same reasons give the same text)."""

    reasons: ColumnElement[list[dict[str, Any]]]
    needed: ColumnElement[bool]
    codes: ColumnElement[str]


def _zone(departement_code: ColumnElement[str]) -> ColumnElement[str]:
    return case(OVERSEAS_TIME_ZONES, value=departement_code, else_=METROPOLE)


def _local_date(moment: ColumnElement[Any]) -> ColumnElement[date]:
    return cast(func.timezone(_zone(Mentorship.departement_code), moment), Date)


def _reason(condition: ColumnElement[bool], code: str, **facts: Any) -> ColumnElement[Any]:
    pairs: list[Any] = [literal("code"), literal(code)]
    for name, value in facts.items():
        pairs += [literal(name), value]
    return case(
        (condition, func.jsonb_build_array(func.jsonb_build_object(*pairs))),
        else_=cast(literal("[]"), JSONB),
    )


def with_attention(
    statement: Select[Any], today: date | None = None
) -> tuple[Select[Any], AttentionColumns]:
    """`statement` (selecting from `mentorship`) joined to each mentorship's reasons to need
    attention on `today` (default: each mentorship's local today)."""
    settings = Departement.__table__.alias("attention_departement")
    day: ColumnElement[date] = (
        cast(func.timezone(_zone(Mentorship.departement_code), func.now()), Date)
        if today is None
        else literal(today, Date)
    )
    last_meeting_on = (
        select(func.max(Meeting.held_on))
        .where(Meeting.mentorship_id == Mentorship.id)
        .correlate(Mentorship)
        .scalar_subquery()
    )
    live_objective = and_(
        Objective.mentorship_id == Mentorship.id,
        Objective.status.in_(LIVE_OBJECTIVE_STATUSES),
    )
    # The first day an objective counts as stale: the day after its target date, or the day
    # after `attention_objective_days` days without a change, whichever comes first.
    stale_from = func.least(
        _local_date(Objective.updated_at) + (settings.c.attention_objective_days + 1),
        Objective.target_date + 1,
    )
    objectives = (
        select(func.count().label("live"), func.max(stale_from).label("stale_since"))
        .where(live_objective)
        .correlate(Mentorship, settings)
        .lateral("attention_objectives")
    )
    paused_on = (
        select(func.max(_local_date(MentorshipEvent.occurred_at)))
        .where(MentorshipEvent.mentorship_id == Mentorship.id, MentorshipEvent.to_state == "paused")
        .correlate(Mentorship)
        .scalar_subquery()
    )
    started_on = _local_date(func.coalesce(Mentorship.started_at, Mentorship.created_at))
    # Fenced with OFFSET 0, like the situation's LATERALs: pulled up, the subqueries would be
    # copied into each reason that reads them.
    facts = (
        select(
            day.label("today"),
            settings.c.attention_meeting_days.label("meeting_days"),
            settings.c.attention_objective_days.label("objective_days"),
            settings.c.attention_pause_days.label("pause_days"),
            last_meeting_on.label("last_meeting_on"),
            func.coalesce(last_meeting_on, started_on).label("meeting_since"),
            objectives.c.live.label("live_objectives"),
            objectives.c.stale_since.label("objectives_stale_since"),
            func.coalesce(paused_on, _local_date(Mentorship.updated_at)).label("paused_on"),
        )
        .select_from(settings.join(objectives, true()))
        .where(settings.c.code == Mentorship.departement_code)
        .correlate(Mentorship)
        .offset(0)
        .lateral("attention_facts")
    )
    active = Mentorship.state == "active"
    since_meeting = cast(facts.c.today - facts.c.meeting_since, Integer)
    since_stale = cast(facts.c.today - facts.c.objectives_stale_since, Integer)
    since_paused = cast(facts.c.today - facts.c.paused_on, Integer)
    no_meeting = _reason(
        and_(active, since_meeting > facts.c.meeting_days),
        "no_meeting",
        since=facts.c.meeting_since,
        days=since_meeting,
        last_meeting_on=facts.c.last_meeting_on,
        threshold_days=facts.c.meeting_days,
    )
    objectives_stale = _reason(
        and_(active, facts.c.live_objectives > 0, facts.c.objectives_stale_since <= facts.c.today),
        "objectives_stale",
        since=facts.c.objectives_stale_since,
        days=since_stale,
        objectives=facts.c.live_objectives,
        threshold_days=facts.c.objective_days,
    )
    paused_too_long = _reason(
        and_(Mentorship.state == "paused", since_paused > facts.c.pause_days),
        "paused_too_long",
        since=facts.c.paused_on,
        days=since_paused,
        threshold_days=facts.c.pause_days,
    )
    combined = no_meeting.op("||", return_type=JSONB)(objectives_stale).op("||", return_type=JSONB)(
        paused_too_long
    )
    reasons = (
        select(combined.label("reasons"))
        .correlate(Mentorship, facts)
        .offset(0)
        .lateral("attention")
    )
    mentorship = Mentorship.__table__
    joined = statement.select_from(mentorship.join(facts, true()).join(reasons, true()))
    columns = AttentionColumns(
        reasons=reasons.c.reasons,
        needed=func.jsonb_array_length(reasons.c.reasons) > 0,
        codes=cast(func.jsonb_path_query_array(reasons.c.reasons, _CODES_PATH), Text),
    )
    return joined, columns
