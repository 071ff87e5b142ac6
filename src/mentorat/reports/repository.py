"""The reports' SQL: one row per child (compliance) or per mentorship (survival).

The compliance query reads only what was recorded before the cutoff, from the append-only
records (care revisions, assessments, offers and their consent facts, proposals with their
dates, mentorship events, meetings), so a report as of a past day says what it said then.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import Date, cast, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.models import Mentor, Mentorship, MentorshipEvent

# One row per child in scope of the school year [:first_day, :last_day], as of :cutoff (facts
# recorded strictly before it). Dates of timestamps are the département's.
CHAIN_SQL = """
WITH care AS (
    SELECT DISTINCT ON (r.child_id)
           r.child_id, r.departement_code, r.birth_date, r.college_entry_year,
           r.came_into_care_on, r.left_care_on, r.legal_situation, r.mentoring_requested_on,
           r.deleted
      FROM child_care_revision r
     WHERE r.recorded_at < :cutoff
       AND r.child_id IN (SELECT child_id FROM child_care_revision
                           WHERE departement_code = :departement)
     ORDER BY r.child_id, r.recorded_at DESC, r.id DESC
),
scope AS (
    SELECT c.child_id, c.college_entry_year, c.legal_situation,
           CASE
               WHEN c.legal_situation = 'young_adult' THEN c.mentoring_requested_on
               WHEN (c.birth_date + interval '11 years')::date <= c.came_into_care_on
                    OR c.came_into_care_on >= make_date(c.college_entry_year, :month, :day)
                   THEN c.came_into_care_on
               ELSE make_date(c.college_entry_year, :month, :day)
           END AS first_due_on
      FROM care c
     WHERE c.departement_code = :departement
       AND NOT c.deleted
       AND c.came_into_care_on <= :last_day
       AND (c.left_care_on IS NULL
            OR c.left_care_on > greatest(c.came_into_care_on, :first_day))
       AND (c.birth_date + interval '21 years')::date
           > greatest(c.came_into_care_on, :first_day)
       AND CASE WHEN c.legal_situation = 'young_adult'
                THEN c.mentoring_requested_on <= :last_day
                ELSE (c.birth_date + interval '11 years')::date <= :last_day
                     OR c.college_entry_year = :first_year
           END
),
assessed AS (
    SELECT a.child_id, a.assessed_on, a.outcome,
           row_number() OVER by_date AS number,
           lead(a.assessed_on) OVER by_date AS next_on
      FROM assessment a
      JOIN scope s USING (child_id)
     WHERE a.created_at < :cutoff
    WINDOW by_date AS (PARTITION BY a.child_id ORDER BY a.assessed_on, a.created_at, a.id)
),
-- The year's duty: the first due date (F, then a year after each assessment) not settled
-- before the first school day, i.e. due on or after it, or answered on or after it, or not
-- answered at all. `previous` is the number of assessments before that duty.
duty AS (
    SELECT s.child_id, s.college_entry_year, s.legal_situation, s.first_due_on,
           CASE WHEN s.first_due_on >= :first_day
                     OR coalesce(min(a.assessed_on) >= :first_day, true) THEN 0
                ELSE min(a.number) FILTER (
                    WHERE (a.assessed_on + interval '1 year')::date >= :first_day
                       OR a.next_on IS NULL OR a.next_on >= :first_day)
           END AS previous
      FROM scope s
      LEFT JOIN assessed a USING (child_id)
     GROUP BY s.child_id, s.college_entry_year, s.legal_situation, s.first_due_on
),
chain AS (
    SELECT d.child_id, d.college_entry_year, d.legal_situation, d.first_due_on, d.previous,
           CASE WHEN d.previous = 0 THEN d.first_due_on
                ELSE (max(a.assessed_on) FILTER (WHERE a.number = d.previous)
                      + interval '1 year')::date
           END AS due_on,
           max(a.assessed_on) FILTER (WHERE a.number = d.previous + 1) AS assessed_on,
           min(a.assessed_on) FILTER (
               WHERE a.number > d.previous AND a.outcome = 'mentoring_recommended'
                 AND (a.number = d.previous + 1 OR a.assessed_on <= :last_day)
           ) AS recommended_on
      FROM duty d
      LEFT JOIN assessed a USING (child_id)
     GROUP BY d.child_id, d.college_entry_year, d.legal_situation, d.first_due_on, d.previous
)
-- Everything carried along the aggregates: a join back to `scope` here was planned as a
-- nested loop (its size misjudged), thousands times thousands.
SELECT c.child_id, c.college_entry_year, c.legal_situation, c.first_due_on, c.previous,
       c.due_on, c.assessed_on, c.recommended_on
  FROM chain c
 ORDER BY c.child_id
