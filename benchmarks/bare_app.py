"""The baseline of `benchmarks/api.py`: a bare Starlette + asyncpg app answering the same
child reads as the service, with the same token check (SHA-256 of the bearer looked up in
api_token joined to principal, revoked / expired / departed mentor refused) and the same
SELECT with the same scope filter, without anything else (no audit row, no last-use touch, no
middleware, no validation). The database URL comes from BENCH_DATABASE_URL.

    BENCH_DATABASE_URL=postgresql://... uvicorn benchmarks.bare_app:app --port 8771
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

READER_ROLES = ("admin", "departement_manager", "educator")

HOLDER = """
SELECT p.id, p.role, p.departement_code
  FROM api_token t
  JOIN principal p ON p.id = t.principal_id
  LEFT JOIN mentor m ON m.id = p.mentor_id
 WHERE t.token_hash = $1 AND t.revoked_at IS NULL
   AND (t.expires_at IS NULL OR t.expires_at > now())
   AND (p.mentor_id IS NULL OR m.deleted_at IS NULL)
"""
COLUMNS = """id, departement_code, reference, first_name, birth_date, school_level,
 college_entry_year, commune, postcode, latitude, longitude, goals, availability,
 mentor_gender_preference, languages, remote_ok, referent_educator, version, created_at,
 updated_at, deleted_at"""
# $2 is the principal's département, NULL for an administrator (who sees every département).
ONE_CHILD = f"""SELECT {COLUMNS} FROM child
 WHERE id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR departement_code = $2)"""
CHILDREN = f"""SELECT {COLUMNS} FROM child
 WHERE deleted_at IS NULL AND ($1::text IS NULL OR departement_code = $1)
 ORDER BY created_at, id LIMIT $2"""


def _pool(request: Request) -> asyncpg.Pool:
    return request.app.state.pool  # type: ignore[no-any-return]


async def _reader(request: Request, connection: asyncpg.Connection) -> asyncpg.Record | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    holder = await connection.fetchrow(HOLDER, hashlib.sha256(token.encode()).digest())
    if holder is None or holder["role"] not in READER_ROLES:
        return None
    return holder


def _child(row: asyncpg.Record) -> dict[str, Any]:
    child = dict(row)
    child["location"] = {
        key: child.pop(key) for key in ("commune", "postcode", "latitude", "longitude")
    }
    child["availability"] = child["availability"].hex()
    return child


def _json(content: Any) -> Response:
    return Response(json.dumps(content, default=str), media_type="application/json")


async def one_child(request: Request) -> Response:
    async with _pool(request).acquire() as connection:
        holder = await _reader(request, connection)
        if holder is None:
            return JSONResponse({"title": "Not authenticated"}, status_code=401)
        row = await connection.fetchrow(
            ONE_CHILD, request.path_params["child_id"], holder["departement_code"]
        )
    if row is None:
        return JSONResponse({"title": "Not found"}, status_code=404)
    return _json(_child(row))


async def children(request: Request) -> Response:
    limit = int(request.query_params.get("limit", "50"))
    async with _pool(request).acquire() as connection:
        holder = await _reader(request, connection)
        if holder is None:
            return JSONResponse({"title": "Not authenticated"}, status_code=401)
        # One row more than the page, as the service fetches, to know whether a page follows.
        rows = await connection.fetch(CHILDREN, holder["departement_code"], limit + 1)
    following = len(rows) > limit
    return _json(
        {
            "items": [_child(row) for row in rows[:limit]],
            "next_cursor": "..." if following else None,
        }
    )


def make_app(dsn: str) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(dsn, min_size=1, max_size=10)
        try:
            yield
        finally:
            await app.state.pool.close()

    return Starlette(
        routes=[
            Route("/v1/children", children),
            Route("/v1/children/{child_id:uuid}", one_child),
        ],
        lifespan=lifespan,
    )


def _dsn() -> str:
    return os.environ.get("BENCH_DATABASE_URL", "")


app = make_app(_dsn())
