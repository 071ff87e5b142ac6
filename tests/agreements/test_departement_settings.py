"""Département settings: the first school day and whether the individual agreement is
required, read by everyone, changed by an administrator or the département's manager."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.agreements.test_agreements_api import fields_of, manager_of
from tests.factories import Actors
from tests.mentorships.support import assert_problem

URL = "/v1/departements/53"


async def stored(session: AsyncSession, code: str = "53") -> tuple[Any, ...]:
    row = (
        await session.execute(
            text(
                "SELECT name, school_start_month, school_start_day, "
                "individual_agreement_required FROM departement WHERE code = :code"
            ),
            {"code": code},
        )
    ).one()
    return tuple(row)


class TestRead:
    async def test_defaults_are_the_first_of_september_and_not_required(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        for headers in actors.everyone.values():
            body = (await client.get(URL, headers=headers)).json()
            assert body["school_start_month"] == 9
            assert body["school_start_day"] == 1
            assert body["individual_agreement_required"] is False


class TestUpdate:
    async def test_the_manager_changes_the_settings_of_their_departement(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        name = (await stored(session))[0]
        response = await client.patch(
            URL,
            json={
                "school_start_month": 8, "school_start_day": 31,
                "individual_agreement_required": True,
            },
            headers=actors.manager_53,
        )  # fmt: skip
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["school_start_month"], body["school_start_day"]) == (8, 31)
        assert body["individual_agreement_required"] is True
        assert await stored(session) == (name, 8, 31, True)
        listed = await client.get("/v1/departements", params={"limit": 200}, headers=actors.admin)
        (in_list,) = [item for item in listed.json()["items"] if item["code"] == "53"]
        assert in_list["individual_agreement_required"] is True

    async def test_only_the_day_changes_when_only_the_day_is_sent(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        response = await client.patch(URL, json={"school_start_day": 2}, headers=actors.admin)
        assert response.status_code == 200, response.text
        assert (await stored(session))[1:] == (9, 2, False)

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"school_start_month": 2, "school_start_day": 29}, "school_start_day"),
            ({"school_start_month": 9, "school_start_day": 31}, "school_start_day"),
            ({"school_start_day": 31}, "school_start_day"),  # September has 30 days
            ({"school_start_month": 2}, None),  # with the stored day 1: fine
            ({"school_start_month": 13}, "school_start_month"),
            ({"school_start_month": 0}, "school_start_month"),
            ({"school_start_day": 0}, "school_start_day"),
            ({"school_start_day": "1"}, "school_start_day"),
            ({"school_start_day": 1.0}, "school_start_day"),
            ({"individual_agreement_required": "yes"}, "individual_agreement_required"),
            ({"individual_agreement_required": None}, "individual_agreement_required"),
            ({}, "body"),
        ],
    )
    async def test_a_date_that_is_not_real_is_a_422_and_changes_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        changes: dict[str, Any],
        field: str | None,
    ) -> None:
        before = await stored(session)
        response = await client.patch(URL, json=changes, headers=actors.manager_53)
        if field is None:
            assert response.status_code == 200, response.text
            return
        problem = assert_problem(response, 422)
        assert field in fields_of(problem), problem
        assert await stored(session) == before

    async def test_a_month_change_that_breaks_the_stored_day_is_a_422_at_the_month(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        assert (await client.patch(URL, json={"school_start_month": 10, "school_start_day": 31},
                                   headers=actors.admin)).status_code == 200  # fmt: skip
        before = await stored(session)
        response = await client.patch(URL, json={"school_start_month": 11}, headers=actors.admin)
        assert fields_of(assert_problem(response, 422)) == {"school_start_month"}
        assert await stored(session) == before

    async def test_who_may_change_what(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        before = await stored(session)
        setting = {"individual_agreement_required": True}
        manager_75 = await manager_of(session, "75")
        assert_problem(await client.patch(URL, json=setting, headers=manager_75), 403)
        for role in ("educator_53", "coordinator_a", "mentor_a"):
            assert_problem(
                await client.patch(URL, json=setting, headers=getattr(actors, role)), 403
            )
        renamed = await client.patch(URL, json={"name": "Mayenne!"}, headers=actors.manager_53)
        assert_problem(renamed, 403)
        assert await stored(session) == before
        renamed = await client.patch(URL, json={"name": "La Mayenne"}, headers=actors.admin)
        assert renamed.status_code == 200, renamed.text
        assert (await stored(session))[0] == "La Mayenne"
