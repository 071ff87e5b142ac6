"""A declined proposal is remembered: runs leave the pair out, candidates list it last, an
educator's own proposal of it needs `repropose`; for the département's decline memory."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.models import Child, Mentor, Proposal
from mentorat.profile import WeeklySlot
from tests.agreements.test_agreements_api import manager_of
from tests.api.support import audit_events
from tests.factories import Actors, availability, create_child, create_mentor
from tests.matching.test_scoring import ref_haversine
from tests.matching_api.test_runs import GOAL_SETS, RUNS, all_pages, brute_force, start_run
from tests.mentorships.support import assert_problem

PROPOSALS = "/v1/proposals"
PARIS = ZoneInfo("Europe/Paris")
REASON = "Le mentor déménage à Rennes en janvier."


async def propose(
    client: httpx.AsyncClient, actors: Actors, child: Child, mentor: Mentor, **extra: Any
) -> httpx.Response:
    body = {"child_id": str(child.id), "mentor_id": str(mentor.id), **extra}
    return await client.post(PROPOSALS, json=body, headers=actors.educator_53)


async def decline(
    client: httpx.AsyncClient,
    actors: Actors,
    child: Child,
    mentor: Mentor,
    *,
    by: str = "coordinator_a",
    reason: str = REASON,
) -> dict[str, Any]:
    """An educator proposes the pair, then one side declines it, through the API."""
    response = await propose(client, actors, child, mentor)
    assert response.status_code == 201, response.text
    response = await client.post(
        f"{PROPOSALS}/{response.json()['id']}/decline",
        json={"reason": reason},
        headers=getattr(actors, by),
    )
    assert response.status_code == 200, response.text
    declined: dict[str, Any] = response.json()
    assert declined["status"] == "declined"
    return declined


def declined_on(proposal: dict[str, Any]) -> date:
    """The day of the decline in Mayenne."""
    return datetime.fromisoformat(proposal["decided_at"]).astimezone(PARIS).date()


async def run_pairs(
    client: httpx.AsyncClient,
    actors: Actors,
    children: list[Child],
    mentors: list[Mentor],
    **body: Any,
) -> tuple[dict[str, Any], set[tuple[uuid.UUID, uuid.UUID]]]:
    """A dry run over these children and mentors, and the pairs it proposed."""
    run = await start_run(
        client,
        actors.manager_53,
        dry_run=True,
        child_ids=[str(c.id) for c in children],
        mentor_ids=[str(m.id) for m in mentors],
        **body,
    )
    assert run["status"] == "succeeded", run
    proposals = await all_pages(client, f"{RUNS}/{run['id']}/proposals", actors.manager_53)
    pairs = {(uuid.UUID(p["child_id"]), uuid.UUID(p["mentor_id"])) for p in proposals}
    return run, pairs


async def candidates(
    client: httpx.AsyncClient, headers: dict[str, str], child: Child, **params: Any
) -> dict[str, Any]:
    response = await client.get(
        f"/v1/children/{child.id}/mentor-candidates", params=params, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def set_memory(client: httpx.AsyncClient, actors: Actors, months: int) -> None:
    response = await client.patch(
        "/v1/departements/53", json={"decline_memory_months": months}, headers=actors.manager_53
    )
    assert response.status_code == 200, response.text
    assert response.json()["decline_memory_months"] == months


class TestRuns:
    async def test_a_recent_decline_gives_the_child_another_mentor_or_none_for_that_reason(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child, best = actors.child_53, actors.mentor_a1
        second = await create_mentor(session, association=actors.association_a, goals=["stage"])
        await session.commit()
        _, before = await run_pairs(client, actors, [child], [best, second])
        assert before == {(child.id, best.id)}

        await decline(client, actors, child, best)
        _, after = await run_pairs(client, actors, [child], [best, second])
        assert after == {(child.id, second.id)}

        run, pairs = await run_pairs(client, actors, [child], [best])
        assert pairs == set()
        assert run["figures"]["unmatched_by_reason"] == {"no_feasible_mentor": 1}
        [unmatched] = await all_pages(client, f"{RUNS}/{run['id']}/unmatched", actors.manager_53)
        assert unmatched["reason"] == "no_feasible_mentor"
        assert unmatched["excluded_by_reason"] == {"declined_recently": 1}

    async def test_declines_by_the_educator_side_count_the_same(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        await decline(client, actors, actors.child_53, actors.mentor_a1, by="educator_53")
        _, pairs = await run_pairs(client, actors, [actors.child_53], [actors.mentor_a1])
        assert pairs == set()

    async def test_a_decline_is_remembered_for_six_months_to_the_day(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child, best = actors.child_53, actors.mentor_a1
        second = await create_mentor(session, association=actors.association_a, goals=["stage"])
        await session.commit()
        declined = await decline(client, actors, child, best)
        until = declined_on(declined) + relativedelta(months=6)
        mentors = [best, second]

        _, pairs = await run_pairs(
            client, actors, [child], mentors, run_date=str(until - timedelta(1))
        )
        assert pairs == {(child.id, second.id)}
        _, pairs = await run_pairs(client, actors, [child], mentors, run_date=str(until))
        assert pairs == {(child.id, best.id)}

    async def test_the_memory_ends_on_the_departements_day_even_after_a_31st(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child, best = actors.child_53, actors.mentor_a1
        second = await create_mentor(session, association=actors.association_a, goals=["stage"])
        await session.commit()
        declined = await decline(client, actors, child, best)
        # 31 August in Laval: six months later is the end of February.
        await session.execute(
            update(Proposal)
            .where(Proposal.id == uuid.UUID(declined["id"]))
            .values(decided_at=datetime(2026, 8, 31, 23, 30, tzinfo=PARIS))
        )
        await session.commit()
        until = date(2026, 8, 31) + relativedelta(months=6)
        assert until == date(2027, 2, 28)
        mentors = [best, second]
        _, pairs = await run_pairs(client, actors, [child], mentors, run_date="2027-02-27")
        assert pairs == {(child.id, second.id)}
        _, pairs = await run_pairs(client, actors, [child], mentors, run_date=str(until))
        assert pairs == {(child.id, best.id)}

        # Half past midnight on 1 September in Laval is still 31 August in UTC: the day of the
        # decline is the département's, so the memory runs to 1 March.
        await session.execute(
            update(Proposal)
            .where(Proposal.id == uuid.UUID(declined["id"]))
            .values(decided_at=datetime(2026, 9, 1, 0, 30, tzinfo=PARIS))
        )
        await session.commit()
        _, pairs = await run_pairs(client, actors, [child], mentors, run_date=str(until))
        assert pairs == {(child.id, second.id)}
        _, pairs = await run_pairs(client, actors, [child], mentors, run_date="2027-03-01")
        assert pairs == {(child.id, best.id)}

    async def test_the_departement_setting_sets_the_memory_and_0_turns_it_off(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child, best = actors.child_53, actors.mentor_a1
        second = await create_mentor(session, association=actors.association_a, goals=["stage"])
        await session.commit()
        declined = await decline(client, actors, child, best)
        mentors = [best, second]

        await set_memory(client, actors, 1)
        until = declined_on(declined) + relativedelta(months=1)
        _, pairs = await run_pairs(
            client, actors, [child], mentors, run_date=str(until - timedelta(1))
        )
        assert pairs == {(child.id, second.id)}
        _, pairs = await run_pairs(client, actors, [child], mentors, run_date=str(until))
        assert pairs == {(child.id, best.id)}

        await set_memory(client, actors, 0)
        _, pairs = await run_pairs(client, actors, [child], mentors)
        assert pairs == {(child.id, best.id)}
        body = await candidates(client, actors.educator_53, child)
        assert body["recently_declined"] == 0
        assert [c["declined"] for c in body["candidates"]] == [None, None]

        await set_memory(client, actors, 60)
        _, pairs = await run_pairs(client, actors, [child], mentors)
        assert pairs == {(child.id, second.id)}

    async def test_declines_of_another_pair_or_child_do_not_leak(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child, best = actors.child_53, actors.mentor_a1
        other_child = await create_child(session)
        second = await create_mentor(session, association=actors.association_a, goals=["stage"])
        await session.commit()
        await decline(client, actors, child, best)

        # The other child takes the declined mentor; the child keeps its other pairs.
        _, pairs = await run_pairs(client, actors, [child, other_child], [best, second])
        assert pairs == {(other_child.id, best.id), (child.id, second.id)}
        body = await candidates(client, actors.educator_53, other_child)
        assert body["recently_declined"] == 0
        assert all(c["declined"] is None for c in body["candidates"])
        body = await candidates(client, actors.educator_53, child)
        flagged = {c["mentor_id"] for c in body["candidates"] if c["declined"] is not None}
        assert flagged == {str(best.id)}

    async def test_a_run_is_optimal_among_the_pairs_not_declined(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        children = [actors.child_53] + [
            await create_child(session, goals=goals) for goals in GOAL_SETS
        ]
        mentor_goals = [["orientation"], ["stage", "numerique"], ["emploi", "orientation"]]
        mentors = [actors.mentor_a1] + [
            await create_mentor(session, association=actors.association_a, goals=goals)
            for goals in mentor_goals
        ]
        await session.commit()
        all_goals = [actors.child_53.goals, *GOAL_SETS]
        all_mentor_goals = [actors.mentor_a1.goals, *mentor_goals]
        scores = {
            (i, j): 0.5 * len(set(cg) & set(mg)) / len(cg) + 0.5
            for i, cg in enumerate(all_goals)
            for j, mg in enumerate(all_mentor_goals)
        }
        capacity = dict.fromkeys(range(len(mentors)), 1)
        _, first = await run_pairs(client, actors, children, mentors, min_score=0.6)
        assert len(first) == brute_force(len(children), capacity, scores, 0.6)[0]

        # Decline two of the pairs the run chose: the next run must do without them.
        child_at = {c.id: i for i, c in enumerate(children)}
        mentor_at = {m.id: j for j, m in enumerate(mentors)}
        chosen = sorted(first)[:2]
        for child_id, mentor_id in chosen:
            await decline(
                client, actors, children[child_at[child_id]], mentors[mentor_at[mentor_id]]
            )
        declined = {(child_at[c], mentor_at[m]) for c, m in chosen}
        allowed = {pair: score for pair, score in scores.items() if pair not in declined}
        matched, total = brute_force(len(children), capacity, allowed, 0.6)

        run, second = await run_pairs(client, actors, children, mentors, min_score=0.6)
        assert not {(child_at[c], mentor_at[m]) for c, m in second} & declined
        assert run["figures"]["matched"] == len(second) == matched
        assert abs(run["figures"]["total_score"] - total) < 1e-5


class TestCandidates:
    async def test_recently_declined_mentors_come_last_with_their_decline(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child, best = actors.child_53, actors.mentor_a1
        middle = await create_mentor(
            session, association=actors.association_a, goals=["orientation"]
        )
        last = await create_mentor(session, association=actors.association_a, goals=["stage"])
        await session.commit()
        before = await candidates(client, actors.educator_53, child)
        assert [c["mentor_id"] for c in before["candidates"]] == [
            str(best.id), str(middle.id), str(last.id)
        ]  # fmt: skip

        declined = await decline(client, actors, child, best)
        after = await candidates(client, actors.educator_53, child)
        assert [c["mentor_id"] for c in after["candidates"]] == [
            str(middle.id), str(last.id), str(best.id)
        ]  # fmt: skip
        assert (after["feasible"], after["recently_declined"]) == (3, 1)
        assert after["excluded_by_reason"] == before["excluded_by_reason"]
        flagged = after["candidates"][-1]
        assert flagged["score"] == before["candidates"][0]["score"]
        assert flagged["declined"] == {
            "proposal_id": declined["id"],
            "declined_at": flagged["declined"]["declined_at"],
            "reason": REASON,
            "declined_by_name": flagged["declined"]["declined_by_name"],
            "remembered_until": str(declined_on(declined) + relativedelta(months=6)),
        }
        assert datetime.fromisoformat(flagged["declined"]["declined_at"]) == datetime.fromisoformat(
            declined["decided_at"]
        )
        assert flagged["declined"]["declined_by_name"].startswith("coordinator_a")
        assert all(c["declined"] is None for c in after["candidates"][:-1])

        limited = await candidates(client, actors.educator_53, child, limit=2)
        assert [c["mentor_id"] for c in limited["candidates"]] == [str(middle.id), str(last.id)]
        until = declined_on(declined) + relativedelta(months=6)
        later = await candidates(client, actors.educator_53, child, run_date=str(until))
        assert later["candidates"][0]["mentor_id"] == str(best.id)
        assert later["recently_declined"] == 0

    async def test_a_decline_shows_at_once_whatever_the_mentor_snapshot(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = actors.child_53
        first = await candidates(client, actors.educator_53, child)
        assert first["candidates"][0]["declined"] is None
        await decline(client, actors, child, actors.mentor_a1)
        second = await candidates(client, actors.educator_53, child)
        assert second["candidates"][0]["declined"]["reason"] == REASON


class TestRepropose:
    async def test_refused_naming_the_decline_then_allowed_when_said_and_audited(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child, mentor = actors.child_53, actors.mentor_a1
        declined = await decline(client, actors, child, mentor)
        count = select(func.count()).select_from(Proposal).where(Proposal.child_id == child.id)
        before = await session.scalar(count)

        problem = assert_problem(
            await propose(client, actors, child, mentor), 409, "recently-declined"
        )
        assert problem["reason"] == "declined_recently"
        assert problem["declined_proposal_id"] == declined["id"]
        assert problem["decline_reason"] == REASON
        assert declined_on(declined).isoformat() in problem["detail"]
        assert REASON in problem["detail"]
        until = declined_on(declined) + relativedelta(months=6)
        assert problem["remembered_until"] == until.isoformat()
        problem = assert_problem(
            await propose(client, actors, child, mentor, repropose=False), 409, "recently-declined"
        )
        assert await session.scalar(count) == before

        response = await propose(client, actors, child, mentor, repropose=True)
        assert response.status_code == 201, response.text
        assert await session.scalar(count) == before + 1
        [event] = await audit_events(
            session, action="create", entity_type="proposal", entity_id=response.json()["id"]
        )
        assert event.details == {"reproposes": declined["id"]}

        # The re-proposal is the pair's latest: declining it starts the memory again.
        response = await client.post(
            f"{PROPOSALS}/{response.json()['id']}/decline",
            json={"reason": "Toujours pas."},
            headers=actors.coordinator_a,
        )
        assert response.status_code == 200, response.text
        body = await candidates(client, actors.educator_53, child)
        assert body["candidates"][-1]["declined"]["reason"] == "Toujours pas."
        assert body["candidates"][-1]["declined"]["proposal_id"] == response.json()["id"]

    async def test_a_reproposal_lifts_the_memory_for_runs(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child, mentor = actors.child_53, actors.mentor_a1
        await decline(client, actors, child, mentor)
        response = await propose(client, actors, child, mentor, repropose=True)
        assert response.status_code == 201, response.text
        # Accepted by both sides then ended: the pair is no longer "declined".
        accepted = await client.post(
            f"{PROPOSALS}/{response.json()['id']}/accept", headers=actors.coordinator_a
        )
        assert accepted.status_code == 200, accepted.text
        mentorship_id = accepted.json()["mentorship_id"]
        ended = await client.post(
            f"/v1/mentorships/{mentorship_id}/transitions",
            json={"to": "ended", "reason": "child_choice"},
            headers=actors.educator_53,
        )
        assert ended.status_code == 200, ended.text
        body = await candidates(client, actors.educator_53, child)
        assert body["recently_declined"] == 0

    async def test_no_audit_mark_without_a_remembered_decline(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        response = await propose(client, actors, actors.child_53, actors.mentor_a1, repropose=True)
        assert response.status_code == 201, response.text
        [event] = await audit_events(
            session, action="create", entity_type="proposal", entity_id=response.json()["id"]
        )
        assert event.details is None

    @pytest.mark.parametrize("value", ["true", 1, None])
    async def test_repropose_is_a_boolean(
        self, client: httpx.AsyncClient, actors: Actors, value: object
    ) -> None:
        response = await propose(client, actors, actors.child_53, actors.mentor_a1, repropose=value)
        assert "repropose" in str(assert_problem(response, 422)["errors"])


class TestScope:
    async def test_other_departements_and_the_association_side_see_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = actors.child_53
        await decline(client, actors, child, actors.mentor_a1)
        url = f"/v1/children/{child.id}/mentor-candidates"
        assert_problem(await client.get(url, headers=actors.educator_75), 404)
        for headers in (actors.coordinator_a, actors.mentor_a):
            assert_problem(await client.get(url, headers=headers), 403)
        response = await client.post(
            PROPOSALS,
            json={"child_id": str(child.id), "mentor_id": str(actors.mentor_a1.id),
                  "repropose": True},
            headers=actors.educator_75,
        )  # fmt: skip
        assert_problem(response, 404)
        pending = select(func.count()).select_from(Proposal).where(Proposal.status == "pending")
        assert await session.scalar(pending) == 0

    async def test_only_the_departements_managers_and_admins_change_the_memory(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        manager_75 = await manager_of(session, "75")
        for headers in (manager_75, actors.educator_53, actors.coordinator_a):
            response = await client.patch(
                "/v1/departements/53", json={"decline_memory_months": 1}, headers=headers
            )
            assert_problem(response, 403)
        response = await client.get("/v1/departements/53", headers=actors.coordinator_a)
        assert response.json()["decline_memory_months"] == 6
        response = await client.patch(
            "/v1/departements/53", json={"decline_memory_months": 12}, headers=actors.admin
        )
        assert response.status_code == 200, response.text
        assert response.json()["decline_memory_months"] == 12

    @pytest.mark.parametrize("value", [-1, 61, "6", 1.5, True, None])
    async def test_bad_memories_are_problems_and_change_nothing(
        self, client: httpx.AsyncClient, actors: Actors, value: object
    ) -> None:
        response = await client.patch(
            "/v1/departements/53", json={"decline_memory_months": value}, headers=actors.admin
        )
        problem = assert_problem(response, 422)
        assert "decline_memory_months" in str(problem["errors"])
        response = await client.get("/v1/departements/53", headers=actors.admin)
        assert response.json()["decline_memory_months"] == 6


# --------------------------------------------------------------------------- run parameters

CHILD_SLOTS = [("wednesday", "14:00", "18:00"), ("saturday", "10:00", "12:00")]  # factories


def half_hours(first: list[tuple[str, str, str]], second: list[tuple[str, str, str]]) -> int:
    """Half hours a week both have, from the slots as written."""

    def minutes(time: str) -> int:
        hours, mins = time.split(":")
        return int(hours) * 60 + int(mins)

    common = 0
    for day, start, end in first:
        for other_day, other_start, other_end in second:
            if day == other_day:
                overlap = min(minutes(end), minutes(other_end))
                overlap -= max(minutes(start), minutes(other_start))
                common += max(0, overlap) // 30
    return common


def expected_score(
    child_goals: list[str],
    mentor: dict[str, Any],
    weights: dict[str, float],
    needed_hours: float,
) -> tuple[float, dict[str, float]]:
    """The README's score, computed from the records as written."""
    km = ref_haversine(48.0707, -0.7734, mentor["latitude"], mentor["longitude"])
    components = {
        "goals": len(set(child_goals) & set(mentor["goals"])) / len(child_goals),
        "distance": max(0.0, 1 - km / mentor["travel_radius_km"]),
        "availability": min(1.0, half_hours(CHILD_SLOTS, mentor["slots"]) / (2 * needed_hours)),
    }
    return sum(weights[name] * value for name, value in components.items()), components


