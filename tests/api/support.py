"""Assertions and database look-ups shared by the API tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.tokens import hash_token
from mentorat.models import ApiToken, AuditEvent
from tests.factories import secret_of

PROBLEM = "application/problem+json"

TABLES = (
    "departement",
    "association",
    "association_departement",
    "child",
    "mentor",
    "principal",
    "api_token",
    "audit_event",
)


def assert_problem(response: httpx.Response, status: int, *fields: str) -> dict[str, Any]:
    """A problem+json answer with this status, whose errors name each of `fields`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:mentorat:problem:")
    assert body["title"]
    errors = [
        ".".join(str(part) for part in error["loc"]) + ": " + error["msg"]
        for error in body.get("errors", [])
    ]
    for field in fields:
        assert any(field in error for error in errors), f"{field!r} not named in {errors}"
    return body


async def row_counts(session: AsyncSession) -> dict[str, int]:
    query = "SELECT " + ", ".join(f"(SELECT count(*) FROM {table})" for table in TABLES)
    row = (await session.execute(text(query))).one()
    return dict(zip(TABLES, row, strict=True))


async def audit_count(session: AsyncSession) -> int:
    return int(await session.scalar(text("SELECT count(*) FROM audit_event")) or 0)


async def audit_events(session: AsyncSession, **where: Any) -> list[AuditEvent]:
    statement = select(AuditEvent).order_by(AuditEvent.id)
    for column, value in where.items():
        statement = statement.where(getattr(AuditEvent, column) == value)
    return list((await session.scalars(statement)).all())


async def token_row(session: AsyncSession, headers: dict[str, str]) -> ApiToken:
    token = await session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(secret_of(headers)))
    )
    assert token is not None
    return token


async def column(session: AsyncSession, sql: str, **params: Any) -> Any:
    """One value read straight from the database, past the session's identity map."""
    return await session.scalar(text(sql), params)


async def row(session: AsyncSession, sql: str, **params: Any) -> tuple[Any, ...]:
    """One row read straight from the database."""
    return tuple((await session.execute(text(sql), params)).one())


async def walk_pages(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    *,
    key: str = "id",
    max_pages: int = 20,
) -> list[list[str]]:
    """The ids (or `key`) of each page, following next_cursor until it is null."""
    pages: list[list[str]] = []
    separator = "&" if "?" in url else "?"
    cursor: str | None = None
    for _ in range(max_pages):
        query = f"{separator}cursor={cursor}" if cursor else ""
        response = await client.get(url + query, headers=headers)
        assert response.status_code == 200, response.text
        pages.append([item[key] for item in response.json()["items"]])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError(f"more than {max_pages} pages")


def random_id() -> str:
    return str(uuid.uuid4())
