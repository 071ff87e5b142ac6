"""Liveness and readiness probes (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from mentorat.kit.db import head_revision
from mentorat.kit.session import get_database

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database is reachable and migrated")
async def readyz(request: Request) -> JSONResponse:
    expected = head_revision(request.app.state.settings)
    try:
        current = await get_database(request).current_revision()
    except (SQLAlchemyError, OSError) as error:
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "error": type(error).__name__},
            status_code=503,
        )
    ready = current == expected
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "revision": current, "expected": expected},
        status_code=200 if ready else 503,
    )
