"""Matching runs through the API, checked against a brute force over hand-computable scores."""

from __future__ import annotations

import datetime
import itertools
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.models import MatchingRun, Proposal
from tests.conftest import run_queued_jobs
from tests.factories import Actors, create_child, create_mentor

RUNS = "/v1/matching-runs"

# Everyone at the same place with the same availability: distance and availability components
# are 1, so score = 0.5 * share of the child's goals covered + 0.5.
GOAL_SETS = [["orientation"], ["orientation", "stage"], ["numerique", "stage"], ["emploi"]]


def brute_force(
    n_children: int,
    capacity: dict[int, int],
    scores: dict[tuple[int, int], float],
    min_score: float,
) -> tuple[int, float]:
    """Best (matched, total) lexicographically over every assignment, by enumeration."""
    best = (0, 0.0)
    slots = [m for m, cap in capacity.items() for _ in range(cap)]
    for choice in itertools.product([None, *range(len(slots))], repeat=n_children):
        used = [slot for slot in choice if slot is not None]
        if len(used) != len(set(used)):
            continue
        pairs = [(i, slots[s]) for i, s in enumerate(choice) if s is not None]
        if any(scores.get(pair, -1) < min_score for pair in pairs):
            continue
        candidate = (len(pairs), round(sum(scores[pair] for pair in pairs), 6))
        best = max(best, candidate)
    return best


