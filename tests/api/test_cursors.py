"""Cursors are signed and bound to their list and filters; datetimes stay in a sane range."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from mentorat.errors import InvalidInput
from mentorat.kit.cursors import read_cursor, sign_cursor
from mentorat.kit.db import Database
from mentorat.settings import Settings
from tests.api.support import assert_problem
from tests.conftest import run_queued_jobs
from tests.factories import Actors, create_child
from tests.mentorships.support import make_mentorship

ZERO_UUID = "00000000-0000-0000-0000-000000000000"
# Each is a valid ISO datetime that Python holds but that leaves PostgreSQL's (and Python's
# UTC) range once normalised to UTC.
VALUES = [datetime(2026, 11, 25, 12, 0, tzinfo=UTC), uuid.uuid4()]
TYPES = [datetime, uuid.UUID]
EXTREMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]
# Lists paged by (created_at, id), with an actor allowed to read each.
LISTS = [
    ("/v1/children", "admin"),
    ("/v1/mentors", "admin"),
    ("/v1/associations", "admin"),
    ("/v1/proposals", "admin"),
    ("/v1/mentorships", "admin"),
    ("/v1/matching-runs", "admin"),
    ("/v1/tokens", "admin"),
]


def forged(values: list[Any]) -> str:
    """A cursor the way the service used to write them: unsigned base64 JSON."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


async def first_cursor(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], **filters: str
) -> str:
    response = await client.get(url, params={"limit": 1, **filters}, headers=headers)
    assert response.status_code == 200, response.text
    cursor = response.json()["next_cursor"]
    assert cursor, "the list needs two rows for a next page"
    return str(cursor)


class TestForgedCursors:
    @pytest.mark.parametrize("extreme", EXTREMES)
    @pytest.mark.parametrize(("url", "actor"), LISTS)
    async def test_an_unsigned_cursor_with_an_extreme_datetime_is_a_422(
        self, client: httpx.AsyncClient, actors: Actors, url: str, actor: str, extreme: str
    ) -> None:
        headers = getattr(actors, actor)
        response = await client.get(
            url, params={"cursor": forged([extreme, ZERO_UUID])}, headers=headers
        )
        assert_problem(response, 422, "cursor")

    async def test_an_edited_cursor_is_a_422(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        cursor = await first_cursor(client, "/v1/children", actors.admin)
        payload, _, signature = cursor.partition(".")
        values = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        values[1] = ZERO_UUID
        tampered = forged(values) + "." + signature
        response = await client.get(
            "/v1/children", params={"cursor": tampered}, headers=actors.admin
        )
        assert_problem(response, 422, "cursor")

    async def test_a_cursor_from_another_list_is_a_422(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        cursor = await first_cursor(client, "/v1/children", actors.admin)
        for url in ("/v1/mentors", "/v1/associations", "/v1/tokens"):
            response = await client.get(url, params={"cursor": cursor}, headers=actors.admin)
            assert_problem(response, 422, "cursor")

    async def test_a_cursor_with_other_filters_is_a_422(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        await create_child(session, departement="53")
        await session.commit()
        cursor = await first_cursor(client, "/v1/children", actors.admin, departement="53")
        response = await client.get(
            "/v1/children", params={"cursor": cursor, "departement": "75"}, headers=actors.admin
        )
        assert_problem(response, 422, "cursor")
        same = await client.get(
            "/v1/children", params={"cursor": cursor, "departement": "53"}, headers=actors.admin
        )
        assert same.status_code == 200, same.text

    async def test_a_cursor_of_one_runs_results_does_not_page_anothers(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        # Far from every mentor: both children end up in each run's unmatched list.
        far = [
            await create_child(session, departement="53", latitude=43.3, longitude=5.4)
            for _ in range(2)
        ]
        await session.commit()
        body = {"dry_run": True, "child_ids": [str(child.id) for child in far]}
        runs = []
        for _ in range(2):
            response = await client.post("/v1/matching-runs", json=body, headers=actors.manager_53)
            assert response.status_code == 202, response.text
            await run_queued_jobs(client)  # one run at a time per département
            runs.append(response.json()["id"])
        cursor = await first_cursor(
            client, f"/v1/matching-runs/{runs[0]}/unmatched", actors.manager_53
        )
        response = await client.get(
            f"/v1/matching-runs/{runs[1]}/unmatched",
            params={"cursor": cursor},
            headers=actors.manager_53,
        )
        assert_problem(response, 422, "cursor")


class TestBoundedDatetimes:
    @pytest.mark.parametrize("extreme", EXTREMES)
    async def test_objectives_as_of_out_of_range_is_a_422(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, extreme: str
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        response = await client.get(
            f"/v1/mentorships/{mentorship['id']}/objectives",
            params={"as_of": extreme},
            headers=actors.educator_53,
        )
        assert_problem(response, 422, "as_of")

    async def test_objectives_as_of_in_range_still_works(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        for at in ("1900-01-02T00:00:00+14:00", "2200-12-30T23:59:59-14:00"):
            response = await client.get(
                f"/v1/mentorships/{mentorship['id']}/objectives",
                params={"as_of": at},
                headers=actors.educator_53,
            )
            assert response.status_code == 200, response.text


class TestSigningKey:
    async def test_processes_on_one_database_agree_without_configuration(
        self, engine: AsyncEngine
    ) -> None:
        # Two API processes: each its own engine and key cache, one PostgreSQL.
        async with engine.connect() as first, engine.connect() as second:
            async with Database.on_connection(first).sessionmaker() as session:
                cursor = await sign_cursor(session, "children", {"departement": "53"}, VALUES)
            async with Database.on_connection(second).sessionmaker() as session:
                filters = {"departement": "53"}
                assert await read_cursor(session, "children", filters, cursor, TYPES) == VALUES
                with pytest.raises(InvalidInput):
                    await read_cursor(session, "mentors", filters, cursor, TYPES)

    async def test_a_configured_secret_is_the_key(
        self, settings: Settings, database_url: URL
    ) -> None:
        def database(secret: str) -> Database:
            return Database.from_url(
                database_url, settings.model_copy(update={"cursor_secret": SecretStr(secret)})
            )

        signer, same, other = database("one"), database("one"), database("two")
        try:
            async with signer.sessionmaker() as session:
                cursor = await sign_cursor(session, "tokens", {}, VALUES)
            async with same.sessionmaker() as session:
                assert len(await read_cursor(session, "tokens", {}, cursor, TYPES)) == 2
            async with other.sessionmaker() as session:
                with pytest.raises(InvalidInput):
                    await read_cursor(session, "tokens", {}, cursor, TYPES)
        finally:
            for db in (signer, same, other):
                await db.engine.dispose()
