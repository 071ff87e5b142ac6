"""Children's situations on a département of N children with their legal history: the
statements behind GET /v1/children (a page of 50, and a page filtered by situation, which
derives the situation of every child until the page fills), a count of every situation
(what a report would group by), and the due list, on a fresh database.

    python benchmarks/situation.py [--children 5000] [--repeat 20]

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
from mentorat.children import repository
from mentorat.children.service import ChildFilters, _listed
from mentorat.kit.clock import today_in
from mentorat.kit.db import async_url, upgrade
from mentorat.models import Child
from mentorat.situation.derivation import with_situation
from mentorat.situation.service import due_list
from tests.conftest import _server_url, create_database, drop_database
from tests.factories import availability, create_association

READER = Principal(id=uuid.uuid4(), name="bench", role=Role.educator, departement_code="53")

# Children of 9 to 20, in care for up to three years; 80 % assessed (some twice), 55 % with
# an offer (decided or not), 20 % with a mentorship (a third of them ended), 5 % left care.
POPULATE = """
INSERT INTO child (departement_code, reference, first_name, birth_date, school_level,
                   college_entry_year, commune, postcode, latitude, longitude, goals, languages,
                   availability, remote_ok, came_into_care_on, left_care_on, legal_situation,
                   mentoring_requested_on)
SELECT '53', 'BENCH-' || n, 'Prenom' || n, birth, '6e',
       extract(year FROM birth)::int + 11, 'Laval', '53000', 48.07, -0.77, '{orientation}', '{}',
       :slots, false, came, CASE WHEN n % 20 = 0 THEN came + 300 END,
       CASE WHEN age >= 18 THEN 'young_adult' WHEN n % 7 = 0 THEN 'pupille'
            WHEN n % 3 = 0 THEN 'delegated_to_ase' ELSE 'parental_authority' END,
       CASE WHEN age >= 18 AND n % 2 = 0 THEN CURRENT_DATE - (n % 200) END
  FROM generate_series(1, :children) AS n,
       LATERAL (SELECT 9 + n % 12 AS age) a,
       LATERAL (SELECT (CURRENT_DATE - make_interval(years => a.age, days => n % 365))::date
                AS birth, CURRENT_DATE - (n % 1100) AS came) d;

INSERT INTO assessment (child_id, departement_code, assessed_on, author_name, outcome, reason)
SELECT id, '53', greatest(came_into_care_on, CURRENT_DATE - 700 + (rn % 650)), 'Bench',
       CASE WHEN rn % 6 = 0 THEN 'not_now' ELSE 'mentoring_recommended' END,
       CASE WHEN rn % 6 = 0 THEN 'Later.' END
  FROM (SELECT id, came_into_care_on, (row_number() OVER (ORDER BY id))::int AS rn FROM child) c
 WHERE rn % 5 <> 0;

INSERT INTO assessment (child_id, departement_code, assessed_on, author_name, outcome)
SELECT child_id, '53', assessed_on - 365, 'Bench', 'mentoring_recommended'
  FROM assessment WHERE assessed_on - 365 >= DATE '2000-01-01' AND random() < 0.3;

INSERT INTO offer (child_id, departement_code, offered_on, offered_by_name, legal_situation,
                   assessment_id)
SELECT DISTINCT ON (a.child_id) a.child_id, '53', least(a.assessed_on + 10, CURRENT_DATE),
       'Bench', c.legal_situation, a.id
  FROM assessment a JOIN child c ON c.id = a.child_id
 WHERE a.outcome = 'mentoring_recommended' AND random() < 0.7
 ORDER BY a.child_id, a.assessed_on DESC;

INSERT INTO offer_consent (offer_id, party, kind, given_on, recorded_by_name)
SELECT o.id, p.party, 'informed', o.offered_on, 'Bench'
  FROM offer o CROSS JOIN LATERAL unnest(offer_required_parties(o.legal_situation)) p (party);

INSERT INTO offer_consent (offer_id, party, kind, given_on, recorded_by_name)
SELECT o.id, p.party, CASE WHEN hashtext(o.id::text) % 9 = 0 THEN 'refused' ELSE 'agreed' END,
       least(o.offered_on + 12, CURRENT_DATE), 'Bench'
  FROM offer o CROSS JOIN LATERAL unnest(offer_required_parties(o.legal_situation)) p (party)
 WHERE hashtext(o.id::text) % 4 <> 0 AND (hashtext(o.id::text) % 9 <> 0 OR p.party IN
       ('child', 'young_adult'));
