"""Idempotency-Key on every POST of the mentorship flow: a retry gets the first answer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Actors, create_offer
from tests.mentorships.support import (
    assert_problem,
    assessed_child,
    count,
    execute,
    fact,
    make_mentorship,
    new_child,
    new_mentor,
    propose,
)


@dataclass
class Request:
    url: str
    body: dict[str, Any] | None
    headers: dict[str, str]


@dataclass
class Scenario:
    request: Request
    other: Request  # the same key sent with another body (or to another record)
    footprint: str  # SQL whose result changes with the first request, not with a replay
    params: dict[str, Any]
    status: int


async def send(client: httpx.AsyncClient, request: Request, key: str) -> httpx.Response:
    return await client.post(
        request.url, json=request.body, headers=request.headers | {"Idempotency-Key": key}
    )


async def footprint(session: AsyncSession, scenario: Scenario) -> tuple[Any, ...]:
    row = (await session.execute(text(scenario.footprint), scenario.params)).one()
    audit = await count(session, "audit_event")
    return (*row, audit)


async def fresh_proposal(
    client: httpx.AsyncClient, session: AsyncSession, actors: Actors, *, validated: bool
) -> str:
    child = await new_child(session)
    mentor = await new_mentor(session, actors.association_a)
    response = await propose(client, actors.educator_53, child.id, mentor.id)
    assert response.status_code == 201, response.text
    proposal_id = str(response.json()["id"])
    if not validated:  # as a matching run leaves it
        await execute(
            session,
            "UPDATE proposal SET validated_at = NULL, validated_by_name = NULL WHERE id = :id",
            id=proposal_id,
        )
    return proposal_id


async def build(
    name: str, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
) -> Scenario:
    today = date.today().isoformat()
    if name == "offer":
        child = await assessed_child(session)
        url = f"/v1/children/{child.id}/offers"
        return Scenario(
            Request(url, {"consents": [fact("child", "agreed", today)]}, actors.educator_53),
            Request(url, {"consents": [fact("child", "refused", today)]}, actors.educator_53),
            "SELECT count(*), (SELECT count(*) FROM offer_consent) FROM offer WHERE child_id = :id",
            {"id": child.id},
            201,
        )
    if name == "consent":
        child = await assessed_child(session)
        offer = await create_offer(session, child, answer="pending")
        await session.commit()
        url = f"/v1/offers/{offer.id}/consents"
        return Scenario(
            Request(url, fact("child", "agreed", today), actors.educator_53),
            Request(url, fact("child", "refused", today), actors.educator_53),
            "SELECT version, (SELECT count(*) FROM offer_consent WHERE offer_id = :id)"
            " FROM offer WHERE id = :id",
            {"id": offer.id},
            201,
        )
    if name == "assessment":
        child = await new_child(session, offer=None)
        url = f"/v1/children/{child.id}/assessments"
        body = {"assessed_on": today, "outcome": "mentoring_recommended"}
        return Scenario(
            Request(url, body, actors.educator_53),
            Request(url, body | {"note": "autre"}, actors.educator_53),
            "SELECT count(*) FROM assessment WHERE child_id = :id",
            {"id": child.id},
            201,
        )
    if name == "proposal":
        child = await new_child(session)
        mentor = await new_mentor(session, actors.association_a)
        other = await new_mentor(session, actors.association_a)
        return Scenario(
            Request(
                "/v1/proposals",
                {"child_id": str(child.id), "mentor_id": str(mentor.id)},
                actors.educator_53,
            ),
            Request(
                "/v1/proposals",
                {"child_id": str(child.id), "mentor_id": str(other.id)},
                actors.educator_53,
            ),
            "SELECT count(*) FROM proposal WHERE child_id = :id",
            {"id": child.id},
            201,
        )
    if name in ("validate", "accept", "decline"):
        validated = name != "validate"
        first = await fresh_proposal(client, session, actors, validated=validated)
        second = await fresh_proposal(client, session, actors, validated=validated)
        side = actors.manager_53 if name == "validate" else actors.coordinator_a
        body = {"reason": "indisponible"} if name == "decline" else None
        other_url = f"/v1/proposals/{second if body is None else first}/{name}"
        other_body = {"reason": "autre raison"} if body else None
        return Scenario(
            Request(f"/v1/proposals/{first}/{name}", body, side),
            Request(other_url, other_body, side),
            "SELECT version, status, (SELECT count(*) FROM mentorship WHERE proposal_id = :id) "
            "FROM proposal WHERE id = :id",
            {"id": first},
            200,
        )
    # mentor_a1's, so that the mentor_a token is in scope.
    mentorship = await make_mentorship(client, session, actors, mentor=actors.mentor_a1)
    url = f"/v1/mentorships/{mentorship['id']}"
    if name == "transition":
        return Scenario(
            Request(f"{url}/transitions", {"to": "active"}, actors.educator_53),
            Request(f"{url}/transitions", {"to": "ended", "reason": "other"}, actors.educator_53),
            "SELECT version, state, (SELECT count(*) FROM mentorship_event "
            "WHERE mentorship_id = :id) FROM mentorship WHERE id = :id",
            {"id": mentorship["id"]},
            200,
        )
    if name == "objective":
        return Scenario(
            Request(f"{url}/objectives", {"title": "CV", "category": "emploi"}, actors.mentor_a),
            Request(
                f"{url}/objectives", {"title": "Pix", "category": "numerique"}, actors.mentor_a
            ),
            "SELECT (SELECT count(*) FROM objective WHERE mentorship_id = :id), "
            "(SELECT count(*) FROM objective_revision WHERE mentorship_id = :id)",
            {"id": mentorship["id"]},
            201,
        )
    assert name == "meeting"
    meeting = {"held_on": today, "duration_minutes": 60, "mode": "in_person"}
    return Scenario(
        Request(f"{url}/meetings", meeting, actors.coordinator_a),
        Request(f"{url}/meetings", meeting | {"duration_minutes": 90}, actors.coordinator_a),
        # The first meeting also activates the mentorship: a replay must not move it again.
        "SELECT (SELECT count(*) FROM meeting WHERE mentorship_id = :id), version, "
        "(SELECT count(*) FROM mentorship_event WHERE mentorship_id = :id) "
        "FROM mentorship WHERE id = :id",
        {"id": mentorship["id"]},
        201,
    )


ENDPOINTS = [
    "assessment",
    "offer",
    "consent",
    "proposal",
    "validate",
    "accept",
    "decline",
    "transition",
    "objective",
    "meeting",
]


class TestReplay:
    @pytest.mark.parametrize("name", ENDPOINTS)
    async def test_a_retry_gets_the_first_answer_and_changes_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, name: str
    ) -> None:
        scenario = await build(name, client, session, actors)
        key = f"key-{uuid.uuid4()}"
        before = await footprint(session, scenario)
        first = await send(client, scenario.request, key)
        assert first.status_code == scenario.status, first.text
        assert "Idempotent-Replayed" not in first.headers
        after_first = await footprint(session, scenario)
        assert after_first != before

        for _ in range(2):
            retry = await send(client, scenario.request, key)
            assert retry.status_code == first.status_code, retry.text
            assert retry.json() == first.json()
            assert retry.headers["Idempotent-Replayed"] == "true"
            for header in ("Location", "ETag"):
                assert retry.headers.get(header) == first.headers.get(header)
            assert await footprint(session, scenario) == after_first

    @pytest.mark.parametrize("name", ENDPOINTS)
    async def test_the_same_key_for_another_request_is_a_422(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, name: str
    ) -> None:
        scenario = await build(name, client, session, actors)
        key = f"key-{uuid.uuid4()}"
        first = await send(client, scenario.request, key)
        assert first.status_code == scenario.status, first.text
        after_first = await footprint(session, scenario)
        response = await send(client, scenario.other, key)
        body = assert_problem(response, 422)
        assert body["type"].endswith("idempotency-key-reused")
        assert await footprint(session, scenario) == after_first
        # The key still replays its own request.
        retry = await send(client, scenario.request, key)
        assert retry.json() == first.json() and retry.headers["Idempotent-Replayed"] == "true"

    async def test_without_a_key_a_repeat_acts_again(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        scenario = await build("objective", client, session, actors)
        request = scenario.request
        for _ in range(2):
            response = await client.post(request.url, json=request.body, headers=request.headers)
            assert response.status_code == 201, response.text
        assert await count(session, "objective", "mentorship_id = :id", **scenario.params) == 2


class TestKeys:
    async def test_keys_belong_to_their_principal(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, mentor=actors.mentor_a1)
        url = f"/v1/mentorships/{mentorship['id']}/objectives"
        body = {"title": "CV", "category": "emploi"}
        answers = []
        for headers in (actors.educator_53, actors.mentor_a, actors.coordinator_a):
            response = await client.post(
                url, json=body, headers=headers | {"Idempotency-Key": "shared"}
            )
            assert response.status_code == 201, response.text
            assert "Idempotent-Replayed" not in response.headers
            answers.append(response.json()["id"])
        assert len(set(answers)) == 3
        assert await count(session, "objective", "mentorship_id = :m", m=mentorship["id"]) == 3

    async def test_a_failed_request_does_not_use_up_its_key(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session, offer=None)
        mentor = await new_mentor(session, actors.association_a)
        response = await propose(
            client, actors.educator_53, child.id, mentor.id, **{"Idempotency-Key": "try"}
        )
        assert assert_problem(response, 409)["reason"] == "child_not_eligible"
        await create_offer(session, child, answer="accepted")
        await session.commit()
        response = await propose(
            client, actors.educator_53, child.id, mentor.id, **{"Idempotency-Key": "try"}
        )
        assert response.status_code == 201, response.text
        assert "Idempotent-Replayed" not in response.headers

    async def test_an_overlong_key_is_a_422(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session)
        mentor = await new_mentor(session, actors.association_a)
        response = await propose(
            client, actors.educator_53, child.id, mentor.id, **{"Idempotency-Key": "k" * 256}
        )
        assert_problem(response, 422)
        assert await count(session, "proposal", "child_id = :c", c=child.id) == 0
