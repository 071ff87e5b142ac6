"""The association agreement gate: a mentor is proposed for a child of département X only if
their association has an agreement with X in force on the run date (valid_from <= date <=
valid_until, an open end always in force); otherwise the pair is ruled out as `no_agreement`.
"""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.agreements.service import add_agreement
from mentorat.kit.clock import today_in
from mentorat.models import Mentor, Proposal
from tests.factories import Actors, create_association, create_child, create_mentor
from tests.matching_api.test_runs import RUNS, all_pages, start_run
from tests.mentorships.support import assert_problem, propose

REASON = "no_agreement"
RUN_DATE = date(2026, 12, 1)
# (département, valid_from, valid_until) of each agreement of the association, seen from a day.
Agreements = list[tuple[str, date, date | None]]


def agreements_around(day: date) -> dict[str, tuple[Agreements, bool]]:
    """An association's agreements seen from `day`, and whether one is in force in 53 then."""
    before, after = day - timedelta(days=1), day + timedelta(days=1)
    long_ago = day - timedelta(days=1000)
    return {
        "none": ([], False),
        "expired_the_day_before": ([("53", long_ago, before)], False),
        "valid_from_the_day_after": ([("53", after, None)], False),
        "another_departement_only": ([("75", long_ago, None)], False),
        "expired_then_renewed_later": ([("53", long_ago, before), ("53", after, None)], False),
        "open_ended": ([("53", long_ago, None)], True),
        "valid_until_that_day": ([("53", long_ago, day)], True),
        "valid_from_that_day": ([("53", day, day + timedelta(days=700))], True),
        "expired_and_renewed": ([("53", long_ago, before), ("53", day, None)], True),
    }


CASES = list(agreements_around(RUN_DATE))


async def mentor_under(session: AsyncSession, agreements: Agreements) -> Mentor:
    """A mentor who would fit actors.child_53 perfectly, of an association serving 53 with
    only these agreements."""
    association = await create_association(session, departements=("53",), agreements=False)
    for code, valid_from, valid_until in agreements:
        await add_agreement(
            session, association_id=association.id, departement_code=code,
            signed_on=date(2020, 1, 1), valid_from=valid_from, valid_until=valid_until,
        )  # fmt: skip
    mentor = await create_mentor(session, association=association)
    await session.commit()
    return mentor