"""


async def populate(session: AsyncSession, children: int) -> dict[str, int]:
    for statement in POPULATE.split(";\n"):
        if statement.strip():
            await session.execute(text(statement), {"slots": availability(), "children": children})
    # Mentorships for 40 % of the accepted offers (a third of them ended), one mentor each.
    association = await create_association(session, departements=("53",))
    await session.execute(
        text(
            """
            WITH chosen AS (
                SELECT child_id, (row_number() OVER (ORDER BY child_id))::int AS n
                  FROM offer WHERE outcome = 'accepted' AND random() < 0.4),
            mentor AS (
                INSERT INTO mentor (association_id, first_name, last_name, email, commune,
                    postcode, latitude, longitude, travel_radius_km, goals, languages,
                    availability, capacity, honorability_checked_on, honorability_valid_until,
                    active)
                SELECT :association, 'M' || n, 'B', 'bench' || n || '@example.org', 'Laval',
                       '53000', 48.07, -0.77, 20, '{orientation}', '{fr}', :slots, 1,
                       CURRENT_DATE - 10, CURRENT_DATE + 1000, true
                  FROM chosen RETURNING id, first_name)
            INSERT INTO mentorship (child_id, mentor_id, departement_code, state, started_at)
            SELECT chosen.child_id, mentor.id, '53', 'active', now()
              FROM chosen JOIN mentor ON mentor.first_name = 'M' || chosen.n
            """
        ),
        {"slots": availability(), "association": association.id},
    )
    await session.execute(
        text(
            "UPDATE mentorship SET state = 'ended', end_reason = 'completed',"
            " ended_at = now() - interval '20 days' WHERE random() < 0.33"
        )
    )
    await session.commit()
    await session.execute(text("ANALYZE"))
    counts = (
        await session.execute(
            text(
                "SELECT (SELECT count(*) FROM child), (SELECT count(*) FROM assessment),"
                " (SELECT count(*) FROM offer), (SELECT count(*) FROM offer_consent),"
                " (SELECT count(*) FROM mentorship)"
            )
        )
    ).one()
    names = ("children", "assessments", "offers", "consents", "mentorships")
    return dict(zip(names, counts, strict=True))


async def page(session: AsyncSession, filters: ChildFilters) -> Any:
    statement, columns = repository.situated(_listed(READER, filters))
    if filters.situations:
        statement = statement.where(columns.situation.in_(filters.situations))
    return (await session.execute(statement.order_by(Child.created_at, Child.id).limit(51))).all()


async def counts(session: AsyncSession) -> Any:
    statement, columns = with_situation(select(Child.id).where(Child.departement_code == "53"))
    grouped = statement.with_only_columns(columns.situation, func.count()).group_by(
        columns.situation
    )
    return dict((await session.execute(grouped)).all())


async def due(session: AsyncSession) -> Any:
    return await due_list(session, READER, "53", as_of=None, until=None, limit=50, cursor=None)


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


async def main(children: int, repeat: int) -> None:
    server = next(_server_url())
    name = f"mentorat_bench_{uuid.uuid4().hex[:8]}"
    url = await create_database(server, name)
    try:
        await asyncio.to_thread(upgrade, url)
        engine = create_async_engine(async_url(url), pool_size=1)
        sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        async with sessionmaker() as session:
            print("rows:", await populate(session, children))
            print("situations:", await counts(session), "on", today_in("53"))
        cases: list[tuple[str, Callable[[AsyncSession], Awaitable[Any]]]] = [
            ("list page of 50", lambda s: page(s, ChildFilters())),
            ("page filtered: waiting_for_mentor", lambda s: page(
                s, ChildFilters(situations=("waiting_for_mentor",)))),
            ("page filtered: refused (rare)", lambda s: page(
                s, ChildFilters(situations=("refused",)))),
            ("count of every situation", counts),
            ("due list, first page of 50", due),
        ]  # fmt: skip
        print(f"{'statement':38} {'median ms':>10} {'max ms':>8}")
        for label, work in cases:
            median, worst = await time_ms(sessionmaker, work, repeat)
            print(f"{label:38} {median:10.1f} {worst:8.1f}")
        await engine.dispose()
    finally:
        await drop_database(server, name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=20)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.children, arguments.repeat))
