"""Children: create, read, ETag-guarded edits, soft delete and purge, lists and filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.support import (
    assert_problem,
    audit_events,
    column,
    random_id,
    row,
    walk_pages,
)
from tests.conftest import run_queued_jobs
from tests.factories import Actors, child_body, create_child

CHILDREN = "/v1/children"


def child_url(child_id: object) -> str:
    return f"{CHILDREN}/{child_id}"


async def listed(client: httpx.AsyncClient, headers: dict[str, str]) -> set[str]:
    response = await client.get(f"{CHILDREN}?limit=200", headers=headers)
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


class TestChildCreate:
    async def test_educator_creates_in_own_departement_by_default(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        body = child_body(
            reference="ASE-53-2026-001",
            goals=["rome-J", "orientation", "rome-J"],
            languages=["ar", "fr"],
            availability=[
                {"day": "wednesday", "start": "14:00", "end": "15:30"},
                {"day": "wednesday", "start": "15:30", "end": "17:00"},
                {"day": "monday", "start": "17:00", "end": "18:00"},
            ],
            mentor_gender_preference="female",
        )
        response = await client.post(CHILDREN, json=body, headers=actors.educator_53)

        assert response.status_code == 201, response.text
        child = response.json()
        assert response.headers["location"] == child_url(child["id"])
        assert response.headers["etag"] == '"1"'
        assert child["departement_code"] == "53"
        assert child["reference"] == "ASE-53-2026-001"
        assert child["version"] == 1
        assert child["deleted_at"] is None
        # Goals and languages come back deduplicated in vocabulary order.
        assert child["goals"] == ["orientation", "rome-J"]
        assert child["languages"] == ["fr", "ar"]
        # Adjacent slots merge; days come back in week order.
        assert child["availability"] == [
            {"day": "monday", "start": "17:00", "end": "18:00"},
            {"day": "wednesday", "start": "14:00", "end": "17:00"},
        ]
        assert child["location"] == body["location"]
        stored = await column(
            session, "SELECT first_name FROM child WHERE id = :id", id=child["id"]
        )
        assert stored == "Inès"

    async def test_admin_must_name_the_departement(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.post(CHILDREN, json=child_body(), headers=actors.admin)
        assert_problem(response, 422, "departement_code")
        response = await client.post(
            CHILDREN, json=child_body(departement_code="75"), headers=actors.admin
        )
        assert response.status_code == 201
        assert response.json()["departement_code"] == "75"

    async def test_same_reference_is_allowed_in_another_departement(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        reference = actors.child_53.reference
        body = child_body(reference=reference, departement_code="75")
        response = await client.post(CHILDREN, json=body, headers=actors.educator_75)
        assert response.status_code == 201, response.text
        created = response.json()
        assert (created["reference"], created["departement_code"]) == (reference, "75")

        # Two children, one reference, each in its own département.
        response = await client.get(child_url(created["id"]), headers=actors.educator_75)
        assert response.status_code == 200, response.text
        assert response.json()["reference"] == reference
        response = await client.get(child_url(actors.child_53.id), headers=actors.educator_53)
        assert response.json()["reference"] == reference
        listed = await client.get(f"{CHILDREN}?limit=200", headers=actors.admin)
        same = {(c["id"], c["departement_code"]) for c in listed.json()["items"]
                if c["reference"] == reference}  # fmt: skip
        assert same == {(str(actors.child_53.id), "53"), (created["id"], "75")}

    async def test_duplicate_reference_in_the_departement_is_a_conflict(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        body = child_body(reference=actors.child_53.reference)
        response = await client.post(CHILDREN, json=body, headers=actors.educator_53)
        problem = assert_problem(response, 409)
        assert actors.child_53.reference in problem["detail"]
        count = await column(
            session, "SELECT count(*) FROM child WHERE reference = :r", r=body["reference"]
        )
        assert count == 1


class TestChildRead:
    async def test_get_returns_the_record_and_its_etag(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.get(child_url(actors.child_53.id), headers=actors.educator_53)
        assert response.status_code == 200
        assert response.headers["etag"] == '"1"'
        child = response.json()
        assert child["id"] == str(actors.child_53.id)
        assert child["reference"] == actors.child_53.reference
        assert child["goals"] == ["orientation", "confiance"]
        assert child["availability"] == [
            {"day": "wednesday", "start": "14:00", "end": "18:00"},
            {"day": "saturday", "start": "10:00", "end": "12:00"},
        ]

    async def test_unknown_id_is_404(self, client: httpx.AsyncClient, actors: Actors) -> None:
        response = await client.get(child_url(random_id()), headers=actors.admin)
        assert_problem(response, 404)


class TestChildConcurrency:
    """ETag / If-Match: a stale write is refused and changes nothing."""

    async def test_patch_with_current_etag_returns_the_next_one(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        url = child_url(actors.child_53.id)
        etag = (await client.get(url, headers=actors.educator_53)).headers["etag"]
        response = await client.patch(
            url,
            json={"first_name": "Yanis", "school_level": "5e"},
            headers={**actors.educator_53, "If-Match": etag},
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'
        assert response.json()["first_name"] == "Yanis"
        assert response.json()["school_level"] == "5e"
        assert response.json()["version"] == 2
        again = await client.get(url, headers=actors.educator_53)
        assert again.headers["etag"] == '"2"'
        assert again.json()["first_name"] == "Yanis"

    async def test_patch_with_stale_etag_is_412_and_changes_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        url = child_url(actors.child_53.id)
        first = await client.patch(
            url, json={"first_name": "Yanis"}, headers={**actors.educator_53, "If-Match": '"1"'}
        )
        assert first.status_code == 200
        stale = await client.patch(
            url, json={"first_name": "Lucas"}, headers={**actors.educator_53, "If-Match": '"1"'}
        )
        assert_problem(stale, 412)
        stored = await row(
            session, "SELECT first_name, version FROM child WHERE id = :id", id=actors.child_53.id
        )
        assert stored == ("Yanis", 2)

    async def test_patch_without_if_match_is_last_write_wins(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.patch(
            child_url(actors.child_53.id), json={"remote_ok": True}, headers=actors.educator_53
        )
        assert response.status_code == 200
        assert response.json()["remote_ok"] is True
        assert response.headers["etag"] == '"2"'

    @pytest.mark.parametrize("if_match", ['"1"', 'W/"1"', '"7", "1"', "*"])
    async def test_if_match_forms_that_match(
        self, client: httpx.AsyncClient, actors: Actors, if_match: str
    ) -> None:
        url = child_url(actors.child_53.id)
        response = await client.patch(
            url,
            json={"referent_educator": "M. Leroy"},
            headers={**actors.educator_53, "If-Match": if_match},
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'

        stored = await client.get(url, headers=actors.educator_53)
        assert stored.json()["referent_educator"] == "M. Leroy"
        assert stored.json()["version"] == 2
        assert stored.headers["etag"] == '"2"'
        # The old version no longer matches.
        response = await client.patch(
            url,
            json={"referent_educator": "Mme Roux"},
            headers={**actors.educator_53, "If-Match": '"1"'},
        )
        assert_problem(response, 412)

    async def test_delete_with_stale_etag_is_412_and_keeps_the_child(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        url = child_url(actors.child_53.id)
        response = await client.delete(url, headers={**actors.educator_53, "If-Match": '"9"'})
        assert_problem(response, 412)
        deleted_at = await column(
            session, "SELECT deleted_at FROM child WHERE id = :id", id=actors.child_53.id
        )
        assert deleted_at is None
        assert (await client.get(url, headers=actors.educator_53)).status_code == 200

    async def test_delete_with_current_etag_works(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        child_id = str(actors.child_53.id)
        url = child_url(child_id)
        readers = (actors.educator_53, actors.manager_53, actors.admin)
        for headers in readers:
            assert child_id in await listed(client, headers)

        response = await client.delete(url, headers={**actors.educator_53, "If-Match": '"1"'})
        assert response.status_code == 204
        assert response.content == b""

        for headers in readers:
            assert child_id not in await listed(client, headers)
        for headers in (actors.educator_53, actors.manager_53):
            assert_problem(await client.get(url, headers=headers), 404)
        response = await client.get(f"{CHILDREN}?include_deleted=true", headers=actors.admin)
        (deleted,) = [item for item in response.json()["items"] if item["id"] == child_id]
        assert deleted["deleted_at"] is not None
        # Out of matching too: a run over the département no longer sees the child.
        response = await client.post(
            "/v1/matching-runs", json={"dry_run": True}, headers=actors.manager_53
        )
        assert response.status_code == 202, response.text
        await run_queued_jobs(client)
        run = await client.get(
            f"/v1/matching-runs/{response.json()['id']}", headers=actors.manager_53
        )
        assert run.json()["figures"]["children"] == 0


class TestChildUpdate:
    async def test_nullable_fields_are_cleared_by_null(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        url = child_url(actors.child_53.id)
        set_response = await client.patch(
            url,
            json={"referent_educator": "Mme Roux", "mentor_gender_preference": "male"},
            headers=actors.educator_53,
        )
        assert set_response.json()["referent_educator"] == "Mme Roux"
        response = await client.patch(
            url,
            json={"referent_educator": None, "mentor_gender_preference": None},
            headers=actors.educator_53,
        )
        assert response.status_code == 200
        assert response.json()["referent_educator"] is None
        assert response.json()["mentor_gender_preference"] is None

    async def test_profile_fields_are_replaced(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        location = {"commune": "Mayenne", "postcode": "53100", "latitude": 48.3, "longitude": -0.6}
        response = await client.patch(
            child_url(actors.child_53.id),
            json={
                "location": location,
                "goals": ["numerique"],
                "availability": [{"day": "sunday", "start": "23:00", "end": "24:00"}],
            },
            headers=actors.educator_53,
        )
        assert response.status_code == 200, response.text
        child = response.json()
        assert child["location"] == location
        assert child["goals"] == ["numerique"]
        assert child["availability"] == [{"day": "sunday", "start": "23:00", "end": "24:00"}]

    async def test_changing_to_a_taken_reference_is_a_conflict(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        other = await create_child(session, departement="53")
        await session.commit()
        response = await client.patch(
            child_url(other.id),
            json={"reference": actors.child_53.reference},
            headers=actors.educator_53,
        )
        assert_problem(response, 409)
        reference = await column(session, "SELECT reference FROM child WHERE id = :id", id=other.id)
        assert reference == other.reference


class TestChildSoftDelete:
    async def test_deleted_child_disappears_for_everyone(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        url = child_url(actors.child_53.id)
        assert (await client.delete(url, headers=actors.educator_53)).status_code == 204

        for headers in (actors.admin, actors.manager_53, actors.educator_53):
            assert_problem(await client.get(url, headers=headers), 404)
            listed = await client.get(CHILDREN, headers=headers)
            assert str(actors.child_53.id) not in {item["id"] for item in listed.json()["items"]}
        assert_problem(
            await client.patch(url, json={"first_name": "X"}, headers=actors.educator_53), 404
        )
        assert_problem(await client.delete(url, headers=actors.educator_53), 404)
        # The row is still there, marked.
        deleted_at = await column(
            session, "SELECT deleted_at FROM child WHERE id = :id", id=actors.child_53.id
        )
        assert deleted_at is not None

    async def test_only_an_admin_lists_deleted_children_on_request(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        await client.delete(child_url(actors.child_53.id), headers=actors.educator_53)

        response = await client.get(f"{CHILDREN}?include_deleted=true", headers=actors.admin)
        items = {item["id"]: item for item in response.json()["items"]}
        assert set(items) == {str(actors.child_53.id), str(actors.child_75.id)}
        assert items[str(actors.child_53.id)]["deleted_at"] is not None
        assert items[str(actors.child_75.id)]["deleted_at"] is None

        for headers in (actors.manager_53, actors.educator_53):
            response = await client.get(f"{CHILDREN}?include_deleted=true", headers=headers)
            assert_problem(response, 403)


class TestChildPurge:
    async def test_admin_purge_removes_the_row_and_keeps_the_trail(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child_id = actors.child_53.id
        await client.get(child_url(child_id), headers=actors.educator_53)
        response = await client.delete(f"{child_url(child_id)}/purge", headers=actors.admin)
        assert response.status_code == 204
        assert await column(session, "SELECT count(*) FROM child WHERE id = :id", id=child_id) == 0
        actions = [event.action for event in await audit_events(session, entity_id=str(child_id))]
        assert actions == ["read", "purge"]
        assert_problem(await client.get(child_url(child_id), headers=actors.admin), 404)

    async def test_a_soft_deleted_child_can_be_purged(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child_id = actors.child_53.id
        await client.delete(child_url(child_id), headers=actors.educator_53)
        response = await client.delete(f"{child_url(child_id)}/purge", headers=actors.admin)
        assert response.status_code == 204
        assert await column(session, "SELECT count(*) FROM child WHERE id = :id", id=child_id) == 0

    @pytest.mark.parametrize("actor", ["manager_53", "educator_53", "coordinator_a", "mentor_a"])
    async def test_others_may_not_purge(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, actor: str
    ) -> None:
        child_id = actors.child_53.id
        response = await client.delete(
            f"{child_url(child_id)}/purge", headers=actors.everyone[actor]
        )
        assert_problem(response, 403)
        assert await column(session, "SELECT count(*) FROM child WHERE id = :id", id=child_id) == 1

    async def test_purging_an_unknown_child_is_404(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.delete(f"{child_url(random_id())}/purge", headers=actors.admin)
        assert_problem(response, 404)


class TestChildPagination:
    async def test_pages_walk_every_child_once_in_created_order(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        start = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
        created = [
            await create_child(session, departement="44", created_at=start + timedelta(minutes=i))
            for i in (3, 1, 6, 0, 4, 2, 5)
        ]
        await session.commit()
        expected = [str(child.id) for child in sorted(created, key=lambda c: c.created_at)]

        pages = await walk_pages(client, f"{CHILDREN}?departement=44&limit=3", actors.admin)
        assert pages == [expected[0:3], expected[3:6], expected[6:]]

    async def test_children_created_together_are_each_listed_once(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        # Same transaction, so the same created_at: the id breaks the tie.
        created = set()
        for _ in range(7):
            response = await client.post(CHILDREN, json=child_body(), headers=actors.educator_53)
            created.add(response.json()["id"])
        pages = await walk_pages(client, f"{CHILDREN}?limit=3", actors.educator_53)
        seen = [child_id for page in pages for child_id in page]
        assert [len(page) for page in pages] == [3, 3, 2]
        assert len(seen) == len(set(seen)) == 8
        assert set(seen) == created | {str(actors.child_53.id)}

    async def test_an_exact_last_page_has_no_next_cursor(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.get(f"{CHILDREN}?limit=2", headers=actors.admin)
        assert len(response.json()["items"]) == 2
        assert response.json()["next_cursor"] is None


class TestChildFilters:
    async def test_by_college_entry_year(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        in_2027 = await create_child(session, departement="53", college_entry_year=2027)
        await create_child(session, departement="75", college_entry_year=2027)
        await session.commit()
        response = await client.get(
            f"{CHILDREN}?college_entry_year=2027", headers=actors.educator_53
        )
        assert [item["id"] for item in response.json()["items"]] == [str(in_2027.id)]
        response = await client.get(
            f"{CHILDREN}?college_entry_year=2026", headers=actors.educator_53
        )
        assert [item["id"] for item in response.json()["items"]] == [str(actors.child_53.id)]

    async def test_filters_combine(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        in_75 = await create_child(session, departement="75", college_entry_year=2025)
        await create_child(session, departement="53", college_entry_year=2025)
        await session.commit()
        response = await client.get(
            f"{CHILDREN}?college_entry_year=2025&departement=75", headers=actors.admin
        )
        assert [item["id"] for item in response.json()["items"]] == [str(in_75.id)]
