"""Deliveries to a real HTTP receiver on 127.0.0.1: signed, retried, given up, in order,
and only of the events the endpoint's owner may see."""

from __future__ import annotations

import json
import re
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks.webhooks import Webhook as StandardVerifier

from mentorat.auth.principal import Role
from mentorat.kit.db import Database
from mentorat.webhooks.delivery import MAX_ATTEMPTS, deliver_due
from tests.factories import Actors, bearer, token_for
from tests.mentorships.support import new_child, new_mentor, propose
from tests.webhooks.receiver import Receiver, standard_signature_valid
from tests.webhooks.support import bodies, register, rows, scalar

README = Path(__file__).resolve().parents[2] / "README.md"
MINUTE = 60
# The documented schedule, written out: 1 min, then 4 times longer each time, at most 8 h.
NOMINAL_WAITS_S = [min(MINUTE * 4**n, 8 * 3600) for n in range(MAX_ATTEMPTS - 1)]


async def _test_event(client: httpx.AsyncClient, headers: dict[str, str], webhook_id: str) -> str:
    response = await client.post(f"/v1/webhooks/{webhook_id}/test", headers=headers)
    assert response.status_code == 202, response.text
    return str(response.json()["event_id"])


async def _delivery(session: AsyncSession, event_id: str) -> dict[str, object]:
    (row,) = await rows(
        session,
        "SELECT status, attempts, next_attempt_at FROM webhook_delivery WHERE event_id = :id",
        id=event_id,
    )
    return dict(row)


class TestSignature:
    async def test_a_delivery_is_signed_as_standard_webhooks_say(
        self,
        client: httpx.AsyncClient,
        database: Database,
        actors: Actors,
        receiver: Receiver,
    ) -> None:
        webhook = await register(client, actors.manager_53, f"{receiver.url}/hooks")
        event_id = await _test_event(client, actors.manager_53, webhook["id"])

        figures = await deliver_due(database)

        assert (figures.attempts, figures.succeeded) == (1, 1)
        (request,) = receiver.received
        assert request.path == "/hooks"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["webhook-id"] == event_id
        assert request.headers["webhook-signature"].startswith("v1,")
        assert standard_signature_valid(webhook["secret"], request.headers, request.body)
        # The reference verifier agrees (it checks the timestamp against the real clock).
        StandardVerifier(webhook["secret"]).verify(request.body, request.headers)
        body = json.loads(request.body)
        assert set(body) == {"id", "type", "occurred_at", "data"}
        assert body["id"] == event_id and body["type"] == "webhook.test"
        assert body["data"] == {"webhook_id": webhook["id"]}

    async def test_a_tampered_body_or_another_secret_fails_the_check(
        self,
        client: httpx.AsyncClient,
        database: Database,
        actors: Actors,
        receiver: Receiver,
    ) -> None:
        webhook = await register(client, actors.manager_53, receiver.url)
        other = await register(client, actors.manager_53, receiver.url)
        await _test_event(client, actors.manager_53, webhook["id"])
        await deliver_due(database)
        (request,) = receiver.received

        tampered = request.body.replace(b"webhook.test", b"webhook.tesT")
        assert tampered != request.body
        assert not standard_signature_valid(webhook["secret"], request.headers, tampered)
        assert not standard_signature_valid(other["secret"], request.headers, request.body)
        old_timestamp = request.headers | {
            "webhook-timestamp": str(int(request.headers["webhook-timestamp"]) - 1)
        }
        assert not standard_signature_valid(webhook["secret"], old_timestamp, request.body)

    async def test_a_rotated_secret_signs_what_is_sent_next(
        self,
        client: httpx.AsyncClient,
        database: Database,
        actors: Actors,
        receiver: Receiver,
    ) -> None:
        webhook = await register(client, actors.admin, receiver.url)
        response = await client.post(
            f"/v1/webhooks/{webhook['id']}/rotate-secret", headers=actors.admin
        )
        assert response.status_code == 200, response.text
        rotated = response.json()["secret"]
        assert rotated.startswith("whsec_") and rotated != webhook["secret"]
        await _test_event(client, actors.admin, webhook["id"])
        await deliver_due(database)
        (request,) = receiver.received
        assert standard_signature_valid(rotated, request.headers, request.body)
        assert not standard_signature_valid(webhook["secret"], request.headers, request.body)


