"""Loading a département's mentors for matching, with and without the agreement gate.

    python benchmarks/agreements_load.py [--mentors 50000] [--associations 40] [--repeats 15]

The baseline reads each mentor's stored matching record alone; `load_mentors` appends one
byte per mentor (its association under an agreement in force on the run date, an
uncorrelated subquery). Mentors are spread over the associations, a quarter of which have no
agreement in force. The server is MENTORAT_TEST_DATABASE_URL / MENTORAT_DATABASE_URL, else an
embedded PostgreSQL; a database is created and dropped. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import func, insert, literal_column, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.matching import make_instance
from benchmarks.matching_db import DEPARTEMENT, TODAY, mentor_rows
from mentorat.agreements.service import add_agreement
from mentorat.kit.db import Database, async_url, upgrade
from mentorat.matching.loading import ID_KEY, MENTOR_RECORD, load_mentors, mentors_serving
from mentorat.matching.scoring import MentorArrays
from mentorat.models import Association, Departement, Mentor
from tests.conftest import _server_url, create_database, drop_database


async def insert_mentors(database: Database, n_mentors: int, n_associations: int) -> int:
    """Mentors over associations serving the département; returns how many are under an
    agreement in force today."""
    _, arrays, _ = make_instance(0, n_mentors, 11)
    async with database.sessionmaker() as session:
        departement = await session.get(Departement, DEPARTEMENT)
        associations = [
            Association(name=f"Bench {number}", departements=[departement])
            for number in range(n_associations)
        ]
        session.add_all(associations)
        await session.flush()
        for number, association in enumerate(associations):
            if number % 4 == 3:
                continue  # no agreement in force: one expired last year
            await add_agreement(
                session, association_id=association.id, departement_code=DEPARTEMENT,
                signed_on=date(2020, 1, 1), valid_from=date(2020, 1, 1),
                valid_until=None if number % 4 else TODAY + timedelta(days=30),
            )  # fmt: skip
        for number, association in enumerate(associations):
            if number % 4 == 3:
                await add_agreement(
                    session, association_id=association.id, departement_code=DEPARTEMENT,
                    signed_on=date(2020, 1, 1), valid_from=date(2020, 1, 1),
                    valid_until=TODAY - timedelta(days=365),
                )  # fmt: skip
        rows = mentor_rows(arrays, associations[0].id)
        for index, row in enumerate(rows):
            row["association_id"] = associations[index % n_associations].id
        for start in range(0, len(rows), 5000):
            await session.execute(insert(Mentor), rows[start : start + 5000])
        await session.commit()
        await session.execute(text("ANALYZE"))
    return sum(1 for index in range(n_mentors) if index % n_associations % 4 != 3)


async def timed(repeats: int, work: object) -> list[float]:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        await work()  # type: ignore[operator]
        timings.append(time.perf_counter() - started)
    return timings


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mentors", type=int, default=50_000)
    parser.add_argument("--associations", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    server = _server_url()
    server_url = next(server)
    name = f"mentorat_bench_{uuid.uuid4().hex[:8]}"
    url = await create_database(server_url, name)
    try:
        await asyncio.to_thread(upgrade, url)
        engine = create_async_engine(async_url(url), pool_size=2)
        database = Database(engine, async_sessionmaker(engine, expire_on_commit=False))
        under_agreement = await insert_mentors(database, args.mentors, args.associations)
        statement = mentors_serving(DEPARTEMENT)

        async with database.sessionmaker() as session:

            async def baseline() -> None:
                """What load_mentors did before the gate: the stored record, sorted by id."""
                blob, _ = (
                    await session.execute(
                        statement.with_only_columns(
                            func.string_agg(Mentor.matching_record, literal_column("''::bytea")),
                            func.count(),
                        )
                    )
                ).one()
                records = np.frombuffer(blob, dtype=MENTOR_RECORD)
                keys = records["id"].copy().view(ID_KEY)
                records = records[np.lexsort((keys["lo"], keys["hi"]))]
                MentorArrays(
                    lat=records["lat"], lon=records["lon"], radius_km=records["radius_km"],
                    goals=records["goals"],
                    availability=np.ascontiguousarray(records["availability"]),
                    remote_ok=records["remote_ok"], gender=records["gender"],
                    languages=records["languages"], active=records["usable"],
                    agreement_ok=np.ones(len(records), bool),
                    honorability_ok=records["checked_on"] <= 0,
                    capacity_left=records["places_left"],
                )  # fmt: skip

            async def gated() -> None:
                loaded = await load_mentors(session, statement, TODAY, DEPARTEMENT)
                gated.found = int(loaded.arrays.agreement_ok.sum())  # type: ignore[attr-defined]

            await baseline(), await gated()  # warm the caches
            figures = {
                "stored record only (baseline)": await timed(args.repeats, baseline),
                "load_mentors with the agreement byte": await timed(args.repeats, gated),
            }
        print(
            f"{args.mentors} mentors over {args.associations} associations; "
            f"{gated.found} under an agreement in force (expected {under_agreement})"  # type: ignore[attr-defined]
        )
        for label, timings in figures.items():
            print(
                f"  {label:<40} median {statistics.median(timings) * 1000:7.1f} ms, "
                f"min {min(timings) * 1000:7.1f} ms ({args.repeats} repeats)"
            )
        await engine.dispose()
    finally:
        await drop_database(server_url, name)
        next(server, None)


if __name__ == "__main__":
    asyncio.run(main())
