"""Many proposal actions in one request: each answered on its own, in one transaction."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import run_queued_jobs
from tests.factories import Actors, create_child, create_mentor
from tests.mentorships.support import assert_problem, count

BULK = "/v1/proposals/bulk"


async def pending_proposals(
    client: httpx.AsyncClient, session: AsyncSession, actors: Actors, n: int
) -> list[dict[str, Any]]:
    """`n` pending proposals of a real run in 53 (mentors of association A), awaiting both
    consents, ordered by child."""
    children = [await create_child(session) for _ in range(n)]
    mentors = [await create_mentor(session, association=actors.association_a) for _ in range(n)]
    await session.commit()
    response = await client.post(
        "/v1/matching-runs",
        json={
            "child_ids": [str(c.id) for c in children],
            "mentor_ids": [str(m.id) for m in mentors],
        },
        headers=actors.manager_53,
    )
    assert response.status_code == 202, response.text
    await run_queued_jobs(client)
    run_id = response.json()["id"]
    page = await client.get(
        f"/v1/matching-runs/{run_id}/proposals", params={"limit": 200}, headers=actors.manager_53
    )
    proposals = page.json()["items"]
    assert len(proposals) == n and {p["status"] for p in proposals} == {"pending"}
    return proposals


async def proposal_of_75(client: httpx.AsyncClient, actors: Actors) -> dict[str, Any]:
    response = await client.post(
        "/v1/matching-runs",
        json={
            "departement_code": "75",
            "child_ids": [str(actors.child_75.id)],
            "mentor_ids": [str(actors.mentor_b1.id)],
            "min_score": 0,
        },
        headers=actors.admin,
    )
    assert response.status_code == 202, response.text
    await run_queued_jobs(client)
    page = await client.get(
        f"/v1/matching-runs/{response.json()['id']}/proposals", headers=actors.admin
    )
    (proposal,) = page.json()["items"]
    return proposal


async def states(session: AsyncSession, ids: list[str]) -> dict[str, tuple[Any, ...]]:
    """What a refused action must leave untouched."""
    rows = await session.execute(
        text(
            "SELECT id, status, version, validated_at, mentor_accepted_at, decline_reason"
            " FROM proposal WHERE id::text = ANY(:ids)"
        ),
        {"ids": ids},
    )
    return {str(row.id): tuple(row[1:]) for row in rows}


def action(proposal: dict[str, Any], name: str, reason: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"proposal_id": proposal["id"], "action": name}
    if reason is not None:
        body["reason"] = reason
    return body


def outcome_of(item: dict[str, Any], status: int, slug: str | None = None) -> None:
    assert item["status"] == status, item
    if status == 200:
        assert item["problem"] is None and item["proposal"]["id"] == item["proposal_id"]
    else:
        assert item["proposal"] is None
        assert item["problem"]["status"] == status
        assert item["problem"]["type"].startswith("urn:mentorat:problem:")
        if slug is not None:
            assert item["problem"]["type"] == f"urn:mentorat:problem:{slug}"


class TestDepartementSide:
    async def test_validates_and_declines_with_each_failure_answered_apart(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        p = await pending_proposals(client, session, actors, 5)
        other = await proposal_of_75(client, actors)
        response = await client.post(
            f"/v1/proposals/{p[3]['id']}/decline",
            json={"reason": "déjà fait"},
            headers=actors.educator_53,
        )
        assert response.status_code == 200, response.text
        untouched = await states(session, [p[3]["id"], p[4]["id"], other["id"]])

        response = await client.post(
            BULK,
            json={
                "actions": [
                    action(p[0], "validate"),
                    action(p[1], "validate"),
                    action(p[2], "decline", "La famille déménage."),
                    action(p[3], "validate"),  # already declined
                    action(other, "validate"),  # another département's
                    action(p[4], "accept"),  # the mentor's side's action
                ]
            },
            headers=actors.educator_53,
        )

        assert response.status_code == 207, response.text
        body = response.json()
        items = body["items"]
        assert [item["proposal_id"] for item in items] == [
            p[0]["id"], p[1]["id"], p[2]["id"], p[3]["id"], other["id"], p[4]["id"]
        ]  # fmt: skip
        for item in items[:3]:
            outcome_of(item, 200)
        outcome_of(items[3], 409)
        outcome_of(items[4], 404, "not-found")
        outcome_of(items[5], 403, "forbidden")
        assert body["succeeded"] == 3 and body["failed"] == 3
        for item in items[:2]:
            assert item["proposal"]["status"] == "pending"
            assert item["proposal"]["validated_at"] is not None
            assert item["proposal"]["child_reference"]  # the département side's view
        assert items[2]["proposal"]["status"] == "declined"
        assert items[2]["proposal"]["decline_reason"] == "La famille déménage."
        # Applied as the single actions would: stored and audited.
        stored = await states(session, [p[0]["id"], p[1]["id"], p[2]["id"]])
        assert stored[p[0]["id"]][0] == "pending" and stored[p[0]["id"]][2] is not None
        assert stored[p[2]["id"]][0] == "declined"
        assert await states(session, list(untouched)) == untouched
        audited = await count(
            session,
            "audit_event",
            "entity_type = 'proposal' AND action = 'update' AND entity_id = ANY(:ids)",
            ids=[p[0]["id"], p[1]["id"], p[2]["id"]],
        )
        assert audited == 3


class TestAssociationSide:
    async def test_accepts_and_declines_in_its_minimised_view(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        p = await pending_proposals(client, session, actors, 3)
        other = await proposal_of_75(client, actors)
        response = await client.post(
            f"/v1/proposals/{p[0]['id']}/validate", headers=actors.educator_53
        )
        assert response.status_code == 200, response.text

        response = await client.post(
            BULK,
            json={
                "actions": [
                    action(p[0], "accept"),  # validated already: becomes a mentorship
                    action(p[1], "decline", "Indisponible jusqu'en mars."),
                    action(p[0], "accept"),  # no longer pending
                    action(other, "accept"),  # another association's mentor
                    action(p[2], "validate"),  # the département side's action
                ]
            },
            headers=actors.coordinator_a,
        )

        assert response.status_code == 207, response.text
        items = response.json()["items"]
        outcome_of(items[0], 200)
        outcome_of(items[1], 200)
        outcome_of(items[2], 409)
        outcome_of(items[3], 404)
        outcome_of(items[4], 403)
        accepted = items[0]["proposal"]
        assert accepted["status"] == "accepted" and accepted["mentorship_id"] is not None
        mentorships = await count(session, "mentorship", "proposal_id = :id", id=p[0]["id"])
        assert mentorships == 1
        assert items[1]["proposal"]["status"] == "declined"
        for item in items[:2]:
            view = item["proposal"]
            assert view["child_id"] is None
            assert view["child_reference"] is None and view["child_commune"] is None
            assert view["child_first_name"] and view["mentor_name"]
        stored = await states(session, [p[2]["id"]])
        assert stored[p[2]["id"]][0] == "pending" and stored[p[2]["id"]][2] is None


class TestRequestLevelFailures:
    async def test_a_bad_body_changes_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        p = await pending_proposals(client, session, actors, 2)
        before = await states(session, [x["id"] for x in p])
        events = await count(session, "audit_event")
        bodies: list[Any] = [
            {"actions": [action(p[0], "validate"), action(p[1], "decline")]},  # no reason
            {"actions": [action(p[0], "validate"), action(p[1], "validate", "pourquoi")]},
            {"actions": [action(p[0], "validate"), action(p[1], "withdraw")]},
            {"actions": [action(p[0], "validate")] * 501},
            {"actions": []},
            {"actions": [{"proposal_id": "nope", "action": "validate"}]},
            [action(p[0], "validate")],
        ]
        for body in bodies:
            response = await client.post(BULK, json=body, headers=actors.educator_53)
            assert_problem(response, 422)
        assert await states(session, [x["id"] for x in p]) == before
        assert await count(session, "audit_event") == events

    async def test_five_hundred_actions_are_answered(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        (p,) = await pending_proposals(client, session, actors, 1)
        actions = [action(p, "validate")] * 500
        response = await client.post(BULK, json={"actions": actions}, headers=actors.educator_53)
        assert response.status_code == 207, response.text
        body = response.json()
        assert body["succeeded"] == 1 and body["failed"] == 499
        assert {item["status"] for item in body["items"][1:]} == {409}

    async def test_unauthenticated_is_a_401(self, client: httpx.AsyncClient) -> None:
        response = await client.post(BULK, json={"actions": []})
        assert_problem(response, 401)

    async def test_a_replayed_request_changes_nothing_more(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        (p,) = await pending_proposals(client, session, actors, 1)
        body = {"actions": [action(p, "validate")]}
        headers = {**actors.educator_53, "Idempotency-Key": "bulk-1"}
        first = await client.post(BULK, json=body, headers=headers)
        second = await client.post(BULK, json=body, headers=headers)
        assert first.status_code == second.status_code == 207
        assert second.headers["Idempotent-Replayed"] == "true"
        assert second.json() == first.json()
        assert second.json()["items"][0]["status"] == 200
