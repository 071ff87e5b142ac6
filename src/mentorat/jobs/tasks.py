"""Every task the workers run, and the periodic ones: add a function here to add one.

A task is an async function decorated with `@jobs_app.task(name=..., queue=...,
pass_context=True)`; its arguments are JSON (ids as strings). It gets the `Database` with
`database_of(context)` and the settings with `settings_of(context)`, and writes through
sessions of that Database like the API does. A periodic task adds
`@jobs_app.periodic(cron=..., periodic_id=...)` above it and takes a `timestamp` argument
(the tick's Unix time); each tick is deferred once whatever the number of workers, and a
`queueing_lock` keeps a slow one from piling up. Names are stored with the jobs: keep them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid

from procrastinate import JobContext
from procrastinate import jobs as procrastinate_jobs
from procrastinate import sql as procrastinate_sql
from sqlalchemy import select

from mentorat.jobs.app import (
    DEFAULT_QUEUE,
    MATCHING_QUEUE,
    RUN_TASK,
    SWEEP_TASK,
    database_of,
    jobs_app,
    settings_of,
)
from mentorat.matching import service as matching
from mentorat.models import MatchingRun
from mentorat.reminders.daily import send_daily_reminders
from mentorat.webhooks.delivery import deliver_due

log = logging.getLogger(__name__)

# Finished jobs are kept this long (for `procrastinate`'s tools and the logs), then deleted.
FINISHED_JOBS_KEPT_HOURS = 7 * 24


@jobs_app.task(name=RUN_TASK, queue=MATCHING_QUEUE, pass_context=True)
async def run_matching(context: JobContext, run_id: str) -> None:
    """A matching run, as its next attempt. A run not queued (finished, or taken back by
    the sweep for another attempt) is left alone."""
    database = database_of(context)
    progress = context.additional_context.get("progress")
    try:
        await matching.execute_run(database, uuid.UUID(run_id), progress)
    except asyncio.CancelledError:
        # The worker stopped it (a second Ctrl-C, an abort): the run is not left "running"
        # with no job to finish it.
        async with database.sessionmaker() as session:
            run = await session.get(MatchingRun, uuid.UUID(run_id))
        if run is not None:
            await asyncio.shield(matching.fail_run(database, run, "abandoned"))
        raise


@jobs_app.periodic(cron="* * * * *", periodic_id="sweep")
@jobs_app.task(name=SWEEP_TASK, queue=DEFAULT_QUEUE, queueing_lock=SWEEP_TASK, pass_context=True)
async def sweep(context: JobContext, timestamp: int) -> None:
    """Every minute: jobs whose worker stopped sending heartbeats go back to the queue, so
    that another worker runs them; a run's own status goes back to `queued` with them. After
    `MENTORAT_JOB_MAX_ATTEMPTS` attempts a job is failed instead (a run: `abandoned`)."""
    settings = settings_of(context)
    job_manager = context.app.job_manager
    stalled = await job_manager.get_stalled_jobs(
        seconds_since_heartbeat=settings.worker_stalled_after_seconds
    )
    for job in stalled:
        await _retry_or_fail(context, job, settings.job_max_attempts)
    await job_manager.prune_stalled_workers(settings.worker_stalled_after_seconds)


async def _retry_or_fail(
    context: JobContext, job: procrastinate_jobs.Job, max_attempts: int
) -> None:
    """One stalled job, with its run if it is one, in one transaction."""
    database = database_of(context)
    connector = context.app.connector
    async with database.sessionmaker() as session:
        run = None
        if job.task_name == RUN_TASK:
            run = await session.scalar(
                select(MatchingRun)
                .where(MatchingRun.id == uuid.UUID(str(job.task_kwargs["run_id"])))
                .with_for_update()
            )
        attempts = run.attempt if run is not None else job.attempts + 1
        if attempts >= max_attempts:
            await connector.execute_query_all_async_with_connection(
                session,
                query=procrastinate_sql.queries["finish_job"],
                job_id=job.id,
                status=procrastinate_jobs.Status.FAILED.value,
                delete_job=False,
            )
            if run is not None:
                await matching.fail_run(database, run, "abandoned", session=session)
            outcome = "failed"
        else:
            if run is not None and run.status == "running":
                run.status, run.phase = "queued", "queued"
            # A run started by `mentorat match` was on that command's own queue.
            queue = MATCHING_QUEUE if job.task_name == RUN_TASK else None
            await connector.execute_query_all_async_with_connection(
                session,
                query=procrastinate_sql.queries["retry_job"],
                job_id=job.id,
                retry_at=None,  # due at once
                new_priority=None,
                new_queue_name=queue,
                new_lock=None,
            )
            outcome = "retried"
        await session.commit()
    log.warning(
        "stalled job %s",
        outcome,
        extra={
            "job_id": job.id,
            "task": job.task_name,
            "attempts": attempts,
            "run_id": str(run.id) if run is not None else None,
        },
    )


@jobs_app.periodic(cron="17 3 * * *", periodic_id="purge-finished-jobs")
@jobs_app.task(
    name="jobs.purge_finished",
    queue=DEFAULT_QUEUE,
    queueing_lock="jobs.purge_finished",
    pass_context=True,
)
async def purge_finished_jobs(context: JobContext, timestamp: int) -> None:
    """Daily: jobs that succeeded or were cancelled a week ago are deleted; failed ones stay."""
    await context.app.job_manager.delete_old_jobs(
        nb_hours=FINISHED_JOBS_KEPT_HOURS, include_cancelled=True, include_aborted=True
    )


@jobs_app.periodic(cron="0 5 * * *", periodic_id="daily-reminders")
@jobs_app.task(
    name="reminders.daily", queue=DEFAULT_QUEUE, queueing_lock="reminders.daily", pass_context=True
)
async def daily_reminders(context: JobContext, timestamp: int) -> None:
    """Daily at 05:00 UTC (before the working day in France): mentorships starting to need
    attention, honorability checks expiring within 30 days and assessments due, each told
    once (README, "Mentorships")."""
    figures = await send_daily_reminders(database_of(context))
    log.info("daily reminders sent", extra=figures.as_dict())


@jobs_app.periodic(cron="* * * * *", periodic_id="webhook-delivery")
@jobs_app.task(
    name="webhooks.deliver",
    queue=DEFAULT_QUEUE,
    queueing_lock="webhooks.deliver",
    pass_context=True,
)
async def deliver_webhooks(context: JobContext, timestamp: int) -> None:
    """Every minute: the webhook deliveries due (new events, retries whose time came), signed
    and sent in each endpoint's event order (README, "Webhooks")."""
    figures = await deliver_due(database_of(context))
    if figures.attempts:
        log.info("webhook deliveries sent", extra=dataclasses.asdict(figures))
