"""Associations and the départements they serve."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.support import assert_problem, audit_events, column, row, walk_pages
from tests.factories import Actors, create_association

ASSOCIATIONS = "/v1/associations"


def association_url(association_id: object) -> str:
    return f"{ASSOCIATIONS}/{association_id}"


class TestAssociationCreate:
    async def test_admin_creates_an_association(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        body = {
            "name": "  Les Ombres Mayenne  ",
            "departements": ["72", "53", "2A"],
            "contact_email": "contact@lesombres.org",
            "contact_phone": "+33 2 43 00 00 00",
        }
        response = await client.post(ASSOCIATIONS, json=body, headers=actors.admin)
        assert response.status_code == 201, response.text
        association = response.json()
        assert response.headers["location"] == association_url(association["id"])
        assert response.headers["etag"] == '"1"'
        assert association["name"] == "Les Ombres Mayenne"
        assert association["departements"] == ["2A", "53", "72"]
        assert association["contact_name"] is None
        links = await column(
            session,
            "SELECT count(*) FROM association_departement WHERE association_id = :id",
            id=association["id"],
        )
        assert links == 3
        [event] = await audit_events(session, entity_id=association["id"])
        assert (event.action, event.entity_type) == ("create", "association")

    async def test_duplicate_name_is_a_conflict(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        body = {"name": actors.association_a.name, "departements": ["53"]}
        response = await client.post(ASSOCIATIONS, json=body, headers=actors.admin)
        assert_problem(response, 409)
        count = await column(
            session, "SELECT count(*) FROM association WHERE name = :n", n=body["name"]
        )
        assert count == 1


class TestAssociationUpdate:
    async def test_coordinator_edits_contact_with_current_etag(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        url = association_url(actors.association_a.id)
        etag = (await client.get(url, headers=actors.coordinator_a)).headers["etag"]
        assert etag == '"1"'
        response = await client.patch(
            url,
            json={"contact_name": "Camille Roux", "contact_email": "camille@example.org"},
            headers={**actors.coordinator_a, "If-Match": etag},
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'
        assert response.json()["contact_name"] == "Camille Roux"
        assert response.json()["departements"] == ["53"]

    async def test_stale_etag_is_412_and_changes_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        url = association_url(actors.association_a.id)
        await client.patch(url, json={"contact_name": "Première"}, headers=actors.coordinator_a)
        response = await client.patch(
            url,
            json={"contact_name": "Seconde"},
            headers={**actors.coordinator_a, "If-Match": '"1"'},
        )
        assert_problem(response, 412)
        stored = await row(
            session,
            "SELECT contact_name, version FROM association WHERE id = :id",
            id=actors.association_a.id,
        )
        assert stored == ("Première", 2)

    async def test_coordinator_may_not_change_departements(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        url = association_url(actors.association_a.id)
        response = await client.patch(
            url, json={"departements": ["53", "75"]}, headers=actors.coordinator_a
        )
        assert_problem(response, 403)
        links = await column(
            session,
            "SELECT count(*) FROM association_departement WHERE association_id = :id",
            id=actors.association_a.id,
        )
        assert links == 1

    async def test_admin_changes_departements_and_scope_follows(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        url = association_url(actors.association_a.id)
        assert_problem(await client.get(url, headers=actors.educator_75), 404)
        response = await client.patch(url, json={"departements": ["75"]}, headers=actors.admin)
        assert response.status_code == 200, response.text
        assert response.json()["departements"] == ["75"]
        assert response.json()["version"] == 2
        assert (await client.get(url, headers=actors.educator_75)).status_code == 200
        assert_problem(await client.get(url, headers=actors.educator_53), 404)
        # Its mentors now serve 75, not 53.
        mentor_url = f"/v1/mentors/{actors.mentor_a1.id}"
        assert (await client.get(mentor_url, headers=actors.educator_75)).status_code == 200
        assert_problem(await client.get(mentor_url, headers=actors.educator_53), 404)


class TestAssociationDelete:
    async def test_admin_deletes_an_association_without_mentors(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        empty = await create_association(session, departements=("53", "75"))
        await session.commit()
        response = await client.delete(association_url(empty.id), headers=actors.admin)
        assert response.status_code == 204
        count = await column(
            session, "SELECT count(*) FROM association WHERE id = :id", id=empty.id
        )
        assert count == 0
        links = await column(
            session,
            "SELECT count(*) FROM association_departement WHERE association_id = :id",
            id=empty.id,
        )
        assert links == 0

    async def test_an_association_with_mentors_is_kept(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        response = await client.delete(
            association_url(actors.association_a.id), headers=actors.admin
        )
        assert_problem(response, 409)
        count = await column(
            session, "SELECT count(*) FROM association WHERE id = :id", id=actors.association_a.id
        )
        assert count == 1


class TestAssociationList:
    async def test_departement_filter(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        both = await create_association(session, departements=("53", "75"))
        await session.commit()
        [page] = await walk_pages(client, f"{ASSOCIATIONS}?departement=75", actors.admin)
        assert set(page) == {str(actors.association_b.id), str(both.id)}
        pages = await walk_pages(client, f"{ASSOCIATIONS}?departement=75", actors.coordinator_a)
        assert pages == [[]]


class TestDepartements:
    async def test_list_is_paginated_by_code(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.get("/v1/departements?limit=3", headers=actors.mentor_a)
        assert response.status_code == 200
        page = response.json()
        assert [d["code"] for d in page["items"]] == ["01", "02", "03"]
        assert page["items"][0]["name"] == "Ain"
        following = await client.get(
            f"/v1/departements?limit=2&cursor={page['next_cursor']}", headers=actors.mentor_a
        )
        assert [d["code"] for d in following.json()["items"]] == ["04", "05"]

    async def test_every_seeded_departement_is_listed(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        pages = await walk_pages(client, "/v1/departements?limit=40", actors.admin, key="code")
        codes = [code for page in pages for code in page]
        assert [len(page) for page in pages] == [40, 40, 22]
        assert codes == sorted(codes)
        assert len(set(codes)) == 102
        assert {"2A", "2B", "69M", "974", "976"} <= set(codes)

    async def test_get_one(self, client: httpx.AsyncClient, actors: Actors) -> None:
        response = await client.get("/v1/departements/2A", headers=actors.coordinator_b)
        assert response.status_code == 200
        assert response.json()["name"] == "Corse-du-Sud"
        assert_problem(await client.get("/v1/departements/975", headers=actors.admin), 404)

    async def test_admin_creates_renames_and_deletes(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        body = {"code": "975", "name": "Saint-Pierre-et-Miquelon"}
        response = await client.post("/v1/departements", json=body, headers=actors.admin)
        assert response.status_code == 201, response.text
        assert response.headers["location"] == "/v1/departements/975"
        renamed = await client.patch(
            "/v1/departements/975", json={"name": "St-Pierre"}, headers=actors.admin
        )
        assert renamed.json()["name"] == "St-Pierre"
        response = await client.delete("/v1/departements/975", headers=actors.admin)
        assert response.status_code == 204
        count = await column(session, "SELECT count(*) FROM departement WHERE code = '975'")
        assert count == 0
        actions = [e.action for e in await audit_events(session, entity_type="departement")]
        assert actions == ["create", "update", "delete"]

    async def test_duplicate_code_is_a_conflict(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        body = {"code": "53", "name": "Mayenne bis"}
        response = await client.post("/v1/departements", json=body, headers=actors.admin)
        assert_problem(response, 409)

    async def test_a_departement_in_use_is_kept(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        response = await client.delete("/v1/departements/53", headers=actors.admin)
        assert_problem(response, 409)
        assert await column(session, "SELECT count(*) FROM departement WHERE code = '53'") == 1


class TestVocabulary:
    async def test_goals(self, client: httpx.AsyncClient, actors: Actors) -> None:
        response = await client.get("/v1/vocabulary/goals", headers=actors.mentor_a)
        assert response.status_code == 200
        vocabulary = response.json()
        codes = [goal["code"] for goal in vocabulary["goals"]]
        assert vocabulary["version"] == "2026.1"
        assert codes[:8] == [
            "orientation", "stage", "alternance", "apprentissage",
            "emploi", "numerique", "scolarite", "confiance",
        ]  # fmt: skip
        assert codes[8:] == [f"rome-{letter}" for letter in "ABCDEFGHIJKLMN"]
        assert {goal["kind"] for goal in vocabulary["goals"]} == {"support", "domain"}

    async def test_languages(self, client: httpx.AsyncClient, actors: Actors) -> None:
        response = await client.get("/v1/vocabulary/languages", headers=actors.educator_75)
        languages = response.json()["languages"]
        assert languages[:3] == ["fr", "en", "ar"]
        assert len(languages) == len(set(languages)) == 40