MENTORS = {
    "near_few_hours": {
        "latitude": 48.0707, "longitude": -0.7734, "travel_radius_km": 20.0,
        "goals": ["orientation"], "slots": [("wednesday", "14:00", "15:00")],
    },
    "five_km": {
        "latitude": 48.1207, "longitude": -0.7734, "travel_radius_km": 20.0,
        "goals": ["orientation", "confiance"], "slots": CHILD_SLOTS,
    },
    "seven_km": {
        "latitude": 48.0707, "longitude": -0.6734, "travel_radius_km": 10.0,
        "goals": ["confiance", "numerique"],
        "slots": [("wednesday", "14:00", "16:00"), ("sunday", "10:00", "12:00")],
    },
}  # fmt: skip
WEIGHTS = {"goals": 0.2, "distance": 0.5, "availability": 0.3}


class TestCandidatesUnderRunParameters:
    async def test_scores_order_and_min_score_as_computed_from_the_records(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentors = {
            name: await create_mentor(
                session,
                association=actors.association_a,
                availability=availability(
                    [WeeklySlot(day=d, start=s, end=e) for d, s, e in values["slots"]]
                ),
                **{k: v for k, v in values.items() if k != "slots"},
            )
            for name, values in MENTORS.items()
        }
        await session.commit()
        records = {str(mentor.id): MENTORS[name] for name, mentor in mentors.items()}
        records[str(actors.mentor_a1.id)] = {
            "latitude": 48.0707, "longitude": -0.7734, "travel_radius_km": 20.0,
            "goals": actors.mentor_a1.goals, "slots": CHILD_SLOTS,
        }  # fmt: skip
        child_goals = actors.child_53.goals
        needed_hours = 3.0
        expected = {
            mentor_id: expected_score(child_goals, record, WEIGHTS, needed_hours)
            for mentor_id, record in records.items()
        }
        scores = sorted(score for score, _ in expected.values())
        min_score = round((scores[0] + scores[1]) / 2, 6)  # leaves the lowest out
        params = {f"weights.{name}": value for name, value in WEIGHTS.items()}
        body = await candidates(
            client, actors.educator_53, actors.child_53,
            **params, min_score=min_score, needed_hours=needed_hours,
        )  # fmt: skip

        kept = sorted(
            (m for m in expected if expected[m][0] >= min_score),
            key=lambda m: (-expected[m][0], m),
        )
        assert [c["mentor_id"] for c in body["candidates"]] == kept
        assert body["feasible"] == len(expected)
        assert body["below_min_score"] == len(expected) - len(kept) == 1
        for candidate in body["candidates"]:
            score, components = expected[candidate["mentor_id"]]
            assert candidate["score"] == pytest.approx(score, abs=2e-4)
            explanation = candidate["explanation"]
            assert explanation["weights"] == WEIGHTS
            assert explanation["needed_hours"] == needed_hours
            for name, value in components.items():
                assert explanation["components"][name] == pytest.approx(value, abs=2e-4)

        # The run's own explanation of a pair, under the same parameters, is the candidate's.
        for candidate in body["candidates"]:
            run = await start_run(
                client, actors.manager_53, dry_run=True, weights=WEIGHTS, min_score=0,
                needed_hours=needed_hours, child_ids=[str(actors.child_53.id)],
                mentor_ids=[candidate["mentor_id"]],
            )  # fmt: skip
            [proposal] = await all_pages(client, f"{RUNS}/{run['id']}/proposals", actors.manager_53)
            assert proposal["score"] == candidate["score"]
            assert proposal["explanation"] == candidate["explanation"]

    async def test_defaults_are_a_runs(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        await create_mentor(session, association=actors.association_a, **{
            k: v for k, v in MENTORS["seven_km"].items() if k != "slots"
        })  # fmt: skip
        await session.commit()
        plain = await candidates(client, actors.educator_53, actors.child_53)
        explicit = await candidates(
            client, actors.educator_53, actors.child_53,
            **{"weights.goals": 0.5, "weights.distance": 0.3, "weights.availability": 0.2},
            needed_hours=2,
        )  # fmt: skip
        assert plain == explicit
        assert plain["below_min_score"] == 0
        # One weight given: the others keep their defaults, and must still sum to 1.
        shifted = await candidates(
            client, actors.educator_53, actors.child_53,
            **{"weights.goals": 0.4, "weights.distance": 0.4},
        )  # fmt: skip
        assert shifted["candidates"][0]["explanation"]["weights"] == {
            "goals": 0.4, "distance": 0.4, "availability": 0.2,
        }  # fmt: skip

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"weights.goals": 2}, "weights.goals"),
            ({"weights.goals": -0.1}, "weights.goals"),
            ({"weights.goals": 0.9}, "weights"),  # sums to 1.4
            ({"weights.goals": "nan"}, "weights.goals"),
            ({"weights.distance": "inf"}, "weights.distance"),
            ({"weights.availability": "0x1"}, "weights.availability"),
            ({"weights.availability": ""}, "weights.availability"),
            ({"min_score": 1.5}, "min_score"),
            ({"min_score": "high"}, "min_score"),
            ({"needed_hours": 0}, "needed_hours"),
            ({"needed_hours": 0.75}, "needed_hours"),
            ({"needed_hours": 21}, "needed_hours"),
            ({"needed_hours": "1_0"}, "needed_hours"),
            ({"weights.foo": 0.1}, "weights.foo"),
            ({"weights": 0.1}, "weights"),
        ],
    )
    async def test_bad_values_are_problems(
        self, client: httpx.AsyncClient, actors: Actors, params: dict[str, Any], field: str
    ) -> None:
        response = await client.get(
            f"/v1/children/{actors.child_53.id}/mentor-candidates",
            params=params,
            headers=actors.educator_53,
        )
        problem = assert_problem(response, 422)
        assert field in {str(error["loc"][-1]) for error in problem["errors"]}, problem
