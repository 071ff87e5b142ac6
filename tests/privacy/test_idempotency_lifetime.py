"""Stored idempotent answers hold personal data: they expire, and know whom they name."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Actors
from tests.mentorships.support import accepted_offer_body

# The factory's child has a recommending assessment of this year.
ACCEPTED = accepted_offer_body()


async def offer(client: httpx.AsyncClient, actors: Actors, key: str, **body: Any) -> httpx.Response:
    return await client.post(
        f"/v1/children/{actors.child_53.id}/offers",
        json=ACCEPTED | body,
        headers=actors.educator_53 | {"Idempotency-Key": key},
    )


async def age(session: AsyncSession, key: str, hours: int) -> None:
    await session.execute(
        text(
            "UPDATE idempotency_record SET created_at = now() - make_interval(hours => :hours)"
            " WHERE key = :key"
        ),
        {"key": key, "hours": hours},
    )
    await session.commit()


async def stored(session: AsyncSession, key: str) -> int:
    query = text("SELECT count(*) FROM idempotency_record WHERE key = :key")
    return int(await session.scalar(query, {"key": key}) or 0)


class TestExpiry:
    async def test_an_expired_answer_is_not_replayed(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        first = await offer(client, actors, "expiring", note="premier")
        assert first.status_code == 201, first.text
        await age(session, "expiring", hours=25)
        again = await offer(client, actors, "expiring", note="premier")
        assert again.status_code == 201, again.text
        assert "Idempotent-Replayed" not in again.headers
        assert again.json()["id"] != first.json()["id"]

    async def test_a_new_key_sweeps_the_principals_expired_answers(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        assert (await offer(client, actors, "old-1")).status_code == 201
        assert (await offer(client, actors, "old-2")).status_code == 201
        await age(session, "old-1", hours=25)
        assert (await offer(client, actors, "new")).status_code == 201
        assert await stored(session, "old-1") == 0
        assert await stored(session, "old-2") == 1  # not yet expired
        assert await stored(session, "new") == 1

    async def test_another_principals_key_is_left_to_the_sweep(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        assert (await offer(client, actors, "educator-old")).status_code == 201
        await age(session, "educator-old", hours=25)
        response = await client.post(
            f"/v1/children/{actors.child_53.id}/offers",
            json=ACCEPTED,
            headers=actors.manager_53 | {"Idempotency-Key": "manager-new"},
        )
        assert response.status_code == 201, response.text
        assert await stored(session, "educator-old") == 1


class TestSubjects:
    async def test_the_answer_records_the_ids_it_mentions(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        response = await offer(client, actors, "subjects")
        subject_ids = await session.scalar(
            text("SELECT subject_ids::text[] FROM idempotency_record WHERE key = 'subjects'")
        )
        made = response.json()
        assert set(subject_ids) == {str(actors.child_53.id), made["id"], made["assessment_id"]}
