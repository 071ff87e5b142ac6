"""Every move of a mentorship, allowed or not; its events; the safeguarding exclusion."""

from __future__ import annotations

import itertools
from datetime import date

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Actors
from tests.mentorships.support import (
    ALLOWED,
    STATES,
    assert_problem,
    count,
    make_mentorship,
    new_child,
    new_mentor,
    propose,
    snapshot,
    transition,
)

FORBIDDEN = sorted(set(itertools.product(STATES, STATES)) - ALLOWED)


def test_the_matrix_is_complete() -> None:
    assert len(ALLOWED) == 6 and len(FORBIDDEN) == 10


class TestAllowedTransitions:
    @pytest.mark.parametrize(("start", "to"), sorted(ALLOWED))
    async def test_allowed_move_changes_state_and_writes_an_event(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        start: str,
        to: str,
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, state=start)
        events_before = (
            await client.get(
                f"/v1/mentorships/{mentorship['id']}/events", headers=actors.educator_53
            )
        ).json()["items"]
        reason = "completed" if to == "ended" else None
        response = await transition(
            client, actors.coordinator_a, mentorship["id"], to, reason=reason, note="bilan fait"
        )
        assert response.status_code == 200, response.text
        moved = response.json()
        assert moved["state"] == to
        assert moved["version"] == mentorship["version"] + 1
        assert response.headers["ETag"] == f'"{moved["version"]}"'
        if to == "ended":
            assert moved["end_reason"] == "completed" and moved["ended_at"] is not None
        else:
            assert moved["end_reason"] is None and moved["ended_at"] is None
        if to == "active":
            assert moved["started_at"] is not None
        if start == "paused":  # resuming keeps the first start
            assert moved["started_at"] == mentorship["started_at"]

        events = (
            await client.get(
                f"/v1/mentorships/{mentorship['id']}/events", headers=actors.educator_53
            )
        ).json()["items"]
        assert events[: len(events_before)] == events_before
        (event,) = events[len(events_before) :]
        assert event["from_state"] == start and event["to_state"] == to
        assert event["reason"] == reason and event["note"] == "bilan fait"
        assert event["principal_name"].startswith("coordinator_a")
        assert event["occurred_at"] > events_before[-1]["occurred_at"]

    async def test_a_whole_life_leaves_one_event_per_move(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        moves = [
            ("active", None, "educator_53"),
            ("paused", None, "mentor_a"),
            ("active", None, "coordinator_a"),
            ("paused", None, "manager_53"),
            ("ended", "mentor_unavailable", "admin"),
        ]
        # mentor_a is mentor_a1's token: each side moves mentor_a1's mentorship in turn.
        mentorship = await make_mentorship(client, session, actors, mentor=actors.mentor_a1)
        for to, reason, who in moves:
            headers = getattr(actors, who)
            response = await transition(
                client, headers, mentorship["id"], to, reason=reason, note=f"by {who}"
            )
            assert response.status_code == 200, response.text
        events = (
            await client.get(
                f"/v1/mentorships/{mentorship['id']}/events", headers=actors.educator_53
            )
        ).json()["items"]
        assert [(e["from_state"], e["to_state"]) for e in events] == [
            (None, "accepted"),
            ("accepted", "active"),
            ("active", "paused"),
            ("paused", "active"),
            ("active", "paused"),
            ("paused", "ended"),
        ]
        assert [e["note"] for e in events[1:]] == [f"by {who}" for _, _, who in moves]
        assert [e["principal_name"].split()[0] for e in events[1:]] == [w for _, _, w in moves]
        assert [e["reason"] for e in events] == [None] * 5 + ["mentor_unavailable"]
        times = [e["occurred_at"] for e in events]
        assert times == sorted(times) and len(set(times)) == len(times)


class TestForbiddenTransitions:
    @pytest.mark.parametrize(("start", "to"), FORBIDDEN)
    async def test_forbidden_move_is_a_409_and_changes_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        start: str,
        to: str,
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, state=start)
        before = await snapshot(session, mentorship["id"])
        audit = await count(session, "audit_event")
        # A reason when ending, so that only the move itself can be wrong.
        reason = "completed" if to == "ended" else None
        response = await transition(client, actors.educator_53, mentorship["id"], to, reason=reason)
        body = assert_problem(response, 409, "conflict")
        assert start in body["detail"] and to in body["detail"]
        assert await snapshot(session, mentorship["id"]) == before
        assert await count(session, "audit_event") == audit
        after = (
            await client.get(f"/v1/mentorships/{mentorship['id']}", headers=actors.educator_53)
        ).json()
        assert after == mentorship