class TestRetries:
    async def test_a_500_is_retried_later_then_delivered(
        self,
        client: httpx.AsyncClient,
        database: Database,
        session: AsyncSession,
        actors: Actors,
        receiver: Receiver,
    ) -> None:
        receiver.answer(500)
        webhook = await register(client, actors.manager_53, receiver.url)
        event_id = await _test_event(client, actors.manager_53, webhook["id"])
        start = datetime.now(UTC)

        first = await deliver_due(database, now=start)
        assert (first.attempts, first.retrying) == (1, 1)
        delivery = await _delivery(session, event_id)
        assert delivery["status"] == "pending" and delivery["attempts"] == 1
        wait = (delivery["next_attempt_at"] - start).total_seconds()  # type: ignore[operator]
        assert 0.75 * MINUTE <= wait <= 1.25 * MINUTE

        early = await deliver_due(database, now=start + timedelta(seconds=40))
        assert early.attempts == 0 and len(receiver.received) == 1

        due = delivery["next_attempt_at"]
        second = await deliver_due(database, now=due)  # type: ignore[arg-type]
        assert (second.attempts, second.succeeded) == (1, 1)
        assert len(receiver.received) == 2
        assert receiver.received[0].body == receiver.received[1].body
        assert receiver.received[1].headers["webhook-id"] == event_id
        delivery = await _delivery(session, event_id)
        assert delivery["status"] == "succeeded" and delivery["attempts"] == 2

        response = await client.get(
            f"/v1/webhooks/{webhook['id']}/deliveries", headers=actors.manager_53
        )
        assert response.status_code == 200, response.text
        log = response.json()["items"]
        assert [(item["attempt"], item["status_code"], item["outcome"]) for item in log] == [
            (2, 200, "succeeded"),
            (1, 500, "retrying"),
        ]
        assert log[1]["error"] == "HTTP 500"
        assert log[1]["next_attempt_at"] is not None and log[0]["next_attempt_at"] is None
        assert all(item["event_id"] == event_id for item in log)
        assert all(item["duration_ms"] >= 0 for item in log)
        response = await client.get(f"/v1/webhooks/{webhook['id']}", headers=actors.manager_53)
        assert response.json()["failing_since"] is None
        assert response.json()["last_success_at"] is not None

    async def test_a_delivery_is_given_up_after_the_schedule(
        self,
        client: httpx.AsyncClient,
        database: Database,
        session: AsyncSession,
        actors: Actors,
        receiver: Receiver,
    ) -> None:
        receiver.answer(*[503] * MAX_ATTEMPTS)
        webhook = await register(client, actors.manager_53, receiver.url)
        event_id = await _test_event(client, actors.manager_53, webhook["id"])
        now = datetime.now(UTC)
        waits = []
        for _ in range(MAX_ATTEMPTS - 1):
            figures = await deliver_due(database, now=now)
            assert figures.retrying == 1
            delivery = await _delivery(session, event_id)
            due: datetime = delivery["next_attempt_at"]  # type: ignore[assignment]
            waits.append((due - now).total_seconds())
            now = due
        last = await deliver_due(database, now=now)
        assert (last.attempts, last.failed) == (1, 1)

        for wait, nominal in zip(waits, NOMINAL_WAITS_S, strict=True):
            assert 0.75 * nominal <= wait <= 1.25 * nominal, (waits, NOMINAL_WAITS_S)
        assert 0.75 * 78060 <= sum(waits) <= 1.25 * 78060  # 21 h 41 min nominal
        delivery = await _delivery(session, event_id)
        assert delivery["status"] == "failed" and delivery["attempts"] == MAX_ATTEMPTS
        assert len(receiver.received) == MAX_ATTEMPTS
        after = await deliver_due(database, now=now + timedelta(days=1))
        assert after.attempts == 0 and len(receiver.received) == MAX_ATTEMPTS
        outcomes = await rows(
            session,
            "SELECT outcome FROM webhook_attempt WHERE event_id = :id ORDER BY id",
            id=event_id,
        )
        assert [row["outcome"] for row in outcomes] == ["retrying"] * 7 + ["failed"]

    async def test_later_events_wait_behind_a_failing_one_and_go_in_order(
        self,
        client: httpx.AsyncClient,
        database: Database,
        session: AsyncSession,
        actors: Actors,
        receiver: Receiver,
    ) -> None:
        receiver.answer(500)
        webhook = await register(client, actors.manager_53, receiver.url)
        first = await _test_event(client, actors.manager_53, webhook["id"])
        second = await _test_event(client, actors.manager_53, webhook["id"])
        start = datetime.now(UTC)

        await deliver_due(database, now=start)
        assert [r.headers["webhook-id"] for r in receiver.received] == [first]
        delivery = await _delivery(session, first)
        figures = await deliver_due(database, now=delivery["next_attempt_at"])  # type: ignore[arg-type]
        assert figures.succeeded == 2
        assert [r.headers["webhook-id"] for r in receiver.received] == [first, first, second]

    async def test_a_redirect_is_not_followed(
        self,
        client: httpx.AsyncClient,
        database: Database,
        actors: Actors,
        receiver: Receiver,
    ) -> None:
        receiver.answer(302)
        webhook = await register(client, actors.manager_53, receiver.url)
        await _test_event(client, actors.manager_53, webhook["id"])
        figures = await deliver_due(database)
        assert figures.retrying == 1
        assert [request.path for request in receiver.received] == ["/"]
        log = (
            await client.get(f"/v1/webhooks/{webhook['id']}/deliveries", headers=actors.manager_53)
        ).json()["items"]
        assert log[0]["status_code"] == 302 and "not followed" in log[0]["error"]

    async def test_a_refused_connection_is_logged_without_a_status(
        self, client: httpx.AsyncClient, database: Database, actors: Actors
    ) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        webhook = await register(client, actors.manager_53, f"http://127.0.0.1:{port}/")
        await _test_event(client, actors.manager_53, webhook["id"])
        figures = await deliver_due(database)
        assert figures.retrying == 1
        (attempt,) = (
            await client.get(f"/v1/webhooks/{webhook['id']}/deliveries", headers=actors.manager_53)
        ).json()["items"]
        assert attempt["status_code"] is None and attempt["error"].startswith("ConnectError")

    async def test_an_endpoint_failing_for_five_days_is_turned_off(
        self,
        client: httpx.AsyncClient,
        database: Database,
        session: AsyncSession,
        actors: Actors,
        receiver: Receiver,
    ) -> None:
        receiver.answer(500, 500)
        webhook = await register(client, actors.manager_53, receiver.url)
        await _test_event(client, actors.manager_53, webhook["id"])
        start = datetime.now(UTC)
        await deliver_due(database, now=start)
        failing_since = await scalar(
            session, "SELECT failing_since FROM webhook_endpoint WHERE id = :id", id=webhook["id"]
        )
        assert failing_since == start
        # Four days later, still failing: kept.
        await session.execute(
            _shift_failing_since(), {"id": webhook["id"], "at": start - timedelta(days=4)}
        )
        delivery = await _delivery(session, receiver.received[0].headers["webhook-id"])
        figures = await deliver_due(database, now=delivery["next_attempt_at"])  # type: ignore[arg-type]
        assert figures.disabled == 0
        await session.execute(
            _shift_failing_since(), {"id": webhook["id"], "at": start - timedelta(days=5)}
        )
        delivery = await _delivery(session, receiver.received[0].headers["webhook-id"])
        receiver.answer(500)
        figures = await deliver_due(database, now=delivery["next_attempt_at"])  # type: ignore[arg-type]
        assert figures.disabled == 1

        response = await client.get(f"/v1/webhooks/{webhook['id']}", headers=actors.manager_53)
        body = response.json()
        assert body["active"] is False and body["disabled_reason"] == "failing"
        assert body["version"] == webhook["version"] + 1
        audit = await rows(
            session,
            "SELECT principal_name, details FROM audit_event WHERE entity_id = :id "
            "AND action = 'update' AND principal_role = 'system'",
            id=webhook["id"],
        )
        assert [(row["principal_name"], row["details"]["step"]) for row in audit] == [
            ("system", "turned off: failing")
        ]
        sent = len(receiver.received)
        later = await deliver_due(database, now=datetime.now(UTC) + timedelta(days=2))
        assert later.attempts == 0 and len(receiver.received) == sent

        # Turned on again by its manager: the waiting delivery goes.
        response = await client.patch(
            f"/v1/webhooks/{webhook['id']}",
            json={"active": True},
            headers=actors.manager_53 | {"If-Match": response.headers["ETag"]},
        )
        assert response.status_code == 200, response.text
        assert response.json()["disabled_reason"] is None
        assert response.json()["failing_since"] is None
        figures = await deliver_due(database, now=datetime.now(UTC) + timedelta(days=2))
        assert figures.succeeded == 1