"""

# What followed the recommending assessment of each child of the chain query (:children,
# :recommended_on): the offer, its facts, the proposal, the mentorship, as of :cutoff; or,
# without an offer since, whether a mentorship was going on the day of that assessment.
FOLLOW_SQL = """
WITH chain AS (
    SELECT *
      FROM unnest(CAST(:children AS uuid[]), CAST(:recommended_on AS date[]))
           AS chain (child_id, recommended_on)
),
offered AS (
    SELECT DISTINCT ON (o.child_id)
           o.child_id, o.id AS offer_id, o.offered_on,
           offer_required_parties(o.legal_situation) AS required
      FROM offer o
      JOIN chain c ON c.child_id = o.child_id AND o.offered_on >= c.recommended_on
     WHERE o.created_at < :cutoff
     ORDER BY o.child_id, o.offered_on, o.created_at, o.id
),
answered AS (
    SELECT f.child_id, f.offered_on,
           count(DISTINCT fact.party) FILTER (WHERE fact.kind = 'informed')
               = cardinality(f.required) AS all_informed,
           count(DISTINCT fact.party) FILTER (WHERE fact.kind = 'agreed')
               = cardinality(f.required) AS all_agreed,
           bool_or(fact.kind = 'refused') IS TRUE AS refused,
           max(fact.given_on) FILTER (WHERE fact.kind = 'agreed') AS agreed_on
      FROM offered f
      LEFT JOIN offer_consent fact
             ON fact.offer_id = f.offer_id AND fact.recorded_at < :cutoff
            AND fact.party = ANY (f.required)
     GROUP BY f.child_id, f.offered_on, f.required
),
proposed AS (
    SELECT DISTINCT ON (p.child_id)
           p.child_id, (p.created_at AT TIME ZONE :time_zone)::date AS created_on, p.mentor_id
      FROM proposal p
      JOIN answered a ON a.child_id = p.child_id AND a.all_agreed AND NOT a.refused
     WHERE p.status <> 'simulated' AND p.created_at < :cutoff
       AND (p.created_at AT TIME ZONE :time_zone)::date >= a.agreed_on
     ORDER BY p.child_id, p.created_at, p.id
),
moves AS (
    SELECT e.mentorship_id,
           min(e.occurred_at) FILTER (WHERE e.to_state = 'active') AS activated_at,
           min(e.occurred_at) FILTER (WHERE e.to_state = 'ended') AS ended_at
      FROM mentorship_event e
      JOIN mentorship m ON m.id = e.mentorship_id
      JOIN proposed p ON p.child_id = m.child_id
     WHERE e.occurred_at < :cutoff
     GROUP BY e.mentorship_id
),
started AS (
    SELECT DISTINCT ON (m.child_id)
           m.child_id, m.id AS mentorship_id, m.mentor_id, m.proposal_id,
           (coalesce(v.activated_at, CASE WHEN m.started_at < :cutoff THEN m.started_at END)
               AT TIME ZONE :time_zone)::date AS start_on,
           (v.ended_at AT TIME ZONE :time_zone)::date AS ended_on
      FROM mentorship m
      JOIN proposed p ON p.child_id = m.child_id
      LEFT JOIN moves v ON v.mentorship_id = m.id
     WHERE coalesce(v.activated_at, CASE WHEN m.started_at < :cutoff THEN m.started_at END)
           IS NOT NULL
       AND (coalesce(v.activated_at, m.started_at) AT TIME ZONE :time_zone)::date
           >= p.created_on
     ORDER BY m.child_id, coalesce(v.activated_at, m.started_at), m.id
),
followed AS (
    SELECT s.child_id, s.mentor_id, s.start_on, s.ended_on,
           (q.created_at AT TIME ZONE :time_zone)::date AS proposal_on,
           (SELECT min(g.held_on) FROM meeting g
             WHERE g.mentorship_id = s.mentorship_id AND g.created_at < :cutoff
               AND g.held_on >= s.start_on) AS first_meeting_on
      FROM started s
      LEFT JOIN proposal q ON q.id = s.proposal_id
),
-- Children with a mentorship going on the day of their recommending assessment.
ongoing AS (
    SELECT DISTINCT c.child_id
      FROM chain c
      JOIN mentorship m ON m.child_id = c.child_id
      CROSS JOIN LATERAL (
          SELECT coalesce(min(e.occurred_at) FILTER (WHERE e.to_state = 'active'),
                          CASE WHEN m.started_at < :cutoff THEN m.started_at END)
                     AS activated_at,
                 min(e.occurred_at) FILTER (WHERE e.to_state = 'ended') AS ended_at
            FROM mentorship_event e
           WHERE e.mentorship_id = m.id AND e.occurred_at < :cutoff
      ) v
     WHERE (v.activated_at AT TIME ZONE :time_zone)::date <= c.recommended_on
       AND (v.ended_at IS NULL
            OR (v.ended_at AT TIME ZONE :time_zone)::date > c.recommended_on)
)
SELECT c.child_id, a.offered_on,
       coalesce(a.all_informed OR a.all_agreed OR a.refused, false) AS informed,
       coalesce(a.all_agreed AND NOT a.refused, false) AS agreed,
       a.child_id IS NULL AND o.child_id IS NOT NULL AS in_mentorship,
       CASE WHEN a.all_agreed AND NOT a.refused THEN a.agreed_on END AS agreed_on,
       p.created_on AS proposed_on, f.start_on, coalesce(f.proposal_on, p.created_on)
           AS mentorship_proposed_on, f.ended_on, f.first_meeting_on,
       mentor.association_id,
       (f.start_on + interval '3 months')::date AS month_3,
       (f.start_on + interval '6 months')::date AS month_6,
       (f.start_on + interval '12 months')::date AS month_12
  FROM chain c
  LEFT JOIN answered a USING (child_id)
  LEFT JOIN ongoing o USING (child_id)
  LEFT JOIN proposed p USING (child_id)
  LEFT JOIN followed f USING (child_id)
  LEFT JOIN mentor ON mentor.id = coalesce(f.mentor_id, p.mentor_id)
 ORDER BY c.child_id