class TestReasons:
    @pytest.mark.parametrize("start", ["accepted", "active", "paused"])
    async def test_ending_needs_a_reason(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, start: str
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, state=start)
        before = await snapshot(session, mentorship["id"])
        response = await transition(client, actors.educator_53, mentorship["id"], "ended")
        assert_problem(response, 422)
        assert await snapshot(session, mentorship["id"]) == before

    @pytest.mark.parametrize(("start", "to"), sorted(m for m in ALLOWED if m[1] != "ended"))
    async def test_a_reason_on_another_move_is_a_422(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        start: str,
        to: str,
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, state=start)
        before = await snapshot(session, mentorship["id"])
        response = await transition(
            client, actors.educator_53, mentorship["id"], to, reason="completed"
        )
        assert_problem(response, 422)
        assert await snapshot(session, mentorship["id"]) == before

    @pytest.mark.parametrize(
        "body",
        [{"to": "ended", "reason": "bored"}, {"to": "finished"}, {}, {"to": "active", "x": 1}],
    )
    async def test_malformed_moves_are_422(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, body: dict
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        before = await snapshot(session, mentorship["id"])
        response = await client.post(
            f"/v1/mentorships/{mentorship['id']}/transitions",
            json=body,
            headers=actors.educator_53,
        )
        assert_problem(response, 422)
        assert await snapshot(session, mentorship["id"]) == before

    async def test_a_stale_if_match_is_a_412(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        before = await snapshot(session, mentorship["id"])
        response = await client.post(
            f"/v1/mentorships/{mentorship['id']}/transitions",
            json={"to": "active"},
            headers=actors.educator_53 | {"If-Match": f'"{mentorship["version"] + 1}"'},
        )
        assert_problem(response, 412)
        assert await snapshot(session, mentorship["id"]) == before
        response = await client.post(
            f"/v1/mentorships/{mentorship['id']}/transitions",
            json={"to": "active"},
            headers=actors.educator_53 | {"If-Match": f'"{mentorship["version"]}"'},
        )
        assert response.status_code == 200, response.text


class TestEventsAreAppendOnly:
    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE mentorship_event SET note = 'rewritten' WHERE mentorship_id = :id",
            "UPDATE mentorship_event SET to_state = 'ended' WHERE mentorship_id = :id",
            "DELETE FROM mentorship_event WHERE mentorship_id = :id",
        ],
        ids=["update-note", "update-state", "delete"],
    )
    async def test_the_database_refuses_to_change_an_event(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        statement: str,
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, state="paused")
        before = await snapshot(session, mentorship["id"])
        await session.commit()
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(text(statement), {"id": mentorship["id"]})
        await session.rollback()
        assert await snapshot(session, mentorship["id"]) == before

    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE objective_revision SET values = '{}'::jsonb WHERE mentorship_id = :id",
            "DELETE FROM objective_revision WHERE mentorship_id = :id",
        ],
        ids=["update", "delete"],
    )
    async def test_objective_revisions_too(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        statement: str,
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        response = await client.post(
            f"/v1/mentorships/{mentorship['id']}/objectives",
            json={"title": "Stage", "category": "stage"},
            headers=actors.educator_53,
        )
        assert response.status_code == 201, response.text
        await session.commit()
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(text(statement), {"id": mentorship["id"]})
        await session.rollback()
        assert (
            await count(session, "objective_revision", "mentorship_id = :id", id=mentorship["id"])
            == 1
        )

    async def test_history_goes_only_with_a_purged_child(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        """A data-protection purge removes the child's mentorships with their history, and
        gives the mentor's place back."""
        mentor = await new_mentor(session, actors.association_a, capacity=1)
        mentorship = await make_mentorship(client, session, actors, state="active", mentor=mentor)
        mentor_id = mentor.id
        response = await client.post(
            f"/v1/mentorships/{mentorship['id']}/objectives",
            json={"title": "Stage", "category": "stage"},
            headers=actors.educator_53,
        )
        assert response.status_code == 201, response.text
        meeting = {"held_on": date.today().isoformat(), "duration_minutes": 30, "mode": "remote"}
        response = await client.post(
            f"/v1/mentorships/{mentorship['id']}/meetings",
            json=meeting,
            headers=actors.coordinator_a,
        )
        assert response.status_code == 201, response.text
        child_id = mentorship["child"]["id"]
        response = await client.delete(f"/v1/children/{child_id}/purge", headers=actors.admin)
        assert response.status_code == 204, response.text
        tables = ("mentorship", "mentorship_event", "objective", "objective_revision", "meeting")
        for table in tables:
            column = "id" if table == "mentorship" else "mentorship_id"
            assert await count(session, table, f"{column} = :id", id=mentorship["id"]) == 0
        response = await propose(
            client, actors.educator_53, (await new_child(session)).id, mentor_id
        )
        assert response.status_code == 201, response.text

    async def test_a_mentor_with_history_can_be_purged(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentor = await new_mentor(session, actors.association_a)
        mentorship = await make_mentorship(client, session, actors, state="ended", mentor=mentor)
        response = await client.delete(f"/v1/mentors/{mentor.id}/purge", headers=actors.admin)
        assert response.status_code == 204, response.text
        assert (
            await count(session, "mentorship_event", "mentorship_id = :id", id=mentorship["id"])
            == 0
        )


class TestSafeguarding:
    @pytest.mark.parametrize("start", ["accepted", "active", "paused"])
    async def test_ending_for_safeguarding_excludes_the_pair_for_good(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, start: str
    ) -> None:
        mentor = await new_mentor(session, actors.association_a, capacity=2)
        child = await new_child(session)
        mentorship = await make_mentorship(
            client, session, actors, state=start, mentor=mentor, child=child
        )
        response = await transition(
            client, actors.educator_53, mentorship["id"], "ended", reason="safeguarding"
        )
        assert response.status_code == 200, response.text
        assert response.json()["end_reason"] == "safeguarding"

        exclusions = (
            await client.get(f"/v1/children/{child.id}/exclusions", headers=actors.educator_53)
        ).json()["items"]
        assert [e["mentor_id"] for e in exclusions] == [str(mentor.id)]

        # The child is free and the mentor has places, yet the pair is out.
        response = await propose(client, actors.educator_53, child.id, mentor.id)
        assert assert_problem(response, 409)["reason"] == "pair_excluded"
        candidates = (
            await client.get(
                f"/v1/children/{child.id}/mentor-candidates",
                params={"limit": 100},
                headers=actors.educator_53,
            )
        ).json()
        assert str(mentor.id) not in {c["mentor_id"] for c in candidates["candidates"]}
        assert candidates["excluded_by_reason"].get("pair_excluded") == 1
        # Each of them can be paired with someone else.
        other_mentor = await new_mentor(session, actors.association_a)
        assert (
            await propose(client, actors.educator_53, child.id, other_mentor.id)
        ).status_code == 201
        other_child = await new_child(session)
        assert (
            await propose(client, actors.educator_53, other_child.id, mentor.id)
        ).status_code == 201

    async def test_other_end_reasons_do_not_exclude(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentor = await new_mentor(session, actors.association_a)
        child = await new_child(session)
        mentorship = await make_mentorship(
            client, session, actors, state="active", mentor=mentor, child=child
        )
        response = await transition(
            client, actors.educator_53, mentorship["id"], "ended", reason="placement_change"
        )
        assert response.status_code == 200, response.text
        assert await count(session, "pair_exclusion", "child_id = :c", c=child.id) == 0
        candidates = (
            await client.get(
                f"/v1/children/{child.id}/mentor-candidates", headers=actors.educator_53
            )
        ).json()
        assert str(mentor.id) in {c["mentor_id"] for c in candidates["candidates"]}
        assert (await propose(client, actors.educator_53, child.id, mentor.id)).status_code == 201
