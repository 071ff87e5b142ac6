"""Real races: committed data, one connection and one transaction per request.

Both requests of a race go through asyncio.gather, so they run their reads in lockstep and
both pass the application's checks; PostgreSQL (the places trigger locking the mentor row,
the idempotency row's primary key) must serialise them, and the loser gets a 409 or a replay.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

import httpx
from sqlalchemy import text

from mentorat.auth.principal import Role
from tests.mentorships.conftest import Committed

ROUNDS = int(os.environ.get("MENTORAT_RACE_ROUNDS", "4"))
PROBLEM = "application/problem+json"
INSERT_PENDING = text(
    "INSERT INTO proposal (child_id, mentor_id, departement_code, status, score, explanation) "
    "VALUES (:child, :mentor, :departement, 'pending', 0.5, '{}'::jsonb)"
)


async def _propose(
    data: Committed, headers: dict[str, str], child: uuid.UUID, mentor: uuid.UUID
) -> httpx.Response:
    return await data.client.post(
        "/v1/proposals", json={"child_id": str(child), "mentor_id": str(mentor)}, headers=headers
    )


async def _pending(data: Committed, mentor: uuid.UUID) -> int:
    return int(
        await data.scalar(
            "SELECT count(*) FROM proposal WHERE mentor_id = :m AND status = 'pending'", m=mentor
        )
    )


async def _mentorship(
    data: Committed,
    educator: dict[str, str],
    coordinator: dict[str, str],
    mentor: uuid.UUID,
) -> str:
    response = await _propose(data, educator, await data.child(), mentor)
    assert response.status_code == 201, response.text
    response = await data.client.post(
        f"/v1/proposals/{response.json()['id']}/accept", headers=coordinator
    )
    assert response.status_code == 200, response.text
    return str(response.json()["mentorship_id"])


async def _move(
    data: Committed, headers: dict[str, str], mentorship_id: str, to: str
) -> httpx.Response:
    return await data.client.post(
        f"/v1/mentorships/{mentorship_id}/transitions", json={"to": to}, headers=headers
    )


class TestProposalRace:
    async def test_one_place_two_children_exactly_one_wins(self, committed: Committed) -> None:
        association = await committed.association()
        educator = await committed.bearer(Role.educator, departement_code=committed.departement)
        refused_by_postgresql = 0
        for round_ in range(ROUNDS):
            mentor = await committed.mentor(association, capacity=1)
            first, second = await committed.child(), await committed.child()
            responses = await asyncio.gather(
                _propose(committed, educator, first, mentor),
                _propose(committed, educator, second, mentor),
            )
            statuses = sorted(response.status_code for response in responses)
            assert statuses == [201, 409], (round_, [r.text for r in responses])
            loser = next(r for r in responses if r.status_code == 409)
            assert loser.headers["content-type"] == PROBLEM
            # The application's own check answers with a reason; the trigger's refusal has none.
            refused_by_postgresql += "reason" not in loser.json()
            assert await _pending(committed, mentor) == 1
            winner = next(r for r in responses if r.status_code == 201).json()
            assert winner["mentor_id"] == str(mentor) and winner["status"] == "pending"
        # The requests really overlapped: at least once both passed the application's check
        # and PostgreSQL refused the second.
        assert refused_by_postgresql >= 1

    async def test_two_places_two_children_both_win(self, committed: Committed) -> None:
        """The lock serialises, it does not refuse: with room for both, both get in."""
        association = await committed.association()
        educator = await committed.bearer(Role.educator, departement_code=committed.departement)
        mentor = await committed.mentor(association, capacity=2)
        first, second = await committed.child(), await committed.child()
        responses = await asyncio.gather(
            _propose(committed, educator, first, mentor),
            _propose(committed, educator, second, mentor),
        )
        assert [r.status_code for r in responses] == [201, 201], [r.text for r in responses]
        assert await _pending(committed, mentor) == 2


class TestLockOrder:
    async def test_the_places_check_does_not_wait_for_a_foreign_key_lock(
        self, committed: Committed
    ) -> None:
        """Every INSERT referencing a mentor (proposal, mentorship) first takes FOR KEY SHARE
        on the mentor row (its foreign key check), then the places trigger locks that row.
        Were that lock FOR UPDATE, it would wait for the KEY SHARE of a concurrent INSERT
        caught between the two steps, which in turn waits for it: a deadlock (a 500 to one
        of two educators proposing the same mentor). This replays that interleaving."""
        association = await committed.association()
        mentor = await committed.mentor(association, capacity=2)
        first, second = await committed.child(), await committed.child()
        values = {"mentor": mentor, "departement": committed.departement}
        engine = committed.database.engine
        async with engine.connect() as other, engine.connect() as writer:
            # The other INSERT, between its foreign key check and its places check.
            await other.execute(
                text("SELECT 1 FROM mentor WHERE id = :m FOR KEY SHARE"), {"m": mentor}
            )
            await writer.execute(text("SET LOCAL lock_timeout = '3s'"))
            await writer.execute(INSERT_PENDING, values | {"child": first})  # must not wait
            # The other one's places check now queues behind the writer, then gets in.
            pending = asyncio.create_task(other.execute(INSERT_PENDING, values | {"child": second}))
            await asyncio.sleep(0.2)
            assert not pending.done()
            await writer.commit()
            await pending
            await other.commit()
        assert await _pending(committed, mentor) == 2


class TestCapacityRace:
    async def test_lowering_capacity_while_a_proposal_comes_in(self, committed: Committed) -> None:
        """A mentor with 2 places holds 1; lowering to 1 and taking the second place race:
        exactly one wins, and the places held never exceed the capacity."""
        association = await committed.association()
        educator = await committed.bearer(Role.educator, departement_code=committed.departement)
        coordinator = await committed.bearer(Role.coordinator, association_id=association)
        outcomes = set()
        for round_ in range(ROUNDS):
            mentor = await committed.mentor(association, capacity=2)
            response = await _propose(committed, educator, await committed.child(), mentor)
            assert response.status_code == 201, response.text
            lower, proposal = await asyncio.gather(
                committed.client.patch(
                    f"/v1/mentors/{mentor}", json={"capacity": 1}, headers=coordinator
                ),
                _propose(committed, educator, await committed.child(), mentor),
            )
            pair = (lower.status_code, proposal.status_code)
            assert pair in {(200, 409), (409, 201)}, (round_, lower.text, proposal.text)
            outcomes.add(pair)
            capacity = await committed.scalar("SELECT capacity FROM mentor WHERE id = :m", m=mentor)
            assert capacity == (1 if lower.status_code == 200 else 2)
            assert await _pending(committed, mentor) == (1 if lower.status_code == 200 else 2)

    async def test_resuming_two_paused_mentorships_for_one_place(
        self, committed: Committed
    ) -> None:
        """Pausing frees the place, so one mentor can hold two paused mentorships; resuming
        both at once gives exactly one back its place."""
        association = await committed.association()
        educator = await committed.bearer(Role.educator, departement_code=committed.departement)
        coordinator = await committed.bearer(Role.coordinator, association_id=association)
        mentor = await committed.mentor(association, capacity=1)
        ids = []
        for _ in range(2):
            mentorship_id = await _mentorship(committed, educator, coordinator, mentor)
            for to in ("active", "paused"):
                response = await _move(committed, educator, mentorship_id, to)
                assert response.status_code == 200, response.text
            ids.append(mentorship_id)
        responses = await asyncio.gather(*(_move(committed, educator, m, "active") for m in ids))
        assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
        states = await committed.scalar(
            "SELECT array_agg(state ORDER BY state) FROM mentorship WHERE mentor_id = :m",
            m=mentor,
        )
        assert states == ["active", "paused"]

    async def test_two_acceptances_for_a_mentor_with_two_places(self, committed: Committed) -> None:
        """Each place passes from its proposal to its mentorship without counting twice."""
        association = await committed.association()
        educator = await committed.bearer(Role.educator, departement_code=committed.departement)
        coordinator = await committed.bearer(Role.coordinator, association_id=association)
        mentor = await committed.mentor(association, capacity=2)
        proposals = []
        for _ in range(2):
            response = await _propose(committed, educator, await committed.child(), mentor)
            assert response.status_code == 201, response.text
            proposals.append(response.json()["id"])
        responses = await asyncio.gather(
            *(
                committed.client.post(f"/v1/proposals/{p}/accept", headers=coordinator)
                for p in proposals
            )
        )
        assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
        live = await committed.scalar(
            "SELECT count(*) FROM mentorship WHERE mentor_id = :m AND state = 'accepted'", m=mentor
        )
        assert live == 2 and await _pending(committed, mentor) == 0


class TestIdempotencyRace:
    async def _setup(self, committed: Committed) -> tuple[dict[str, str], uuid.UUID, uuid.UUID]:
        association = await committed.association()
        educator = await committed.bearer(Role.educator, departement_code=committed.departement)
        mentor = await committed.mentor(association, capacity=3)
        return educator, await committed.child(), mentor

    async def test_same_key_same_body_at_once_creates_one(self, committed: Committed) -> None:
        educator, child, mentor = await self._setup(committed)
        headers = educator | {"Idempotency-Key": f"race-{uuid.uuid4()}"}
        body: dict[str, Any] = {"child_id": str(child), "mentor_id": str(mentor)}
        responses = await asyncio.gather(
            committed.client.post("/v1/proposals", json=body, headers=headers),
            committed.client.post("/v1/proposals", json=body, headers=headers),
        )
        assert [r.status_code for r in responses] == [201, 201], [r.text for r in responses]
        first, second = (r.json() for r in responses)
        assert first == second
        replayed = sorted(r.headers.get("Idempotent-Replayed", "no") for r in responses)
        assert replayed == ["no", "true"]
        assert {r.headers["Location"] for r in responses} == {f"/v1/proposals/{first['id']}"}
        assert (
            await committed.scalar("SELECT count(*) FROM proposal WHERE child_id = :c", c=child)
            == 1
        )

    async def test_same_key_other_body_at_once(self, committed: Committed) -> None:
        educator, child, mentor = await self._setup(committed)
        other_child = await committed.child()
        headers = educator | {"Idempotency-Key": f"race-{uuid.uuid4()}"}
        responses = await asyncio.gather(
            committed.client.post(
                "/v1/proposals",
                json={"child_id": str(child), "mentor_id": str(mentor)},
                headers=headers,
            ),
            committed.client.post(
                "/v1/proposals",
                json={"child_id": str(other_child), "mentor_id": str(mentor)},
                headers=headers,
            ),
        )
        assert sorted(r.status_code for r in responses) == [201, 422], [r.text for r in responses]
        loser = next(r for r in responses if r.status_code == 422)
        assert loser.json()["type"].endswith("idempotency-key-reused")
        created = await committed.scalar(
            "SELECT count(*) FROM proposal WHERE child_id IN (:a, :b)", a=child, b=other_child
        )
        assert created == 1


class TestSameRecordRace:
    async def test_one_child_proposed_to_two_mentors_at_once(self, committed: Committed) -> None:
        association = await committed.association()
        educator = await committed.bearer(Role.educator, departement_code=committed.departement)
        child = await committed.child()
        mentors = [await committed.mentor(association) for _ in range(2)]
        responses = await asyncio.gather(
            *(_propose(committed, educator, child, m) for m in mentors)
        )
        assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
        pending = await committed.scalar(
            "SELECT count(*) FROM proposal WHERE child_id = :c AND status = 'pending'", c=child
        )
        assert pending == 1

    async def test_the_same_move_twice_at_once_happens_once(self, committed: Committed) -> None:
        association = await committed.association()
        educator = await committed.bearer(Role.educator, departement_code=committed.departement)
        coordinator = await committed.bearer(Role.coordinator, association_id=association)
        mentor = await committed.mentor(association)
        mentorship_id = await _mentorship(committed, educator, coordinator, mentor)
        responses = await asyncio.gather(
            _move(committed, educator, mentorship_id, "active"),
            _move(committed, coordinator, mentorship_id, "active"),
        )
        assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
        events = await committed.scalar(
            "SELECT count(*) FROM mentorship_event WHERE mentorship_id = :m", m=mentorship_id
        )
        assert events == 2  # created, then one activation
        version = await committed.scalar(
            "SELECT version FROM mentorship WHERE id = :m", m=mentorship_id
        )
        assert version == 2

    async def test_two_edits_of_one_objective_version_one_wins(self, committed: Committed) -> None:
        association = await committed.association()
        educator = await committed.bearer(Role.educator, departement_code=committed.departement)
        coordinator = await committed.bearer(Role.coordinator, association_id=association)
        mentor = await committed.mentor(association)
        mentorship_id = await _mentorship(committed, educator, coordinator, mentor)
        response = await committed.client.post(
            f"/v1/mentorships/{mentorship_id}/objectives",
            json={"title": "Pix", "category": "numerique"},
            headers=educator,
        )
        objective_id, etag = response.json()["id"], response.headers["ETag"]
        responses = await asyncio.gather(
            *(
                committed.client.patch(
                    f"/v1/objectives/{objective_id}",
                    json={"progress": progress},
                    headers=headers | {"If-Match": etag},
                )
                for headers, progress in ((educator, 30), (coordinator, 70))
            )
        )
        assert sorted(r.status_code for r in responses) == [200, 412], [r.text for r in responses]
        winner = next(r for r in responses if r.status_code == 200).json()
        revisions = await committed.scalar(
            "SELECT array_agg(values->>'progress' ORDER BY revision) FROM objective_revision "
            "WHERE objective_id = :o",
            o=objective_id,
        )
        assert revisions == ["0", str(winner["progress"])]