"""
for _name in ("first_day", "last_day"):
    CHAIN_SQL = CHAIN_SQL.replace(f":{_name}", f"CAST(:{_name} AS date)")


CHAIN_DATES = ("first_due_on", "due_on", "assessed_on", "recommended_on")
FOLLOW_DATES = (
    "offered_on",
    "agreed_on",
    "proposed_on",
    "start_on",
    "mentorship_proposed_on",
    "ended_on",
    "first_meeting_on",
    "month_3",
    "month_6",
    "month_12",
)
NO_DATE = np.datetime64("NaT", "D")


@dataclass(frozen=True, slots=True)
class ChainColumns:
    """The compliance query's rows as columns: dates as datetime64[D] (NaT when absent)."""

    cohort: np.ndarray
    legal_situation: np.ndarray
    previous_assessments: np.ndarray
    informed: np.ndarray
    agreed: np.ndarray
    # Recommended while a mentorship was going on, and no offer made since (none is needed).
    in_mentorship: np.ndarray
    association_id: np.ndarray
    dates: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.cohort)

    def subset(self, mask: np.ndarray) -> ChainColumns:
        return ChainColumns(
            cohort=self.cohort[mask],
            legal_situation=self.legal_situation[mask],
            previous_assessments=self.previous_assessments[mask],
            informed=self.informed[mask],
            agreed=self.agreed[mask],
            in_mentorship=self.in_mentorship[mask],
            association_id=self.association_id[mask],
            dates={name: values[mask] for name, values in self.dates.items()},
        )


def _dates(rows: list[Any], name: str) -> np.ndarray:
    return np.array(
        [NO_DATE if getattr(row, name) is None else getattr(row, name) for row in rows],
        dtype="datetime64[D]",
    )


