"""The legal offer of a mentor: it rests on a recommending assessment, takes its answers as
facts, and PostgreSQL derives its outcome from whose agreement the legal situation requires."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.errors import InvalidInput
from mentorat.kit.db_errors import violated_constraint
from mentorat.kit.repository import flush
from mentorat.models import OfferConsent
from mentorat.models.legal import CONSENT_PARTIES, REQUIRED_PARTIES
from mentorat.offers.exceptions import ConsentAlreadyRecorded, OfferDecided
from mentorat.offers.service import consent_problems
from tests.conftest import run_queued_jobs
from tests.factories import Actors, create_assessment
from tests.mentorships.support import (
    add_consent,
    assert_problem,
    assessed_child,
    count,
    days_ago,
    fact,
    make_offer,
    new_child,
    new_mentor,
    propose,
    scalar,
)

# A person of 19: the only age a young adult's record accepts.
YOUNG_ADULT = {"legal_situation": "young_adult", "birth_date": date(2007, 1, 15)}
ANSWERS = (None, "agreed", "refused")


def situation_overrides(situation: str) -> dict[str, Any]:
    return YOUNG_ADULT if situation == "young_adult" else {"legal_situation": situation}


async def offer_state(session: AsyncSession, offer_id: str) -> tuple[Any, ...]:
    """What a refused write must leave untouched: the offer's row and its facts."""
    row = await scalar(
        session,
        "SELECT row(outcome, version, decided_at, note)::text FROM offer WHERE id = :id",
        id=offer_id,
    )
    return row, await count(session, "offer_consent", "offer_id = :id", id=offer_id)


def first_error_at(response: httpx.Response) -> list[Any]:
    """Where the first error points, in the body (schema and service errors alike)."""
    loc = response.json()["errors"][0]["loc"]
    return loc[1:] if loc[:1] == ["body"] else loc


def expected_after(required: tuple[str, ...], answers: dict[str, str]) -> str:
    """The hand rule: refused as soon as one required party refuses, accepted once all agreed."""
    if "refused" in answers.values():
        return "refused"
    return "accepted" if all(answers.get(p) == "agreed" for p in required) else "pending"


