"""The demo data set: three school years of the legal duty, consistent with the database's
rules and the brief's definitions, every situation present today, reproducible from the seed.

Each test loads the demo inside its own rolled-back transaction."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from mentorat.auth.principal import Principal, Role
from mentorat.demo import DEMO_DEPARTEMENT, load_demo
from mentorat.kit.clock import time_zone, today_in
from mentorat.kit.db import Database
from mentorat.matching import service
from mentorat.matching.schemas import RunCreate
from mentorat.models import Child

SITUATIONS = (
    "not_yet_due", "assessment_due", "assessment_overdue", "not_recommended", "to_inform",
    "awaiting_agreements", "refused", "waiting_for_mentor", "proposed", "in_mentorship",
    "mentorship_ended", "left_care",
)  # fmt: skip

# The brief's definitions of a child's situation on day :today (first rule that applies).
SITUATION_SQL = """
WITH dep AS (SELECT school_start_month AS m, school_start_day AS d FROM departement
              WHERE code = :departement),
kids AS (
    SELECT c.id, c.birth_date, c.came_into_care_on, c.left_care_on,
           CASE WHEN c.legal_situation = 'young_adult' THEN c.mentoring_requested_on
                WHEN age(c.came_into_care_on, c.birth_date) >= interval '11 years'
                  OR c.came_into_care_on >= make_date(c.college_entry_year, dep.m, dep.d)
                THEN c.came_into_care_on
                ELSE make_date(c.college_entry_year, dep.m, dep.d) END AS first_due
      FROM child c CROSS JOIN dep
     WHERE c.id = ANY(:children)
)
SELECT k.id,
       CASE
         WHEN NOT (k.came_into_care_on <= :today
                   AND (k.left_care_on IS NULL OR k.left_care_on > :today)
                   AND age(:today, k.birth_date) < interval '21 years') THEN 'left_care'
         WHEN EXISTS (SELECT 1 FROM mentorship m WHERE m.child_id = k.id
                       AND m.state IN ('accepted', 'active', 'paused')) THEN 'in_mentorship'
         WHEN EXISTS (SELECT 1 FROM proposal r WHERE r.child_id = k.id AND r.status = 'pending')
           THEN 'proposed'
         WHEN lm.state = 'ended' AND NOT EXISTS (
                SELECT 1 FROM offer o WHERE o.child_id = k.id
                   AND o.offered_on >= (lm.ended_at AT TIME ZONE 'Europe/Paris')::date)
           THEN 'mentorship_ended'
         WHEN la.id IS NULL AND (k.first_due IS NULL OR k.first_due > :today + 60)
           THEN 'not_yet_due'
         WHEN (la.id IS NULL OR la.assessed_on <= (:today - interval '1 year')::date)
              AND coalesce((la.assessed_on + interval '1 year')::date, k.first_due) < :today
           THEN 'assessment_overdue'
         WHEN la.id IS NULL OR la.assessed_on <= (:today - interval '1 year')::date
           THEN 'assessment_due'
         WHEN la.outcome <> 'mentoring_recommended' THEN 'not_recommended'
         WHEN co.id IS NULL OR (co.outcome = 'pending'
                AND NOT offer_required_parties(co.legal_situation) <@ ARRAY(
                    SELECT f.party FROM offer_consent f
                     WHERE f.offer_id = co.id AND f.kind = 'informed'))
           THEN 'to_inform'
         WHEN co.outcome = 'pending' THEN 'awaiting_agreements'
         WHEN co.outcome = 'refused' THEN 'refused'
         ELSE 'waiting_for_mentor'
       END AS situation
  FROM kids k
  LEFT JOIN LATERAL (SELECT m.state, m.ended_at FROM mentorship m WHERE m.child_id = k.id
                      ORDER BY m.created_at DESC LIMIT 1) lm ON true
  LEFT JOIN LATERAL (SELECT a.id, a.assessed_on, a.outcome FROM assessment a
                      WHERE a.child_id = k.id AND a.assessed_on <= :today
                      ORDER BY a.assessed_on DESC, a.created_at DESC LIMIT 1) la ON true
  LEFT JOIN LATERAL (SELECT o.id, o.outcome, o.legal_situation FROM offer o
                      WHERE o.child_id = k.id AND o.offered_on >= la.assessed_on
                        AND o.offered_on <= :today
                      ORDER BY o.offered_on DESC, o.created_at DESC LIMIT 1) co ON true
