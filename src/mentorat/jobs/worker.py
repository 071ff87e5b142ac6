"""Running the workers: `mentorat worker`, the worker inside `mentorat serve`, and the tests'
runs of the queue until it is idle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from typing import Any

from procrastinate.periodic import PeriodicRegistry

from mentorat.jobs.app import connector, jobs_app
from mentorat.kit.db import Database
from mentorat.settings import Settings

log = logging.getLogger(__name__)


async def run_worker(
    database: Database,
    settings: Settings,
    *,
    concurrency: int = 1,
    queues: Iterable[str] | None = None,
    name: str = "worker",
    install_signal_handlers: bool = True,
    wait: bool = True,
    progress: Callable[[str, dict[str, Any]], None] | None = None,
) -> None:
    """Run jobs until stopped (SIGINT/SIGTERM with `install_signal_handlers`, or cancelled):
    a stop lets the jobs running finish, then unregisters the worker. With `wait=False`, stop
    once the queues are empty, without deferring the periodic jobs (only what is queued runs).

    Every job of this process runs on `database`; one process runs one worker at a time.
    """
    connector.use(database)
    try:
        with contextlib.nullcontext() if wait else _without_periodic_jobs():
            await jobs_app.run_worker_async(
                concurrency=concurrency,
                queues=list(queues) if queues else None,
                name=name,
                wait=wait,
                listen_notify=wait and not connector.serialized,
                install_signal_handlers=install_signal_handlers,
                update_heartbeat_interval=settings.worker_heartbeat_seconds,
                stalled_worker_timeout=settings.worker_stalled_after_seconds,
                additional_context={"settings": settings, "progress": progress},
                worker_middleware=[connector.one_at_a_time],
            )
    finally:
        connector.use(None)


@contextlib.contextmanager
def _without_periodic_jobs() -> Iterator[None]:
    registry = jobs_app.periodic_registry
    jobs_app.periodic_registry = PeriodicRegistry()
    try:
        yield
    finally:
        jobs_app.periodic_registry = registry


async def run_until_idle(database: Database, settings: Settings | None = None) -> None:
    """Run every job due on `database` (one at a time), and the jobs they defer, until none is
    left. On a test's Database this runs in the test's transaction."""
    await run_worker(database, settings or Settings(), install_signal_handlers=False, wait=False)


@asynccontextmanager
async def in_process_worker(database: Database, settings: Settings) -> AsyncIterator[None]:
    """A worker beside the API in its process, for the time of the block (`mentorat serve`).
    The server handles the signals; leaving the block lets the running jobs finish."""
    task = asyncio.create_task(
        run_worker(
            database,
            settings,
            concurrency=settings.worker_concurrency,
            name="serve",
            install_signal_handlers=False,
        ),
        name="mentorat worker",
    )
    try:
        yield
    finally:
        if not task.done():
            task.cancel()  # the worker stops as it would on SIGTERM: running jobs finish first
        with contextlib.suppress(asyncio.CancelledError):
            await task
