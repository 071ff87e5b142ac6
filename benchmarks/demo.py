"""The demo data set: how long it takes to load, what it holds, and how a matching run on it
(dry run, defaults) fares, in a fresh database.

    python benchmarks/demo.py [--seed 53] [--children 300] [--mentors 200] [--repeats 3]

The server is MENTORAT_TEST_DATABASE_URL / MENTORAT_DATABASE_URL, else an embedded PostgreSQL;
a database is created per load and dropped at the end. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mentorat.auth.principal import Principal, Role
from mentorat.demo import load_demo
from mentorat.kit.db import Database, async_url, upgrade
from mentorat.matching import service
from mentorat.matching.schemas import RunCreate
from tests.conftest import _server_url, create_database, drop_database

TABLES = (
    "child", "child_care_revision", "assessment", "offer", "offer_consent",
    "association_agreement", "proposal", "mentorship", "mentorship_event", "meeting",
    "objective", "objective_revision",
)  # fmt: skip


FIGURES = (
    "children", "children_not_eligible", "mentors", "feasible_pairs", "matched", "unmatched",
    "unmatched_by_reason", "mean_score",
)  # fmt: skip


async def _load_once(server_url: Any, args: argparse.Namespace) -> tuple[float, Database, str]:
    name = f"mentorat_demo_{uuid.uuid4().hex[:8]}"
    url = await create_database(server_url, name)
    await asyncio.to_thread(upgrade, url)
    engine = create_async_engine(async_url(url), pool_size=2)
    database = Database(engine, async_sessionmaker(engine, expire_on_commit=False))
    async with database.sessionmaker() as session:
        started = time.perf_counter()
        await load_demo(session, seed=args.seed, children=args.children, mentors=args.mentors)
        await session.commit()
        seconds = time.perf_counter() - started
    return seconds, database, name


async def _dry_run(database: Database) -> dict[str, Any]:
    operator = Principal(id=UUID(int=0), name="benchmark", role=Role.admin)
    async with database.sessionmaker() as session:
        run = await service.create_run(
            session, operator, RunCreate(departement_code="53", dry_run=True)
        )
        await session.commit()
    await service.execute_run(database, run.id)
    async with database.sessionmaker() as session:
        finished = await session.get(service.MatchingRun, run.id)
        return dict(finished.figures) if finished else {}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=53)
    parser.add_argument("--children", type=int, default=300)
    parser.add_argument("--mentors", type=int, default=240)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    server = _server_url()
    server_url = next(server)
    timings, names = [], []
    try:
        for repeat in range(args.repeats):
            seconds, database, name = await _load_once(server_url, args)
            timings.append(seconds)
            names.append(name)
            if repeat == args.repeats - 1:
                async with database.sessionmaker() as session:
                    for table in TABLES:
                        count = await session.scalar(text(f"SELECT count(*) FROM {table}"))
                        print(f"  {table:<22} {count}")
                figures = await _dry_run(database)
                print("\ndry run, default parameters:")
                for key in FIGURES:
                    print(f"  {key:<22} {figures.get(key)}")
            await database.engine.dispose()
        print(
            f"\nload_demo + commit: median {statistics.median(timings):.2f} s "
            f"(runs: {', '.join(f'{t:.2f}' for t in timings)})"
        )
    finally:
        for name in names:
            await drop_database(server_url, name)
        next(server, None)


if __name__ == "__main__":
    asyncio.run(main())
