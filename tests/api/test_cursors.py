"""Cursors are signed and bound to their list and filters; datetimes stay in a sane range."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.support import assert_problem
from tests.factories import Actors, create_child
from tests.mentorships.support import make_mentorship

ZERO_UUID = "00000000-0000-0000-0000-000000000000"
# Each is a valid ISO datetime that Python holds but that leaves PostgreSQL's (and Python's
# UTC) range once normalised to UTC.
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
