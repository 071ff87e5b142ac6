"""Each of the twelve situations, reached from the facts, as GET /v1/children/{id} shows it."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.situation.schemas import SITUATIONS
from tests.factories import Actors, create_mentor
from tests.mentorships.support import propose, transition
from tests.situation.support import (
    TODAY,
    assess,
    child_in_care,
    days,
    offer,
    set_child,
    situation,
    years_before,
)


def a_year_after(day: date) -> str:
    return day.replace(year=day.year + 1).isoformat()


class TestBeforeTheAssessment:
    async def test_a_young_child_is_not_yet_due_until_collège_entry(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await child_in_care(
            session, birth_date=years_before(TODAY, 9), college_entry_year=TODAY.year + 2
        )
        assert await situation(client, actors.educator_53, child) == (
            "not_yet_due",
            "assess",
            date(TODAY.year + 2, 9, 1).isoformat(),
        )

    async def test_a_child_of_12_coming_into_care_today_is_due_today(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await child_in_care(session, came_into_care_on=TODAY)
        assert await situation(client, actors.educator_53, child) == (
            "assessment_due",
            "assess",
            TODAY.isoformat(),
        )

    async def test_a_child_due_ten_days_ago_is_overdue(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await child_in_care(session, came_into_care_on=days(-10))
        assert await situation(client, actors.educator_53, child) == (
            "assessment_overdue",
            "assess",
            days(-10).isoformat(),
        )

    async def test_a_young_adult_is_not_yet_due_until_they_ask(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await child_in_care(
            session, birth_date=years_before(TODAY, 19), legal_situation="young_adult"
        )
        assert await situation(client, actors.educator_53, child) == ("not_yet_due", "none", None)
        await set_child(session, child, mentoring_requested_on=TODAY)
        assert await situation(client, actors.educator_53, child) == (
            "assessment_due",
            "assess",
            TODAY.isoformat(),
        )

    async def test_an_assessment_a_year_old_is_renewed(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await child_in_care(session, came_into_care_on=years_before(TODAY, 2))
        await assess(session, child, years_before(TODAY, 1, 3), outcome="not_now")
        assert await situation(client, actors.educator_53, child) == (
            "assessment_overdue",
            "renew_assessment",
            days(-3).isoformat(),
        )


class TestAfterTheAssessment:
    async def test_not_recommended_is_renewed_a_year_later(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await child_in_care(session)
        await assess(session, child, days(-20), outcome="not_now")
        assert await situation(client, actors.educator_53, child) == (
            "not_recommended",
            "renew_assessment",
            a_year_after(days(-20)),
        )

    async def test_recommended_without_an_offer_is_to_inform_within_30_days(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await child_in_care(session)
        await assess(session, child, days(-5))
        assert await situation(client, actors.educator_53, child) == (
            "to_inform",
            "inform_and_offer",
            days(25).isoformat(),
        )

    async def test_an_offer_whose_parents_are_not_informed_is_still_to_inform(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await child_in_care(session)
        assessment = await assess(session, child, days(-5))
        await offer(session, child, assessment, offered_on=days(-3), informed=("child",))
        assert (await situation(client, actors.educator_53, child))[0] == "to_inform"

    async def test_everyone_informed_awaits_the_agreements(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await child_in_care(session, legal_situation="pupille")
        assessment = await assess(session, child, days(-5))
        await offer(session, child, assessment, offered_on=days(-3))
        assert await situation(client, actors.educator_53, child) == (
            "awaiting_agreements",
            "collect_agreements",
            days(27).isoformat(),
        )

    async def test_a_refusal_is_renewed_a_year_after_the_assessment(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await child_in_care(session)
        assessment = await assess(session, child, days(-5))
        await offer(session, child, assessment, offered_on=days(-3), answer="refused")
        assert await situation(client, actors.educator_53, child) == (
            "refused",
            "renew_assessment",
            a_year_after(days(-5)),
        )

    async def test_accepted_waits_for_a_mentor_30_days_from_the_last_agreement(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await child_in_care(session, legal_situation="delegated_to_ase")
        assessment = await assess(session, child, days(-9))
        await offer(
            session, child, assessment, offered_on=days(-8), answer="agreed", answered_on=days(-2)
        )
        assert await situation(client, actors.educator_53, child) == (
            "waiting_for_mentor",
            "propose_mentor",
            days(28).isoformat(),
        )


class TestWithAMentor:
    async def test_proposed_then_in_mentorship_then_ended(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await child_in_care(session)
        assessment = await assess(session, child, days(-40))
        await offer(session, child, assessment, offered_on=days(-35), answer="agreed")
        mentor = await create_mentor(session, association=actors.association_a)
        await session.commit()
        response = await propose(client, actors.educator_53, child.id, mentor.id)
        assert response.status_code == 201, response.text
        renewal = a_year_after(days(-40))
        assert await situation(client, actors.educator_53, child) == (
            "proposed",
            "renew_assessment",
            renewal,
        )
        response = await client.post(
            f"/v1/proposals/{response.json()['id']}/accept", headers=actors.coordinator_a
        )
        mentorship_id = response.json()["mentorship_id"]
        assert await situation(client, actors.educator_53, child) == (
            "in_mentorship",
            "renew_assessment",
            renewal,
        )
        response = await transition(
            client, actors.educator_53, mentorship_id, "ended", reason="child_choice"
        )
        assert response.status_code == 200, response.text
        assert await situation(client, actors.educator_53, child) == (
            "mentorship_ended",
            "renew_assessment",
            renewal,
        )
        # A new offer after the end: the chain starts again from it.
        fresh = await assess(session, child, TODAY)
        await offer(session, child, fresh, offered_on=TODAY)
        assert (await situation(client, actors.educator_53, child))[0] == "awaiting_agreements"


class TestLeavingCare:
    async def test_left_care_has_nothing_to_do(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await child_in_care(session, left_care_on=TODAY)
        assert await situation(client, actors.educator_53, child) == ("left_care", "none", None)

    async def test_21_is_the_end_of_care(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await child_in_care(
            session,
            birth_date=years_before(TODAY, 21),
            legal_situation="young_adult",
            mentoring_requested_on=days(-30),
        )
        assert (await situation(client, actors.educator_53, child))[0] == "left_care"
        await set_child(session, child, birth_date=years_before(TODAY, 21) + timedelta(days=1))
        assert (await situation(client, actors.educator_53, child))[0] == "assessment_overdue"


class TestEverySituation:
    async def test_the_list_shows_the_same_situation_as_the_record(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        left = await child_in_care(session, left_care_on=days(-1))
        due = await child_in_care(session, came_into_care_on=TODAY)
        response = await client.get("/v1/children?limit=200", headers=actors.educator_53)
        by_id = {item["id"]: item for item in response.json()["items"]}
        assert by_id[str(left.id)]["situation"] == "left_care"
        assert by_id[str(due.id)]["situation"] == "assessment_due"
        assert all(item["situation"] in SITUATIONS for item in by_id.values())
        created = await client.post(
            "/v1/children",
            json={
                "reference": "SIT-NEW-1",
                "first_name": "Lou",
                "birth_date": years_before(TODAY, 12).isoformat(),
                "school_level": "5e",
                "college_entry_year": TODAY.year - 1,
                "location": {
                    "commune": "Laval", "postcode": "53000", "latitude": 48.07,
                    "longitude": -0.77,
                },
            },
            headers=actors.educator_53,
        )  # fmt: skip
        assert created.status_code == 201, created.text
        # Recorded today, 12 years old: came into care today, the assessment is due today.
        assert (created.json()["situation"], created.json()["next_action_due_on"]) == (
            "assessment_due",
            TODAY.isoformat(),
        )
