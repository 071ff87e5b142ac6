"""Matching runs as jobs of the queue, in the test's transaction: deferred with the run's row,
taken back from a dead worker by the sweep, never written twice; the queue in /readyz and
/metrics."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.principal import Principal, Role
from mentorat.jobs.app import DEFAULT_QUEUE, MATCHING_QUEUE, RUN_TASK, SWEEP_TASK, jobs_app
from mentorat.jobs.worker import run_worker
from mentorat.kit.db import Database
from mentorat.matching import service
from mentorat.matching.schemas import RunCreate
from mentorat.models import Event, MatchingRun, Proposal
from mentorat.settings import Settings
from tests.conftest import run_queued_jobs
from tests.factories import Actors, create_child, create_mentor

RUNS = "/v1/matching-runs"
OPERATOR = Principal(id=uuid.UUID(int=0), name="tests", role=Role.admin)


async def jobs_of(session: AsyncSession, run_id: Any) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            "SELECT id, status::text AS status, queue_name, attempts, worker_id"
            " FROM procrastinate_jobs WHERE task_name = :task AND args->>'run_id' = :run"
            " ORDER BY id"
        ),
        {"task": RUN_TASK, "run": str(run_id)},
    )
    return [dict(row) for row in rows.mappings()]


async def count_jobs(session: AsyncSession) -> int:
    return int(await session.scalar(text("SELECT count(*) FROM procrastinate_jobs")) or 0)


async def some_children_and_mentors(session: AsyncSession, actors: Actors) -> None:
    for goals in (["orientation"], ["stage"], ["emploi", "orientation"]):
        await create_child(session, goals=goals, departement="53")
        await create_mentor(session, association=actors.association_a, goals=goals)
    await session.commit()


async def die_while_running(session: AsyncSession, database: Database, run_id: Any) -> int:
    """What a worker that took the run's job, started the run, then was killed leaves behind:
    the job `doing` under a worker whose last heartbeat is an hour old, the run `running`."""
    dead_worker = await session.scalar(
        text(
            "INSERT INTO procrastinate_workers (last_heartbeat)"
            " VALUES (now() - interval '1 hour') RETURNING id"
        )
    )
    fetched = await session.scalar(
        text("SELECT id FROM procrastinate_fetch_job_v2(ARRAY[:queue]::varchar[], :worker)"),
        {"queue": MATCHING_QUEUE, "worker": dead_worker},
    )
    await session.commit()
    assert fetched is not None
    claimed = await service._claim(database, run_id)
    assert claimed is not None and claimed.attempt == 1
    await session.execute(
        text("UPDATE matching_run SET phase = 'writing', figures = :figures WHERE id = :id"),
        {"figures": '{"children": 3, "matched": 3}', "id": run_id},
    )
    await session.commit()
    return int(fetched)


async def run_the_sweep(session: AsyncSession, database: Database, settings: Settings) -> None:
    """The periodic sweep, deferred for a tick and run alone (its queue only)."""
    await jobs_app.configure_task(SWEEP_TASK, connection=session).defer_async(timestamp=0)
    await session.commit()
    await run_worker(
        database, settings, queues=[DEFAULT_QUEUE], install_signal_handlers=False, wait=False
    )


class TestDeferredWithTheRun:
    async def test_a_run_is_queued_with_its_job_and_run_by_a_worker(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        response = await client.post(RUNS, json={"dry_run": True}, headers=actors.manager_53)
        assert response.status_code == 202, response.text
        run_id = response.json()["id"]
        assert response.json()["status"] == "queued" and response.json()["attempt"] == 0
        (job,) = await jobs_of(session, run_id)
        assert (job["status"], job["queue_name"]) == ("todo", MATCHING_QUEUE)

        await run_queued_jobs(client)

        run = (await client.get(f"{RUNS}/{run_id}", headers=actors.manager_53)).json()
        assert (run["status"], run["phase"], run["attempt"]) == ("succeeded", "done", 1)
        (job,) = await jobs_of(session, run_id)
        assert job["status"] == "succeeded"
        events = (
            await session.execute(
                select(Event.type, Event.departement_code, Event.data).where(
                    Event.entity_id == uuid.UUID(run_id)
                )
            )
        ).all()
        assert [(e.type, e.departement_code, e.data["status"]) for e in events] == [
            ("matching_run.succeeded", "53", "succeeded")
        ]

    async def test_a_rolled_back_create_leaves_neither_run_nor_job(
        self, session: AsyncSession, database: Database, actors: Actors
    ) -> None:
        runs_before = await session.scalar(select(func.count()).select_from(MatchingRun))
        jobs_before = await count_jobs(session)
        async with database.sessionmaker() as request:
            run = await service.create_run(request, OPERATOR, RunCreate(departement_code="53"))
            assert len(await jobs_of(request, run.id)) == 1  # written in this transaction
            await request.rollback()
        assert await session.scalar(select(func.count()).select_from(MatchingRun)) == runs_before
        assert await count_jobs(session) == jobs_before

    async def test_a_refused_request_leaves_no_job(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        first = await client.post(RUNS, json={}, headers=actors.manager_53)
        assert first.status_code == 202
        jobs_before = await count_jobs(session)
        second = await client.post(RUNS, json={}, headers=actors.manager_53)
        assert second.status_code == 409, second.text  # the first is still queued
        assert await count_jobs(session) == jobs_before


class TestStalledRuns:
    async def test_the_sweep_requeues_a_dead_workers_run_and_another_finishes_it_once(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        database: Database,
        settings: Settings,
        actors: Actors,
    ) -> None:
        await some_children_and_mentors(session, actors)
        response = await client.post(RUNS, json={}, headers=actors.manager_53)
        run_id = uuid.UUID(response.json()["id"])
        job_id = await die_while_running(session, database, run_id)

        await run_the_sweep(session, database, settings)

        run = (await client.get(f"{RUNS}/{run_id}", headers=actors.manager_53)).json()
        assert (run["status"], run["phase"], run["attempt"]) == ("queued", "queued", 1)
        assert run["figures"] == {"children": 3, "matched": 3}  # progress so far, kept
        (job,) = await jobs_of(session, run_id)
        assert (job["id"], job["status"], job["attempts"]) == (job_id, "todo", 1)

        await run_queued_jobs(client)

        run = (await client.get(f"{RUNS}/{run_id}", headers=actors.manager_53)).json()
        assert (run["status"], run["attempt"]) == ("succeeded", 2)
        proposals = (
            await session.scalars(select(Proposal.child_id).where(Proposal.run_id == run_id))
        ).all()
        assert len(proposals) == len(set(proposals)) == run["figures"]["matched"] > 0
        (job,) = await jobs_of(session, run_id)
        assert job["status"] == "succeeded"
        succeeded = await session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.entity_id == run_id, Event.type == "matching_run.succeeded")
        )
        assert succeeded == 1

    async def test_a_superseded_attempt_writes_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        database: Database,
        settings: Settings,
        actors: Actors,
    ) -> None:
        await some_children_and_mentors(session, actors)
        response = await client.post(RUNS, json={}, headers=actors.manager_53)
        run_id = uuid.UUID(response.json()["id"])
        await die_while_running(session, database, run_id)
        first_attempt = await session.get(MatchingRun, run_id)
        assert first_attempt is not None and first_attempt.attempt == 1
        session.expunge(first_attempt)
        await run_the_sweep(session, database, settings)
        await run_queued_jobs(client)  # the second attempt succeeds
        written = (
            await session.scalars(select(Proposal.id).where(Proposal.run_id == run_id))
        ).all()

        # The first worker was not dead after all, and reaches its write phase now.
        await service._execute(database, first_attempt, lambda phase, figures: None)

        assert (
            await session.scalars(select(Proposal.id).where(Proposal.run_id == run_id))
        ).all() == written
        session.expire_all()
        run = await session.get(MatchingRun, run_id)
        assert run is not None and (run.status, run.attempt) == ("succeeded", 2)

    async def test_after_the_last_attempt_the_run_is_abandoned(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        database: Database,
        settings: Settings,
        actors: Actors,
    ) -> None:
        response = await client.post(RUNS, json={}, headers=actors.manager_53)
        run_id = uuid.UUID(response.json()["id"])
        await die_while_running(session, database, run_id)
        await session.execute(
            text("UPDATE matching_run SET attempt = :n WHERE id = :id"),
            {"n": settings.job_max_attempts, "id": run_id},
        )
        await session.commit()

        await run_the_sweep(session, database, settings)

        run = (await client.get(f"{RUNS}/{run_id}", headers=actors.manager_53)).json()
        assert (run["status"], run["error_code"]) == ("failed", "abandoned")
        assert run["error"] == service.RUN_ERROR_SENTENCES["abandoned"]
        (job,) = await jobs_of(session, run_id)
        assert job["status"] == "failed"
        failed = (
            await session.scalars(
                select(Event.data).where(
                    Event.entity_id == run_id, Event.type == "matching_run.failed"
                )
            )
        ).all()
        assert [data["error_code"] for data in failed] == ["abandoned"]
        # The département is free for its next run.
        assert (await client.post(RUNS, json={}, headers=actors.manager_53)).status_code == 202

    async def test_a_live_workers_run_is_left_alone(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        database: Database,
        settings: Settings,
        actors: Actors,
    ) -> None:
        response = await client.post(RUNS, json={}, headers=actors.manager_53)
        run_id = uuid.UUID(response.json()["id"])
        await die_while_running(session, database, run_id)
        await session.execute(text("UPDATE procrastinate_workers SET last_heartbeat = now()"))
        await session.commit()

        await run_the_sweep(session, database, settings)

        run = await session.get(MatchingRun, run_id)
        assert run is not None
        await session.refresh(run)
        assert (run.status, run.attempt) == ("running", 1)
        (job,) = await jobs_of(session, run_id)
        assert job["status"] == "doing"


class TestQueueFigures:
    async def test_readyz_and_metrics_show_jobs_waiting_and_the_oldest_wait(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        for headers, code in ((actors.manager_53, "53"), (actors.admin, "75")):
            response = await client.post(RUNS, json={"departement_code": code}, headers=headers)
            assert response.status_code == 202
        # The first run was deferred 90 seconds ago.
        await session.execute(
            text(
                "UPDATE procrastinate_events SET at = now() - interval '90 seconds'"
                " WHERE job_id = (SELECT min(id) FROM procrastinate_jobs"
                " WHERE task_name = :task AND status = 'todo')"
            ),
            {"task": RUN_TASK},
        )
        await session.commit()
        expected = await session.execute(
            text(
                "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'"
                " AND queue_name = :queue"
            ),
            {"queue": MATCHING_QUEUE},
        )
        waiting = int(expected.scalar_one())
        assert waiting >= 2

        ready = (await client.get("/readyz")).json()
        assert ready["queue"]["queues"][MATCHING_QUEUE]["waiting"] == waiting
        assert 89 <= ready["queue"]["queues"][MATCHING_QUEUE]["oldest_waiting_seconds"] < 600
        assert ready["queue"]["waiting"] >= waiting

        metrics = (await client.get("/metrics")).text
        assert f'mentorat_jobs_waiting{{queue="{MATCHING_QUEUE}"}} {float(waiting)}' in metrics
        (line,) = [
            line
            for line in metrics.splitlines()
            if line.startswith(f'mentorat_jobs_oldest_waiting_seconds{{queue="{MATCHING_QUEUE}"}}')
        ]
        assert 89 <= float(line.split()[-1]) < 600

        await run_queued_jobs(client)
        ready = (await client.get("/readyz")).json()
        assert MATCHING_QUEUE not in ready["queue"]["queues"]
        metrics = (await client.get("/metrics")).text
        assert f'mentorat_jobs_waiting{{queue="{MATCHING_QUEUE}"}} 0.0' in metrics
