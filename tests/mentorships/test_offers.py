"""The legal offer of a mentor: outcome from the two answers, finality, eligibility."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Actors
from tests.mentorships.support import (
    assert_problem,
    count,
    days_ago,
    new_child,
    new_mentor,
    propose,
)

ANSWERS = ("pending", "accepted", "refused")


def expected_outcome(child: str, guardian: str) -> str:
    if "refused" in (child, guardian):
        return "refused"
    return "accepted" if child == guardian == "accepted" else "pending"


def answers(child: str, guardian: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"child_answer": child, "guardian_answer": guardian, **extra}
    if guardian != "pending":
        body["guardian_answer_source"] = "parental_authority"
    return body


async def make_offer(
    client: httpx.AsyncClient, headers: dict[str, str], child_id: Any, **body: Any
) -> httpx.Response:
    return await client.post(f"/v1/children/{child_id}/offers", json=body, headers=headers)


class TestOfferOutcome:
    @pytest.mark.parametrize("child_answer", ANSWERS)
    @pytest.mark.parametrize("guardian_answer", ANSWERS)
    async def test_outcome_is_derived_from_both_answers(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        child_answer: str,
        guardian_answer: str,
    ) -> None:
        child = await new_child(session, offer=None)
        response = await make_offer(
            client, actors.educator_53, child.id, **answers(child_answer, guardian_answer)
        )
        assert response.status_code == 201, response.text
        offer = response.json()
        outcome = expected_outcome(child_answer, guardian_answer)
        assert offer["outcome"] == outcome
        assert (offer["decided_at"] is None) == (outcome == "pending")
        assert offer["child_id"] == str(child.id) and offer["departement_code"] == "53"
        assert offer["offered_on"] == date.today().isoformat()
        assert response.headers["Location"] == f"/v1/offers/{offer['id']}"
        stored = await client.get(f"/v1/offers/{offer['id']}", headers=actors.educator_53)
        assert stored.json()["outcome"] == outcome

    async def test_accepted_only_once_both_sides_accept(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session, offer=None)
        response = await make_offer(client, actors.educator_53, child.id)
        offer = response.json()
        assert offer["outcome"] == "pending" and offer["child_answer"] == "pending"

        response = await client.patch(
            f"/v1/offers/{offer['id']}",
            json={"child_answer": "accepted"},
            headers=actors.educator_53 | {"If-Match": response.headers["ETag"]},
        )
        assert response.status_code == 200, response.text
        assert response.json()["outcome"] == "pending"
        assert response.json()["decided_at"] is None

        response = await client.patch(
            f"/v1/offers/{offer['id']}",
            json={"guardian_answer": "accepted", "guardian_answer_source": "ase_decision"},
            headers=actors.educator_53 | {"If-Match": response.headers["ETag"]},
        )
        assert response.status_code == 200, response.text
        decided = response.json()
        assert decided["outcome"] == "accepted" and decided["decided_at"] is not None
        assert decided["guardian_answer_source"] == "ase_decision"
        assert decided["version"] == offer["version"] + 2

    @pytest.mark.parametrize("side", ["child_answer", "guardian_answer"])
    async def test_one_refusal_refuses(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, side: str
    ) -> None:
        child = await new_child(session, offer=None)
        offer = (
            await make_offer(client, actors.educator_53, child.id, **answers("accepted", "pending"))
        ).json()
        change: dict[str, Any] = {side: "refused"}
        if side == "guardian_answer":
            change["guardian_answer_source"] = "parental_authority"
        response = await client.patch(
            f"/v1/offers/{offer['id']}", json=change, headers=actors.educator_53
        )
        assert response.status_code == 200, response.text
        assert response.json()["outcome"] == "refused"
        assert response.json()["decided_at"] is not None

    async def test_an_offer_cannot_be_dated_in_the_future(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session, offer=None)
        response = await make_offer(client, actors.educator_53, child.id, offered_on="2999-01-01")
        assert_problem(response, 422)
        assert await count(session, "offer", "child_id = :c", c=child.id) == 0


class TestGuardianSource:
    @pytest.mark.parametrize("answer", ["accepted", "refused"])
    async def test_a_guardian_answer_needs_its_source_on_creation(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, answer: str
    ) -> None:
        child = await new_child(session, offer=None)
        response = await make_offer(client, actors.educator_53, child.id, guardian_answer=answer)
        assert_problem(response, 422)
        assert await count(session, "offer", "child_id = :c", c=child.id) == 0

    async def test_a_guardian_answer_needs_its_source_on_update(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session, offer=None)
        offer = (await make_offer(client, actors.educator_53, child.id)).json()
        response = await client.patch(
            f"/v1/offers/{offer['id']}",
            json={"guardian_answer": "accepted"},
            headers=actors.educator_53,
        )
        assert_problem(response, 422)
        unchanged = await client.get(f"/v1/offers/{offer['id']}", headers=actors.educator_53)
        assert unchanged.json()["guardian_answer"] == "pending"
        assert unchanged.json()["version"] == offer["version"]

    async def test_the_source_cannot_be_removed_from_a_standing_answer(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session, offer=None)
        offer = (
            await make_offer(client, actors.educator_53, child.id, **answers("pending", "accepted"))
        ).json()
        assert offer["outcome"] == "pending"
        response = await client.patch(
            f"/v1/offers/{offer['id']}",
            json={"guardian_answer_source": None},
            headers=actors.educator_53,
        )
        assert_problem(response, 422)
        unchanged = await client.get(f"/v1/offers/{offer['id']}", headers=actors.educator_53)
        assert unchanged.json()["guardian_answer_source"] == "parental_authority"

    @pytest.mark.parametrize("source", ["parental_authority", "ase_decision"])
    async def test_both_sources_are_accepted(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, source: str
    ) -> None:
        child = await new_child(session, offer=None)
        response = await make_offer(
            client,
            actors.educator_53,
            child.id,
            child_answer="accepted",
            guardian_answer="accepted",
            guardian_answer_source=source,
        )
        assert response.status_code == 201, response.text
        assert response.json()["guardian_answer_source"] == source

    async def test_an_unknown_source_is_refused(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session, offer=None)
        response = await make_offer(
            client,
            actors.educator_53,
            child.id,
            guardian_answer="accepted",
            guardian_answer_source="neighbour",
        )
        assert_problem(response, 422)


class TestDecidedOffer:
    @pytest.mark.parametrize("outcome", ["accepted", "refused"])
    @pytest.mark.parametrize(
        "change",
        [
            {"child_answer": "pending"},
            {"child_answer": "refused"},
            {"child_answer": "accepted"},
            {"guardian_answer": "refused", "guardian_answer_source": "ase_decision"},
            {"guardian_answer_source": "ase_decision"},
        ],
        ids=["child-pending", "child-refused", "child-accepted", "guardian", "source"],
    )
    async def test_answers_of_a_decided_offer_cannot_change(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        outcome: str,
        change: dict[str, Any],
    ) -> None:
        child = await new_child(session, offer=None)
        offer = (
            await make_offer(client, actors.educator_53, child.id, **answers(outcome, outcome))
        ).json()
        assert offer["outcome"] == outcome
        response = await client.patch(
            f"/v1/offers/{offer['id']}", json=change, headers=actors.educator_53
        )
        assert_problem(response, 409)
        after = (await client.get(f"/v1/offers/{offer['id']}", headers=actors.educator_53)).json()
        assert after == offer

    async def test_a_note_can_still_be_added(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session, offer=None)
        offer = (
            await make_offer(client, actors.educator_53, child.id, **answers("refused", "pending"))
        ).json()
        response = await client.patch(
            f"/v1/offers/{offer['id']}", json={"note": "revoir en 5e"}, headers=actors.educator_53
        )
        assert response.status_code == 200, response.text
        assert response.json()["note"] == "revoir en 5e"
        assert response.json()["outcome"] == "refused"

    async def test_stale_if_match_is_a_412(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session, offer=None)
        offer = (await make_offer(client, actors.educator_53, child.id)).json()
        response = await client.patch(
            f"/v1/offers/{offer['id']}",
            json={"child_answer": "accepted"},
            headers=actors.educator_53 | {"If-Match": '"99"'},
        )
        assert_problem(response, 412)
        after = (await client.get(f"/v1/offers/{offer['id']}", headers=actors.educator_53)).json()
        assert after == offer


class TestOfferSequence:
    async def test_a_second_pending_offer_is_a_409(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session, offer=None)
        assert (await make_offer(client, actors.educator_53, child.id)).status_code == 201
        response = await make_offer(client, actors.educator_53, child.id, child_answer="accepted")
        assert_problem(response, 409)
        assert await count(session, "offer", "child_id = :c", c=child.id) == 1

    async def test_a_refused_child_can_be_offered_again(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session, offer=None)
        mentor = await new_mentor(session, actors.association_a)
        refused = await make_offer(
            client,
            actors.educator_53,
            child.id,
            offered_on=days_ago(60),
            **answers("refused", "pending"),
        )
        assert refused.json()["outcome"] == "refused"
        response = await propose(client, actors.educator_53, child.id, mentor.id)
        assert assert_problem(response, 409)["reason"] == "child_not_eligible"

        again = await make_offer(
            client, actors.educator_53, child.id, **answers("accepted", "pending")
        )
        assert again.status_code == 201, again.text
        response = await client.patch(
            f"/v1/offers/{again.json()['id']}",
            json={"guardian_answer": "accepted", "guardian_answer_source": "parental_authority"},
            headers=actors.educator_53,
        )
        assert response.json()["outcome"] == "accepted"
        listed = (
            await client.get(f"/v1/children/{child.id}/offers", headers=actors.educator_53)
        ).json()["items"]
        assert [o["outcome"] for o in listed] == ["accepted", "refused"]  # the latest first
        response = await propose(client, actors.educator_53, child.id, mentor.id)
        assert response.status_code == 201, response.text

    async def test_a_new_pending_offer_makes_the_child_wait_again(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        """Eligibility follows the latest offer, not any accepted one."""
        child = await new_child(session, offer="accepted")  # an earlier accepted offer
        mentor = await new_mentor(session, actors.association_a)
        assert (await make_offer(client, actors.educator_53, child.id)).status_code == 201
        response = await propose(client, actors.educator_53, child.id, mentor.id)
        assert assert_problem(response, 409)["reason"] == "child_not_eligible"


class TestEligibility:
    @pytest.mark.parametrize("offer", [None, "pending", "refused"])
    async def test_a_child_without_an_accepted_offer_cannot_be_proposed(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        offer: str | None,
    ) -> None:
        child = await new_child(session, offer=offer)
        mentor = await new_mentor(session, actors.association_a)
        response = await propose(client, actors.educator_53, child.id, mentor.id)
        body = assert_problem(response, 409)
        assert body["reason"] == "child_not_eligible"
        assert await count(session, "proposal", "child_id = :c", c=child.id) == 0

    async def test_a_child_with_an_accepted_offer_can(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session, offer="accepted")
        mentor = await new_mentor(session, actors.association_a)
        response = await propose(client, actors.educator_53, child.id, mentor.id)
        assert response.status_code == 201, response.text
        proposal_id = response.json()["id"]

        response = await client.get(f"/v1/proposals/{proposal_id}", headers=actors.educator_53)
        assert response.status_code == 200, response.text
        stored = response.json()
        assert (stored["child_id"], stored["mentor_id"]) == (str(child.id), str(mentor.id))
        assert stored["status"] == "pending" and stored["validated_at"] is not None
        # The mentor's side sees it to accept, and the proposal holds the mentor's place.
        response = await client.get("/v1/proposals", headers=actors.coordinator_a)
        assert proposal_id in {p["id"] for p in response.json()["items"]}
        response = await client.get(f"/v1/mentors/{mentor.id}", headers=actors.coordinator_a)
        assert response.json()["places_held"] == 1

    async def test_a_dry_run_counts_the_children_not_eligible(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        waiting = [await new_child(session, offer=offer) for offer in (None, "pending", "refused")]
        eligible = [await new_child(session, offer="accepted") for _ in range(2)]
        for _ in range(2):
            await new_mentor(session, actors.association_a)
        response = await client.post(
            "/v1/matching-runs",
            json={
                "dry_run": True,
                "child_ids": [str(c.id) for c in waiting + eligible],
                "min_score": 0,
            },
            headers=actors.manager_53,
        )
        assert response.status_code == 202, response.text
        run = (
            await client.get(
                f"/v1/matching-runs/{response.json()['id']}", headers=actors.manager_53
            )
        ).json()
        assert run["status"] == "succeeded", run
        assert run["dry_run"] is True
        assert run["figures"]["children_not_eligible"] == len(waiting)
        assert run["figures"]["children"] == len(eligible)
        proposals = (
            await client.get(
                f"/v1/matching-runs/{run['id']}/proposals",
                params={"limit": 200},
                headers=actors.manager_53,
            )
        ).json()["items"]
        proposed = {p["child_id"] for p in proposals}
        assert proposed <= {str(c.id) for c in eligible}
        assert all(p["status"] == "simulated" for p in proposals)
        # A dry run holds nothing.
        assert await count(session, "proposal", "status = 'pending'") == 0


class TestOfferAccess:
    async def test_offers_stay_in_their_departement(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session, offer=None)
        offer = (await make_offer(client, actors.educator_53, child.id)).json()
        for path in (f"/v1/offers/{offer['id']}", f"/v1/children/{child.id}/offers"):
            assert_problem(await client.get(path, headers=actors.educator_75), 404)
        response = await client.patch(
            f"/v1/offers/{offer['id']}", json={"note": "x"}, headers=actors.educator_75
        )
        assert_problem(response, 404)
        assert_problem(await make_offer(client, actors.educator_75, child.id), 404)
        for side in (actors.coordinator_a, actors.mentor_a):
            assert_problem(await make_offer(client, side, child.id), 403)
            assert_problem(await client.get(f"/v1/offers/{offer['id']}", headers=side), 403)
