"""Publishing a dry run: its simulated proposals, checked again as of today, become pending."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.errors import Conflict
from mentorat.kit.clock import today_in
from mentorat.matching import publishing
from mentorat.models import Proposal
from tests.conftest import run_queued_jobs
from tests.factories import Actors, create_association, create_child, create_mentor
from tests.matching_api.test_runs import all_pages
from tests.mentorships.support import assert_problem, count

RUNS = "/v1/matching-runs"


async def dry_run(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A dry run through the API, finished, and its simulated proposals."""
    response = await client.post(RUNS, json={"dry_run": True, **body}, headers=headers)
    assert response.status_code == 202, response.text
    await run_queued_jobs(client)
    run = (await client.get(f"{RUNS}/{response.json()['id']}", headers=headers)).json()
    assert run["status"] == "succeeded", run
    proposals = await all_pages(client, f"{RUNS}/{run['id']}/proposals", headers)
    assert proposals and {p["status"] for p in proposals} == {"simulated"}
    return run, proposals


async def listed(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    """Every page of /v1/proposals with these filters, two at a time."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/v1/proposals", params=query, headers=headers)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items


async def publish(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    run_id: str,
    proposal_ids: list[str] | None = None,
) -> httpx.Response:
    body = None if proposal_ids is None else {"proposal_ids": proposal_ids}
    return await client.post(f"{RUNS}/{run_id}/publish", json=body, headers=headers)


async def statuses(session: AsyncSession, run_id: str) -> dict[str, tuple[str, int]]:
    """Each proposal of the run: its status and version (what a refused publication keeps)."""
    rows = await session.execute(
        text("SELECT id, status, version FROM proposal WHERE run_id = :run"), {"run": run_id}
    )
    return {str(row.id): (row.status, row.version) for row in rows}


async def created_events(session: AsyncSession, proposal_ids: list[str]) -> int:
    return await count(
        session,
        "event",
        "type = 'proposal.created' AND entity_id::text = ANY(:ids)",
        ids=proposal_ids,
    )


async def scene(
    session: AsyncSession, actors: Actors, n: int, **mentor: Any
) -> tuple[list[str], list[str]]:
    """`n` children and `n` mentors of association A in 53, every pair feasible."""
    children = [await create_child(session) for _ in range(n)]
    mentors = [
        await create_mentor(session, association=actors.association_a, **mentor) for _ in range(n)
    ]
    await session.commit()
    return [str(c.id) for c in children], [str(m.id) for m in mentors]


class TestPublishAll:
    async def test_every_simulated_proposal_becomes_pending_awaiting_both_consents(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child_ids, mentor_ids = await scene(session, actors, 3)
        run, simulated = await dry_run(
            client, actors.manager_53, child_ids=child_ids, mentor_ids=mentor_ids
        )
        ids = sorted(p["id"] for p in simulated)

        response = await publish(client, actors.manager_53, run["id"])

        assert response.status_code == 200, response.text
        body = response.json()
        assert sorted(body["proposal_ids"]) == ids
        assert body["published"] == len(ids) and body["still_simulated"] == 0
        for before in simulated:
            after = await client.get(f"/v1/proposals/{before['id']}", headers=actors.manager_53)
            after = after.json()
            assert after["status"] == "pending"
            assert after["validated_at"] is None and after["mentor_accepted_at"] is None
            assert after["published_at"] == body["published_at"]
            # Nothing changed since the run: today's score is the run's.
            assert abs(after["score"] - before["score"]) < 1e-6
        pending = await listed(client, actors.manager_53, status="pending")
        assert set(ids) <= {p["id"] for p in pending}
        ran = (await client.get(f"{RUNS}/{run['id']}", headers=actors.manager_53)).json()
        assert ran["published_count"] == len(ids)
        assert ran["published_at"] == body["published_at"]
        assert ran["published_by_name"] == body["published_by_name"]
        assert await created_events(session, ids) == len(ids)
        published = (
            "entity_type = 'matching_run' AND entity_id = :run AND details->>'step' = 'published'"
        )
        assert await count(session, "audit_event", published, run=run["id"]) == 1
        # The mentor's side now sees them, and may accept.
        seen = await listed(client, actors.coordinator_a)
        assert set(ids) <= {p["id"] for p in seen}

    async def test_published_proposals_hold_their_children_and_places(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child_ids, mentor_ids = await scene(session, actors, 2)
        run, _ = await dry_run(
            client, actors.manager_53, child_ids=child_ids, mentor_ids=mentor_ids
        )
        assert (await publish(client, actors.manager_53, run["id"])).status_code == 200
        held = await count(
            session, "proposal", "status = 'pending' AND child_id::text = ANY(:ids)", ids=child_ids
        )
        assert held == 2
        places = await count(
            session, "mentor", "places_held = 1 AND id::text = ANY(:ids)", ids=mentor_ids
        )
        assert places == 2


class TestPublishConflicts:
    async def test_every_pair_no_longer_possible_is_listed_and_nothing_changes(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        # Six pairs; five of them then become impossible, each in its own way.
        association_d = await create_association(session, departements=("53",))
        child_ids, mentor_ids = await scene(session, actors, 5)
        mentor_d = await create_mentor(session, association=association_d)
        child_f = await create_child(session)
        await session.commit()
        run, simulated = await dry_run(
            client,
            actors.manager_53,
            child_ids=[*child_ids, str(child_f.id)],
            mentor_ids=[*mentor_ids, str(mentor_d.id)],
        )
        assert len(simulated) == 6
        by_mentor = {p["mentor_id"]: p for p in simulated}
        agreement_ended = by_mentor[str(mentor_d.id)]
        capacity_taken, child_taken, honorability, excluded, still_fine = (
            by_mentor[m] for m in mentor_ids
        )
        yesterday = today_in("53") - timedelta(days=1)

        # Capacity taken since: another child is proposed to the mentor.
        other_child = await create_child(session)
        other_mentor = await create_mentor(session, association=actors.association_a)
        await session.commit()
        response = await client.post(
            "/v1/proposals",
            json={"child_id": str(other_child.id), "mentor_id": capacity_taken["mentor_id"]},
            headers=actors.educator_53,
        )
        assert response.status_code == 201, response.text
        # The child matched elsewhere: proposed to another mentor.
        response = await client.post(
            "/v1/proposals",
            json={"child_id": child_taken["child_id"], "mentor_id": str(other_mentor.id)},
            headers=actors.educator_53,
        )
        assert response.status_code == 201, response.text
        # The mentor's honorability check expired yesterday.
        await session.execute(
            text("UPDATE mentor SET honorability_valid_until = :day WHERE id = :id"),
            {"day": yesterday, "id": honorability["mentor_id"]},
        )
        # The association's agreement with the département ended yesterday.
        await session.execute(
            text("UPDATE association_agreement SET valid_until = :day WHERE association_id = :a"),
            {"day": yesterday, "a": association_d.id},
        )
        await session.commit()
        # An educator excluded the pair.
        response = await client.post(
            f"/v1/children/{excluded['child_id']}/exclusions",
            json={"mentor_id": excluded["mentor_id"], "reason": "Voisin de la famille."},
            headers=actors.educator_53,
        )
        assert response.status_code == 201, response.text
        before = await statuses(session, run["id"])

        response = await publish(client, actors.manager_53, run["id"])

        body = assert_problem(response, 409, "pairs-no-longer-possible")
        expected = {
            capacity_taken["id"]: "no_capacity_left",
            child_taken["id"]: "child_held_elsewhere",
            honorability["id"]: "no_valid_honorability_check",
            agreement_ended["id"]: "no_agreement",
            excluded["id"]: "pair_excluded",
        }
        assert {r["proposal_id"]: r["reason"] for r in body["refused"]} == expected
        for refused in body["refused"]:
            pair = next(p for p in simulated if p["id"] == refused["proposal_id"])
            assert (refused["child_id"], refused["mentor_id"]) == (
                pair["child_id"],
                pair["mentor_id"],
            )
        assert await statuses(session, run["id"]) == before
        assert await created_events(session, list(before)) == 0
        ran = (await client.get(f"{RUNS}/{run['id']}", headers=actors.manager_53)).json()
        assert ran["published_count"] == 0 and ran["published_at"] is None

        # What remains possible is published on its own.
        response = await publish(client, actors.manager_53, run["id"], [still_fine["id"]])
        assert response.status_code == 200, response.text
        assert response.json()["proposal_ids"] == [still_fine["id"]]
        assert response.json()["still_simulated"] == 5
        after = await statuses(session, run["id"])
        assert after[still_fine["id"]][0] == "pending"
        assert {status for pid, (status, _) in after.items() if pid != still_fine["id"]} == {
            "simulated"
        }

    async def test_a_child_who_left_care_and_a_mentor_who_left(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child_ids, mentor_ids = await scene(session, actors, 3)
        run, simulated = await dry_run(
            client, actors.manager_53, child_ids=child_ids, mentor_ids=mentor_ids
        )
        left_care, mentor_left, _ = simulated
        await session.execute(
            text("UPDATE child SET left_care_on = :day WHERE id = :id"),
            {"day": today_in("53") - timedelta(days=1), "id": left_care["child_id"]},
        )
        await session.execute(
            text("UPDATE mentor SET deleted_at = now() WHERE id = :id"),
            {"id": mentor_left["mentor_id"]},
        )
        await session.commit()
        before = await statuses(session, run["id"])

        body = assert_problem(await publish(client, actors.manager_53, run["id"]), 409)

        assert {r["proposal_id"]: r["reason"] for r in body["refused"]} == {
            left_care["id"]: "child_not_eligible",
            mentor_left["id"]: "mentor_inactive",
        }
        assert await statuses(session, run["id"]) == before

    async def test_a_pair_declined_since_the_dry_run_is_refused(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        """The département remembers declines: a pair proposed for real and declined after the
        dry run is not published from it."""
        child_ids, mentor_ids = await scene(session, actors, 2)
        run, simulated = await dry_run(
            client, actors.manager_53, child_ids=child_ids, mentor_ids=mentor_ids
        )
        declined_pair, kept = simulated
        pair = {"child_id": declined_pair["child_id"], "mentor_id": declined_pair["mentor_id"]}
        response = await client.post("/v1/proposals", json=pair, headers=actors.educator_53)
        assert response.status_code == 201, response.text
        response = await client.post(
            f"/v1/proposals/{response.json()['id']}/decline",
            json={"reason": "The family prefers someone closer."},
            headers=actors.educator_53,
        )
        assert response.status_code == 200, response.text
        before = await statuses(session, run["id"])

        body = assert_problem(await publish(client, actors.manager_53, run["id"]), 409)

        assert {r["proposal_id"]: r["reason"] for r in body["refused"]} == {
            declined_pair["id"]: "declined_recently"
        }
        assert await statuses(session, run["id"]) == before
        response = await publish(client, actors.manager_53, run["id"], [kept["id"]])
        assert response.status_code == 200, response.text

    async def test_places_this_publication_takes_count_in_score_order(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        # One mentor with two places and two children: the better pair keeps the last place.
        mentor = await create_mentor(
            session, association=actors.association_a, capacity=2, goals=["orientation"]
        )
        better = await create_child(session, goals=["orientation"])
        worse = await create_child(session, goals=["emploi"])
        await session.commit()
        run, simulated = await dry_run(
            client,
            actors.manager_53,
            child_ids=[str(better.id), str(worse.id)],
            mentor_ids=[str(mentor.id)],
        )
        by_child = {p["child_id"]: p for p in simulated}
        assert by_child[str(better.id)]["score"] > by_child[str(worse.id)]["score"]
        third = await create_child(session)
        await session.commit()
        response = await client.post(
            "/v1/proposals",
            json={"child_id": str(third.id), "mentor_id": str(mentor.id)},
            headers=actors.educator_53,
        )
        assert response.status_code == 201, response.text

        response = await publish(client, actors.manager_53, run["id"])

        body = assert_problem(response, 409, "pairs-no-longer-possible")
        assert [(r["proposal_id"], r["reason"]) for r in body["refused"]] == [
            (by_child[str(worse.id)]["id"], "no_capacity_left")
        ]
        response = await publish(
            client, actors.manager_53, run["id"], [by_child[str(better.id)]["id"]]
        )
        assert response.status_code == 200, response.text


class TestPublishRace:
    async def test_a_pair_taken_after_the_check_is_refused_by_postgresql(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        """Between the check and the write, another writer takes the child: the write itself
        is refused (a 409), whatever the check said."""
        child_ids, mentor_ids = await scene(session, actors, 1)
        run, (simulated,) = await dry_run(
            client, actors.manager_53, child_ids=child_ids, mentor_ids=mentor_ids
        )
        other_mentor = await create_mentor(session, association=actors.association_a)
        await session.commit()
        response = await client.post(
            "/v1/proposals",
            json={"child_id": simulated["child_id"], "mentor_id": str(other_mentor.id)},
            headers=actors.educator_53,
        )
        assert response.status_code == 201, response.text
        proposal = await session.scalar(select(Proposal).where(Proposal.id == simulated["id"]))
        assert proposal is not None
        today = publishing.Rescored(simulated["score"], simulated["explanation"])
        with pytest.raises(Conflict):
            async with session.begin_nested():
                await publishing._make_pending(
                    session, [proposal], {proposal.id: today}, datetime.now(UTC)
                )
        assert (await statuses(session, run["id"]))[simulated["id"]][0] == "simulated"


class TestPublishRules:
    async def test_a_subset_then_the_rest(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child_ids, mentor_ids = await scene(session, actors, 3)
        run, simulated = await dry_run(
            client, actors.manager_53, child_ids=child_ids, mentor_ids=mentor_ids
        )
        first = simulated[0]["id"]
        response = await publish(client, actors.manager_53, run["id"], [first, first])
        assert response.status_code == 200, response.text
        assert response.json()["proposal_ids"] == [first]
        assert response.json()["still_simulated"] == 2
        after = await statuses(session, run["id"])
        assert [pid for pid, (status, _) in after.items() if status == "pending"] == [first]
        assert await created_events(session, list(after)) == 1

        response = await publish(client, actors.manager_53, run["id"])
        assert response.status_code == 200, response.text
        assert sorted(response.json()["proposal_ids"]) == sorted(
            p["id"] for p in simulated if p["id"] != first
        )
        ran = (await client.get(f"{RUNS}/{run['id']}", headers=actors.manager_53)).json()
        assert ran["published_count"] == 3

    async def test_publishing_twice_is_a_409(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child_ids, mentor_ids = await scene(session, actors, 2)
        run, simulated = await dry_run(
            client, actors.manager_53, child_ids=child_ids, mentor_ids=mentor_ids
        )
        assert (await publish(client, actors.manager_53, run["id"])).status_code == 200
        before = await statuses(session, run["id"])

        assert_problem(await publish(client, actors.manager_53, run["id"]), 409)
        body = assert_problem(
            await publish(client, actors.manager_53, run["id"], [simulated[0]["id"]]), 409
        )
        assert body["published"] == [simulated[0]["id"]]
        assert await statuses(session, run["id"]) == before
        assert await created_events(session, list(before)) == 2

    async def test_ids_not_of_the_run_are_a_422(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child_ids, mentor_ids = await scene(session, actors, 2)
        run, simulated = await dry_run(
            client, actors.manager_53, child_ids=child_ids, mentor_ids=mentor_ids
        )
        other, _ = await dry_run(client, actors.manager_53, child_ids=child_ids[:1])
        foreign = await all_pages(client, f"{RUNS}/{other['id']}/proposals", actors.manager_53)
        before = await statuses(session, run["id"])
        for ids in ([str(uuid.uuid4())], [simulated[0]["id"], foreign[0]["id"]]):
            body = assert_problem(await publish(client, actors.manager_53, run["id"], ids), 422)
            assert body["errors"][0]["loc"] == ["body", "proposal_ids"]
        for bad in ({"proposal_ids": []}, {"proposal_ids": ["x"]}, {"other": 1}):
            response = await client.post(
                f"{RUNS}/{run['id']}/publish", json=bad, headers=actors.manager_53
            )
            assert_problem(response, 422)
        assert await statuses(session, run["id"]) == before

    async def test_only_a_succeeded_dry_run_is_published(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child_ids, mentor_ids = await scene(session, actors, 1)
        response = await client.post(
            RUNS, json={"child_ids": child_ids, "mentor_ids": mentor_ids}, headers=actors.manager_53
        )
        assert response.status_code == 202, response.text
        await run_queued_jobs(client)
        real = response.json()["id"]
        assert_problem(await publish(client, actors.manager_53, real), 409)
        await session.execute(
            text(
                "INSERT INTO matching_run (departement_code, requested_by_name, status, phase,"
                " objective, min_score, weights, dry_run, run_date, finished_at, error_code,"
                " error) VALUES ('53', 'x', 'failed', 'failed', 'coverage_first', 0.3,"
                ' \'{"goals": 0.5, "distance": 0.3, "availability": 0.2}\', true,'
                " current_date, now(), 'internal_error', 'x') RETURNING id"
            )
        )
        failed = await session.scalar(
            text("SELECT id FROM matching_run WHERE status = 'failed' AND requested_by_name = 'x'")
        )
        await session.commit()
        assert_problem(await publish(client, actors.manager_53, str(failed)), 409)

    async def test_scope_and_roles(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        run, _ = await dry_run(client, actors.admin, departement_code="75")
        before = await statuses(session, run["id"])
        assert_problem(await publish(client, actors.manager_53, run["id"]), 404)
        assert_problem(await publish(client, actors.manager_53, str(uuid.uuid4())), 404)
        for who in (actors.educator_75, actors.coordinator_b, actors.mentor_a):
            assert_problem(await publish(client, who, run["id"]), 403)
        assert await statuses(session, run["id"]) == before
        response = await publish(client, actors.admin, run["id"])
        assert response.status_code == 200, response.text


class TestSimulatedStayOutOfLists:
    async def test_listed_only_with_their_run_id(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child_ids, mentor_ids = await scene(session, actors, 3)
        run, simulated = await dry_run(
            client, actors.manager_53, child_ids=child_ids, mentor_ids=mentor_ids
        )
        ids = {p["id"] for p in simulated}
        for headers in (actors.manager_53, actors.educator_53, actors.admin):
            everything = await listed(client, headers)
            assert not ids & {p["id"] for p in everything}
            assert not ids & {p["id"] for p in await listed(client, headers, status="simulated")}
            by_run = await listed(client, headers, run_id=run["id"])
            assert {p["id"] for p in by_run} == ids
            assert {p["status"] for p in by_run} == {"simulated"}
        # The association side never sees a simulated proposal, even by its run.
        for headers in (actors.coordinator_a, actors.mentor_a):
            assert await listed(client, headers, run_id=run["id"]) == []
        # Another département's manager lists nothing of the run.
        other = await client.get(
            "/v1/proposals", params={"run_id": run["id"]}, headers=actors.educator_75
        )
        assert other.status_code == 200 and other.json()["items"] == []

    async def test_a_cursor_is_bound_to_its_run_filter(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child_ids, mentor_ids = await scene(session, actors, 3)
        run, _ = await dry_run(
            client, actors.manager_53, child_ids=child_ids, mentor_ids=mentor_ids
        )
        page = await client.get(
            "/v1/proposals", params={"run_id": run["id"], "limit": 1}, headers=actors.manager_53
        )
        cursor = page.json()["next_cursor"]
        assert cursor
        response = await client.get(
            "/v1/proposals", params={"cursor": cursor, "limit": 1}, headers=actors.manager_53
        )
        assert_problem(response, 422)
        response = await client.get(
            "/v1/proposals",
            params={"run_id": run["id"], "cursor": cursor, "limit": 1},
            headers=actors.manager_53,
        )
        assert response.status_code == 200, response.text
