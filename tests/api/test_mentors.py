"""Mentors: create, ETag-guarded edits, soft delete and purge, lists and filters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.support import assert_problem, audit_events, column, random_id, row, walk_pages
from tests.factories import Actors, create_association, create_mentor, mentor_body

MENTORS = "/v1/mentors"


def mentor_url(mentor_id: object) -> str:
    return f"{MENTORS}/{mentor_id}"


async def listed_ids(client: httpx.AsyncClient, query: str, headers: dict[str, str]) -> set[str]:
    response = await client.get(f"{MENTORS}?{query}", headers=headers)
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


class TestMentorCreate:
    async def test_coordinator_creates_in_own_association_by_default(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        body = mentor_body(capacity=3, gender="female", languages=["uk", "fr", "uk"])
        response = await client.post(MENTORS, json=body, headers=actors.coordinator_a)
        assert response.status_code == 201, response.text
        mentor = response.json()
        assert response.headers["location"] == mentor_url(mentor["id"])
        assert response.headers["etag"] == '"1"'
        assert mentor["association_id"] == str(actors.association_a.id)
        assert mentor["capacity"] == 3
        assert mentor["languages"] == ["fr", "uk"]
        assert mentor["goals"] == ["orientation", "numerique"]
        assert mentor["honorability_check"] == {
            "checked_on": "2026-01-05",
            "valid_until": "2029-01-05",
        }
        assert mentor["active"] is True
        assert mentor["travel_radius_km"] == 15
        stored = await row(
            session,
            "SELECT honorability_checked_on, honorability_valid_until FROM mentor WHERE id = :id",
            id=mentor["id"],
        )
        assert stored == (date(2026, 1, 5), date(2029, 1, 5))
        [event] = await audit_events(session, entity_id=mentor["id"])
        assert (event.action, event.entity_type) == ("create", "mentor")

    async def test_admin_must_name_the_association(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.post(MENTORS, json=mentor_body(), headers=actors.admin)
        assert_problem(response, 422, "association_id")

    async def test_unknown_association_looks_like_another_associations(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        other = await client.post(
            MENTORS,
            json=mentor_body(association_id=str(actors.association_b.id)),
            headers=actors.coordinator_a,
        )
        unknown = await client.post(
            MENTORS, json=mentor_body(association_id=random_id()), headers=actors.coordinator_a
        )
        assert_problem(other, 404)
        assert_problem(unknown, 404)
        assert other.json()["detail"] == unknown.json()["detail"]

    async def test_without_honorability_check(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        body = mentor_body(honorability_check=None)
        response = await client.post(MENTORS, json=body, headers=actors.coordinator_a)
        assert response.status_code == 201
        assert response.json()["honorability_check"] is None


class TestMentorRead:
    async def test_mentor_reads_own_record(self, client: httpx.AsyncClient, actors: Actors) -> None:
        response = await client.get(mentor_url(actors.mentor_a1.id), headers=actors.mentor_a)
        assert response.status_code == 200
        assert response.headers["etag"] == '"1"'
        mentor = response.json()
        assert mentor["id"] == str(actors.mentor_a1.id)
        assert mentor["email"] == actors.mentor_a1.email
        assert mentor["honorability_check"] == {
            "checked_on": "2026-01-10",
            "valid_until": "2029-01-10",
        }


class TestMentorConcurrency:
    async def test_patch_with_current_etag_returns_the_next_one(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        url = mentor_url(actors.mentor_a1.id)
        etag = (await client.get(url, headers=actors.coordinator_a)).headers["etag"]
        response = await client.patch(
            url, json={"capacity": 4}, headers={**actors.coordinator_a, "If-Match": etag}
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'
        assert response.json()["capacity"] == 4
        assert (await client.get(url, headers=actors.coordinator_a)).headers["etag"] == '"2"'

    async def test_patch_with_stale_etag_is_412_and_changes_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        url = mentor_url(actors.mentor_a1.id)
        await client.patch(url, json={"capacity": 2}, headers=actors.coordinator_a)
        response = await client.patch(
            url, json={"capacity": 5}, headers={**actors.coordinator_a, "If-Match": '"1"'}
        )
        assert_problem(response, 412)
        stored = await row(
            session, "SELECT capacity, version FROM mentor WHERE id = :id", id=actors.mentor_a1.id
        )
        assert stored == (2, 2)

    async def test_delete_with_stale_etag_is_412_and_keeps_the_mentor(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        url = mentor_url(actors.mentor_a1.id)
        response = await client.delete(url, headers={**actors.coordinator_a, "If-Match": '"2"'})
        assert_problem(response, 412)
        stored = await row(
            session, "SELECT deleted_at, active FROM mentor WHERE id = :id", id=actors.mentor_a1.id
        )
        assert stored == (None, True)

    async def test_delete_with_current_etag_works(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        mentor_id = str(actors.mentor_a1.id)
        url = mentor_url(mentor_id)
        readers = (actors.coordinator_a, actors.educator_53, actors.admin)
        for headers in readers:
            assert mentor_id in await listed_ids(client, "limit=200", headers)

        response = await client.delete(url, headers={**actors.coordinator_a, "If-Match": '"1"'})
        assert response.status_code == 204

        for headers in readers:
            assert mentor_id not in await listed_ids(client, "limit=200", headers)
        for headers in (actors.coordinator_a, actors.educator_53):
            assert_problem(await client.get(url, headers=headers), 404)
        response = await client.get(
            f"/v1/children/{actors.child_53.id}/mentor-candidates", headers=actors.educator_53
        )
        assert response.status_code == 200, response.text
        assert mentor_id not in {c["mentor_id"] for c in response.json()["candidates"]}
        response = await client.get(f"{MENTORS}?include_deleted=true", headers=actors.admin)
        (deleted,) = [item for item in response.json()["items"] if item["id"] == mentor_id]
        assert deleted["deleted_at"] is not None


class TestMentorUpdate:
    async def test_honorability_check_is_replaced_then_cleared(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        url = mentor_url(actors.mentor_a1.id)
        check = {"checked_on": "2026-06-01", "valid_until": "2026-12-31"}
        response = await client.patch(
            url, json={"honorability_check": check}, headers=actors.coordinator_a
        )
        assert response.json()["honorability_check"] == check
        response = await client.patch(
            url, json={"honorability_check": None, "email": None}, headers=actors.coordinator_a
        )
        assert response.status_code == 200
        assert response.json()["honorability_check"] is None
        assert response.json()["email"] is None
        stored = await row(
            session,
            "SELECT honorability_checked_on, honorability_valid_until, email"
            " FROM mentor WHERE id = :id",
            id=actors.mentor_a1.id,
        )
        assert stored == (None, None, None)

    async def test_update_is_audited_with_its_fields(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        await client.patch(
            mentor_url(actors.mentor_a1.id),
            json={"active": False, "travel_radius_km": 40},
            headers=actors.coordinator_a,
        )
        [event] = await audit_events(session, entity_id=str(actors.mentor_a1.id))
        assert event.action == "update"
        assert event.details == {"fields": ["active", "travel_radius_km"]}


class TestMentorSoftDelete:
    async def test_deleted_mentor_disappears_and_is_inactive(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        url = mentor_url(actors.mentor_a1.id)
        assert (await client.delete(url, headers=actors.coordinator_a)).status_code == 204
        for name in ("admin", "coordinator_a", "educator_53"):
            headers = actors.everyone[name]
            assert_problem(await client.get(url, headers=headers), 404)
            assert str(actors.mentor_a1.id) not in await listed_ids(client, "", headers)
        # The mentor who left keeps no access at all.
        response = await client.get("/v1/vocabulary/goals", headers=actors.mentor_a)
        assert_problem(response, 401)
        stored = await row(
            session, "SELECT active, deleted_at IS NOT NULL FROM mentor WHERE id = :id",
            id=actors.mentor_a1.id,
        )  # fmt: skip
        assert stored == (False, True)
        [event] = await audit_events(session, entity_id=str(actors.mentor_a1.id))
        assert (event.action, event.principal_role) == ("delete", "coordinator")

    async def test_only_an_admin_lists_deleted_mentors_on_request(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        await client.delete(mentor_url(actors.mentor_a1.id), headers=actors.coordinator_a)
        everything = await listed_ids(client, "include_deleted=true", actors.admin)
        assert everything == {str(actors.mentor_a1.id), str(actors.mentor_b1.id)}
        response = await client.get(f"{MENTORS}?include_deleted=true", headers=actors.coordinator_a)
        assert_problem(response, 403)


class TestMentorPurge:
    async def test_admin_purge_removes_the_row(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentor_id = actors.mentor_b1.id
        response = await client.delete(f"{mentor_url(mentor_id)}/purge", headers=actors.admin)
        assert response.status_code == 204
        count = await column(session, "SELECT count(*) FROM mentor WHERE id = :id", id=mentor_id)
        assert count == 0
        [event] = await audit_events(session, entity_id=str(mentor_id))
        assert event.action == "purge"

    async def test_purging_a_mentor_ends_their_access(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        await client.delete(f"{mentor_url(actors.mentor_a1.id)}/purge", headers=actors.admin)
        response = await client.get("/v1/vocabulary/goals", headers=actors.mentor_a)
        assert_problem(response, 401)

    @pytest.mark.parametrize("actor", ["coordinator_a", "manager_53", "mentor_a"])
    async def test_others_may_not_purge(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, actor: str
    ) -> None:
        mentor_id = actors.mentor_a1.id
        response = await client.delete(
            f"{mentor_url(mentor_id)}/purge", headers=actors.everyone[actor]
        )
        assert_problem(response, 403)
        count = await column(session, "SELECT count(*) FROM mentor WHERE id = :id", id=mentor_id)
        assert count == 1


class TestMentorFilters:
    async def test_by_association(self, client: httpx.AsyncClient, actors: Actors) -> None:
        query = f"association={actors.association_b.id}"
        assert await listed_ids(client, query, actors.admin) == {str(actors.mentor_b1.id)}
        # Another association's filter, outside the coordinator's scope, finds nothing.
        assert await listed_ids(client, query, actors.coordinator_a) == set()

    async def test_by_departement_served(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        both = await create_association(session, departements=("53", "75"))
        mentor = await create_mentor(session, association=both)
        await session.commit()
        ids_75 = await listed_ids(client, "departement=75", actors.admin)
        assert ids_75 == {str(actors.mentor_b1.id), str(mentor.id)}
        ids_53 = await listed_ids(client, "departement=53", actors.educator_53)
        assert ids_53 == {str(actors.mentor_a1.id), str(mentor.id)}

    async def test_by_active(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        inactive = await create_mentor(session, association=actors.association_a, active=False)
        await session.commit()
        headers = actors.coordinator_a
        assert await listed_ids(client, "active=false", headers) == {str(inactive.id)}
        assert await listed_ids(client, "active=true", headers) == {str(actors.mentor_a1.id)}
        assert await listed_ids(client, "", headers) == {str(actors.mentor_a1.id), str(inactive.id)}

    async def test_by_honorability_valid_on(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        association = actors.association_a
        expired = await create_mentor(
            session,
            association=association,
            honorability_checked_on=date(2022, 1, 1),
            honorability_valid_until=date(2025, 12, 31),
        )
        unchecked = await create_mentor(
            session,
            association=association,
            honorability_checked_on=None,
            honorability_valid_until=None,
        )
        future = await create_mentor(
            session,
            association=association,
            honorability_checked_on=date(2027, 1, 1),
            honorability_valid_until=date(2030, 1, 1),
        )
        await session.commit()
        headers = actors.coordinator_a
        valid_2026 = await listed_ids(client, "honorability_valid_on=2026-03-01", headers)
        assert valid_2026 == {str(actors.mentor_a1.id)}
        # Both bounds are inclusive.
        last_day = await listed_ids(client, "honorability_valid_on=2025-12-31", headers)
        assert last_day == {str(expired.id)}
        first_day = await listed_ids(client, "honorability_valid_on=2027-01-01", headers)
        assert first_day == {str(actors.mentor_a1.id), str(future.id)}
        everyone = await listed_ids(client, "", headers)
        assert str(unchecked.id) in everyone

    async def test_filters_combine(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        await create_mentor(session, association=actors.association_a, active=False)
        await session.commit()
        query = (
            f"association={actors.association_a.id}&active=true&honorability_valid_on=2026-05-01"
        )
        assert await listed_ids(client, query, actors.admin) == {str(actors.mentor_a1.id)}


class TestMentorPagination:
    async def test_pages_walk_every_mentor_once_in_created_order(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        association = await create_association(session, departements=("44",))
        start = datetime(2026, 1, 1, tzinfo=UTC)
        created = [
            await create_mentor(
                session, association=association, created_at=start + timedelta(hours=hour)
            )
            for hour in (2, 0, 4, 1, 3)
        ]
        await session.commit()
        expected = [str(m.id) for m in sorted(created, key=lambda m: m.created_at)]
        url = f"{MENTORS}?association={association.id}&limit=2"
        pages = await walk_pages(client, url, actors.admin)
        assert pages == [expected[0:2], expected[2:4], expected[4:]]