"""

# Every table of the history, with a stable name for its rows (ids differ between loads).
LABELS = {
    "association": "name",
    "child": "reference",
    "mentor": "email",
    "assessment": "child_id::text || assessed_on",
    "offer": "child_id::text || offered_on",
    "proposal": "child_id::text || created_at",
    "mentorship": "child_id::text || created_at",
    "objective": "mentorship_id::text || title",
    "meeting": "mentorship_id::text || held_on",
}
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Columns that are, or contain, the row's own id.
OWN_IDS = ("id", "matching_record")
HISTORY_TABLES = (
    "child_care_revision", "assessment", "offer", "offer_consent", "association_agreement",
    "proposal", "mentorship", "mentorship_event", "meeting", "objective", "objective_revision",
)  # fmt: skip


async def _children(session: AsyncSession) -> set[uuid.UUID]:
    rows = await session.scalars(select(Child.id).where(Child.departement_code == "53"))
    return set(rows)


async def _load(session: AsyncSession, today: date) -> list[uuid.UUID]:
    """Load the demo; the ids of its children."""
    before = await _children(session)
    assert await load_demo(session, today=today)
    return sorted((await _children(session)) - before)


async def _situations(
    session: AsyncSession, children: list[uuid.UUID], today: date
) -> dict[uuid.UUID, str]:
    rows = await session.execute(
        text(SITUATION_SQL),
        {"departement": DEMO_DEPARTEMENT, "children": children, "today": today},
    )
    return {row.id: row.situation for row in rows}


async def _rows(session: AsyncSession, sql: str, **params: Any) -> list[Any]:
    return list(await session.execute(text(sql), params))


@dataclass(frozen=True)
class Demo:
    database: Database
    session: AsyncSession
    children: list[uuid.UUID]
    today: date


@pytest.fixture(scope="class")
async def demo(engine: AsyncEngine) -> AsyncIterator[Demo]:
    """The demo loaded once for a class of tests that read it, in a transaction rolled back
    after the last one."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            database = Database.on_connection(connection)
            async with database.sessionmaker() as session:
                today = today_in(DEMO_DEPARTEMENT)
                children = await _load(session, today)
                await session.commit()
                yield Demo(database, session, children, today)
        finally:
            await transaction.rollback()


