"""Helpers shared by the webhook tests."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

ALL_TYPES = [
    "proposal.created",
    "proposal.validated",
    "proposal.accepted",
    "proposal.declined",
    "mentorship.started",
    "mentorship.ended",
]


async def register(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    url: str,
    *,
    event_types: list[str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    response = await client.post(
        "/v1/webhooks",
        json={"url": url, "event_types": event_types or ALL_TYPES, **fields},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def rows(session: AsyncSession, sql: str, **params: Any) -> list[Any]:
    return list((await session.execute(text(sql), params)).mappings().all())


async def scalar(session: AsyncSession, sql: str, **params: Any) -> Any:
    return (await session.execute(text(sql), params)).scalar()


def bodies(received: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(request.body) for request in received]
