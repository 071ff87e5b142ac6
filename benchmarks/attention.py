"""Why mentorships need attention, and the daily reminders, on a département of N mentorships
with their meetings, objectives and pauses: the statements behind GET /v1/mentorships (a page
of 50 with its reasons, pages filtered by needs_attention), a count of every mentorship needing
attention, and `send_daily_reminders` run twice (the second run tells nothing), on a fresh
database.

    python benchmarks/attention.py [--mentorships 10000] [--repeat 10]

The server is MENTORAT_TEST_DATABASE_URL / MENTORAT_DATABASE_URL, else an embedded PostgreSQL;
a database is created for the benchmark and dropped at the end. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mentorat.auth.principal import Principal, Role
from mentorat.kit.db import Database, async_url, upgrade
from mentorat.mentorships import repository
from mentorat.mentorships.attention import with_attention
from mentorat.mentorships.service import list_mentorships
from mentorat.models import Mentorship
from mentorat.reminders.daily import send_daily_reminders
from tests.conftest import _server_url, create_database, drop_database
from tests.factories import availability, create_association

READER = Principal(id=uuid.uuid4(), name="bench", role=Role.educator, departement_code="53")

# One child and one mentor per mentorship; 80 % active, 10 % paused, 10 % ended, created up
# to 400 days ago; 0 to 11 meetings each, spread since the start; two objectives each, changed
# up to 90 days ago, a third with a target date; mentors' checks expiring over the next year.
POPULATE = """
INSERT INTO child (departement_code, reference, first_name, birth_date, school_level,
                   college_entry_year, commune, postcode, latitude, longitude, goals, languages,
                   availability, remote_ok, came_into_care_on, legal_situation)
SELECT '53', 'BENCH-' || n, 'Prenom' || n, CURRENT_DATE - 4500 - n % 1500, '6e', 2025,
       'Laval', '53000', 48.07, -0.77, '{orientation}', '{}', :slots, false,
       CURRENT_DATE - 500 - n % 300, 'parental_authority'
  FROM generate_series(1, :mentorships) AS n;

INSERT INTO mentor (association_id, first_name, last_name, email, commune, postcode, latitude,
                    longitude, travel_radius_km, goals, languages, availability, capacity,
                    honorability_checked_on, honorability_valid_until, active)
SELECT :association, 'M' || n, 'B', 'bench' || n || '@example.org', 'Laval', '53000', 48.07,
       -0.77, 20, '{orientation}', '{fr}', :slots, 1, CURRENT_DATE - 700,
       CURRENT_DATE + n % 365, true
  FROM generate_series(1, :mentorships) AS n;

INSERT INTO mentorship (child_id, mentor_id, departement_code, state, started_at, created_at,
                        end_reason, ended_at)
SELECT c.id, m.id, '53', s.state, now() - make_interval(days => c.n % 400),
       now() - make_interval(days => c.n % 400),
       CASE WHEN s.state = 'ended' THEN 'completed' END,
       CASE WHEN s.state = 'ended' THEN now() END
  FROM (SELECT id, (row_number() OVER (ORDER BY id))::int AS n FROM child) c
  JOIN (SELECT id, (row_number() OVER (ORDER BY id))::int AS n FROM mentor) m USING (n)
  CROSS JOIN LATERAL (SELECT CASE WHEN c.n % 10 = 0 THEN 'ended' WHEN c.n % 10 = 1
                                  THEN 'paused' ELSE 'active' END AS state) s;

INSERT INTO meeting (mentorship_id, held_on, duration_minutes, mode, entered_by_name)
SELECT ms.id, CURRENT_DATE - (hashtext(ms.id::text || k) & 1023) % (1 + age.days), 60,
       'in_person', 'Bench'
  FROM mentorship ms
  CROSS JOIN LATERAL (SELECT (CURRENT_DATE - ms.created_at::date) AS days) age
  CROSS JOIN LATERAL generate_series(1, (hashtext(ms.id::text) & 1023) % 12) AS k;

