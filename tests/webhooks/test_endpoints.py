"""/v1/webhooks: who may register what, validation, secrets shown once and kept encrypted,
ETags, audit, and the 404 outside one's scope."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.principal import Role
from mentorat.errors import InvalidInput
from mentorat.webhooks import secrets
from mentorat.webhooks.service import check_url
from tests.api.support import assert_problem
from tests.factories import Actors, bearer, token_for
from tests.webhooks.support import ALL_TYPES, register, rows, scalar

URL = "https://ase.example.fr/hooks"


async def _manager_75(session: AsyncSession) -> dict[str, str]:
    headers = bearer(await token_for(session, Role.departement_manager, departement_code="75"))
    await session.commit()
    return headers


class TestRegistering:
    async def test_a_manager_registers_for_their_departement_and_sees_the_secret_once(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        response = await client.post(
            "/v1/webhooks",
            json={"url": URL, "event_types": ["proposal.created"], "description": "Tableau"},
            headers=actors.manager_53,
        )
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["departement_code"] == "53" and created["active"] is True
        assert created["secret"].startswith("whsec_")
        assert len(secrets.secret_bytes(created["secret"])) == 32
        assert response.headers["Location"] == f"/v1/webhooks/{created['id']}"
        assert response.headers["ETag"] == '"1"'

        response = await client.get(f"/v1/webhooks/{created['id']}", headers=actors.manager_53)
        assert response.status_code == 200
        assert "secret" not in response.json()
        assert response.json() == {k: v for k, v in created.items() if k != "secret"}
        listed = (await client.get("/v1/webhooks", headers=actors.manager_53)).json()["items"]
        assert [item["id"] for item in listed] == [created["id"]]
        assert all("secret" not in item for item in listed)

        # Stored encrypted: neither the secret nor its bytes are in the row, and the server's
        # key opens it.
        (row,) = await rows(
            session,
            "SELECT secret_ciphertext FROM webhook_endpoint WHERE id = :id",
            id=created["id"],
        )
        stored = bytes(row["secret_ciphertext"])
        assert created["secret"].encode() not in stored
        assert secrets.secret_bytes(created["secret"]) not in stored
        key = await secrets.encryption_key(session)
        assert secrets.decrypt(key, uuid.UUID(created["id"]), stored) == created["secret"]
        with pytest.raises(Exception):  # noqa: B017 - bound to its endpoint: any failure
            secrets.decrypt(key, uuid.uuid4(), stored)

        (audit,) = await rows(
            session,
            "SELECT action, departement_code, details FROM audit_event WHERE entity_id = :id",
            id=created["id"],
        )
        assert audit["action"] == "create" and audit["departement_code"] == "53"
        assert created["secret"] not in str(audit["details"])

    async def test_a_replayed_creation_does_not_show_the_secret_again(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        headers = actors.admin | {"Idempotency-Key": "webhook-1"}
        body = {"url": URL, "event_types": ["mentorship.ended"]}
        first = await client.post("/v1/webhooks", json=body, headers=headers)
        again = await client.post("/v1/webhooks", json=body, headers=headers)
        assert first.status_code == again.status_code == 201
        assert first.json()["secret"] and again.json()["secret"] is None
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["id"] == first.json()["id"]

    async def test_an_admin_registers_for_every_departement_or_one(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        everywhere = await register(client, actors.admin, URL)
        one = await register(client, actors.admin, URL, departement_code="75")
        assert everywhere["departement_code"] is None and one["departement_code"] == "75"
        response = await client.post(
            "/v1/webhooks",
            json={"url": URL, "event_types": ALL_TYPES, "departement_code": "00"},
            headers=actors.admin,
        )
        assert_problem(response, 422, "departement_code")
        response = await client.post(
            "/v1/webhooks",
            json={"url": URL, "event_types": ALL_TYPES, "departement_code": "96"},
            headers=actors.admin,
        )
        assert_problem(response, 422, "departement_code")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"url": "http://ase.example.fr/hooks"}, "url"),
            ({"url": "ftp://ase.example.fr/hooks"}, "url"),
            ({"url": "https://user:pw@ase.example.fr/hooks"}, "url"),
            ({"url": "https://ase.example.fr/hooks#here"}, "url"),
            ({"url": "https://ase.example.fr:99999/"}, "url"),
            ({"url": "https:///nohost"}, "url"),
            ({"url": "https://" + "a" * 2000 + ".fr"}, "url"),
            ({"event_types": []}, "event_types"),
            ({"event_types": ["proposal.created", "proposal.created"]}, "event_types"),
            ({"event_types": ["webhook.test"]}, "event_types"),
            ({"event_types": ["proposal.exploded"]}, "event_types"),
            ({"active": "yes"}, "active"),
            ({"secret": "whsec_mine"}, "secret"),
        ],
    )
    async def test_bad_input_is_a_422_and_writes_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        body: dict[str, object],
        field: str,
    ) -> None:
        response = await client.post(
            "/v1/webhooks",
            json={"url": URL, "event_types": ["proposal.created"]} | body,
            headers=actors.manager_53,
        )
        assert_problem(response, 422, field)
        assert await scalar(session, "SELECT count(*) FROM webhook_endpoint") == 0

    def test_plain_http_is_for_loopback_hosts_or_when_the_server_allows_it(self) -> None:
        for url in ("http://127.0.0.1:8080/h", "http://localhost/h", "http://[::1]:9/h"):
            assert check_url(url, allow_http=False) == url
        for url in ("http://10.0.0.1/h", "http://example.fr/h", "http://127.example.fr/h"):
            with pytest.raises(InvalidInput):
                check_url(url, allow_http=False)
            assert check_url(url, allow_http=True) == url


class TestScope:
    async def test_a_manager_cannot_see_or_touch_another_departements_endpoints(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        manager_75 = await _manager_75(session)
        mine = await register(client, actors.manager_53, URL)
        admins = await register(client, actors.admin, URL)
        before = await rows(session, "SELECT id, version FROM webhook_endpoint ORDER BY id")
        events_before = await scalar(session, "SELECT count(*) FROM event")
        for webhook in (mine, admins):
            path = f"/v1/webhooks/{webhook['id']}"
            for method, suffix, body in (
                ("GET", "", None),
                ("PATCH", "", {"active": False}),
                ("DELETE", "", None),
                ("POST", "/rotate-secret", None),
                ("POST", "/test", None),
                ("GET", "/deliveries", None),
            ):
                response = await client.request(
                    method, path + suffix, json=body, headers=manager_75
                )
                assert_problem(response, 404)
        listed = (await client.get("/v1/webhooks", headers=manager_75)).json()["items"]
        assert listed == []
        mine_listed = (await client.get("/v1/webhooks", headers=actors.manager_53)).json()
        assert [item["id"] for item in mine_listed["items"]] == [mine["id"]]
        admin_listed = (await client.get("/v1/webhooks", headers=actors.admin)).json()
        assert {item["id"] for item in admin_listed["items"]} == {mine["id"], admins["id"]}
        response = await client.post(
            "/v1/webhooks",
            json={"url": URL, "event_types": ALL_TYPES, "departement_code": "53"},
            headers=manager_75,
        )
        assert_problem(response, 404)
        after = await rows(session, "SELECT id, version FROM webhook_endpoint ORDER BY id")
        assert after == before
        assert await scalar(session, "SELECT count(*) FROM event") == events_before

    @pytest.mark.parametrize(
        "who", ["educator_53", "coordinator_a", "mentor_a"], ids=lambda who: who
    )
    async def test_other_roles_are_refused(
        self, client: httpx.AsyncClient, actors: Actors, who: str
    ) -> None:
        headers = getattr(actors, who)
        webhook = await register(client, actors.admin, URL)
        assert_problem(await client.get("/v1/webhooks", headers=headers), 403)
        response = await client.post(
            "/v1/webhooks", json={"url": URL, "event_types": ALL_TYPES}, headers=headers
        )
        assert_problem(response, 403)
        assert_problem(await client.get(f"/v1/webhooks/{webhook['id']}", headers=headers), 403)

    async def test_without_a_token_it_is_a_401(self, client: httpx.AsyncClient) -> None:
        assert_problem(await client.get("/v1/webhooks"), 401)


class TestChanging:
    async def test_a_change_needs_the_current_etag_and_is_audited(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        webhook = await register(client, actors.manager_53, URL)
        path = f"/v1/webhooks/{webhook['id']}"
        response = await client.patch(
            path,
            json={"event_types": ["mentorship.ended"], "description": None},
            headers=actors.manager_53 | {"If-Match": '"1"'},
        )
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == '"2"'
        assert response.json()["event_types"] == ["mentorship.ended"]
        stale = await client.patch(
            path, json={"active": False}, headers=actors.manager_53 | {"If-Match": '"1"'}
        )
        assert_problem(stale, 412)
        assert_problem(
            await client.patch(path, json={"url": "http://example.fr/"}, headers=actors.admin),
            422,
            "url",
        )
        assert_problem(await client.patch(path, json={}, headers=actors.admin), 422)
        audit = await rows(
            session,
            "SELECT action, details FROM audit_event WHERE entity_id = :id ORDER BY id",
            id=webhook["id"],
        )
        assert [(row["action"], row["details"]) for row in audit][1:] == [
            ("update", {"fields": ["description", "event_types"]})
        ]

    async def test_rotation_and_deletion(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        webhook = await register(client, actors.manager_53, URL)
        path = f"/v1/webhooks/{webhook['id']}"
        stale = await client.post(
            f"{path}/rotate-secret", headers=actors.manager_53 | {"If-Match": '"7"'}
        )
        assert_problem(stale, 412)
        response = await client.post(f"{path}/rotate-secret", headers=actors.manager_53)
        assert response.status_code == 200, response.text
        assert response.json()["secret"] != webhook["secret"]
        assert response.headers["ETag"] == '"2"'
        response = await client.delete(path, headers=actors.manager_53 | {"If-Match": '"1"'})
        assert_problem(response, 412)
        response = await client.delete(path, headers=actors.manager_53 | {"If-Match": '"2"'})
        assert response.status_code == 204
        assert_problem(await client.get(path, headers=actors.manager_53), 404)
        actions = await rows(
            session,
            "SELECT action FROM audit_event WHERE entity_id = :id ORDER BY id",
            id=webhook["id"],
        )
        assert [row["action"] for row in actions] == ["create", "update", "delete"]

    async def test_a_test_event_goes_to_that_endpoint_only(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        webhook = await register(client, actors.manager_53, URL)
        other = await register(client, actors.admin, URL)
        response = await client.post(f"/v1/webhooks/{webhook['id']}/test", headers=actors.admin)
        assert response.status_code == 202, response.text
        deliveries = await rows(
            session,
            "SELECT id, endpoint_id, event_id FROM webhook_delivery"
            " WHERE endpoint_id IN (:mine, :other)",
            mine=webhook["id"],
            other=other["id"],
        )
        assert [
            (str(row["id"]), str(row["endpoint_id"]), str(row["event_id"])) for row in deliveries
        ] == [(response.json()["delivery_id"], webhook["id"], response.json()["event_id"])]
        (event,) = await rows(
            session,
            "SELECT type, departement_code, data FROM event WHERE id = :id",
            id=response.json()["event_id"],
        )
        assert dict(event) == {
            "type": "webhook.test",
            "departement_code": "53",
            "data": {"webhook_id": webhook["id"]},
        }
        assert other["id"] != webhook["id"]
        await client.patch(
            f"/v1/webhooks/{webhook['id']}", json={"active": False}, headers=actors.admin
        )
        response = await client.post(f"/v1/webhooks/{webhook['id']}/test", headers=actors.admin)
        assert_problem(response, 409)
