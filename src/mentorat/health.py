"""Liveness and readiness probes (no authentication)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

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
    (with `Retry-After` when it is unreachable); no token needed."""
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
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "revision": current, "expected": expected},
        status_code=200 if ready else 503,
    )
