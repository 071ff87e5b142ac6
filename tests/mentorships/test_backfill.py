"""Meetings entered after the fact: held before the mentorship was recorded here, accepted
only with the backfill flag, audited as such and flagged in every read."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.kit.clock import today_in
from tests.factories import Actors
from tests.mentorships.support import assert_problem, count, make_mentorship, scalar, snapshot


def day(days_ago: int) -> str:
    return (today_in("53") - timedelta(days=days_ago)).isoformat()


async def enter(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    mentorship_id: str,
    held_on: str,
    **extra: Any,
) -> httpx.Response:
    return await client.post(
        f"/v1/mentorships/{mentorship_id}/meetings",
        json={"held_on": held_on, "duration_minutes": 90, "mode": "in_person", **extra},
        headers=headers,
    )


async def meetings_of(
    client: httpx.AsyncClient, headers: dict[str, str], mentorship_id: str
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/v1/mentorships/{mentorship_id}/meetings", params={"limit": 200}, headers=headers
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


class TestBackfill:
    async def test_past_meetings_of_a_mentorship_entered_after_the_fact(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        """A pair that has met since September, recorded here today."""
        mentorship = await make_mentorship(client, session, actors)
        for days in (80, 50, 20):
            response = await enter(
                client, actors.coordinator_a, mentorship["id"], day(days), backfill=True
            )
            assert response.status_code == 201, response.text
            assert response.json()["backfill"] is True
        # Today's meeting is an ordinary one.
        response = await enter(client, actors.coordinator_a, mentorship["id"], day(0))
        assert response.status_code == 201, response.text
        assert response.json()["backfill"] is False

        for headers in (actors.educator_53, actors.coordinator_a):
            listed = await meetings_of(client, headers, mentorship["id"])
            assert [(m["held_on"], m["backfill"]) for m in listed] == [
                (day(80), True),
                (day(50), True),
                (day(20), True),
                (day(0), False),
            ]
        body = (
            await client.get(f"/v1/mentorships/{mentorship['id']}", headers=actors.educator_53)
        ).json()
        # The first (backfilled) meeting made it active; the cadence counts every meeting.
        assert body["state"] == "active"
        assert body["cadence"]["meetings"] == 4
        assert body["cadence"]["mean_days_between_meetings"] == round(80 / 3, 1)
        assert body["attention"] == []
        timeline = (
            await client.get(
                f"/v1/mentorships/{mentorship['id']}/timeline",
                params={"limit": 200},
                headers=actors.educator_53,
            )
        ).json()["items"]
        entries = [e for e in timeline if e["kind"] == "meeting"]
        assert [e["data"]["backfill"] for e in entries] == [True, True, True, False]
        assert "after the fact" in entries[0]["summary"]
        assert "after the fact" not in entries[-1]["summary"]

        # Audited as backfill, with the date it was held; the ordinary one is not.
        audited = {
            str(row[0]): row[1]
            for row in (
                await session.execute(
                    text(
                        "SELECT a.entity_id, a.details FROM audit_event a "
                        "JOIN meeting m ON m.id::text = a.entity_id "
                        "WHERE a.entity_type = 'meeting' AND a.action = 'create' "
                        "AND m.mentorship_id = :id"
                    ),
                    {"id": mentorship["id"]},
                )
            ).all()
        }
        by_date = {m["held_on"]: m["id"] for m in listed}
        for days in (80, 50, 20):
            assert audited[by_date[day(days)]] == {"backfill": True, "held_on": day(days)}
        assert audited[by_date[day(0)]] is None

    async def test_a_backfilled_silence_shows_in_the_reasons(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        response = await enter(
            client, actors.coordinator_a, mentorship["id"], day(45), backfill=True
        )
        assert response.status_code == 201, response.text
        body = (
            await client.get(f"/v1/mentorships/{mentorship['id']}", headers=actors.educator_53)
        ).json()
        assert body["attention"] == [
            {
                "code": "no_meeting",
                "since": day(45),
                "days": 45,
                "last_meeting_on": day(45),
                "threshold_days": 30,
            }
        ]

    async def test_a_past_meeting_needs_the_flag(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        before = await snapshot(session, mentorship["id"])
        response = await enter(client, actors.coordinator_a, mentorship["id"], day(3))
        body = assert_problem(response, 422)
        assert "backfill" in body["detail"]
        assert await count(session, "meeting", "mentorship_id = :id", id=mentorship["id"]) == 0
        assert await snapshot(session, mentorship["id"]) == before

    @pytest.mark.parametrize("days", [0, -1])
    async def test_the_flag_only_for_meetings_before_the_record(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, days: int
    ) -> None:
        """On the day it was recorded, the meeting is an ordinary one; in the future, none."""
        mentorship = await make_mentorship(client, session, actors)
        response = await enter(
            client, actors.coordinator_a, mentorship["id"], day(days), backfill=True
        )
        assert_problem(response, 422)
        assert await count(session, "meeting", "mentorship_id = :id", id=mentorship["id"]) == 0
        audited = await scalar(
            session, "SELECT count(*) FROM audit_event WHERE entity_type = 'meeting'"
        )
        assert audited == 0

    async def test_not_before_the_child_was_born(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        response = await enter(
            client, actors.coordinator_a, mentorship["id"], "2014-01-01", backfill=True
        )
        assert_problem(response, 422)

    @pytest.mark.parametrize("flag", ["true", 1, None])
    async def test_the_flag_is_a_boolean(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, flag: Any
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        response = await enter(
            client, actors.coordinator_a, mentorship["id"], day(5), backfill=flag
        )
        assert_problem(response, 422)

    async def test_an_ended_mentorship_takes_no_meeting(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, state="ended")
        response = await enter(
            client, actors.coordinator_a, mentorship["id"], day(5), backfill=True
        )
        assert_problem(response, 409)

    async def test_out_of_scope_is_not_found(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        response = await enter(
            client, actors.coordinator_b, mentorship["id"], day(5), backfill=True
        )
        assert_problem(response, 404)
        assert await count(session, "meeting", "mentorship_id = :id", id=mentorship["id"]) == 0
