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
COMPLIANCE_SQL = """
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
    SELECT c.*,
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
       AND c.came_into_care_on <= CAST(:last_day AS date)
       AND (c.left_care_on IS NULL
            OR c.left_care_on > greatest(c.came_into_care_on, CAST(:first_day AS date)))
       AND (c.birth_date + interval '21 years')::date
           > greatest(c.came_into_care_on, CAST(:first_day AS date))
       AND CASE WHEN c.legal_situation = 'young_adult'
                THEN c.mentoring_requested_on <= CAST(:last_day AS date)
                ELSE (c.birth_date + interval '11 years')::date <= CAST(:last_day AS date)
                     OR c.college_entry_year = :first_year
           END
),
assessed AS (
    SELECT a.child_id, a.assessed_on, a.outcome,
           row_number() OVER by_date AS number,
           lead(a.assessed_on) OVER by_date AS next_on
      FROM assessment a
     WHERE a.child_id IN (SELECT child_id FROM scope) AND a.created_at < :cutoff
    WINDOW by_date AS (PARTITION BY a.child_id ORDER BY a.assessed_on, a.created_at, a.id)
),
-- The year's duty: the first due date (F, then a year after each assessment) not settled
-- before the first school day, i.e. due on or after it, or answered on or after it, or not
-- answered at all. `previous` is the number of assessments before that duty.
duty AS (
    SELECT s.child_id,
           CASE WHEN s.first_due_on >= CAST(:first_day AS date) OR first.assessed_on IS NULL
                     OR first.assessed_on >= CAST(:first_day AS date) THEN 0
                ELSE (SELECT min(a.number) FROM assessed a
                       WHERE a.child_id = s.child_id
                         AND ((a.assessed_on + interval '1 year')::date
                                  >= CAST(:first_day AS date)
                              OR a.next_on IS NULL
                              OR a.next_on >= CAST(:first_day AS date)))
           END AS previous
      FROM scope s
      LEFT JOIN assessed first ON first.child_id = s.child_id AND first.number = 1
),
chain AS (
    SELECT s.child_id, s.college_entry_year, s.legal_situation, s.first_due_on, d.previous,
           CASE WHEN d.previous = 0 THEN s.first_due_on
                ELSE (prior.assessed_on + interval '1 year')::date END AS due_on,
           answer.assessed_on AS assessed_on,
           recommending.assessed_on AS recommended_on
      FROM scope s
      JOIN duty d USING (child_id)
      LEFT JOIN assessed prior ON prior.child_id = s.child_id AND prior.number = d.previous
      LEFT JOIN assessed answer
             ON answer.child_id = s.child_id AND answer.number = d.previous + 1
      LEFT JOIN LATERAL (
          SELECT a.assessed_on FROM assessed a
           WHERE a.child_id = s.child_id AND a.number > d.previous
             AND a.outcome = 'mentoring_recommended'
             AND (a.number = d.previous + 1 OR a.assessed_on <= CAST(:last_day AS date))
           ORDER BY a.number LIMIT 1
      ) recommending ON true
),
offered AS (
    SELECT c.child_id, o.id AS offer_id, o.offered_on,
           offer_required_parties(o.legal_situation) AS required
      FROM chain c
      JOIN LATERAL (
          SELECT o.* FROM offer o
           WHERE o.child_id = c.child_id AND o.offered_on >= c.recommended_on
             AND o.created_at < :cutoff
           ORDER BY o.offered_on, o.created_at, o.id LIMIT 1
      ) o ON true
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
    SELECT a.child_id, p.created_on, p.mentor_id
      FROM answered a
      JOIN LATERAL (
          SELECT (p.created_at AT TIME ZONE :time_zone)::date AS created_on, p.mentor_id
            FROM proposal p
           WHERE p.child_id = a.child_id AND p.status <> 'simulated'
             AND p.created_at < :cutoff
             AND (p.created_at AT TIME ZONE :time_zone)::date >= a.agreed_on
           ORDER BY p.created_at, p.id LIMIT 1
      ) p ON true
     WHERE a.all_agreed AND NOT a.refused
),
started AS (
    SELECT p.child_id, m.id AS mentorship_id, m.mentor_id, m.start_on, m.proposal_id
      FROM proposed p
      JOIN LATERAL (
          SELECT m.id, m.mentor_id, m.proposal_id, (s.started_at AT TIME ZONE :time_zone)::date
                 AS start_on
            FROM mentorship m
            CROSS JOIN LATERAL (
                SELECT coalesce(
                    (SELECT min(e.occurred_at) FROM mentorship_event e
                      WHERE e.mentorship_id = m.id AND e.to_state = 'active'
                        AND e.occurred_at < :cutoff),
                    CASE WHEN m.started_at < :cutoff THEN m.started_at END) AS started_at
            ) s
           WHERE m.child_id = p.child_id AND s.started_at IS NOT NULL
             AND (s.started_at AT TIME ZONE :time_zone)::date >= p.created_on
           ORDER BY s.started_at, m.id LIMIT 1
      ) m ON true
),
followed AS (
    SELECT s.*,
           (SELECT (p.created_at AT TIME ZONE :time_zone)::date FROM proposal p
             WHERE p.id = s.proposal_id) AS proposal_on,
           (SELECT (min(e.occurred_at) AT TIME ZONE :time_zone)::date FROM mentorship_event e
             WHERE e.mentorship_id = s.mentorship_id AND e.to_state = 'ended'
               AND e.occurred_at < :cutoff) AS ended_on,
           (SELECT min(g.held_on) FROM meeting g
             WHERE g.mentorship_id = s.mentorship_id AND g.created_at < :cutoff
               AND g.held_on >= s.start_on) AS first_meeting_on
      FROM started s
)
SELECT c.child_id, c.college_entry_year, c.legal_situation, c.first_due_on, c.previous,
       c.due_on, c.assessed_on, c.recommended_on,
       a.offered_on, coalesce(a.all_informed OR a.all_agreed OR a.refused, false) AS informed,
       coalesce(a.all_agreed AND NOT a.refused, false) AS agreed,
       CASE WHEN a.all_agreed AND NOT a.refused THEN a.agreed_on END AS agreed_on,
       p.created_on AS proposed_on, f.start_on, coalesce(f.proposal_on, p.created_on)
           AS mentorship_proposed_on, f.ended_on, f.first_meeting_on,
       mentor.association_id,
       (f.start_on + interval '3 months')::date AS month_3,
       (f.start_on + interval '6 months')::date AS month_6,
       (f.start_on + interval '12 months')::date AS month_12
  FROM chain c
  LEFT JOIN answered a USING (child_id)
  LEFT JOIN proposed p USING (child_id)
  LEFT JOIN followed f USING (child_id)
  LEFT JOIN mentor ON mentor.id = coalesce(f.mentor_id, p.mentor_id)
 ORDER BY c.child_id
"""

DATE_COLUMNS = (
    "first_due_on",
    "due_on",
    "assessed_on",
    "recommended_on",
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
    result = await session.execute(
        text(COMPLIANCE_SQL),
        {
            "departement": departement,
            "month": school_start[0],
            "day": school_start[1],
            "first_day": first_day,
            "last_day": last_day,
            "first_year": first_day.year,
            "cutoff": cutoff,
            "time_zone": time_zone,
        },
    )
    rows = list(result.all())
    return ChainColumns(
        cohort=np.array([row.college_entry_year for row in rows], dtype=np.int32),
        legal_situation=np.array([row.legal_situation for row in rows], dtype=object),
        previous_assessments=np.array([row.previous for row in rows], dtype=np.int32),
        informed=np.array([row.informed for row in rows], dtype=bool),
        agreed=np.array([row.agreed for row in rows], dtype=bool),
        association_id=np.array(
            [None if row.association_id is None else str(row.association_id) for row in rows],
            dtype=object,
        ),
        dates={name: _dates(rows, name) for name in DATE_COLUMNS},
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
