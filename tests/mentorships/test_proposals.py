"""Proposals: the département side validates, the mentor side accepts; both make a mentorship."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import run_queued_jobs
from tests.factories import Actors
from tests.mentorships.support import (
    assert_problem,
    count,
    new_child,
    new_mentor,
    propose,
    run_proposal,
)

VALIDATE, ACCEPT, DECLINE = "validate", "accept", "decline"


async def act(
    client: httpx.AsyncClient, headers: dict[str, str], proposal_id: str, action: str
) -> httpx.Response:
    body = {"reason": "pas disponible"} if action == DECLINE else None
    return await client.post(f"/v1/proposals/{proposal_id}/{action}", json=body, headers=headers)


async def mentorship_of(
    client: httpx.AsyncClient, actors: Actors, mentorship_id: str
) -> dict[str, Any]:
    response = await client.get(f"/v1/mentorships/{mentorship_id}", headers=actors.educator_53)
    assert response.status_code == 200, response.text
    return response.json()


class TestConsents:
    @pytest.mark.parametrize(
        ("first", "second"),
        [
            ((VALIDATE, "educator_53"), (ACCEPT, "mentor_a")),
            ((ACCEPT, "mentor_a"), (VALIDATE, "educator_53")),
            ((VALIDATE, "manager_53"), (ACCEPT, "coordinator_a")),
            ((ACCEPT, "coordinator_a"), (VALIDATE, "manager_53")),
        ],
        ids=["validate-then-mentor", "mentor-then-validate", "manager-coord", "coord-manager"],
    )
    async def test_both_consents_in_either_order_make_a_mentorship(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        first: tuple[str, str],
        second: tuple[str, str],
    ) -> None:
        proposal = await run_proposal(client, actors, actors.child_53, actors.mentor_a1)
        action, who = first
        response = await act(client, getattr(actors, who), proposal["id"], action)
        assert response.status_code == 200, response.text
        halfway = response.json()
        assert halfway["status"] == "pending" and halfway["mentorship_id"] is None
        stamp = "validated" if action == VALIDATE else "mentor_accepted"
        assert halfway[f"{stamp}_at"] is not None
        assert halfway[f"{stamp}_by_name"].startswith(who)
        assert await count(session, "mentorship", "proposal_id = :p", p=proposal["id"]) == 0

        action, who = second
        response = await act(client, getattr(actors, who), proposal["id"], action)
        assert response.status_code == 200, response.text
        done = response.json()
        assert done["status"] == "accepted" and done["decided_at"] is not None
        assert done["validated_at"] and done["mentor_accepted_at"]
        assert done["mentorship_id"]

        mentorship = await mentorship_of(client, actors, done["mentorship_id"])
        assert mentorship["state"] == "accepted"
        assert mentorship["proposal_id"] == proposal["id"]
        assert mentorship["mentor"]["id"] == str(actors.mentor_a1.id)
        assert mentorship["child"]["id"] == str(actors.child_53.id)
        assert mentorship["started_at"] is None and mentorship["ended_at"] is None
        events = (
            await client.get(
                f"/v1/mentorships/{done['mentorship_id']}/events", headers=actors.educator_53
            )
        ).json()["items"]
        assert len(events) == 1
        (event,) = events
        assert event["from_state"] is None and event["to_state"] == "accepted"
        assert event["principal_name"].startswith(who)

    async def test_an_educators_own_proposal_is_validated_by_its_author(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        response = await propose(
            client, actors.educator_53, actors.child_53.id, actors.mentor_a1.id
        )
        assert response.status_code == 201, response.text
        proposal = response.json()
        assert proposal["status"] == "pending" and proposal["run_id"] is None
        assert proposal["validated_by_name"].startswith("educator_53")
        assert proposal["mentor_accepted_at"] is None
        assert_problem(await act(client, actors.manager_53, proposal["id"], VALIDATE), 409)

        response = await act(client, actors.mentor_a, proposal["id"], ACCEPT)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "accepted"
        mentorship = await mentorship_of(client, actors, response.json()["mentorship_id"])
        assert mentorship["state"] == "accepted"

    async def test_the_same_side_cannot_consent_twice(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        proposal = await run_proposal(client, actors, actors.child_53, actors.mentor_a1)
        assert (await act(client, actors.mentor_a, proposal["id"], ACCEPT)).status_code == 200
        assert_problem(await act(client, actors.coordinator_a, proposal["id"], ACCEPT), 409)
        after = await client.get(f"/v1/proposals/{proposal['id']}", headers=actors.mentor_a)
        assert after.json()["status"] == "pending"
        assert after.json()["mentor_accepted_by_name"].startswith("mentor_a")


class TestWrongSide:
    @pytest.mark.parametrize(
        ("who", "action"),
        [
            ("educator_53", ACCEPT),
            ("manager_53", ACCEPT),
            ("mentor_a", VALIDATE),
            ("coordinator_a", VALIDATE),
        ],
    )
    async def test_each_side_gives_only_its_own_consent(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        who: str,
        action: str,
    ) -> None:
        proposal = await run_proposal(client, actors, actors.child_53, actors.mentor_a1)
        assert_problem(await act(client, getattr(actors, who), proposal["id"], action), 403)
        after = (await client.get(f"/v1/proposals/{proposal['id']}", headers=actors.admin)).json()
        assert after["validated_at"] is None and after["mentor_accepted_at"] is None
        assert after["version"] == proposal["version"]

    @pytest.mark.parametrize(
        ("who", "action"),
        [
            ("educator_75", VALIDATE),
            ("educator_75", DECLINE),
            ("coordinator_b", ACCEPT),
            ("coordinator_b", DECLINE),
        ],
    )
    async def test_outside_the_scope_the_proposal_does_not_exist(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        who: str,
        action: str,
    ) -> None:
        proposal = await run_proposal(client, actors, actors.child_53, actors.mentor_a1)
        assert_problem(await act(client, getattr(actors, who), proposal["id"], action), 404)
        after = (await client.get(f"/v1/proposals/{proposal['id']}", headers=actors.admin)).json()
        assert after["status"] == "pending" and after["version"] == proposal["version"]

    async def test_another_mentor_cannot_accept(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        other = await new_mentor(session, actors.association_a)
        proposal = await run_proposal(client, actors, actors.child_53, other)
        assert_problem(await act(client, actors.mentor_a, proposal["id"], ACCEPT), 404)


class TestDecline:
    @pytest.mark.parametrize("who", ["educator_53", "mentor_a", "coordinator_a"])
    async def test_declining_frees_the_child_and_the_place(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, who: str
    ) -> None:
        mentor = actors.mentor_a1  # one place
        response = await propose(client, actors.educator_53, actors.child_53.id, mentor.id)
        proposal = response.json()
        other_child = await new_child(session)
        blocked = await propose(client, actors.educator_53, other_child.id, mentor.id)
        assert assert_problem(blocked, 409)["reason"] == "no_capacity_left"

        response = await act(client, getattr(actors, who), proposal["id"], DECLINE)
        assert response.status_code == 200, response.text
        declined = response.json()
        assert declined["status"] == "declined" and declined["decline_reason"] == "pas disponible"
        assert declined["decided_at"] is not None and declined["mentorship_id"] is None

        # The mentor's place is free: the same mentor can take another child...
        response = await propose(client, actors.educator_53, other_child.id, mentor.id)
        assert response.status_code == 201, response.text
        # ...and the child is free for another mentor.
        another = await new_mentor(session, actors.association_a)
        response = await propose(client, actors.educator_53, actors.child_53.id, another.id)
        assert response.status_code == 201, response.text

    async def test_declining_needs_a_reason(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        response = await propose(
            client, actors.educator_53, actors.child_53.id, actors.mentor_a1.id
        )
        proposal_id = response.json()["id"]
        for body in (None, {}, {"reason": ""}):
            response = await client.post(
                f"/v1/proposals/{proposal_id}/decline", json=body, headers=actors.mentor_a
            )
            assert_problem(response, 422)
        after = (await client.get(f"/v1/proposals/{proposal_id}", headers=actors.mentor_a)).json()
        assert after["status"] == "pending"


class TestNotPending:
    @pytest.mark.parametrize("final", ["accepted", "declined"])
    @pytest.mark.parametrize(
        ("action", "who"),
        [
            (VALIDATE, "educator_53"),
            (ACCEPT, "mentor_a"),
            (DECLINE, "mentor_a"),
            (DECLINE, "educator_53"),
        ],
    )
    async def test_acting_on_a_decided_proposal_is_a_409(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        final: str,
        action: str,
        who: str,
    ) -> None:
        proposal = await run_proposal(client, actors, actors.child_53, actors.mentor_a1)
        if final == "accepted":
            await act(client, actors.educator_53, proposal["id"], VALIDATE)
            await act(client, actors.mentor_a, proposal["id"], ACCEPT)
        else:
            await act(client, actors.mentor_a, proposal["id"], DECLINE)
        before = (await client.get(f"/v1/proposals/{proposal['id']}", headers=actors.admin)).json()
        assert before["status"] == final
        mentorships = await count(session, "mentorship")

        assert_problem(await act(client, getattr(actors, who), proposal["id"], action), 409)
        after = (await client.get(f"/v1/proposals/{proposal['id']}", headers=actors.admin)).json()
        assert after == before
        assert await count(session, "mentorship") == mentorships

    async def test_a_dry_run_proposal_cannot_be_acted_on(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        response = await client.post(
            "/v1/matching-runs",
            json={
                "dry_run": True,
                "child_ids": [str(actors.child_53.id)],
                "mentor_ids": [str(actors.mentor_a1.id)],
                "min_score": 0,
            },
            headers=actors.manager_53,
        )
        run_id = response.json()["id"]
        await run_queued_jobs(client)
        (simulated,) = (
            await client.get(f"/v1/matching-runs/{run_id}/proposals", headers=actors.manager_53)
        ).json()["items"]
        assert_problem(await act(client, actors.manager_53, simulated["id"], VALIDATE), 409)
        # The association side never sees a simulation.
        assert_problem(await act(client, actors.mentor_a, simulated["id"], ACCEPT), 404)