class TestDemoHistory:
    async def test_loads_once(self, demo: Demo) -> None:
        assert not await load_demo(demo.session, today=demo.today)

    async def test_every_history_table_has_rows(self, demo: Demo) -> None:
        session, today, children = demo.session, demo.today, demo.children
        assert len(children) == 300
        for table in HISTORY_TABLES:
            count = await session.scalar(text(f"SELECT count(*) FROM {table}"))
            assert count and count > 0, table
        past = await session.scalar(
            text("SELECT count(*) FROM child_care_revision WHERE recorded_at < :midnight"),
            {"midnight": datetime.combine(today, time(), time_zone(DEMO_DEPARTEMENT))},
        )
        assert past and past >= len(children) // 2  # most children have a dated history

    async def test_every_offer_rests_on_a_recommending_assessment_of_the_year(
        self, demo: Demo
    ) -> None:
        session = demo.session
        wrong = await _rows(
            session,
            """
            SELECT o.id FROM offer o LEFT JOIN assessment a ON a.id = o.assessment_id
             WHERE a.id IS NULL OR a.child_id <> o.child_id
                OR a.outcome <> 'mentoring_recommended' OR a.assessed_on > o.offered_on
                OR a.assessed_on <= (o.offered_on - interval '1 year')::date
            """,
        )
        assert wrong == []

    async def test_accepted_offers_have_every_required_agreement_and_dated_facts(
        self, demo: Demo
    ) -> None:
        session = demo.session
        outcomes = Counter(row.outcome for row in await _rows(session, "SELECT outcome FROM offer"))
        assert outcomes["accepted"] > outcomes["refused"] > 0 and outcomes["pending"] > 0
        missing = await _rows(
            session,
            """
            SELECT o.id FROM offer o
             WHERE o.outcome = 'accepted'
               AND NOT offer_required_parties(o.legal_situation) <@ ARRAY(
                   SELECT c.party FROM offer_consent c WHERE c.offer_id = o.id
                      AND c.kind = 'agreed' AND c.given_on >= o.offered_on)
            """,
        )
        assert missing == []
        # Decided when the deciding fact was recorded; nothing recorded before it happened.
        wrong_times = await _rows(
            session,
            """
            SELECT o.id FROM offer o
             WHERE (o.outcome <> 'pending' AND o.decided_at IS DISTINCT FROM (
                       SELECT max(c.recorded_at) FROM offer_consent c WHERE c.offer_id = o.id))
                OR EXISTS (SELECT 1 FROM offer_consent c WHERE c.offer_id = o.id
                            AND (c.given_on < o.offered_on
                                 OR (c.recorded_at AT TIME ZONE 'Europe/Paris')::date
                                    < c.given_on))
            """,
        )
        assert wrong_times == []
        situations = {
            row.legal_situation for row in await _rows(session, "SELECT legal_situation FROM offer")
        }
        assert situations == {"parental_authority", "delegated_to_ase", "pupille", "young_adult"}

    async def test_mentorship_events_follow_each_other_in_time(self, demo: Demo) -> None:
        session, today = demo.session, demo.today
        out_of_order = await _rows(
            session,
            """
            SELECT x.mentorship_id FROM (
                SELECT e.mentorship_id, e.from_state, e.occurred_at,
                       lag(e.to_state) OVER w AS previous_state,
                       lag(e.occurred_at) OVER w AS previous_at
                  FROM mentorship_event e
                WINDOW w AS (PARTITION BY e.mentorship_id ORDER BY e.occurred_at, e.id)) x
             WHERE x.from_state IS DISTINCT FROM x.previous_state
                OR x.occurred_at <= x.previous_at OR x.occurred_at >= now()
            """,
        )
        assert out_of_order == []
        wrong_state = await _rows(
            session,
            """
            SELECT m.id FROM mentorship m
              JOIN proposal p ON p.id = m.proposal_id
             WHERE p.status <> 'accepted' OR m.created_at < p.decided_at
                OR m.state <> (SELECT e.to_state FROM mentorship_event e
                                WHERE e.mentorship_id = m.id
                                ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1)
                OR EXISTS (SELECT 1 FROM meeting g WHERE g.mentorship_id = m.id
                            AND (g.held_on < (m.started_at AT TIME ZONE 'Europe/Paris')::date
                                 OR g.held_on > coalesce(
                                     (m.ended_at AT TIME ZONE 'Europe/Paris')::date, :today)))
            """,
            today=today,
        )
        assert wrong_state == []
        reasons = {
            row.end_reason for row in await _rows(session, "SELECT end_reason FROM mentorship")
        }
        assert {"completed", "child_choice", "mentor_unavailable", "placement_change"} <= reasons
        states = {row.state for row in await _rows(session, "SELECT state FROM mentorship")}
        assert states == {"accepted", "active", "paused", "ended"}

    async def test_care_revisions_lead_to_the_child_as_recorded(self, demo: Demo) -> None:
        """As of any past date, the care facts are those of the latest revision recorded by
        then; the latest one before today describes the child as they are, unless the change
        happened today."""
        session, today = demo.session, demo.today
        midnight = datetime.combine(today, time(), time_zone(DEMO_DEPARTEMENT))
        differing = await _rows(
            session,
            """
            SELECT c.id FROM child c
              JOIN LATERAL (SELECT * FROM child_care_revision r
                             WHERE r.child_id = c.id AND r.recorded_at < :midnight
                             ORDER BY r.recorded_at DESC, r.id DESC LIMIT 1) r ON true
             WHERE (r.came_into_care_on, r.legal_situation, r.left_care_on,
                    r.mentoring_requested_on)
                   IS DISTINCT FROM (c.came_into_care_on, c.legal_situation, c.left_care_on,
                                     c.mentoring_requested_on)
               AND c.mentoring_requested_on IS DISTINCT FROM :today
            """,
            midnight=midnight,
            today=today,
        )
        assert differing == []
        # Someone who left care was still in care as of the day before.
        left = await _rows(
            session,
            """
            SELECT c.id FROM child c
             WHERE c.left_care_on IS NOT NULL AND c.left_care_on < :today
               AND (SELECT r.left_care_on FROM child_care_revision r
                     WHERE r.child_id = c.id
                       AND r.recorded_at < (c.left_care_on::timestamp AT TIME ZONE 'Europe/Paris')
                     ORDER BY r.recorded_at DESC, r.id DESC LIMIT 1) IS NOT NULL
            """,
            today=today,
        )
        assert left == []

    async def test_each_situation_occurs_a_few_times_today(self, demo: Demo) -> None:
        session, today, children = demo.session, demo.today, demo.children
        counts = Counter((await _situations(session, children, today)).values())
        assert set(counts) == set(SITUATIONS)
        assert min(counts.values()) >= 3, counts
        assert counts["waiting_for_mentor"] == max(counts.values())
        attention = await session.scalar(
            text(
                """
                SELECT count(*) FROM mentorship m WHERE m.state = 'active'
                   AND coalesce((SELECT max(g.held_on) FROM meeting g
                                  WHERE g.mentorship_id = m.id), DATE '2000-01-01')
                       < CAST(:today AS date) - 30
                """
            ),
            {"today": today},
        )
        active = await session.scalar(
            text("SELECT count(*) FROM mentorship WHERE state = 'active'")
        )
        assert active and attention and 0 < attention < active / 3

    async def test_association_agreements_are_valid_today_and_one_was_renewed(
        self, demo: Demo
    ) -> None:
        session, today = demo.session, demo.today
        rows = await _rows(
            session,
            """
            SELECT a.name, count(*) AS agreements,
                   bool_or(g.valid_from <= :today
                           AND (g.valid_until IS NULL OR g.valid_until >= :today)) AS valid,
                   bool_or(g.valid_until < :today) AS expired
              FROM association a JOIN association_agreement g ON g.association_id = a.id
             WHERE g.departement_code = '53'
             GROUP BY a.name
            """,
            today=today,
        )
        assert len(rows) == 3 and all(row.valid for row in rows)
        assert [row.agreements for row in rows if row.expired] == [2]
        earliest_proposal = await session.scalar(
            text(
                """
                SELECT count(*) FROM proposal p JOIN mentor t ON t.id = p.mentor_id
                 WHERE NOT EXISTS (
                     SELECT 1 FROM association_agreement g
                      WHERE g.association_id = t.association_id AND g.departement_code = '53'
                        AND g.valid_from <= (p.created_at AT TIME ZONE 'Europe/Paris')::date
                        AND (g.valid_until IS NULL OR g.valid_until
                             >= (p.created_at AT TIME ZONE 'Europe/Paris')::date))
                """
            )
        )
        assert earliest_proposal == 0

    async def test_a_matching_run_places_most_waiting_children(self, demo: Demo) -> None:
        database, session, children = demo.database, demo.session, demo.children
        operator = Principal(id=uuid.UUID(int=0), name="test", role=Role.admin)
        run = await service.create_run(
            session, operator, RunCreate(departement_code=DEMO_DEPARTEMENT, dry_run=True)
        )
        await session.commit()
        await service.execute_run(database, run.id)
        await session.refresh(run)
        figures = run.figures
        assert run.status == "succeeded", run.error
        assert figures["children"] >= len(children) * 0.4  # most are waiting for a mentor
        assert figures["matched"] >= figures["children"] * 0.8, figures


