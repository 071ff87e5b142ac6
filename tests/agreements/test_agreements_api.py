"""Association agreements through the API: who signs, who sees, what is refused."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.principal import Role
from mentorat.kit.clock import today_in
from mentorat.models import AssociationAgreement, association_departement
from tests.factories import Actors, bearer, create_association, token_for
from tests.matching_api.test_runs import all_pages
from tests.mentorships.support import assert_problem

URL = "/v1/association-agreements"


def body(association_id: uuid.UUID, departement: str = "53", **overrides: Any) -> dict[str, Any]:
    return {
        "association_id": str(association_id),
        "departement_code": departement,
        "signed_on": "2026-06-15",
        "valid_from": "2026-09-01",
        "valid_until": "2029-08-31",
        "document_reference": "CD53-DEF-2026-014",
        **overrides,
    }


def fields_of(problem: dict[str, Any]) -> set[str]:
    """The fields a 422 names (request validation leaves `body` out of its locations)."""
    return {str(error["loc"][-1]) for error in problem["errors"]}


async def agreement_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AssociationAgreement)) or 0)


async def links_of(session: AsyncSession, association_id: uuid.UUID) -> set[str]:
    rows = await session.scalars(
        select(association_departement.c.departement_code).where(
            association_departement.c.association_id == association_id
        )
    )
    return set(rows)


async def manager_of(session: AsyncSession, code: str) -> dict[str, str]:
    headers = bearer(await token_for(session, Role.departement_manager, departement_code=code))
    await session.commit()
    return headers


class TestCreate:
    async def test_a_manager_records_an_agreement_of_their_departement(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        response = await client.post(
            URL, json=body(actors.association_a.id), headers=actors.manager_53
        )
        assert response.status_code == 201, response.text
        created = response.json()
        assert response.headers["Location"] == f"{URL}/{created['id']}"
        assert response.headers["ETag"] == '"1"'
        assert created["association_id"] == str(actors.association_a.id)
        assert created["valid_until"] == "2029-08-31"
        today = today_in("53")
        assert created["in_force_today"] == (date(2026, 9, 1) <= today <= date(2029, 8, 31))
        read = await client.get(f"{URL}/{created['id']}", headers=actors.educator_53)
        assert read.status_code == 200
        assert read.json() == created

    async def test_an_admin_links_the_association_to_a_new_departement(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        assert await links_of(session, actors.association_a.id) == {"53"}
        response = await client.post(
            URL, json=body(actors.association_a.id, "75", valid_until=None), headers=actors.admin
        )
        assert response.status_code == 201, response.text
        assert response.json()["valid_until"] is None
        assert await links_of(session, actors.association_a.id) == {"53", "75"}
        # A second agreement with the same département keeps the one link.
        again = await client.post(
            URL, json=body(actors.association_a.id, "75"), headers=actors.admin
        )
        assert again.status_code == 201, again.text
        assert await links_of(session, actors.association_a.id) == {"53", "75"}

    async def test_another_departements_manager_gets_a_404_and_nothing_is_written(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        before = await agreement_count(session)
        response = await client.post(
            URL, json=body(actors.association_b.id, "75"), headers=actors.manager_53
        )
        assert_problem(response, 404)
        assert await agreement_count(session) == before

    async def test_an_association_out_of_the_managers_scope_is_a_422(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        before = await agreement_count(session)
        response = await client.post(
            URL, json=body(actors.association_b.id, "53"), headers=actors.manager_53
        )
        problem = assert_problem(response, 422)
        assert fields_of(problem) == {"association_id"}
        assert await agreement_count(session) == before
        assert await links_of(session, actors.association_b.id) == {"75"}

    async def test_an_unknown_association_is_a_422(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        response = await client.post(URL, json=body(uuid.uuid4()), headers=actors.admin)
        assert fields_of(assert_problem(response, 422)) == {"association_id"}

    @pytest.mark.parametrize("role", ["educator_53", "coordinator_a", "mentor_a"])
    async def test_other_roles_may_not_sign(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, role: str
    ) -> None:
        before = await agreement_count(session)
        response = await client.post(
            URL, json=body(actors.association_a.id), headers=getattr(actors, role)
        )
        assert_problem(response, 403)
        assert await agreement_count(session) == before

    @pytest.mark.parametrize(
        ("changes", "loc"),
        [
            ({"valid_until": "2026-08-31"}, ["body", "valid_until"]),
            ({"valid_from": "1999-12-31"}, ["body", "valid_from"]),
            ({"signed_on": "15/06/2026"}, ["body", "signed_on"]),
            ({"document_reference": ""}, ["body", "document_reference"]),
            ({"departement_code": "20"}, ["body", "departement_code"]),
            ({"extra": 1}, ["body", "extra"]),
        ],
    )
    async def test_bad_input_is_a_422_at_its_field_and_changes_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        changes: dict[str, Any],
        loc: list[str],
    ) -> None:
        before = await agreement_count(session)
        response = await client.post(
            URL, json=body(actors.association_a.id, **changes), headers=actors.admin
        )
        problem = assert_problem(response, 422)
        assert loc[-1] in fields_of(problem), problem
        assert await agreement_count(session) == before

    async def test_the_same_day_for_both_bounds_is_accepted(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.post(
            URL,
            json=body(actors.association_a.id, valid_from="2027-01-01", valid_until="2027-01-01"),
            headers=actors.admin,
        )
        assert response.status_code == 201, response.text

    async def test_an_idempotency_key_replays_the_first_answer(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        headers = {**actors.manager_53, "Idempotency-Key": str(uuid.uuid4())}
        before = await agreement_count(session)
        first = await client.post(URL, json=body(actors.association_a.id), headers=headers)
        second = await client.post(URL, json=body(actors.association_a.id), headers=headers)
        assert first.status_code == second.status_code == 201
        assert first.json() == second.json()
        assert second.headers["Location"] == first.headers["Location"]
        assert await agreement_count(session) == before + 1
        other = await client.post(
            URL, json=body(actors.association_a.id, signed_on="2026-06-16"), headers=headers
        )
        assert_problem(other, 422)
        assert await agreement_count(session) == before + 1


class TestRead:
    async def test_each_role_sees_its_scope_and_404s_outside_it(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        # The factory gave association A an agreement with 53, association B one with 75.
        mine = {
            name: {item["id"] for item in await all_pages(client, URL, headers)}
            for name, headers in {
                "admin": actors.admin,
                "educator_53": actors.educator_53,
                "manager_53": actors.manager_53,
                "educator_75": actors.educator_75,
                "coordinator_a": actors.coordinator_a,
                "coordinator_b": actors.coordinator_b,
            }.items()
        }
        rows = {
            (row.association_id, row.departement_code): str(row.id)
            for row in await session.scalars(select(AssociationAgreement))
        }
        of_a = rows[(actors.association_a.id, "53")]
        of_b = rows[(actors.association_b.id, "75")]
        assert {of_a, of_b} <= mine["admin"]
        assert mine["educator_53"] == mine["manager_53"] == mine["coordinator_a"] == {of_a}
        assert mine["educator_75"] == mine["coordinator_b"] == {of_b}
        for headers in (actors.educator_53, actors.coordinator_a, actors.manager_53):
            assert_problem(await client.get(f"{URL}/{of_b}", headers=headers), 404)
        for headers in (actors.educator_75, actors.coordinator_b):
            assert_problem(await client.get(f"{URL}/{of_a}", headers=headers), 404)
        assert_problem(await client.get(f"{URL}/{uuid.uuid4()}", headers=actors.admin), 404)
        assert_problem(await client.get(URL, headers=actors.mentor_a), 403)
        assert_problem(await client.get(f"{URL}/{of_a}", headers=actors.mentor_a), 403)

    async def test_filters_by_departement_association_and_date(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        association = await create_association(session, departements=("53",), agreements=False)
        await session.commit()
        ids = {}
        for name, valid_from, valid_until in (
            ("expired", "2023-01-01", "2025-12-31"),
            ("current", "2026-01-01", None),
            ("future", "2030-01-01", None),
        ):
            response = await client.post(
                URL,
                json=body(association.id, valid_from=valid_from, valid_until=valid_until,
                          signed_on="2022-12-01"),
                headers=actors.manager_53,
            )  # fmt: skip
            assert response.status_code == 201, response.text
            ids[name] = response.json()["id"]

        async def listed(**params: str) -> set[str]:
            response = await client.get(
                URL, params={"association_id": str(association.id), **params},
                headers=actors.admin,
            )  # fmt: skip
            assert response.status_code == 200, response.text
            return {item["id"] for item in response.json()["items"]}

        assert await listed() == set(ids.values())
        assert await listed(valid_on="2025-12-31") == {ids["expired"]}
        assert await listed(valid_on="2026-01-01") == {ids["current"]}
        assert await listed(valid_on="2031-05-01") == {ids["current"], ids["future"]}
        assert await listed(valid_on="2022-12-31") == set()
        assert await listed(departement="75") == set()
        assert await listed(departement="53") == set(ids.values())
        bad_date = await client.get(URL, params={"valid_on": "soon"}, headers=actors.admin)
        assert_problem(bad_date, 422)


class TestUpdate:
    async def created(self, client: httpx.AsyncClient, actors: Actors) -> dict[str, Any]:
        response = await client.post(
            URL, json=body(actors.association_a.id, valid_until=None), headers=actors.manager_53
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def test_setting_valid_until_ends_the_agreement(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        created = await self.created(client, actors)
        yesterday = (today_in("53") - timedelta(days=1)).isoformat()
        response = await client.patch(
            f"{URL}/{created['id']}",
            json={"valid_until": max(yesterday, created["valid_from"])},
            headers={**actors.manager_53, "If-Match": '"1"'},
        )
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == '"2"'
        assert response.json()["valid_until"] == max(yesterday, created["valid_from"])
        reopened = await client.patch(
            f"{URL}/{created['id']}", json={"valid_until": None}, headers=actors.admin
        )
        assert reopened.status_code == 200, reopened.text
        assert reopened.json()["valid_until"] is None

    async def test_a_stale_if_match_is_a_412_and_changes_nothing(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        created = await self.created(client, actors)
        response = await client.patch(
            f"{URL}/{created['id']}",
            json={"document_reference": "NEW"},
            headers={**actors.manager_53, "If-Match": '"7"'},
        )
        assert_problem(response, 412)
        read = await client.get(f"{URL}/{created['id']}", headers=actors.manager_53)
        assert read.json() == created

    @pytest.mark.parametrize(
        ("changes", "loc"),
        [
            ({"valid_until": "2026-08-31"}, ["body", "valid_until"]),
            ({"valid_from": "2026-09-01", "valid_until": "2026-08-31"}, ["body", "valid_until"]),
            ({"signed_on": None}, ["body", "signed_on"]),
            ({"association_id": str(uuid.uuid4())}, ["body", "association_id"]),
            ({}, ["body"]),
        ],
    )
    async def test_bad_changes_are_a_422_and_change_nothing(
        self,
        client: httpx.AsyncClient,
        actors: Actors,
        changes: dict[str, Any],
        loc: list[str],
    ) -> None:
        created = await self.created(client, actors)
        response = await client.patch(
            f"{URL}/{created['id']}", json=changes, headers=actors.manager_53
        )
        problem = assert_problem(response, 422)
        assert loc[-1] in fields_of(problem), problem
        read = await client.get(f"{URL}/{created['id']}", headers=actors.manager_53)
        assert read.json() == created

    async def test_moving_valid_from_past_valid_until_is_a_422_at_valid_from(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.post(
            URL, json=body(actors.association_a.id), headers=actors.manager_53
        )
        created = response.json()
        response = await client.patch(
            f"{URL}/{created['id']}", json={"valid_from": "2029-09-01"}, headers=actors.admin
        )
        problem = assert_problem(response, 422)
        assert fields_of(problem) == {"valid_from"}
        read = await client.get(f"{URL}/{created['id']}", headers=actors.admin)
        assert read.json() == created

    async def test_only_the_departements_manager_or_an_admin_may_change_it(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        created = await self.created(client, actors)
        url = f"{URL}/{created['id']}"
        change = {"document_reference": "CHANGED"}
        manager_75 = await manager_of(session, "75")
        assert_problem(await client.patch(url, json=change, headers=manager_75), 404)
        for role in ("educator_53", "coordinator_a", "mentor_a"):
            assert_problem(await client.patch(url, json=change, headers=getattr(actors, role)), 403)
        assert (await client.get(url, headers=actors.admin)).json() == created


class TestDelete:
    async def test_only_an_admin_deletes(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        response = await client.post(
            URL, json=body(actors.association_a.id), headers=actors.manager_53
        )
        url = f"{URL}/{response.json()['id']}"
        for role in ("manager_53", "educator_53", "coordinator_a"):
            assert_problem(await client.delete(url, headers=getattr(actors, role)), 403)
        assert (await client.get(url, headers=actors.admin)).status_code == 200
        assert (await client.delete(url, headers=actors.admin)).status_code == 204
        assert_problem(await client.get(url, headers=actors.admin), 404)
        assert_problem(await client.delete(url, headers=actors.admin), 404)

    async def test_a_departement_named_by_an_agreement_is_not_removed(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        association = await create_association(session, departements=("44",))
        await session.commit()
        # The link goes, the agreement stays: the département is still in use.
        unlinked = await client.patch(
            f"/v1/associations/{association.id}", json={"departements": ["53"]},
            headers=actors.admin,
        )  # fmt: skip
        assert unlinked.status_code == 200, unlinked.text
        assert_problem(await client.delete("/v1/departements/44", headers=actors.admin), 409)
        listed = await client.get(URL, params={"departement": "44"}, headers=actors.admin)
        (agreement,) = listed.json()["items"]
        deleted = await client.delete(f"{URL}/{agreement['id']}", headers=actors.admin)
        assert deleted.status_code == 204
        gone = await client.delete("/v1/departements/44", headers=actors.admin)
        assert gone.status_code == 204, gone.text
