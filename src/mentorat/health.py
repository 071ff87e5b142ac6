"""Liveness and readiness probes (no authentication)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mentorat.jobs.figures import queue_figures
from mentorat.kit.db import head_revision
from mentorat.kit.session import get_database

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    """Answers 200 while the process runs; no token needed."""
    return {"status": "ok"}


@router.get("/readyz", summary="The database is reachable and migrated")
async def readyz(request: Request) -> JSONResponse:
    """200 when PostgreSQL is reachable and migrated to the latest revision, otherwise 503
    (with `Retry-After` when it is unreachable); no token needed. When ready, `queue` tells
    the jobs waiting for a worker and the age of the oldest (see README, "Workers")."""
    expected = head_revision(request.app.state.settings)
    try:
        current = await get_database(request).current_revision()
    except Exception as error:
        # Any failure means not ready; the cause goes to the log, never to the caller.
        log.warning("readiness check failed", exc_info=error)
        return JSONResponse(
            {
                "status": "unavailable",
                "database": "unreachable",
                "detail": "The database cannot be reached at the moment.",
            },
            status_code=503,
            headers={"Retry-After": str(request.app.state.settings.db_unavailable_retry_after_s)},
        )
    ready = current == expected
    body: dict[str, Any] = {
        "status": "ok" if ready else "unavailable",
        "revision": current,
        "expected": expected,
    }
    if ready:
        body["queue"] = await _queue(request)
    return JSONResponse(body, status_code=200 if ready else 503)


async def _queue(request: Request) -> dict[str, Any] | None:
    """Jobs waiting and running, and the oldest wait, in all and by queue; informative (a
    long wait says the workers are too few or stopped, not that this process is unready)."""
    try:
        figures = await queue_figures(get_database(request))
    except Exception as error:
        log.warning("readiness check: the job queue could not be read", exc_info=error)
        return None
    return {
        "waiting": sum(f.waiting for f in figures),
        "running": sum(f.running for f in figures),
        "oldest_waiting_seconds": round(
            max((f.oldest_waiting_seconds for f in figures), default=0), 3
        ),
        "queues": {
            f.queue: {
                "waiting": f.waiting,
                "running": f.running,
                "oldest_waiting_seconds": round(f.oldest_waiting_seconds, 3),
            }
            for f in figures
        },
    }
