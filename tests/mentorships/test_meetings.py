"""Meetings: who enters them, their dates, the cadence, and mentorships needing attention."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.principal import Role
from tests.factories import Actors, bearer, token_for
from tests.mentorships.support import (
    assert_problem,
    count,
    days_ago,
    execute,
    make_mentorship,
    new_mentor,
    transition,
)


def meeting(held_on: str | None = None, **overrides: Any) -> dict[str, Any]:
    return {
        "held_on": held_on or date.today().isoformat(),
        "duration_minutes": 60,
        "mode": "in_person",
        **overrides,
    }


async def enter(
    client: httpx.AsyncClient, headers: dict[str, str], mentorship_id: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/mentorships/{mentorship_id}/meetings", json=meeting(**body), headers=headers
    )


async def backdate(session: AsyncSession, mentorship_id: str, days: int) -> None:
    """Pretend the mentorship was created (and started, if it has) `days` ago."""
    await execute(
        session,
        "UPDATE mentorship SET created_at = now() - make_interval(days => :days), "
        "started_at = CASE WHEN started_at IS NULL THEN NULL "
        "ELSE now() - make_interval(days => :days) END WHERE id = :id",
        days=days,
        id=mentorship_id,
    )


async def get(client: httpx.AsyncClient, actors: Actors, mentorship_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/mentorships/{mentorship_id}", headers=actors.educator_53)
    assert response.status_code == 200, response.text
    return response.json()


class TestEnteringMeetings:
    @pytest.mark.parametrize("who", ["mentor_a", "coordinator_a", "admin"])
    async def test_the_mentor_side_enters_meetings(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, who: str
    ) -> None:
        mentorship = await make_mentorship(
            client, session, actors, state="active", mentor=actors.mentor_a1
        )
        response = await enter(
            client, getattr(actors, who), mentorship["id"], mode="remote", note="visio"
        )
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["mentorship_id"] == mentorship["id"]
        assert created["entered_by_name"].startswith(who)
        assert (created["mode"], created["note"], created["duration_minutes"]) == (
            "remote",
            "visio",
            60,
        )
        page = (
            await client.get(
                f"/v1/mentorships/{mentorship['id']}/meetings", headers=actors.educator_53
            )
        ).json()
        assert [m["id"] for m in page["items"]] == [created["id"]]

    @pytest.mark.parametrize("who", ["educator_53", "manager_53"])
    async def test_the_departement_side_cannot(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, who: str
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, state="active")
        assert_problem(await enter(client, getattr(actors, who), mentorship["id"]), 403)
        assert await count(session, "meeting", "mentorship_id = :m", m=mentorship["id"]) == 0

    @pytest.mark.parametrize(
        ("body", "why"),
        [
            ({"held_on": (date.today() + timedelta(days=1)).isoformat()}, "future"),
            ({"held_on": "2999-12-31"}, "far future"),
            ({"held_on": days_ago(3)}, "before the mentorship"),
            ({"duration_minutes": 0}, "duration"),
            ({"duration_minutes": 721}, "duration"),
            ({"mode": "carrier_pigeon"}, "mode"),
            ({"note": "x" * 1001}, "note"),
        ],
    )
    async def test_impossible_meetings_are_422(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        body: dict[str, Any],
        why: str,
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        assert_problem(await enter(client, actors.coordinator_a, mentorship["id"], **body), 422)
        assert await count(session, "meeting", "mentorship_id = :m", m=mentorship["id"]) == 0
        assert (await get(client, actors, mentorship["id"]))["state"] == "accepted"

    async def test_the_first_meeting_makes_an_accepted_mentorship_active(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, mentor=actors.mentor_a1)
        assert mentorship["state"] == "accepted" and mentorship["started_at"] is None
        response = await enter(client, actors.mentor_a, mentorship["id"])
        assert response.status_code == 201, response.text
        active = await get(client, actors, mentorship["id"])
        assert active["state"] == "active" and active["started_at"] is not None
        events = (
            await client.get(
                f"/v1/mentorships/{mentorship['id']}/events", headers=actors.educator_53
            )
        ).json()["items"]
        assert [(e["from_state"], e["to_state"]) for e in events] == [
            (None, "accepted"),
            ("accepted", "active"),
        ]
        assert events[-1]["principal_name"].startswith("mentor_a")
        assert events[-1]["note"] == "first meeting held"

        # Later meetings change nothing in the state.
        assert (await enter(client, actors.mentor_a, mentorship["id"])).status_code == 201
        again = await get(client, actors, mentorship["id"])
        assert again["state"] == "active" and again["started_at"] == active["started_at"]
        assert again["version"] == active["version"]
        assert (
            await count(session, "mentorship_event", "mentorship_id = :m", m=mentorship["id"]) == 2
        )

    async def test_a_paused_mentorship_stays_paused(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, state="paused")
        assert (await enter(client, actors.coordinator_a, mentorship["id"])).status_code == 201
        assert (await get(client, actors, mentorship["id"]))["state"] == "paused"

    async def test_an_ended_mentorship_takes_no_meeting(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, state="ended")
        assert_problem(await enter(client, actors.coordinator_a, mentorship["id"]), 409)
        assert await count(session, "meeting", "mentorship_id = :m", m=mentorship["id"]) == 0

    async def test_meetings_stay_in_scope(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, state="active")
        # mentor_a is not this mentorship's mentor; coordinator_b is another association's.
        for headers in (actors.mentor_a, actors.coordinator_b):
            assert_problem(await enter(client, headers, mentorship["id"]), 404)
            response = await client.get(
                f"/v1/mentorships/{mentorship['id']}/meetings", headers=headers
            )
            assert_problem(response, 404)
        assert await count(session, "meeting", "mentorship_id = :m", m=mentorship["id"]) == 0


class TestCadence:
    async def test_cadence_figures(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        assert mentorship["cadence"] == {
            "meetings": 0,
            "last_meeting_on": None,
            "days_since_last_meeting": None,
            "meetings_last_90_days": 0,
            "mean_days_between_meetings": None,
        }
        await backdate(session, mentorship["id"], 200)
        first = await enter(client, actors.coordinator_a, mentorship["id"], held_on=days_ago(150))
        assert first.status_code == 201, first.text
        cadence = (await get(client, actors, mentorship["id"]))["cadence"]
        assert cadence == {
            "meetings": 1,
            "last_meeting_on": days_ago(150),
            "days_since_last_meeting": 150,
            "meetings_last_90_days": 0,
            "mean_days_between_meetings": None,
        }
        for days in (100, 60, 20):
            response = await enter(
                client, actors.coordinator_a, mentorship["id"], held_on=days_ago(days)
            )
            assert response.status_code == 201, response.text
        cadence = (await get(client, actors, mentorship["id"]))["cadence"]
        assert cadence == {
            "meetings": 4,
            "last_meeting_on": days_ago(20),
            "days_since_last_meeting": 20,
            "meetings_last_90_days": 2,
            "mean_days_between_meetings": round(130 / 3, 1),
        }
        # The meeting list is paginated, oldest first.
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
            page = (
                await client.get(
                    f"/v1/mentorships/{mentorship['id']}/meetings",
                    params=params,
                    headers=actors.educator_53,
                )
            ).json()
            assert "items" in page, page
            seen += [m["held_on"] for m in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [days_ago(d) for d in (150, 100, 60, 20)]


class TestNeedsAttention:
    async def test_lists_silent_and_stale_active_mentorships_only(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        coordinator = actors.coordinator_a

        async def active_with_meeting(days: int) -> dict[str, Any]:
            mentorship = await make_mentorship(client, session, actors)
            await backdate(session, mentorship["id"], 90)
            response = await enter(client, coordinator, mentorship["id"], held_on=days_ago(days))
            assert response.status_code == 201, response.text
            return mentorship

        async def objective(mentorship: dict[str, Any], **body: Any) -> str:
            response = await client.post(
                f"/v1/mentorships/{mentorship['id']}/objectives",
                json={"title": "Objectif", "category": "orientation", **body},
                headers=actors.educator_53,
            )
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

        # Flagged: the last meeting was 40 days ago.
        silent = await active_with_meeting(40)
        # Flagged: started 40 days ago, never met.
        never_met = await make_mentorship(client, session, actors, state="active")
        await backdate(session, never_met["id"], 40)
        # Flagged: met last week, but every open objective is stale - one past its target
        # date, one unchanged for 40 days; a finished objective does not count.
        stale = await active_with_meeting(7)
        await objective(stale, target_date=days_ago(1))
        untouched = await objective(stale, status="in_progress")
        await objective(stale, status="achieved")
        await execute(
            session,
            "UPDATE objective SET updated_at = now() - interval '40 days' WHERE id = :id",
            id=untouched,
        )

        # Not flagged: fresh, met 29 days ago, with a live objective.
        fresh = await active_with_meeting(29)
        await objective(fresh, target_date=(date.today() + timedelta(days=30)).isoformat())
        # Not flagged: one stale objective but another fresh one.
        mixed = await active_with_meeting(3)
        await objective(mixed, target_date=days_ago(5))
        await objective(mixed)
        # Not flagged: met recently, no objectives at all.
        no_objectives = await active_with_meeting(1)
        # Not flagged, whatever their dates: not active.
        quiet = []
        for state in ("accepted", "paused", "ended"):
            mentorship = await make_mentorship(client, session, actors, state=state)
            await backdate(session, mentorship["id"], 120)
            quiet.append(mentorship)

        async def listed(flag: str) -> set[str]:
            response = await client.get(
                "/v1/mentorships",
                params={"needs_attention": flag, "limit": 200},
                headers=actors.educator_53,
            )
            assert response.status_code == 200, response.text
            assert response.json()["next_cursor"] is None
            return {m["id"] for m in response.json()["items"]}

        flagged = {silent["id"], never_met["id"], stale["id"]}
        calm = {fresh["id"], mixed["id"], no_objectives["id"], *(m["id"] for m in quiet)}
        assert await listed("true") == flagged
        assert await listed("false") == calm
        # The association side gets the same flags on its own mentorships.
        response = await client.get(
            "/v1/mentorships", params={"needs_attention": "true"}, headers=coordinator
        )
        assert {m["id"] for m in response.json()["items"]} == flagged

    async def test_a_mentor_sees_only_their_own_flags(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mine = await make_mentorship(
            client, session, actors, state="active", mentor=actors.mentor_a1
        )
        other_mentor = await new_mentor(session, actors.association_a)
        other = await make_mentorship(client, session, actors, state="active", mentor=other_mentor)
        for mentorship in (mine, other):
            await backdate(session, mentorship["id"], 45)
        response = await client.get(
            "/v1/mentorships", params={"needs_attention": "true"}, headers=actors.mentor_a
        )
        assert [m["id"] for m in response.json()["items"]] == [mine["id"]]
        secret = await token_for(session, Role.mentor, mentor_id=other_mentor.id)
        await session.commit()
        response = await client.get(
            "/v1/mentorships", params={"needs_attention": "true"}, headers=bearer(secret)
        )
        assert [m["id"] for m in response.json()["items"]] == [other["id"]]
        # Once they meet again, the flag goes.
        assert (await enter(client, actors.mentor_a, mine["id"])).status_code == 201
        response = await client.get(
            "/v1/mentorships", params={"needs_attention": "true"}, headers=actors.mentor_a
        )
        assert response.json()["items"] == []
        assert (await transition(client, actors.mentor_a, mine["id"], "paused")).status_code == 200