async def start_run(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    response = await client.post(RUNS, json=body, headers=headers)
    assert response.status_code == 202, response.text
    await run_queued_jobs(client)
    run = (await client.get(f"{RUNS}/{response.json()['id']}", headers=headers)).json()
    return run


async def all_pages(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list[Any]:
    items: list[Any] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(url, params=params, headers=headers)).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


class TestRunAgainstBruteForce:
    async def test_coverage_first_is_optimal_and_explained(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        children = [
            await create_child(session, goals=goals, departement="53") for goals in GOAL_SETS
        ]
        mentor_goals = [["orientation"], ["stage", "numerique"], ["emploi", "orientation"]]
        capacities = [1, 2, 1]
        mentors = [
            await create_mentor(
                session, association=actors.association_a, goals=goals, capacity=cap
            )
            for goals, cap in zip(mentor_goals, capacities, strict=True)
        ]
        await session.commit()
        child_ids = [actors.child_53.id, *(child.id for child in children)]
        mentor_ids = [actors.mentor_a1.id, *(mentor.id for mentor in mentors)]

        run = await start_run(
            client,
            actors.manager_53,
            child_ids=[str(c) for c in child_ids],
            mentor_ids=[str(m) for m in mentor_ids],
            min_score=0.6,
        )
        assert run["status"] == "succeeded", run
        proposals = await all_pages(client, f"{RUNS}/{run['id']}/proposals", actors.manager_53)

        all_goals = [actors.child_53.goals, *GOAL_SETS]
        all_mentor_goals = [actors.mentor_a1.goals, *mentor_goals]
        scores = {
            (i, j): 0.5 * len(set(cg) & set(mg)) / len(cg) + 0.5
            for i, cg in enumerate(all_goals)
            for j, mg in enumerate(all_mentor_goals)
        }
        capacity = dict(enumerate([actors.mentor_a1.capacity, *capacities]))
        expected = brute_force(len(child_ids), capacity, scores, 0.6)

        assert run["figures"]["matched"] == len(proposals) == expected[0]
        assert abs(sum(p["score"] for p in proposals) - expected[1]) < 1e-5
        assert abs(run["figures"]["total_score"] - expected[1]) < 1e-5
        per_mentor: dict[str, int] = {}
        for proposal in proposals:
            i = child_ids.index(uuid.UUID(proposal["child_id"]))
            j = mentor_ids.index(uuid.UUID(proposal["mentor_id"]))
            assert abs(proposal["score"] - scores[i, j]) < 1e-6
            assert proposal["score"] >= 0.6
            assert proposal["status"] == "pending"
            explanation = proposal["explanation"]
            weighted = sum(
                explanation["weights"][name] * explanation["components"][name]
                for name in ("goals", "distance", "availability")
            )
            assert abs(weighted - proposal["score"]) < 1e-6
            per_mentor[proposal["mentor_id"]] = per_mentor.get(proposal["mentor_id"], 0) + 1
        assert all(
            count <= capacity[mentor_ids.index(uuid.UUID(m))] for m, count in per_mentor.items()
        )
        assert len({p["child_id"] for p in proposals}) == len(proposals)

        unmatched = await all_pages(client, f"{RUNS}/{run['id']}/unmatched", actors.manager_53)
        assert len(unmatched) == len(child_ids) - expected[0]
        assert {u["reason"] for u in unmatched} <= {
            "taken_by_others",
            "below_min_score",
            "no_feasible_mentor",
        }

    async def test_dry_run_holds_nothing_and_is_deterministic(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        for goals in GOAL_SETS:
            await create_child(session, goals=goals)
            await create_mentor(session, association=actors.association_a, goals=goals)
        await session.commit()
        first = await start_run(client, actors.manager_53, dry_run=True)
        second = await start_run(client, actors.manager_53, dry_run=True)
        assert first["status"] == second["status"] == "succeeded"
        pairs = [
            [
                (p["child_id"], p["mentor_id"])
                for p in await all_pages(client, f"{RUNS}/{run['id']}/proposals", actors.manager_53)
            ]
            for run in (first, second)
        ]
        assert pairs[0] == pairs[1] and len(pairs[0]) == first["figures"]["matched"] > 0
        pending = await session.scalar(
            select(func.count()).select_from(Proposal).where(Proposal.status == "pending")
        )
        assert pending == 0

    async def test_real_run_holds_children_and_capacity(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        first = await start_run(client, actors.manager_53)
        assert first["figures"]["matched"] == 1  # child_53 with mentor_a1
        second = await start_run(client, actors.manager_53)
        assert second["status"] == "succeeded"
        assert second["figures"]["children"] == 0
        assert second["figures"]["children_not_eligible"] == 1


class TestRunAccess:
    async def test_educator_cannot_start_runs(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.post(RUNS, json={}, headers=actors.educator_53)
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("application/problem+json")

    async def test_other_departements_runs_are_404(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        run = await start_run(client, actors.admin, departement_code="75", dry_run=True)
        for headers in (actors.manager_53, actors.educator_53):
            for suffix in ("", "/proposals", "/unmatched"):
                response = await client.get(f"{RUNS}/{run['id']}{suffix}", headers=headers)
                assert response.status_code == 404, (suffix, response.text)
        listed = (await client.get(RUNS, headers=actors.manager_53)).json()["items"]
        assert run["id"] not in {item["id"] for item in listed}
        response = await client.post(
            RUNS, json={"departement_code": "75"}, headers=actors.manager_53
        )
        assert response.status_code == 404

    async def test_coordinator_and_mentor_cannot_see_runs(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        for headers in (actors.coordinator_a, actors.mentor_a):
            assert (await client.get(RUNS, headers=headers)).status_code == 403

    async def test_second_active_run_is_a_409(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        session.add(
            MatchingRun(
                departement_code="53",
                requested_by_name="someone",
                status="running",
                objective="coverage_first",
                min_score=0.3,
                weights={"goals": 0.5, "distance": 0.3, "availability": 0.2},
                dry_run=False,
                run_date=datetime.date.today(),
            )
        )
        await session.commit()
        before = await session.scalar(select(func.count()).select_from(MatchingRun))
        response = await client.post(RUNS, json={}, headers=actors.manager_53)
        assert response.status_code == 409, response.text
        assert await session.scalar(select(func.count()).select_from(MatchingRun)) == before


class TestRunBadInput:
    async def test_bad_parameters_are_problems(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        cases = [
            ({"weights": {"goals": 0.5, "distance": 0.5, "availability": 0.5}}, "weights"),
            ({"min_score": 2}, "min_score"),
            ({"objective": "fastest"}, "objective"),
            ({"departement_code": "00"}, "departement_code"),
            ({"child_ids": ["not-a-uuid"]}, "child_ids"),
            ({"departement_code": "53", "child_ids": [str(uuid.uuid4())]}, "child_ids"),
        ]
        for body, field in cases:
            response = await client.post(RUNS, json=body, headers=actors.admin | {})
            assert response.status_code == 422, (body, response.text)
            assert field in response.text
            assert response.headers["content-type"].startswith("application/problem+json")


class TestCandidates:
    async def test_ranked_explained_with_exclusion_counts(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        good = await create_mentor(
            session, association=actors.association_a, goals=["orientation", "confiance"]
        )
        await create_mentor(session, association=actors.association_a, active=False)
        await create_mentor(
            session, association=actors.association_a, latitude=43.6, longitude=1.44
        )
        excluded = await create_mentor(session, association=actors.association_a)
        await session.commit()
        response = await client.post(
            f"/v1/children/{actors.child_53.id}/exclusions",
            json={"mentor_id": str(excluded.id), "reason": "ancien conflit"},
            headers=actors.educator_53,
        )
        assert response.status_code == 201, response.text

        response = await client.get(
            f"/v1/children/{actors.child_53.id}/mentor-candidates", headers=actors.educator_53
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["mentors_considered"] == 5
        assert body["excluded_by_reason"] == {
            "mentor_inactive": 1,
            "pair_excluded": 1,
            "too_far": 1,
        }
        assert body["feasible"] == 2
        scores = [c["score"] for c in body["candidates"]]
        assert scores == sorted(scores, reverse=True)
        # Both cover all of the child's goals from the same place: a tie, in mentor-id order.
        tied = sorted([str(good.id), str(actors.mentor_a1.id)])
        assert [c["mentor_id"] for c in body["candidates"]] == tied
        assert scores == [1.0, 1.0]
        assert body["candidates"][0]["explanation"]["common_goals"] == ["orientation", "confiance"]

    async def test_candidates_are_scoped(self, client: httpx.AsyncClient, actors: Actors) -> None:
        url = f"/v1/children/{actors.child_75.id}/mentor-candidates"
        assert (await client.get(url, headers=actors.educator_53)).status_code == 404
        assert (await client.get(url, headers=actors.coordinator_b)).status_code == 403
        assert (await client.get(url)).status_code == 401