async def load_chains(
    session: AsyncSession,
    *,
    departement: str,
    school_start: tuple[int, int],
    first_day: date,
    last_day: date,
    cutoff: datetime,
    time_zone: str,
) -> ChainColumns:
    """Two statements: the children in scope with their year's assessments, then what followed
    for those recommended. Split so that PostgreSQL plans the second on the real number of
    children (one statement misjudged its CTEs' sizes and nested-looped over thousands)."""
    chain_rows = list(
        (
            await session.execute(
                text(CHAIN_SQL),
                {
                    "departement": departement,
                    "month": school_start[0],
                    "day": school_start[1],
                    "first_day": first_day,
                    "last_day": last_day,
                    "first_year": first_day.year,
                    "cutoff": cutoff,
                },
            )
        ).all()
    )
    size = len(chain_rows)
    ids = np.array([str(row.child_id) for row in chain_rows], dtype=str)
    dates = {name: _dates(chain_rows, name) for name in CHAIN_DATES}
    recommended = ~np.isnat(dates["recommended_on"])
    follow_rows = list(
        (
            await session.execute(
                text(FOLLOW_SQL),
                {
                    "children": [uuid.UUID(value) for value in ids[recommended].tolist()],
                    "recommended_on": dates["recommended_on"][recommended].tolist(),
                    "cutoff": cutoff,
                    "time_zone": time_zone,
                },
            )
        ).all()
    )
    order = np.argsort(ids)
    followed = [str(row.child_id) for row in follow_rows]
    positions = order[np.searchsorted(ids[order], np.array(followed, dtype=str))]
    informed, agreed = np.zeros(size, dtype=bool), np.zeros(size, dtype=bool)
    in_mentorship = np.zeros(size, dtype=bool)
    informed[positions] = [row.informed for row in follow_rows]
    agreed[positions] = [row.agreed for row in follow_rows]
    in_mentorship[positions] = [row.in_mentorship for row in follow_rows]
    association_id = np.full(size, None, dtype=object)
    association_id[positions] = [
        None if row.association_id is None else str(row.association_id) for row in follow_rows
    ]
    for name in FOLLOW_DATES:
        dates[name] = np.full(size, NO_DATE, dtype="datetime64[D]")
        dates[name][positions] = _dates(follow_rows, name)
    return ChainColumns(
        cohort=np.array([row.college_entry_year for row in chain_rows], dtype=np.int32),
        legal_situation=np.array([row.legal_situation for row in chain_rows], dtype=object),
        previous_assessments=np.array([row.previous for row in chain_rows], dtype=np.int32),
        informed=informed,
        agreed=agreed,
        in_mentorship=in_mentorship,
        association_id=association_id,
        dates=dates,
    )


async def association_names(session: AsyncSession, ids: list[uuid.UUID]) -> dict[str, str]:
    if not ids:
        return {}
    rows = await session.execute(
        text("SELECT id, name FROM association WHERE id = ANY(:ids)"), {"ids": ids}
    )
    return {str(row.id): row.name for row in rows}


@dataclass(frozen=True, slots=True)
class MentorshipSpans:
    start_on: np.ndarray
    end_on: np.ndarray
    end_reason: np.ndarray


async def load_spans(
    session: AsyncSession, *, departement: str, association_id: uuid.UUID | None, time_zone: str
) -> MentorshipSpans:
    """Every mentorship of the département that started (started_at, or its first move to
    active), with its end if it ended."""
    first_active = (
        select(func.min(MentorshipEvent.occurred_at))
        .where(MentorshipEvent.mentorship_id == Mentorship.id, MentorshipEvent.to_state == "active")
        .scalar_subquery()
    )
    started_at = func.coalesce(Mentorship.started_at, first_active)
    statement = (
        select(
            cast(func.timezone(time_zone, started_at), Date).label("start_on"),
            cast(func.timezone(time_zone, Mentorship.ended_at), Date).label("end_on"),
            Mentorship.end_reason,
        )
        .where(Mentorship.departement_code == departement, started_at.is_not(None))
        .order_by(Mentorship.id)
    )
    if association_id is not None:
        statement = statement.join(Mentor, Mentor.id == Mentorship.mentor_id).where(
            Mentor.association_id == association_id
        )
    rows = list((await session.execute(statement)).all())
    return MentorshipSpans(
        start_on=_dates(rows, "start_on"),
        end_on=_dates(rows, "end_on"),
        end_reason=np.array([row.end_reason for row in rows], dtype=object),
    )
