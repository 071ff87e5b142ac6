"""One time-ordered stream per mentorship: events, objective revisions and meetings."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Actors
from tests.mentorships.support import (
    assert_problem,
    count,
    days_ago,
    execute,
    make_mentorship,
    transition,
)

PARIS = ZoneInfo("Europe/Paris")


async def page(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    mentorship_id: str,
    **params: Any,
) -> httpx.Response:
    return await client.get(
        f"/v1/mentorships/{mentorship_id}/timeline", params=params, headers=headers
    )


async def walk(
    client: httpx.AsyncClient, headers: dict[str, str], mentorship_id: str, limit: int
) -> tuple[list[dict[str, Any]], int]:
    entries: list[dict[str, Any]] = []
    cursor, pages = None, 0
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = await page(client, headers, mentorship_id, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        entries += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return entries, pages
        assert len(body["items"]) == limit


@pytest.fixture
async def busy(client: httpx.AsyncClient, session: AsyncSession, actors: Actors) -> dict[str, Any]:
    """A mentorship 100 days old with meetings, moves and objective revisions mixed."""
    mentorship = await make_mentorship(client, session, actors, mentor=actors.mentor_a1)
    await execute(
        session,
        "UPDATE mentorship SET created_at = now() - interval '100 days' WHERE id = :id",
        id=mentorship["id"],
    )
    mentorship_id = mentorship["id"]

    async def meet(days: int) -> None:
        response = await client.post(
            f"/v1/mentorships/{mentorship_id}/meetings",
            json={"held_on": days_ago(days), "duration_minutes": 45, "mode": "remote"},
            headers=actors.mentor_a,
        )
        assert response.status_code == 201, response.text

    response = await client.post(
        f"/v1/mentorships/{mentorship_id}/objectives",
        json={"title": "Stage", "category": "stage"},
        headers=actors.educator_53,
    )
    objective = response.json()
    await meet(90)  # makes it active
    await meet(60)
    for progress in (10, 40):
        response = await client.patch(
            f"/v1/objectives/{objective['id']}",
            json={"progress": progress},
            headers=actors.mentor_a,
        )
        assert response.status_code == 200, response.text
    for to in ("paused", "active", "paused", "active"):
        assert (await transition(client, actors.educator_53, mentorship_id, to)).status_code == 200
    await meet(30)
    await meet(0)
    response = await client.post(
        f"/v1/mentorships/{mentorship_id}/objectives",
        json={"title": "Pix", "category": "numerique"},
        headers=actors.coordinator_a,
    )
    assert response.status_code == 201, response.text
    return mentorship


class TestTimeline:
    async def test_everything_merged_in_time_order(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, busy: dict
    ) -> None:
        response = await page(client, actors.educator_53, busy["id"], limit=200)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["next_cursor"] is None
        entries = body["items"]

        where = {"m": busy["id"]}
        expected = {
            "event": await count(session, "mentorship_event", "mentorship_id = :m", **where),
            "objective_revision": await count(
                session, "objective_revision", "mentorship_id = :m", **where
            ),
            "meeting": await count(session, "meeting", "mentorship_id = :m", **where),
        }
        assert expected == {"event": 6, "objective_revision": 4, "meeting": 4}
        kinds = [entry["kind"] for entry in entries]
        assert {kind: kinds.count(kind) for kind in expected} == expected
        assert len({(e["kind"], e["id"]) for e in entries}) == len(entries)

        times = [datetime.fromisoformat(entry["at"]) for entry in entries]
        assert times == sorted(times)
        # The old meetings come first; a meeting sits at noon, Paris time, on its day.
        assert kinds[:2] == ["meeting", "meeting"]
        assert times[0] == datetime.combine(date.fromisoformat(days_ago(90)), time(12), PARIS)

        events = [e for e in entries if e["kind"] == "event"]
        assert [(e["data"]["from_state"], e["data"]["to_state"]) for e in events] == [
            (None, "accepted"),
            ("accepted", "active"),
            ("active", "paused"),
            ("paused", "active"),
            ("active", "paused"),
            ("paused", "active"),
        ]
        assert events[1]["data"]["note"] == "first meeting held"
        assert events[1]["data"]["by"].startswith("mentor_a")
        assert events[2]["summary"] == "active -> paused"
        revisions = [e for e in entries if e["kind"] == "objective_revision"]
        assert [r["data"]["revision"] for r in revisions] == [1, 2, 3, 1]
        assert [r["data"]["values"]["progress"] for r in revisions] == [0, 10, 40, 0]
        assert revisions[1]["data"]["changed_fields"] == ["progress"]
        meetings = [e for e in entries if e["kind"] == "meeting"]
        assert [m["data"]["held_on"] for m in meetings] == [days_ago(d) for d in (90, 60, 30, 0)]
        assert all(m["data"]["by"].startswith("mentor_a") for m in meetings)

    @pytest.mark.parametrize("limit", [1, 2, 3, 5, 13, 14])
    async def test_pages_cover_the_stream_once_in_order(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        busy: dict,
        limit: int,
    ) -> None:
        full = (await page(client, actors.educator_53, busy["id"], limit=200)).json()["items"]
        walked, pages = await walk(client, actors.educator_53, busy["id"], limit)
        assert walked == full
        assert pages == max(1, -(-len(full) // limit))
        keys = [(e["kind"], e["id"]) for e in walked]
        assert len(set(keys)) == len(keys)
        times = [datetime.fromisoformat(e["at"]) for e in walked]
        assert times == sorted(times)

    async def test_new_entries_after_the_cursor_show_up_on_later_pages(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, busy: dict
    ) -> None:
        first = (await page(client, actors.educator_53, busy["id"], limit=3)).json()
        assert (
            await transition(client, actors.educator_53, busy["id"], "paused")
        ).status_code == 200
        rest: list[dict[str, Any]] = []
        cursor = first["next_cursor"]
        while cursor is not None:
            body = (
                await page(client, actors.educator_53, busy["id"], cursor=cursor, limit=4)
            ).json()
            rest += body["items"]
            cursor = body["next_cursor"]
        full = (await page(client, actors.educator_53, busy["id"], limit=200)).json()["items"]
        assert first["items"] + rest == full
        events = [e for e in full if e["kind"] == "event"]
        assert len(events) == 7 and events[-1]["summary"] == "active -> paused"
        assert events[-1] in rest

    @pytest.mark.parametrize("cursor", ["garbage", "W10", "WyJ4IiwgInkiLCAieiJd"])
    async def test_a_malformed_cursor_is_a_422(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        cursor: str,
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        response = await page(client, actors.educator_53, mentorship["id"], cursor=cursor)
        assert_problem(response, 422)

    async def test_the_timeline_stays_in_scope(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        for who in ("educator_75", "coordinator_b", "mentor_a"):
            assert_problem(await page(client, getattr(actors, who), mentorship["id"]), 404)
        for who in ("educator_53", "manager_53", "coordinator_a", "admin"):
            response = await page(client, getattr(actors, who), mentorship["id"])
            assert response.status_code == 200, (who, response.text)