INSERT INTO objective (mentorship_id, title, category, status, target_date, updated_at)
SELECT ms.id, 'Objectif ' || k, 'orientation',
       CASE WHEN k = 2 AND hashtext(ms.id::text) % 4 = 0 THEN 'achieved' ELSE 'open' END,
       CASE WHEN (hashtext(ms.id::text || k) & 1023) % 3 = 0
            THEN CURRENT_DATE + (hashtext(ms.id::text || k) & 1023) % 120 - 60 END,
       now() - make_interval(days => (hashtext(ms.id::text || k) & 1023) % 90)
  FROM mentorship ms CROSS JOIN generate_series(1, 2) AS k;

INSERT INTO mentorship_event (mentorship_id, principal_name, from_state, to_state, occurred_at)
SELECT id, 'Bench', 'active', 'paused',
       now() - make_interval(days => (hashtext(id::text) & 1023) % 200)
  FROM mentorship WHERE state = 'paused'
"""


async def populate(session: AsyncSession, mentorships: int) -> dict[str, int]:
    association = await create_association(session, departements=("53",))
    parameters = {
        "slots": availability(),
        "mentorships": mentorships,
        "association": association.id,
    }
    for statement in POPULATE.split(";\n"):
        if statement.strip():
            await session.execute(text(statement), parameters)
    await session.commit()
    await session.execute(text("ANALYZE"))
    await session.commit()  # rolled back, ANALYZE's statistics would be lost
    counts = (
        await session.execute(
            text(
                "SELECT (SELECT count(*) FROM mentorship), (SELECT count(*) FROM meeting),"
                " (SELECT count(*) FROM objective), (SELECT count(*) FROM mentorship_event)"
            )
        )
    ).one()
    return dict(zip(("mentorships", "meetings", "objectives", "events"), counts, strict=True))


async def plain_page(session: AsyncSession) -> Any:
    """The page without its reasons, for comparison."""
    statement = repository.scoped(READER).order_by(Mentorship.created_at, Mentorship.id)
    return (await session.scalars(statement.limit(51))).all()


async def page(session: AsyncSession, needs_attention: bool | None) -> Any:
    return await list_mentorships(
        session, READER, state=None, needs_attention=needs_attention, limit=50, cursor=None
    )


async def needing(session: AsyncSession) -> dict[str, int]:
    statement, attention = with_attention(select(Mentorship.id))
    counted = statement.with_only_columns(attention.codes, func.count()).group_by(attention.codes)
    return {codes: count for codes, count in (await session.execute(counted)).all()}


async def time_ms(
    sessionmaker: async_sessionmaker[AsyncSession],
    work: Callable[[AsyncSession], Awaitable[Any]],
    repeat: int,
) -> tuple[float, float]:
    timings = []
    for _ in range(repeat):
        async with sessionmaker() as session:
            started = time.perf_counter()
            await work(session)
            timings.append((time.perf_counter() - started) * 1000)
            await session.rollback()
    return statistics.median(timings), max(timings)


async def main(mentorships: int, repeat: int) -> None:
    server = next(_server_url())
    name = f"mentorat_bench_{uuid.uuid4().hex[:8]}"
    url = await create_database(server, name)
    try:
        await asyncio.to_thread(upgrade, url)
        engine = create_async_engine(async_url(url), pool_size=1)
        sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        async with sessionmaker() as session:
            print("rows:", await populate(session, mentorships))
            print("reasons:", await needing(session))
        cases: list[tuple[str, Callable[[AsyncSession], Awaitable[Any]]]] = [
            ("page of 50, without reasons", plain_page),
            ("page of 50, with reasons", lambda s: page(s, None)),
            ("page filtered: needs_attention=true", lambda s: page(s, True)),
            ("page filtered: needs_attention=false", lambda s: page(s, False)),
            ("count by reasons (all derived)", needing),
        ]
        print(f"{'statement':40} {'median ms':>10} {'max ms':>8}")
        for label, work in cases:
            median, worst = await time_ms(sessionmaker, work, repeat)
            print(f"{label:40} {median:10.1f} {worst:8.1f}")
        database = Database(engine, sessionmaker)
        for run in ("first", "second"):
            started = time.perf_counter()
            figures = await send_daily_reminders(database)
            elapsed = (time.perf_counter() - started) * 1000
            print(f"daily reminders, {run} run: {elapsed:8.1f} ms {figures.as_dict()}")
        await engine.dispose()
    finally:
        await drop_database(server, name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mentorships", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=10)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.mentorships, arguments.repeat))
