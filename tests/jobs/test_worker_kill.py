"""A `mentorat worker` killed (SIGKILL) during a run, on a committed database of its own:
the sweep sees its worker stalled, another worker finishes the run, one set of proposals.

The worker is held in its write phase without any hook in the product: the test holds a lock
on `proposal` that its INSERT waits for, kills it, then lets go.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from mentorat.auth.principal import Principal, Role
from mentorat.kit.db import async_url, sync_url, upgrade
from mentorat.matching import service
from mentorat.matching.schemas import RunCreate
from mentorat.models import MatchingRun, Proposal
from tests.conftest import create_database, drop_database
from tests.factories import create_association, create_child, create_mentor

HEARTBEAT_SECONDS = 1
STALLED_AFTER_SECONDS = 3
OPERATOR = Principal(id=uuid.UUID(int=0), name="kill test", role=Role.admin)


@pytest.fixture
async def committed_url(server_url: URL) -> AsyncIterator[URL]:
    name = f"mentorat_worker_kill_{uuid.uuid4().hex[:12]}"
    url = await create_database(server_url, name)
    try:
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        await drop_database(server_url, name)


def start_worker(url: URL, name: str, log: Path) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "MENTORAT_DATABASE_URL": url.render_as_string(hide_password=False),
        "MENTORAT_WORKER_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
        "MENTORAT_WORKER_STALLED_AFTER_SECONDS": str(STALLED_AFTER_SECONDS),
    }
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "mentorat.cli", "worker", "--name", name],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


async def wait_for(check: Callable[[], Awaitable[bool]], what: str, within: float) -> float:
    """Seconds until `check()` is true."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if await check():
            return time.monotonic() - started
        await asyncio.sleep(0.2)
    raise AssertionError(f"Timed out after {within} s waiting for {what}.")


async def test_a_killed_worker_s_run_is_finished_by_another_once(
    committed_url: URL, tmp_path: Path
) -> None:
    engine = create_async_engine(async_url(committed_url), poolclass=NullPool)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    log = tmp_path / "workers.log"
    workers: list[subprocess.Popen[bytes]] = []
    blocker = await asyncpg.connect(sync_url(committed_url).render_as_string(hide_password=False))
    try:
        async with sessions() as session:
            association = await create_association(session, departements=("53",))
            for goals in (["orientation"], ["stage"], ["emploi"], ["numerique", "stage"]):
                await create_child(session, goals=goals, departement="53")
                await create_mentor(session, association=association, goals=goals)
            run = await service.create_run(session, OPERATOR, RunCreate(departement_code="53"))
            await session.commit()

        async def run_row() -> MatchingRun:
            async with sessions() as session:
                found = await session.get(MatchingRun, run.id)
                assert found is not None
                return found

        # The first worker's INSERT INTO proposal waits behind this lock.
        blocking = blocker.transaction()
        await blocking.start()
        await blocker.execute("LOCK TABLE proposal IN SHARE ROW EXCLUSIVE MODE")
        workers.append(start_worker(committed_url, "first", log))

        async def writing() -> bool:
            return (await run_row()).phase == "writing"

        await wait_for(writing, "the first worker's write phase", 60)

        async def waits_on_the_lock() -> bool:
            return bool(
                await blocker.fetchval(
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                    " WHERE c.relname = 'proposal' AND NOT l.granted"
                )
            )

        await wait_for(waits_on_the_lock, "the first worker's INSERT to wait", 30)
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(10)
        killed_at = time.monotonic()
        await blocking.rollback()
        assert (await run_row()).status == "running"

        workers.append(start_worker(committed_url, "second", log))

        async def requeued_or_retried() -> bool:
            row = await run_row()
            return row.status == "queued" or row.attempt >= 2

        detection = await wait_for(requeued_or_retried, "the sweep to retry the run", 150)

        async def finished() -> bool:
            return (await run_row()).status in ("succeeded", "failed")

        await wait_for(finished, "the second worker to finish the run", 60)
        completion = time.monotonic() - killed_at

        finished_run = await run_row()
        assert (finished_run.status, finished_run.attempt) == ("succeeded", 2)
        async with sessions() as session:
            proposals = (
                await session.scalars(select(Proposal.child_id).where(Proposal.run_id == run.id))
            ).all()
            jobs = (
                await session.execute(
                    text(
                        "SELECT status::text, attempts FROM procrastinate_jobs"
                        " WHERE args->>'run_id' = :id"
                    ),
                    {"id": str(run.id)},
                )
            ).all()
            all_proposals = await session.scalar(select(func.count()).select_from(Proposal))
        assert len(proposals) == len(set(proposals)) == finished_run.figures["matched"] > 0
        assert all_proposals == len(proposals)
        # One job, retried once (procrastinate counts the attempts that ended: 2).
        assert [tuple(job) for job in jobs] == [("succeeded", 2)]
        # SIGTERM stops the idle worker cleanly, unregistered.
        workers[1].send_signal(signal.SIGTERM)
        assert workers[1].wait(30) == 0
        async with sessions() as session:
            registered = await session.scalar(text("SELECT count(*) FROM procrastinate_workers"))
        assert registered == 0  # the second unregistered, the first was pruned as stalled
        print(
            f"\nworker kill: heartbeat {HEARTBEAT_SECONDS} s, stalled after "
            f"{STALLED_AFTER_SECONDS} s, sweep every minute: run back in the queue "
            f"{detection:.1f} s after the kill, finished {completion:.1f} s after it"
        )
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(30)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait(10)
        await blocker.close()
        await engine.dispose()
        if log.exists():
            sys.stderr.write(log.read_text(errors="replace")[-4000:])
