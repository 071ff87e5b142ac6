"""Idempotency-Key on every POST that creates something: a retry creates nothing more and gets
the first answer, marked `Idempotent-Replayed: true`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.support import column
from tests.factories import Actors, child_body, mentor_body, new_id


@dataclass
class Create:
    url: Callable[[Actors], str]
    body: Callable[[Actors], dict[str, Any]]
    who: str
    table: str
    status: int = 201


CREATES = {
    "mentor": Create(
        lambda a: "/v1/mentors",
        lambda a: mentor_body(association_id=str(a.association_a.id)),
        "coordinator_a",
        "mentor",
    ),
    "child": Create(lambda a: "/v1/children", lambda a: child_body(), "educator_53", "child"),
    "association": Create(
        lambda a: "/v1/associations",
        lambda a: {"name": f"Parrains {new_id()[:8]}", "departements": ["53"]},
        "admin",
        "association",
    ),
    "exclusion": Create(
        lambda a: f"/v1/children/{a.child_53.id}/exclusions",
        lambda a: {"mentor_id": str(a.mentor_a1.id), "reason": "Known to the family"},
        "educator_53",
        "pair_exclusion",
    ),
    "principal": Create(
        lambda a: "/v1/principals",
        lambda a: {
            "name": "Aline Chevreau",
            "role": "educator",
            "departement_code": "53",
            "email": f"aline.{new_id()[:8]}@ase53.example.fr",
        },
        "admin",
        "principal",
    ),
    "matching run": Create(
        lambda a: "/v1/matching-runs",
        lambda a: {"departement_code": "53", "dry_run": True},
        "manager_53",
        "matching_run",
        status=202,
    ),
}


@pytest.mark.parametrize("name", CREATES)
async def test_a_retry_creates_nothing_more_and_replays_the_answer(
    client: httpx.AsyncClient, session: AsyncSession, actors: Actors, name: str
) -> None:
    create = CREATES[name]
    url, body = create.url(actors), create.body(actors)
    headers = getattr(actors, create.who) | {"Idempotency-Key": f"retry-{name}"}
    before = await _count(session, create.table)

    first = await client.post(url, json=body, headers=headers)
    assert first.status_code == create.status, first.text
    created = await _count(session, create.table)
    assert created == before + 1

    retry = await client.post(url, json=body, headers=headers)
    assert retry.status_code == create.status, retry.text
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    for header in ("ETag", "Location"):
        assert retry.headers.get(header) == first.headers.get(header)
    assert await _count(session, create.table) == created

    other = await client.post(url, json={**body, "unexpected": 1}, headers=headers)
    assert other.status_code == 422
    assert await _count(session, create.table) == created


async def test_a_retried_token_creation_never_shows_the_token_again(
    client: httpx.AsyncClient, session: AsyncSession, actors: Actors
) -> None:
    body = {"name": "Batch 53", "role": "departement_manager", "departement_code": "53"}
    headers = actors.admin | {"Idempotency-Key": "token-once"}
    tokens_before = await _count(session, "api_token")
    first = await client.post("/v1/tokens", json=body, headers=headers)
    assert first.status_code == 201, first.text
    secret = first.json()["token"]
    assert secret.startswith("mnt_")

    retry = await client.post("/v1/tokens", json=body, headers=headers)
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == {**first.json(), "token": None}
    assert await _count(session, "api_token") == tokens_before + 1
    stored = await column(session, "SELECT response_body::text FROM idempotency_record")
    assert secret not in stored
    assert (
        await client.get("/v1/children", headers={"Authorization": f"Bearer {secret}"})
    ).status_code == 200


async def _count(session: AsyncSession, table: str) -> int:
    return int(await column(session, f"SELECT count(*) FROM {table}"))
