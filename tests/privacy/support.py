"""Look for a person's data anywhere in the database."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Actors

TABLES = text(
    "SELECT table_name FROM information_schema.tables"
    " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
)


def new_marker() -> str:
    """Letters only, so it fits every free-text field (references included)."""
    return "Mrk" + "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:12])


async def tables_holding(session: AsyncSession, marker: str) -> dict[str, int]:
    """Each table whose rows' text (every column, JSON and arrays included) holds the marker."""
    found = {}
    for table in await session.scalars(TABLES):
        hits = await session.scalar(
            text(f'SELECT count(*) FROM "{table}" AS t WHERE strpos(lower(t::text), :m) > 0'),
            {"m": marker.lower()},
        )
        if hits:
            found[table] = int(hits)
    return found


async def post_twice(
    client: httpx.AsyncClient, url: str, body: dict[str, Any] | None, headers: dict[str, str]
) -> dict[str, Any]:
    """A POST and its idempotent retry (both answered, the second replayed)."""
    keyed = headers | {"Idempotency-Key": f"key-{url}-{new_marker()}"}
    first = await client.post(url, json=body, headers=keyed)
    assert first.status_code in (200, 201, 202), first.text
    retry = await client.post(url, json=body, headers=keyed)
    assert retry.headers.get("Idempotent-Replayed") == "true", retry.text
    return first.json()


async def get_ok(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> Any:
    response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def mentorship_life(
    client: httpx.AsyncClient,
    actors: Actors,
    child_id: str,
    mentor_id: str,
    marker: str,
    mentor_side: dict[str, str],
) -> str:
    """Proposal, both consents, transitions, objectives and meetings, all with the marker in
    their free texts and each POST retried with its Idempotency-Key. The proposal re-proposes
    the pair, which a caller may have declined just before."""
    proposal = await post_twice(
        client,
        "/v1/proposals",
        {"child_id": child_id, "mentor_id": mentor_id, "repropose": True},
        actors.educator_53,
    )
    accepted = await post_twice(client, f"/v1/proposals/{proposal['id']}/accept", None, mentor_side)
    mentorship_id = accepted["mentorship_id"]
    base = f"/v1/mentorships/{mentorship_id}"
    objective = await post_twice(
        client,
        f"{base}/objectives",
        {"title": f"Stage {marker}", "category": "stage", "description": f"avec {marker}"},
        mentor_side,
    )
    response = await client.patch(
        f"/v1/objectives/{objective['id']}",
        json={"description": f"revu {marker}", "progress": 40},
        headers=actors.educator_53,
    )
    assert response.status_code == 200, response.text
    meeting = {"held_on": date.today().isoformat(), "duration_minutes": 45, "mode": "remote"}
    await post_twice(client, f"{base}/meetings", meeting | {"note": f"vu {marker}"}, mentor_side)
    await post_twice(
        client, f"{base}/transitions", {"to": "paused", "note": f"pause {marker}"}, mentor_side
    )
    for url in ("", "/events", "/objectives", "/meetings", "/timeline"):
        await get_ok(client, base + url, actors.educator_53)
    await get_ok(client, f"/v1/objectives/{objective['id']}/history", actors.educator_53)
    return mentorship_id
