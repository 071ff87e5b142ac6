"""Mentor places and one live mentorship per child, held by PostgreSQL itself."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.models import Mentor
from tests.factories import Actors
from tests.mentorships.support import (
    assert_problem,
    count,
    make_mentorship,
    new_child,
    new_mentor,
    propose,
    scalar,
    snapshot,
    transition,
)

INSERT_PENDING = """
INSERT INTO proposal (child_id, mentor_id, departement_code, status, score, explanation)
VALUES (:child, :mentor, '53', 'pending', 0.5, '{}'::jsonb)
"""


async def hold(
    client: httpx.AsyncClient, session: AsyncSession, actors: Actors, mentor: Mentor, how: str
) -> dict[str, Any]:
    """Make `mentor` hold (or, for paused/ended, have held) one place."""
    if how == "pending":
        response = await propose(
            client, actors.educator_53, (await new_child(session)).id, mentor.id
        )
        assert response.status_code == 201, response.text
        return response.json()
    return await make_mentorship(client, session, actors, state=how, mentor=mentor)


CHECK_VIOLATION, UNIQUE_VIOLATION = "23514", "23505"


async def must_fail_in_the_database(
    session: AsyncSession, sql: str, **params: Any
) -> tuple[str | None, str]:
    """Run a direct write that PostgreSQL must refuse; its SQLSTATE and message."""
    await session.commit()
    with pytest.raises(IntegrityError) as raised:
        await session.execute(text(sql), params)
    await session.rollback()
    driver: Any = raised.value.orig
    driver = getattr(driver, "__cause__", None) or driver
    return getattr(driver, "sqlstate", None), str(raised.value)


class TestMentorPlaces:
    @pytest.mark.parametrize("how", ["pending", "accepted", "active"])
    async def test_a_held_place_is_not_offered_twice(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, how: str
    ) -> None:
        mentor = await new_mentor(session, actors.association_a, capacity=1)
        await hold(client, session, actors, mentor, how)
        child = await new_child(session)
        response = await propose(client, actors.educator_53, child.id, mentor.id)
        assert assert_problem(response, 409)["reason"] == "no_capacity_left"
        assert await count(session, "proposal", "child_id = :c", c=child.id) == 0

    @pytest.mark.parametrize("how", ["pending", "accepted", "active"])
    async def test_the_database_refuses_an_extra_pending_proposal(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, how: str
    ) -> None:
        """Even a write that skips the application's check is refused by the trigger."""
        mentor = await new_mentor(session, actors.association_a, capacity=1)
        await hold(client, session, actors, mentor, how)
        child = await new_child(session)
        sqlstate, _ = await must_fail_in_the_database(
            session, INSERT_PENDING, child=child.id, mentor=mentor.id
        )
        assert sqlstate == CHECK_VIOLATION

    @pytest.mark.parametrize("how", ["paused", "ended"])
    async def test_a_paused_or_ended_mentorship_frees_its_place(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, how: str
    ) -> None:
        mentor = await new_mentor(session, actors.association_a, capacity=1)
        await hold(client, session, actors, mentor, how)
        response = await propose(
            client, actors.educator_53, (await new_child(session)).id, mentor.id
        )
        assert response.status_code == 201, response.text

    async def test_resuming_when_the_place_was_taken_is_a_409(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentor = await new_mentor(session, actors.association_a, capacity=1)
        paused = await make_mentorship(client, session, actors, state="paused", mentor=mentor)
        taker = await make_mentorship(client, session, actors, state="accepted", mentor=mentor)
        before = await snapshot(session, paused["id"])
        response = await transition(client, actors.educator_53, paused["id"], "active")
        assert_problem(response, 409)
        assert await snapshot(session, paused["id"]) == before

        # Once the other one pauses, the first can resume.
        await transition(client, actors.educator_53, taker["id"], "active")
        await transition(client, actors.educator_53, taker["id"], "paused")
        response = await transition(client, actors.educator_53, paused["id"], "active")
        assert response.status_code == 200, response.text

    async def test_a_pending_proposal_also_blocks_resuming(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentor = await new_mentor(session, actors.association_a, capacity=1)
        paused = await make_mentorship(client, session, actors, state="paused", mentor=mentor)
        await hold(client, session, actors, mentor, "pending")
        assert_problem(await transition(client, actors.educator_53, paused["id"], "active"), 409)
        assert (
            await scalar(session, "SELECT state FROM mentorship WHERE id = :id", id=paused["id"])
            == "paused"
        )

    async def test_accepting_passes_the_place_on_without_counting_it_twice(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        """A full mentor (capacity 1, one pending proposal) can still accept that proposal."""
        mentor = await new_mentor(session, actors.association_a, capacity=1)
        mentorship = await make_mentorship(client, session, actors, mentor=mentor)
        assert mentorship["state"] == "accepted"


class TestLoweringCapacity:
    async def test_below_the_places_held_is_a_409(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentor = await new_mentor(session, actors.association_a, capacity=3)
        await hold(client, session, actors, mentor, "pending")
        await hold(client, session, actors, mentor, "active")
        response = await client.patch(
            f"/v1/mentors/{mentor.id}", json={"capacity": 1}, headers=actors.coordinator_a
        )
        body = assert_problem(response, 409)
        assert "2" in body["detail"]
        assert await scalar(session, "SELECT capacity FROM mentor WHERE id = :m", m=mentor.id) == 3

        response = await client.patch(
            f"/v1/mentors/{mentor.id}", json={"capacity": 2}, headers=actors.coordinator_a
        )
        assert response.status_code == 200, response.text
        assert response.json()["capacity"] == 2
        child = await new_child(session)
        assert assert_problem(await propose(client, actors.educator_53, child.id, mentor.id), 409)

    async def test_paused_mentorships_do_not_count(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentor = await new_mentor(session, actors.association_a, capacity=2)
        paused = await hold(client, session, actors, mentor, "paused")
        await hold(client, session, actors, mentor, "active")
        response = await client.patch(
            f"/v1/mentors/{mentor.id}", json={"capacity": 1}, headers=actors.coordinator_a
        )
        assert response.status_code == 200, response.text
        # ...but then the paused one cannot come back.
        assert_problem(await transition(client, actors.educator_53, paused["id"], "active"), 409)

    async def test_raising_capacity_opens_a_place(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentor = await new_mentor(session, actors.association_a, capacity=1)
        await hold(client, session, actors, mentor, "active")
        response = await client.patch(
            f"/v1/mentors/{mentor.id}", json={"capacity": 2}, headers=actors.coordinator_a
        )
        assert response.status_code == 200, response.text
        child = await new_child(session)
        assert (await propose(client, actors.educator_53, child.id, mentor.id)).status_code == 201


class TestOneLiveMentorshipPerChild:
    @pytest.mark.parametrize("state", ["accepted", "active", "paused"])
    async def test_a_child_in_a_live_mentorship_cannot_be_proposed(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, state: str
    ) -> None:
        child = await new_child(session)
        await make_mentorship(client, session, actors, state=state, child=child)
        other = await new_mentor(session, actors.association_a)
        response = await propose(client, actors.educator_53, child.id, other.id)
        assert assert_problem(response, 409)["reason"] == "child_not_eligible"

    @pytest.mark.parametrize("state", ["accepted", "active", "paused"])
    async def test_the_database_refuses_a_second_live_mentorship(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, state: str
    ) -> None:
        child = await new_child(session)
        await make_mentorship(client, session, actors, state=state, child=child)
        # Plain ids: a rollback expires the ORM objects.
        child_id, other_id = child.id, (await new_mentor(session, actors.association_a)).id
        for second in ("accepted", "paused"):
            sqlstate, error = await must_fail_in_the_database(
                session,
                "INSERT INTO mentorship (child_id, mentor_id, departement_code, state) "
                "VALUES (:child, :mentor, '53', :state)",
                child=child_id,
                mentor=other_id,
                state=second,
            )
            assert sqlstate == UNIQUE_VIOLATION and "uq_mentorship_one_live_per_child" in error
        # Nor can a pending proposal be written for the mentored child.
        sqlstate, _ = await must_fail_in_the_database(
            session, INSERT_PENDING, child=child_id, mentor=other_id
        )
        assert sqlstate == CHECK_VIOLATION

    async def test_after_the_end_a_new_mentorship_can_start(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session)
        first = await make_mentorship(client, session, actors, state="ended", child=child)
        second = await make_mentorship(client, session, actors, child=child)
        assert second["id"] != first["id"] and second["state"] == "accepted"
        live = await count(session, "mentorship", "child_id = :c AND state <> 'ended'", c=child.id)
        assert live == 1

    async def test_one_pending_proposal_per_child(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session)
        first = await new_mentor(session, actors.association_a)
        second = await new_mentor(session, actors.association_a)
        assert (await propose(client, actors.educator_53, child.id, first.id)).status_code == 201
        response = await propose(client, actors.educator_53, child.id, second.id)
        assert assert_problem(response, 409)["reason"] == "child_not_eligible"
        sqlstate, error = await must_fail_in_the_database(
            session, INSERT_PENDING, child=child.id, mentor=second.id
        )
        assert sqlstate == UNIQUE_VIOLATION and "uq_proposal_one_pending_per_child" in error
