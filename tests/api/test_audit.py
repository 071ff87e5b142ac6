"""The audit trail: every read of a child and every write is recorded; the trail is append-only."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.support import assert_problem, audit_count, audit_events, token_row
from tests.factories import Actors, child_body, create_child


class TestChildReadsAreAudited:
    async def test_get_writes_one_read_event(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        before = await audit_count(session)
        response = await client.get(
            f"/v1/children/{actors.child_53.id}",
            headers={**actors.educator_53, "X-Request-ID": "req-get-child-1"},
        )
        assert response.status_code == 200
        assert response.headers["x-request-id"] == "req-get-child-1"
        assert await audit_count(session) == before + 1
        [event] = await audit_events(session, entity_id=str(actors.child_53.id))
        holder = await token_row(session, actors.educator_53)
        assert event.action == "read"
        assert event.entity_type == "child"
        assert event.principal_id == holder.principal_id
        assert event.principal_role == "educator"
        assert event.departement_code == "53"
        assert event.request_id == "req-get-child-1"
        assert event.occurred_at is not None

    async def test_each_child_in_a_list_page_is_read_once(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        others = [await create_child(session, departement="53") for _ in range(3)]
        await session.commit()
        before = await audit_count(session)
        response = await client.get("/v1/children?limit=50", headers=actors.manager_53)
        listed = [item["id"] for item in response.json()["items"]]
        assert len(listed) == 4
        events = await audit_events(session, action="read")
        assert len(events) == await audit_count(session) - before == 4
        assert sorted(event.entity_id for event in events) == sorted(listed)
        assert {event.departement_code for event in events} == {"53"}
        assert {str(child.id) for child in others} <= {event.entity_id for event in events}
        assert all(event.details == {"via": "list"} for event in events)

    async def test_only_the_children_on_the_page_are_recorded(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        for _ in range(3):
            await create_child(session, departement="53")
        await session.commit()
        response = await client.get("/v1/children?limit=2", headers=actors.educator_53)
        listed = [item["id"] for item in response.json()["items"]]
        events = await audit_events(session, action="read")
        assert sorted(event.entity_id for event in events) == sorted(listed)

    async def test_admin_list_across_departements_records_each_departement(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        response = await client.get("/v1/children", headers=actors.admin)
        # The events of this request: the race tests commit theirs, which stay (append-only).
        request_id = response.headers["X-Request-ID"]
        events = {
            e.entity_id: e.departement_code
            for e in await audit_events(session, request_id=request_id)
        }
        assert events == {str(actors.child_53.id): "53", str(actors.child_75.id): "75"}

    async def test_an_empty_list_records_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        before = await audit_count(session)
        response = await client.get("/v1/children?departement=44", headers=actors.admin)
        assert response.json()["items"] == []
        assert await audit_count(session) == before


class TestWritesAreAudited:
    async def test_child_life_cycle(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        created = await client.post("/v1/children", json=child_body(), headers=actors.educator_53)
        child_id = created.json()["id"]
        url = f"/v1/children/{child_id}"
        await client.patch(url, json={"first_name": "Noé", "goals": []}, headers=actors.educator_53)
        await client.delete(url, headers=actors.educator_53)
        await client.delete(f"{url}/purge", headers=actors.admin)

        events = await audit_events(session, entity_id=child_id)
        assert [(e.action, e.principal_role) for e in events] == [
            ("create", "educator"),
            ("update", "educator"),
            ("delete", "educator"),
            ("purge", "admin"),
        ]
        assert events[1].details == {"fields": ["first_name", "goals"]}
        assert {e.departement_code for e in events} == {"53"}

    async def test_token_creation_and_revocation(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        body = {"name": "Éducateur 75", "role": "educator", "departement_code": "75"}
        created = (await client.post("/v1/tokens", json=body, headers=actors.admin)).json()
        await client.delete(f"/v1/tokens/{created['id']}", headers=actors.admin)
        events = await audit_events(session, entity_id=created["id"])
        assert [(e.action, e.entity_type) for e in events] == [
            ("create", "api_token"),
            ("revoke", "api_token"),
        ]
        # Bare ids only: the holder's name is personal data that a purge must be able to erase.
        assert events[0].details == {"role": "educator", "principal_id": created["principal_id"]}
        # The secret never reaches the trail.
        assert created["token"] not in str(events[0].details)


class TestFailedRequestsLeaveNoTrace:
    @pytest.mark.parametrize(
        ("method", "path", "headers", "body", "status"),
        [
            ("GET", "/v1/children/{child_75}", "educator_53", None, 404),
            ("GET", "/v1/children/{child_53}", "coordinator_a", None, 403),
            ("PATCH", "/v1/children/{child_53}", "educator_53", {"first_name": None}, 422),
            ("DELETE", "/v1/children/{child_75}", "educator_53", None, 404),
            ("GET", "/v1/children?cursor=bad", "admin", None, 422),
            ("DELETE", "/v1/mentors/{mentor_b1}", "coordinator_a", None, 404),
            ("POST", "/v1/children", "educator_53", "duplicate", 409),
        ],
    )
    async def test_no_audit_row(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        method: str,
        path: str,
        headers: str,
        body: object,
        status: int,
    ) -> None:
        if body == "duplicate":
            body = child_body(reference=actors.child_53.reference)
        url = path.format(
            child_53=actors.child_53.id, child_75=actors.child_75.id, mentor_b1=actors.mentor_b1.id
        )
        before = await audit_count(session)
        response = await client.request(method, url, headers=actors.everyone[headers], json=body)
        assert_problem(response, status)
        assert await audit_count(session) == before

    async def test_stale_if_match_leaves_no_trace(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        before = await audit_count(session)
        response = await client.patch(
            f"/v1/children/{actors.child_53.id}",
            json={"first_name": "Léa"},
            headers={**actors.educator_53, "If-Match": '"5"'},
        )
        assert_problem(response, 412)
        assert await audit_count(session) == before


class TestAppendOnly:
    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE audit_event SET action = 'update'",
            "UPDATE audit_event SET details = NULL WHERE entity_type = 'child'",
            "DELETE FROM audit_event",
            "TRUNCATE audit_event",
        ],
    )
    async def test_the_database_refuses_changes(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, statement: str
    ) -> None:
        await client.get(f"/v1/children/{actors.child_53.id}", headers=actors.educator_53)
        before = [(e.id, e.action, e.details) for e in await audit_events(session)]
        assert before, "the read should have left an event"
        with pytest.raises(DBAPIError, match="append-only"):
            async with session.begin_nested():
                await session.execute(text(statement))
        session.expire_all()
        after = [(e.id, e.action, e.details) for e in await audit_events(session)]
        assert after == before

    async def test_inserts_are_allowed(self, session: AsyncSession, actors: Actors) -> None:
        before = await audit_count(session)
        await session.execute(
            text(
                "INSERT INTO audit_event (principal_name, principal_role, action, entity_type,"
                " entity_id) VALUES ('system', 'system', 'read', 'child', 'x')"
            )
        )
        assert await audit_count(session) == before + 1