class TestDemoSeed:
    async def test_two_loads_give_the_same_rows(self, session: AsyncSession) -> None:
        today = today_in(DEMO_DEPARTEMENT)
        snapshots = []
        for _ in range(2):
            async with session.begin_nested() as savepoint:
                await _load(session, today)
                snapshots.append(await _snapshot(session, today))
                await savepoint.rollback()
        first, second = snapshots
        assert first.keys() == second.keys()
        for table in first:
            assert first[table] == second[table], table
        assert sum(len(rows) for rows in first.values()) > 3000


async def _snapshot(session: AsyncSession, today: date) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the demo's tables with ids replaced by a stable name of what they point
    to, and times from today on (written now, not planned) replaced by "now"."""
    midnight = datetime.combine(today, time(), time_zone(DEMO_DEPARTEMENT)).astimezone(UTC)
    names: dict[Any, str] = {}
    for table, label in LABELS.items():
        for row in await _rows(session, f"SELECT id, {label} AS label FROM {table}"):
            names[row.id] = f"{table}:{row.label}"
    for _ in range(2):  # labels made of ids: name them by what those ids name
        names = {key: _rename(value, names) for key, value in names.items()}

    def plain(value: Any) -> Any:
        if isinstance(value, uuid.UUID):
            return names.get(value, "?")
        if isinstance(value, datetime) and value >= midnight:
            return "now"
        if isinstance(value, dict | list):
            return repr(value)
        return value

    snapshot = {}
    for table in (*LABELS, *HISTORY_TABLES):
        only_planned = " WHERE status <> 'simulated'" if table == "proposal" else ""
        rows = await _rows(session, f"SELECT * FROM {table}{only_planned}")
        snapshot[table] = sorted(
            (tuple(plain(v) for k, v in row._mapping.items() if k not in OWN_IDS) for row in rows),
            key=repr,
        )
    return snapshot


def _rename(label: str, names: dict[Any, str]) -> str:
    return UUID_TEXT.sub(lambda found: names.get(uuid.UUID(found.group()), "?"), label)
