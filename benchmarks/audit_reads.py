"""Auditing a list read: one event per child shown, written as one INSERT ... SELECT FROM
unnest (`audit.service.record_reads`) against SQLAlchemy's executemany of one row per child
(`audit.service.record`, what list reads used before), on a fresh database.

    python benchmarks/audit_reads.py [--sizes 1,50,200] [--repeat 200]

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

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mentorat.audit.service import record, record_reads
from mentorat.auth.principal import Principal, Role
from mentorat.kit.db import async_url, upgrade
from tests.conftest import _server_url, create_database, drop_database

READER = Principal(id=uuid.uuid4(), name="bench", role=Role.educator, departement_code="53")
Writer = Callable[[AsyncSession, list[uuid.UUID]], Awaitable[None]]


async def per_row(session: AsyncSession, ids: list[uuid.UUID]) -> None:
    await record(session, READER, "read", "child", ids, departement_code="53",
                 details={"via": "list"})  # fmt: skip


async def one_statement(session: AsyncSession, ids: list[uuid.UUID]) -> None:
    await record_reads(session, READER, "child", [(i, "53") for i in ids], via="list")


async def time_ms(sessionmaker: async_sessionmaker[AsyncSession], write: Writer, n: int) -> float:
    ids = [uuid.uuid4() for _ in range(n)]
    async with sessionmaker() as session:
        started = time.perf_counter()
        await write(session, ids)
        elapsed = time.perf_counter() - started
        await session.rollback()
    return elapsed * 1000


async def main(sizes: list[int], repeat: int) -> None:
    server = next(_server_url())
    name = f"mentorat_bench_{uuid.uuid4().hex[:8]}"
    url = await create_database(server, name)
    try:
        await asyncio.to_thread(upgrade, url)
        engine = create_async_engine(async_url(url), pool_size=1)
        sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        print(f"{'rows':>5} {'executemany (ms)':>17} {'INSERT ... SELECT (ms)':>23}")
        for n in sizes:
            medians = []
            for write in (per_row, one_statement):
                for _ in range(5):  # warm-up: prepared statements, caches
                    await time_ms(sessionmaker, write, n)
                medians.append(
                    statistics.median(
                        [await time_ms(sessionmaker, write, n) for _ in range(repeat)]
                    )
                )
            print(f"{n:>5} {medians[0]:>17.2f} {medians[1]:>23.2f}")
        await engine.dispose()
    finally:
        await drop_database(server, name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1,50,200")
    parser.add_argument("--repeat", type=int, default=200)
    arguments = parser.parse_args()
    asyncio.run(main([int(s) for s in arguments.sizes.split(",")], arguments.repeat))