class TestRuns:
    @pytest.mark.parametrize("case", CASES)
    async def test_a_run_proposes_a_mentor_only_under_an_agreement_in_force_on_the_run_date(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, case: str
    ) -> None:
        agreements, valid = agreements_around(RUN_DATE)[case]
        mentor = await mentor_under(session, agreements)
        run = await start_run(
            client,
            actors.manager_53,
            child_ids=[str(actors.child_53.id)],
            mentor_ids=[str(mentor.id)],
            min_score=0,
            run_date=RUN_DATE.isoformat(),
        )
        assert run["status"] == "succeeded", run
        proposals = await all_pages(client, f"{RUNS}/{run['id']}/proposals", actors.manager_53)
        unmatched = await all_pages(client, f"{RUNS}/{run['id']}/unmatched", actors.manager_53)
        if valid:
            assert [p["mentor_id"] for p in proposals] == [str(mentor.id)]
            assert unmatched == []
        else:
            assert proposals == []
            (child,) = unmatched
            assert child["reason"] == "no_feasible_mentor"
            assert child["excluded_by_reason"] == {REASON: 1}

    async def test_one_run_over_every_case_proposes_only_the_mentors_under_agreement(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        cases = agreements_around(RUN_DATE)
        mentors = {
            name: await mentor_under(session, agreements) for name, (agreements, _) in cases.items()
        }
        children = [await create_child(session) for _ in cases]
        await session.commit()
        run = await start_run(
            client,
            actors.manager_53,
            child_ids=[str(child.id) for child in children],
            mentor_ids=[str(mentor.id) for mentor in mentors.values()],
            min_score=0,
            run_date=RUN_DATE.isoformat(),
        )
        proposals = await all_pages(client, f"{RUNS}/{run['id']}/proposals", actors.manager_53)
        expected = {str(mentors[name].id) for name, (_, valid) in cases.items() if valid}
        assert {p["mentor_id"] for p in proposals} == expected
        assert run["figures"]["matched"] == len(expected) == 4
        n_invalid = len(cases) - len(expected)
        unmatched = await all_pages(client, f"{RUNS}/{run['id']}/unmatched", actors.manager_53)
        assert len(unmatched) == len(children) - len(expected)
        # Every unmatched child had the same mentors ruled out for want of an agreement.
        assert all(u["excluded_by_reason"].get(REASON) == n_invalid for u in unmatched)

    async def test_the_other_departements_agreement_does_not_open_this_one(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        """Association B serves 75 under agreement; linked to 53 without one, its mentors stay
        out of 53's runs, while 75's runs still propose them."""
        response = await client.patch(
            f"/v1/associations/{actors.association_b.id}",
            json={"departements": ["53", "75"]},
            headers=actors.admin,
        )
        assert response.status_code == 200, response.text
        mentor = await create_mentor(session, association=actors.association_b)
        await session.commit()
        run = await start_run(
            client, actors.manager_53, child_ids=[str(actors.child_53.id)],
            mentor_ids=[str(mentor.id)], min_score=0, run_date=RUN_DATE.isoformat(),
        )  # fmt: skip
        (child,) = await all_pages(client, f"{RUNS}/{run['id']}/unmatched", actors.manager_53)
        assert child["excluded_by_reason"] == {REASON: 1}


class TestCandidates:
    async def test_candidates_on_a_date_leave_out_mentors_without_an_agreement(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        cases = agreements_around(RUN_DATE)
        mentors = {
            name: await mentor_under(session, agreements) for name, (agreements, _) in cases.items()
        }
        response = await client.get(
            f"/v1/children/{actors.child_53.id}/mentor-candidates",
            params={"run_date": RUN_DATE.isoformat(), "limit": 100},
            headers=actors.educator_53,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        listed = {c["mentor_id"] for c in body["candidates"]}
        valid = {str(mentors[name].id) for name, (_, ok) in cases.items() if ok}
        invalid = {str(mentors[name].id) for name, (_, ok) in cases.items() if not ok}
        # actors.mentor_a1's association has an open-ended agreement with 53 (the factory's).
        assert listed == valid | {str(actors.mentor_a1.id)}
        assert body["excluded_by_reason"] == {REASON: len(invalid)}
        assert body["mentors_considered"] == len(cases) + 1

    async def test_the_same_mentor_is_a_candidate_while_the_agreement_is_in_force(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        start, end = date(2026, 2, 1), RUN_DATE  # within the honorability check
        mentor = await mentor_under(session, [("53", start, end)])

        async def candidates_on(day: date) -> set[str]:
            response = await client.get(
                f"/v1/children/{actors.child_53.id}/mentor-candidates",
                params={"run_date": day.isoformat()},
                headers=actors.educator_53,
            )
            assert response.status_code == 200, response.text
            return {c["mentor_id"] for c in response.json()["candidates"]}

        assert str(mentor.id) in await candidates_on(start)
        assert str(mentor.id) in await candidates_on(end)
        assert str(mentor.id) not in await candidates_on(end + timedelta(days=1))
        assert str(mentor.id) not in await candidates_on(start - timedelta(days=1))

    async def test_ending_the_agreement_through_the_api_rules_the_mentors_out(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        today = today_in("53")
        mentor = await mentor_under(session, [])
        created = await client.post(
            "/v1/association-agreements",
            json={
                "association_id": str(mentor.association_id), "departement_code": "53",
                "signed_on": "2024-01-10", "valid_from": "2024-02-01",
            },
            headers=actors.manager_53,
        )  # fmt: skip
        assert created.status_code == 201, created.text
        url = f"/v1/children/{actors.child_53.id}/mentor-candidates"
        listed = (await client.get(url, headers=actors.educator_53)).json()
        assert str(mentor.id) in {c["mentor_id"] for c in listed["candidates"]}
        ended = await client.patch(
            f"/v1/association-agreements/{created.json()['id']}",
            json={"valid_until": (today - timedelta(days=1)).isoformat()},
            headers=actors.manager_53,
        )
        assert ended.status_code == 200, ended.text
        listed = (await client.get(url, headers=actors.educator_53)).json()
        assert str(mentor.id) not in {c["mentor_id"] for c in listed["candidates"]}
        assert listed["excluded_by_reason"] == {REASON: 1}


class TestManualProposals:
    """An educator's own proposal is checked on the département's today."""

    @pytest.mark.parametrize("case", CASES)
    async def test_an_educator_can_propose_a_mentor_only_under_an_agreement_in_force_today(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, case: str
    ) -> None:
        agreements, valid = agreements_around(today_in("53"))[case]
        mentor = await mentor_under(session, agreements)
        before = await session.scalar(select(func.count()).select_from(Proposal))
        response = await propose(client, actors.educator_53, actors.child_53.id, mentor.id)
        if valid:
            assert response.status_code == 201, response.text
        else:
            assert assert_problem(response, 409)["reason"] == REASON
            assert await session.scalar(select(func.count()).select_from(Proposal)) == before
