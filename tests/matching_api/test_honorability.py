"""The honorability gate: a mentor without a contrôle d'honorabilité valid on the run date is
never proposed, neither by a run, nor among the candidates, nor by an educator's own choice.

Valid on a date means checked_on <= date <= valid_until, both bounds included.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.kit.clock import today_in
from mentorat.models import Mentor, Proposal
from tests.factories import Actors, create_child, create_mentor
from tests.matching_api.test_runs import RUNS, all_pages, start_run
from tests.mentorships.support import assert_problem, propose

REASON = "no_valid_honorability_check"
RUN_DATE = date(2026, 12, 1)


def check(checked_on: date | None, valid_until: date | None) -> dict[str, Any]:
    return {"honorability_checked_on": checked_on, "honorability_valid_until": valid_until}


def checks_around(day: date) -> dict[str, tuple[dict[str, Any], bool]]:
    """Honorability checks seen from `day`, and whether each is valid on it."""
    return {
        "none": (check(None, None), False),
        "expired_in_2021": (check(date(2018, 3, 1), date(2021, 3, 1)), False),
        "expired_the_day_before": (check(day - timedelta(days=1000), day - timedelta(1)), False),
        "checked_the_day_after": (check(day + timedelta(1), day + timedelta(1000)), False),
        "valid_until_that_day": (check(day - timedelta(days=1000), day), True),
        "checked_that_day": (check(day, day + timedelta(days=1000)), True),
    }


CASES = list(checks_around(RUN_DATE))


async def mentor_with(
    session: AsyncSession, actors: Actors, honorability: dict[str, Any]
) -> Mentor:
    """A mentor who would fit actors.child_53 perfectly, but for the honorability check."""
    mentor = await create_mentor(session, association=actors.association_a, **honorability)
    await session.commit()
    return mentor


class TestRuns:
    @pytest.mark.parametrize("case", CASES)
    async def test_a_run_proposes_a_mentor_only_with_a_check_valid_on_the_run_date(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, case: str
    ) -> None:
        honorability, valid = checks_around(RUN_DATE)[case]
        mentor = await mentor_with(session, actors, honorability)
        run = await start_run(
            client,
            actors.manager_53,
            child_ids=[str(actors.child_53.id)],
            mentor_ids=[str(mentor.id)],
            min_score=0,
            run_date=RUN_DATE.isoformat(),
        )
        assert run["status"] == "succeeded", run
        assert run["run_date"] == RUN_DATE.isoformat()
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
        # Only the valid mentor's place is held by the (pending) proposal.
        held = (await client.get(f"/v1/mentors/{mentor.id}", headers=actors.admin)).json()
        assert held["places_held"] == (1 if valid else 0)

    async def test_one_run_over_every_case_proposes_only_the_valid_ones(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        cases = checks_around(RUN_DATE)
        mentors = {
            name: await mentor_with(session, actors, honorability)
            for name, (honorability, _) in cases.items()
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
        proposed = {p["mentor_id"] for p in proposals}
        assert proposed == {str(mentors[name].id) for name, (_, valid) in cases.items() if valid}
        assert run["figures"]["matched"] == 2


class TestCandidates:
    async def test_candidates_on_a_date_leave_out_mentors_without_a_valid_check(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        cases = checks_around(RUN_DATE)
        mentors = {
            name: await mentor_with(session, actors, honorability)
            for name, (honorability, _) in cases.items()
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
        # actors.mentor_a1's check (2026-01-10 .. 2029-01-10) is valid on RUN_DATE.
        assert listed == valid | {str(actors.mentor_a1.id)}
        assert not listed & invalid
        assert body["excluded_by_reason"] == {REASON: len(invalid)}

    async def test_the_same_mentor_is_a_candidate_on_the_last_valid_day_only(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentor = await mentor_with(session, actors, check(date(2024, 6, 1), RUN_DATE))

        async def candidates_on(day: date) -> set[str]:
            response = await client.get(
                f"/v1/children/{actors.child_53.id}/mentor-candidates",
                params={"run_date": day.isoformat()},
                headers=actors.educator_53,
            )
            assert response.status_code == 200, response.text
            return {c["mentor_id"] for c in response.json()["candidates"]}

        assert str(mentor.id) in await candidates_on(date(2024, 6, 1))
        assert str(mentor.id) in await candidates_on(RUN_DATE)
        assert str(mentor.id) not in await candidates_on(RUN_DATE + timedelta(1))
        assert str(mentor.id) not in await candidates_on(date(2024, 5, 31))


class TestManualProposals:
    """An educator's own proposal is checked on the département's today."""

    @pytest.mark.parametrize("case", CASES)
    async def test_an_educator_can_propose_a_mentor_only_with_a_check_valid_today(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, case: str
    ) -> None:
        honorability, valid = checks_around(today_in("53"))[case]
        mentor = await mentor_with(session, actors, honorability)
        before = await session.scalar(select(func.count()).select_from(Proposal))

        response = await propose(client, actors.educator_53, actors.child_53.id, mentor.id)

        listed = await all_pages(client, "/v1/proposals", actors.educator_53)
        if valid:
            assert response.status_code == 201, response.text
            assert [p["mentor_id"] for p in listed] == [str(mentor.id)]
        else:
            problem = assert_problem(response, 409)
            assert problem["reason"] == REASON
            assert listed == []
            assert await session.scalar(select(func.count()).select_from(Proposal)) == before
            # The child stays free for a mentor who may be proposed.
            response = await propose(
                client, actors.educator_53, actors.child_53.id, actors.mentor_a1.id
            )
            assert response.status_code == 201, response.text