class TestWhoMustAgree:
    @pytest.mark.parametrize("situation", list(REQUIRED_PARTIES))
    async def test_the_outcome_follows_every_combination_of_answers(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, situation: str
    ) -> None:
        required = REQUIRED_PARTIES[situation]
        for combination in itertools.product(ANSWERS, repeat=len(required)):
            child = await assessed_child(session, **situation_overrides(situation))
            response = await make_offer(client, actors.educator_53, child.id)
            assert response.status_code == 201, response.text
            offer = response.json()
            assert offer["legal_situation"] == situation
            assert offer["required_parties"] == list(required)
            assert offer["awaiting"] == list(required) == offer["not_informed"]
            version = offer["version"]
            recorded: dict[str, str] = {}
            for party, answer in zip(required, combination, strict=True):
                if answer is None:
                    continue
                response = await add_consent(client, actors.educator_53, offer["id"], party, answer)
                if expected_after(required, recorded) != "pending":
                    assert_problem(response, 409, "offer-decided")
                    continue
                assert response.status_code == 201, response.text
                recorded[party] = answer
                version += 1
                offer = response.json()
                assert offer["version"] == version
                assert response.headers["ETag"] == f'"{version}"'
            outcome = expected_after(required, recorded)
            stored = (
                await client.get(f"/v1/offers/{offer['id']}", headers=actors.educator_53)
            ).json()
            assert stored["outcome"] == outcome, (situation, combination)
            assert (stored["decided_at"] is None) == (outcome == "pending")
            assert stored["awaiting"] == [p for p in required if p not in recorded]
            assert [(c["party"], c["kind"]) for c in stored["consents"]] == list(recorded.items())
            assert await count(session, "offer_consent", "offer_id = :id", id=offer["id"]) == len(
                recorded
            )

    @pytest.mark.parametrize("situation", list(REQUIRED_PARTIES))
    @pytest.mark.parametrize("kind", ["agreed", "refused", "informed"])
    async def test_a_party_that_takes_no_part_is_a_422_and_changes_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        situation: str,
        kind: str,
    ) -> None:
        child = await assessed_child(session, **situation_overrides(situation))
        offer = (await make_offer(client, actors.educator_53, child.id)).json()
        before = await offer_state(session, offer["id"])
        outsiders = [p for p in CONSENT_PARTIES if p not in REQUIRED_PARTIES[situation]]
        assert outsiders
        for party in outsiders:
            response = await add_consent(client, actors.educator_53, offer["id"], party, kind)
            assert_problem(response, 422)
            assert first_error_at(response) == ["party"]
            assert await offer_state(session, offer["id"]) == before

    async def test_a_young_adult_agrees_alone(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await assessed_child(session, **YOUNG_ADULT)
        offer = (await make_offer(client, actors.educator_53, child.id)).json()
        assert offer["required_parties"] == ["young_adult"]
        response = await add_consent(
            client, actors.educator_53, offer["id"], "young_adult", "informed", days_ago(3)
        )
        assert response.json()["outcome"] == "pending"
        assert response.json()["not_informed"] == []
        response = await add_consent(
            client, actors.educator_53, offer["id"], "young_adult", "agreed",
            opinion="Veut de l'aide pour son alternance.",
        )  # fmt: skip
        assert response.status_code == 201, response.text
        decided = response.json()
        assert decided["outcome"] == "accepted" and decided["decided_at"] is not None
        assert decided["awaiting"] == []
        assert decided["consents"][-1]["opinion"] == "Veut de l'aide pour son alternance."
        mentor = await new_mentor(session, actors.association_a)
        response = await propose(client, actors.educator_53, child.id, mentor.id)
        assert response.status_code == 201, response.text

    async def test_the_situation_is_the_one_of_the_day_of_the_offer(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await assessed_child(session, legal_situation="pupille")
        offer = (await make_offer(client, actors.educator_53, child.id)).json()
        response = await client.patch(
            f"/v1/children/{child.id}",
            json={"legal_situation": "delegated_to_ase"},
            headers=actors.educator_53,
        )
        assert response.status_code == 200, response.text
        stored = (await client.get(f"/v1/offers/{offer['id']}", headers=actors.educator_53)).json()
        assert stored["legal_situation"] == "pupille"
        assert stored["required_parties"] == ["child", "tutor", "family_council"]


class TestFacts:
    async def test_facts_recorded_with_the_offer(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await assessed_child(session)
        response = await make_offer(
            client,
            actors.educator_53,
            child.id,
            note="Réunion de synthèse",
            consents=[
                fact("child", "informed", days_ago(2)),
                fact("parents", "informed", days_ago(2)),
                fact("child", "agreed", days_ago(1), opinion="Oui, pour le numérique."),
                fact("parents", "agreed", days_ago(1)),
            ],
        )
        assert response.status_code == 201, response.text
        offer = response.json()
        assert response.headers["Location"] == f"/v1/offers/{offer['id']}"
        assert response.headers["ETag"] == f'"{offer["version"]}"'
        assert offer["outcome"] == "accepted" and offer["decided_at"] is not None
        assert offer["awaiting"] == [] and offer["not_informed"] == []
        assert offer["offered_on"] == date.today().isoformat()
        assert [(c["party"], c["kind"]) for c in offer["consents"]] == [
            ("child", "informed"),
            ("parents", "informed"),
            ("child", "agreed"),
            ("parents", "agreed"),
        ]
        assert offer["assessment_id"] == str(
            await scalar(session, "SELECT id FROM assessment WHERE child_id = :c", c=child.id)
        )
        assert offer["consents"][2]["opinion"] == "Oui, pour le numérique."
        assert offer["consents"][0]["recorded_by_name"]

    async def test_being_informed_changes_no_outcome(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await assessed_child(session)
        offer = (await make_offer(client, actors.educator_53, child.id)).json()
        response = await add_consent(
            client,
            actors.educator_53 | {"If-Match": f'"{offer["version"]}"'},
            offer["id"],
            "parents",
            "informed",
        )
        assert response.status_code == 201, response.text
        informed = response.json()
        assert informed["outcome"] == "pending" and informed["not_informed"] == ["child"]
        assert informed["awaiting"] == ["child", "parents"]
        assert informed["version"] == offer["version"] + 1

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            (fact("parents", "agreed", opinion="d'accord"), "opinion"),
            (fact("child", "agreed", "2999-01-01"), "given_on"),
            (fact("child", "informed", days_ago(400)), "given_on"),  # before the assessment
            ({"party": "neighbour", "kind": "agreed", "given_on": "2026-09-01"}, "party"),
            ({"party": "child", "kind": "accepted", "given_on": "2026-09-01"}, "kind"),
            ({"party": "child", "kind": "agreed"}, "given_on"),
        ],
        ids=["opinion-of-parents", "future", "before-assessment", "party", "kind", "no-date"],
    )
    async def test_invalid_facts_are_422s_that_change_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        body: dict[str, Any],
        field: str,
    ) -> None:
        child = await assessed_child(session)
        offer = (await make_offer(client, actors.educator_53, child.id)).json()
        before = await offer_state(session, offer["id"])
        response = await client.post(
            f"/v1/offers/{offer['id']}/consents", json=body, headers=actors.educator_53
        )
        assert_problem(response, 422)
        assert first_error_at(response) == [field]
        assert await offer_state(session, offer["id"]) == before

    async def test_an_invalid_fact_with_the_offer_writes_no_offer(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await assessed_child(session)
        audit_before = await count(session, "audit_event")
        response = await make_offer(
            client,
            actors.educator_53,
            child.id,
            consents=[fact("child", "agreed"), fact("tutor", "agreed")],
        )
        assert_problem(response, 422)
        assert first_error_at(response) == ["consents", 1, "party"]
        assert await count(session, "offer", "child_id = :c", c=child.id) == 0
        assert await count(session, "audit_event") == audit_before

    async def test_a_fact_already_recorded_is_a_409(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await assessed_child(session, legal_situation="pupille")
        offer = (await make_offer(client, actors.educator_53, child.id)).json()
        for party, kind in (("tutor", "informed"), ("child", "agreed")):
            assert (
                await add_consent(client, actors.educator_53, offer["id"], party, kind)
            ).status_code == 201
        before = await offer_state(session, offer["id"])
        for party, kind in (("tutor", "informed"), ("child", "agreed"), ("child", "refused")):
            response = await add_consent(client, actors.educator_53, offer["id"], party, kind)
            assert_problem(response, 409, "consent-already-recorded")
            assert await offer_state(session, offer["id"]) == before

    @pytest.mark.parametrize("outcome", ["accepted", "refused"])
    async def test_a_decided_offer_takes_no_more_answers(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, outcome: str
    ) -> None:
        child = await assessed_child(session, legal_situation="delegated_to_ase")
        answers = (
            [fact("child", "agreed"), fact("ase", "agreed")]
            if outcome == "accepted"
            else [fact("ase", "refused")]
        )
        offer = (await make_offer(client, actors.educator_53, child.id, consents=answers)).json()
        assert offer["outcome"] == outcome
        before = await offer_state(session, offer["id"])
        for party, kind in (("child", "refused"), ("child", "agreed"), ("ase", "agreed")):
            response = await add_consent(client, actors.educator_53, offer["id"], party, kind)
            assert_problem(response, 409)
            assert response.json()["type"].endswith(("offer-decided", "consent-already-recorded"))
            assert await offer_state(session, offer["id"]) == before
        # Telling a party about it is still a fact worth keeping.
        response = await add_consent(client, actors.educator_53, offer["id"], "child", "informed")
        assert response.status_code == 201, response.text
        assert response.json()["outcome"] == outcome

    async def test_a_stale_if_match_is_a_412(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await assessed_child(session)
        offer = (await make_offer(client, actors.educator_53, child.id)).json()
        before = await offer_state(session, offer["id"])
        response = await add_consent(
            client, actors.educator_53 | {"If-Match": '"99"'}, offer["id"], "child", "agreed"
        )
        assert_problem(response, 412)
        assert await offer_state(session, offer["id"]) == before

    async def test_the_database_refuses_what_the_service_would(
        self, session: AsyncSession, actors: Actors
    ) -> None:
        """The trigger's checks, for writes that do not go through the API."""
        child = await new_child(session, offer="refused")
        offer_id = await scalar(session, "SELECT id FROM offer WHERE child_id = :c", c=child.id)
        for party, constraint in (
            ("tutor", "ck_offer_consent_party_required"),
            ("parents", "ck_offer_consent_offer_pending"),
        ):
            with pytest.raises(IntegrityError) as refused:
                async with session.begin_nested():
                    await session.execute(
                        text(
                            "INSERT INTO offer_consent (offer_id, party, kind, given_on,"
                            " recorded_by_name) VALUES (:o, :p, 'agreed', CURRENT_DATE, 'x')"
                        ),
                        {"o": offer_id, "p": party},
                    )
            assert violated_constraint(refused.value) == constraint

    @pytest.mark.parametrize(
        ("party", "problem"),
        [("tutor", InvalidInput), ("parents", OfferDecided), ("child", ConsentAlreadyRecorded)],
    )
    async def test_the_database_refusals_become_the_same_problems(
        self, session: AsyncSession, actors: Actors, party: str, problem: type[Exception]
    ) -> None:
        """The safety net for a write that passed the service's checks in a race."""
        child = await new_child(session, offer="refused")  # the child refused
        offer_id = await scalar(session, "SELECT id FROM offer WHERE child_id = :c", c=child.id)
        with pytest.raises(problem):
            async with session.begin_nested():
                session.add(
                    OfferConsent(
                        offer_id=offer_id, party=party, kind="refused" if party == "child"
                        else "agreed", given_on=date.today(), recorded_by_name="x",
                    )
                )  # fmt: skip
                await flush(session, constraint_problems=consent_problems(("body",)))


class TestAssessmentRequired:
    @pytest.mark.parametrize(
        ("assessments", "offered_days_ago"),
        [
            ([], 0),
            ([(366, "mentoring_recommended")], 0),
            ([(400, "mentoring_recommended")], 30),  # a year old on the offer's date
            ([(10, "not_now")], 0),
            ([(10, "not_applicable")], 0),
            ([(60, "mentoring_recommended"), (10, "not_now")], 0),  # the latest counts
            ([(10, "mentoring_recommended")], 20),  # the offer predates the assessment
        ],
        ids=["none", "too-old", "old-on-offer-day", "not-now", "not-applicable", "overridden",
             "after-the-offer"],
    )  # fmt: skip
    async def test_an_offer_without_a_valid_recommendation_is_a_409(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        assessments: list[tuple[int, str]],
        offered_days_ago: int,
    ) -> None:
        child = await new_child(session, offer=None)
        for days, outcome in assessments:
            await create_assessment(
                session, child, assessed_on=date.today() - timedelta(days=days), outcome=outcome
            )
        await session.commit()
        audit_before = await count(session, "audit_event")
        response = await make_offer(
            client, actors.educator_53, child.id, offered_on=days_ago(offered_days_ago)
        )
        body = assert_problem(response, 409, "assessment-required")
        assert "less than a year" in body["title"]
        assert await count(session, "offer", "child_id = :c", c=child.id) == 0
        assert await count(session, "audit_event") == audit_before

    async def test_the_latest_recommending_assessment_of_the_year_is_linked(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session, offer=None)
        await create_assessment(session, child, assessed_on=date.today() - timedelta(days=200))
        await create_assessment(
            session, child, assessed_on=date.today() - timedelta(days=100), outcome="not_now"
        )
        latest = await create_assessment(
            session, child, assessed_on=date.today() - timedelta(days=364)
        )
        recommended = await create_assessment(
            session, child, assessed_on=date.today() - timedelta(days=50)
        )
        await session.commit()
        response = await make_offer(client, actors.educator_53, child.id)
        assert response.status_code == 201, response.text
        assert response.json()["assessment_id"] == str(recommended.id) != str(latest.id)
        # Backdated into the not_now period: refused; before it, the year-old one counts.
        response = await make_offer(client, actors.educator_53, child.id, offered_on=days_ago(99))
        assert_problem(response, 409)

    async def test_364_days_old_is_still_valid(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await assessed_child(session, assessed_days_ago=364)
        response = await make_offer(client, actors.educator_53, child.id)
        assert response.status_code == 201, response.text

    async def test_an_offer_cannot_be_dated_in_the_future(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await assessed_child(session)
        response = await make_offer(client, actors.educator_53, child.id, offered_on="2999-01-01")
        assert_problem(response, 422)
        assert await count(session, "offer", "child_id = :c", c=child.id) == 0


class TestOfferNote:
    async def test_only_the_note_changes(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await assessed_child(session)
        offer = (
            await make_offer(
                client, actors.educator_53, child.id, consents=[fact("child", "refused")]
            )
        ).json()
        assert offer["outcome"] == "refused"
        response = await client.patch(
            f"/v1/offers/{offer['id']}",
            json={"note": "revoir en 5e"},
            headers=actors.educator_53 | {"If-Match": f'"{offer["version"]}"'},
        )
        assert response.status_code == 200, response.text
        assert response.json()["note"] == "revoir en 5e"
        assert response.json()["outcome"] == "refused"
        assert response.json()["version"] == offer["version"] + 1
        before = await offer_state(session, offer["id"])
        for body in ({"outcome": "accepted"}, {"child_answer": "accepted"}, {}):
            response = await client.patch(
                f"/v1/offers/{offer['id']}", json=body, headers=actors.educator_53
            )
            assert_problem(response, 422)
        assert await offer_state(session, offer["id"]) == before

    async def test_stale_if_match_is_a_412(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await assessed_child(session)
        offer = (await make_offer(client, actors.educator_53, child.id)).json()
        response = await client.patch(
            f"/v1/offers/{offer['id']}",
            json={"note": "x"},
            headers=actors.educator_53 | {"If-Match": '"99"'},
        )
        assert_problem(response, 412)
        after = (await client.get(f"/v1/offers/{offer['id']}", headers=actors.educator_53)).json()
        assert after == offer


class TestOfferSequence:
    async def test_a_second_pending_offer_is_a_409(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await assessed_child(session)
        assert (await make_offer(client, actors.educator_53, child.id)).status_code == 201
        response = await make_offer(client, actors.educator_53, child.id)
        assert_problem(response, 409)
        assert await count(session, "offer", "child_id = :c", c=child.id) == 1

    async def test_a_refused_child_can_be_offered_again(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await assessed_child(session, assessed_days_ago=90)
        mentor = await new_mentor(session, actors.association_a)
        refused = await make_offer(
            client, actors.educator_53, child.id, offered_on=days_ago(60),
            consents=[fact("child", "refused", days_ago(60))],
        )  # fmt: skip
        assert refused.json()["outcome"] == "refused"
        response = await propose(client, actors.educator_53, child.id, mentor.id)
        assert assert_problem(response, 409)["reason"] == "child_not_eligible"

        again = await make_offer(
            client, actors.educator_53, child.id, consents=[fact("child", "agreed")]
        )
        assert again.status_code == 201, again.text
        assert again.json()["outcome"] == "pending"
        response = await add_consent(
            client, actors.educator_53, again.json()["id"], "parents", "agreed"
        )
        assert response.json()["outcome"] == "accepted"
        listed = (
            await client.get(f"/v1/children/{child.id}/offers", headers=actors.educator_53)
        ).json()["items"]
        assert [o["outcome"] for o in listed] == ["accepted", "refused"]  # the latest first
        assert [len(o["consents"]) for o in listed] == [2, 1]
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

    @pytest.mark.parametrize(
        ("care", "eligible"),
        [
            ({"left_care_on": date.today() - timedelta(days=1)}, False),
            ({"left_care_on": date.today()}, False),
            ({"left_care_on": date.today() + timedelta(days=1)}, True),
            ({"birth_date": date.today().replace(year=date.today().year - 21)}, False),
            ({"came_into_care_on": date.today() + timedelta(days=1)}, False),
        ],
        ids=["left-yesterday", "leaves-today", "leaves-tomorrow", "turned-21", "not-yet-in-care"],
    )
    async def test_only_a_child_in_care_can_be_proposed(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        care: dict[str, date],
        eligible: bool,
    ) -> None:
        """An accepted offer is not enough once the child has left care (or turned 21)."""
        child = await new_child(
            session, offer="accepted", **{"came_into_care_on": date(2020, 9, 1), **care}
        )
        mentor = await new_mentor(session, actors.association_a)
        response = await client.get(
            f"/v1/children/{child.id}/mentor-candidates", headers=actors.educator_53
        )
        assert response.status_code == 200, response.text
        assert bool(response.json()["candidates"]) is eligible
        response = await propose(client, actors.educator_53, child.id, mentor.id)
        if eligible:
            assert response.status_code == 201, response.text
        else:
            assert assert_problem(response, 409)["reason"] == "child_not_eligible"
            assert await count(session, "proposal", "child_id = :c", c=child.id) == 0

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
        await run_queued_jobs(client)
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
        child = await assessed_child(session)
        offer = (await make_offer(client, actors.educator_53, child.id)).json()
        before = await offer_state(session, offer["id"])
        for path in (f"/v1/offers/{offer['id']}", f"/v1/children/{child.id}/offers"):
            assert_problem(await client.get(path, headers=actors.educator_75), 404)
        response = await client.patch(
            f"/v1/offers/{offer['id']}", json={"note": "x"}, headers=actors.educator_75
        )
        assert_problem(response, 404)
        response = await add_consent(client, actors.educator_75, offer["id"], "child", "agreed")
        assert_problem(response, 404)
        assert_problem(await make_offer(client, actors.educator_75, child.id), 404)
        for side in (actors.coordinator_a, actors.mentor_a):
            assert_problem(await make_offer(client, side, child.id), 403)
            assert_problem(await client.get(f"/v1/offers/{offer['id']}", headers=side), 403)
            response = await add_consent(client, side, offer["id"], "child", "agreed")
            assert_problem(response, 403)
        assert await offer_state(session, offer["id"]) == before
        assert await count(session, "offer", "child_id = :c", c=child.id) == 1

    async def test_a_consent_retry_with_its_key_is_replayed(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await assessed_child(session)
        offer = (await make_offer(client, actors.educator_53, child.id)).json()
        keyed = actors.educator_53 | {"Idempotency-Key": "consent-once"}
        first = await add_consent(client, keyed, offer["id"], "child", "agreed", days_ago(1))
        assert first.status_code == 201, first.text
        retry = await add_consent(client, keyed, offer["id"], "child", "agreed", days_ago(1))
        assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
        assert retry.json() == first.json()
        assert retry.headers["ETag"] == first.headers["ETag"]
        assert await count(session, "offer_consent", "offer_id = :id", id=offer["id"]) == 1