def _shift_failing_since() -> TextClause:
    return text("UPDATE webhook_endpoint SET failing_since = :at WHERE id = :id")


class TestScope:
    async def test_an_endpoint_gets_only_its_departements_events_an_admins_gets_all(
        self,
        client: httpx.AsyncClient,
        database: Database,
        session: AsyncSession,
        actors: Actors,
        receiver: Receiver,
    ) -> None:
        manager_75 = bearer(
            await token_for(session, Role.departement_manager, departement_code="75")
        )
        await session.commit()
        for headers, path in (
            (actors.manager_53, "/d53"),
            (manager_75, "/d75"),
            (actors.admin, "/all"),
        ):
            await register(client, headers, receiver.url + path, event_types=["proposal.created"])
        child_53 = await new_child(session, departement="53")
        child_75 = await new_child(
            session,
            departement="75",
            commune="Paris",
            postcode="75011",
            latitude=48.858,
            longitude=2.38,
        )
        mentor_b = await new_mentor(
            session,
            actors.association_b,
            commune="Paris",
            postcode="75011",
            latitude=48.86,
            longitude=2.37,
        )
        proposal_53 = await propose(client, actors.educator_53, child_53.id, actors.mentor_a1.id)
        proposal_75 = await propose(client, actors.educator_75, child_75.id, mentor_b.id)
        assert proposal_53.status_code == proposal_75.status_code == 201

        await deliver_due(database)

        by_path: dict[str, list[str]] = {}
        for request, body in zip(receiver.received, bodies(receiver.received), strict=True):
            by_path.setdefault(request.path, []).append(body["data"]["proposal_id"])
        assert by_path == {
            "/d53": [proposal_53.json()["id"]],
            "/d75": [proposal_75.json()["id"]],
            "/all": [proposal_53.json()["id"], proposal_75.json()["id"]],
        }

    async def test_a_payload_carries_no_name(
        self,
        client: httpx.AsyncClient,
        database: Database,
        session: AsyncSession,
        actors: Actors,
        receiver: Receiver,
    ) -> None:
        await register(client, actors.manager_53, receiver.url)
        child = await new_child(session, first_name="Zéphyrine")
        mentor = await new_mentor(session, actors.association_a, last_name="Quenouille")
        response = await propose(client, actors.educator_53, child.id, mentor.id)
        assert response.status_code == 201, response.text

        await deliver_due(database)

        (request,) = receiver.received
        sent = request.body.decode()
        for name in ("Zéphyrine", "Quenouille", mentor.first_name, child.reference):
            assert name not in sent and json.dumps(name) not in sent
        (event,) = await rows(
            session, "SELECT id, data FROM event WHERE entity_id = :id", id=response.json()["id"]
        )
        assert json.loads(sent)["data"] == event["data"]

    async def test_an_inactive_endpoint_gets_no_new_events(
        self,
        client: httpx.AsyncClient,
        database: Database,
        session: AsyncSession,
        actors: Actors,
        receiver: Receiver,
    ) -> None:
        await register(client, actors.manager_53, receiver.url, active=False)
        await register(client, actors.manager_53, receiver.url, event_types=["proposal.declined"])
        response = await propose(
            client, actors.educator_53, actors.child_53.id, actors.mentor_a1.id
        )
        assert response.status_code == 201, response.text
        assert await scalar(session, "SELECT count(*) FROM webhook_delivery") == 0
        figures = await deliver_due(database)
        assert figures.attempts == 0 and receiver.received == []


class TestReadme:
    async def test_the_readmes_verification_accepts_a_delivery_and_refuses_a_tampered_one(
        self,
        client: httpx.AsyncClient,
        database: Database,
        actors: Actors,
        receiver: Receiver,
    ) -> None:
        readme = README.read_text()
        (snippet,) = re.findall(r"```python\n(import base64.*?def verify.*?)```", readme, re.S)
        namespace: dict[str, Any] = {}
        exec(snippet, namespace)
        verify = namespace["verify"]

        webhook = await register(client, actors.manager_53, receiver.url)
        await _test_event(client, actors.manager_53, webhook["id"])
        await deliver_due(database)
        (request,) = receiver.received
        assert verify(webhook["secret"], request.headers, request.body) is True
        assert verify(webhook["secret"], request.headers, request.body + b" ") is False
