"""Webhooks: what the fan-out trigger adds to a transaction writing events, and how fast
`deliver_due` sends to a receiver on 127.0.0.1, on a fresh database.

    python benchmarks/webhooks.py [--events 1000,10000] [--deliveries 2000]

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
from pathlib import Path

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mentorat.events.outbox import NewEvent, emit
from mentorat.kit.db import Database, async_url, upgrade
from mentorat.models import WebhookEndpoint
from mentorat.webhooks import secrets
from mentorat.webhooks.delivery import deliver_due
from tests.conftest import _server_url, create_database, drop_database
from tests.webhooks.receiver import start_receiver


def events(n: int, departement: str = "53") -> list[NewEvent]:
    return [
        NewEvent("proposal.created", "proposal", uuid.uuid4(), departement, None, {"i": i})
        for i in range(n)
    ]


async def add_endpoints(database: Database, url: str, count: int, departement: str) -> None:
    async with database.sessionmaker() as session:
        key = await secrets.encryption_key(session)
        for _ in range(count):
            endpoint_id = uuid.uuid4()
            session.add(
                WebhookEndpoint(
                    id=endpoint_id,
                    departement_code=departement,
                    url=url,
                    event_types=["proposal.created", "mentorship.ended"],
                    secret_ciphertext=secrets.encrypt(key, endpoint_id, secrets.new_secret()),
                )
            )
        await session.commit()


async def clear(database: Database) -> None:
    async with database.sessionmaker() as session:
        await session.execute(delete(WebhookEndpoint))
        await session.execute(text("TRUNCATE event CASCADE"))
        await session.commit()


async def emit_ms(database: Database, n: int) -> float:
    """One transaction writing n events in one emit, rolled back."""
    async with database.sessionmaker() as session:
        batch = events(n)
        started = time.perf_counter()
        await emit(session, batch)
        elapsed = time.perf_counter() - started
        await session.rollback()
    return elapsed * 1000


async def fan_out(database: Database, url: str, sizes: list[int]) -> None:
    print("Fan-out: one emit of n events in département 53 (median of 5, ms)")
    print(f"{'endpoints wanting them':>24} " + " ".join(f"{f'n={n}':>10}" for n in sizes))
    for label, matching, elsewhere in (
        ("none", 0, 0),
        ("0 (10 in 75)", 0, 10),
        ("1", 1, 0),
        ("10", 10, 0),
    ):
        await clear(database)
        await add_endpoints(database, url, matching, "53")
        await add_endpoints(database, url, elsewhere, "75")
        medians = []
        for n in sizes:
            await emit_ms(database, n)  # warm-up
            medians.append(statistics.median([await emit_ms(database, n) for _ in range(5)]))
        print(f"{label:>24} " + " ".join(f"{m:>10.1f}" for m in medians))


async def sending(database: Database, url: str, total: int) -> None:
    print(f"\nSending {total} deliveries to one receiver on 127.0.0.1 (answers 200)")
    print(f"{'endpoints':>10} {'passes':>7} {'seconds':>8} {'deliveries/s':>13} {'ms each':>8}")
    for endpoints in (1, 10):
        await clear(database)
        await add_endpoints(database, url, endpoints, "53")
        async with database.sessionmaker() as session:
            await emit(session, events(total // endpoints))
            await session.commit()
        started, passes, sent = time.perf_counter(), 0, 0
        while True:
            figures = await deliver_due(database)
            if figures.attempts == 0:
                break
            passes, sent = passes + 1, sent + figures.attempts
        elapsed = time.perf_counter() - started
        print(
            f"{endpoints:>10} {passes:>7} {elapsed:>8.2f} {sent / elapsed:>13.0f} "
            f"{1000 * elapsed / sent:>8.2f}"
        )
    await clear(database)
    idle = []
    for _ in range(20):
        started = time.perf_counter()
        await deliver_due(database)
        idle.append((time.perf_counter() - started) * 1000)
    print(f"\nA pass with nothing due: median {statistics.median(idle):.2f} ms")


async def main(sizes: list[int], deliveries: int) -> None:
    server = next(_server_url())
    name = f"mentorat_bench_{uuid.uuid4().hex[:8]}"
    url = await create_database(server, name)
    receiver, http_server, thread = start_receiver()
    try:
        await asyncio.to_thread(upgrade, url)
        engine = create_async_engine(async_url(url), pool_size=2)
        database = Database(engine, async_sessionmaker(engine, expire_on_commit=False))
        await fan_out(database, receiver.url, sizes)
        await sending(database, receiver.url, deliveries)
        await engine.dispose()
    finally:
        http_server.shutdown()
        http_server.server_close()
        thread.join(timeout=5)
        await drop_database(server, name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", default="1000,10000")
    parser.add_argument("--deliveries", type=int, default=2000)
    arguments = parser.parse_args()
    asyncio.run(main([int(n) for n in arguments.events.split(",")], arguments.deliveries))
