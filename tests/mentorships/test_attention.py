"""Why a mentorship needs attention: each reason and its facts at the thresholds' edges, the
département's thresholds, the list filter agreeing with the reasons, each side's view."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.kit.clock import today_in
from tests.factories import Actors
from tests.mentorships.support import execute, make_mentorship, transition

DEPARTEMENT = "53"


def today() -> date:
    return today_in(DEPARTEMENT)


def day(days_ago: int) -> str:
    return (today() - timedelta(days=days_ago)).isoformat()


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


async def pause_backdated(session: AsyncSession, mentorship_id: str, days: int) -> None:
    """Move the mentorship's pause `days` into the past (its events are append-only: the
    trigger that guards them is bypassed for this one write)."""
    await session.execute(text("SET session_replication_role = replica"))
    await session.execute(
        text(
            "UPDATE mentorship_event SET occurred_at = now() - make_interval(days => :days) "
            "WHERE mentorship_id = :id AND to_state = 'paused'"
        ),
        {"days": days, "id": mentorship_id},
    )
    await execute(session, "SET session_replication_role = DEFAULT")


async def meet(
    client: httpx.AsyncClient, actors: Actors, mentorship_id: str, days_ago: int
) -> None:
    response = await client.post(
        f"/v1/mentorships/{mentorship_id}/meetings",
        json={"held_on": day(days_ago), "duration_minutes": 60, "mode": "in_person"},
        headers=actors.coordinator_a,
    )
    assert response.status_code == 201, response.text


async def add_objective(
    client: httpx.AsyncClient, actors: Actors, mentorship_id: str, **body: Any
) -> str:
    response = await client.post(
        f"/v1/mentorships/{mentorship_id}/objectives",
        json={"title": "Objectif", "category": "orientation", **body},
        headers=actors.educator_53,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def unchanged_for(session: AsyncSession, objective_id: str, days: int) -> None:
    await execute(
        session,
        "UPDATE objective SET updated_at = now() - make_interval(days => :days) WHERE id = :id",
        days=days,
        id=objective_id,
    )


async def attention(
    client: httpx.AsyncClient, headers: dict[str, str], mentorship_id: str
) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/mentorships/{mentorship_id}", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["attention"])


async def listed(
    client: httpx.AsyncClient, headers: dict[str, str], flag: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Every mentorship the caller lists (walking the pages), with its reasons."""
    found: dict[str, list[dict[str, Any]]] = {}
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 7}
        if flag is not None:
            params["needs_attention"] = flag
        if cursor is not None:
            params["cursor"] = cursor
        response = await client.get("/v1/mentorships", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        found |= {item["id"]: item["attention"] for item in page["items"]}
        cursor = page["next_cursor"]
        if cursor is None:
            return found


async def set_thresholds(
    client: httpx.AsyncClient, actors: Actors, **values: int
) -> dict[str, Any]:
    response = await client.patch(
        f"/v1/departements/{DEPARTEMENT}", json=values, headers=actors.manager_53
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


class TestNoMeeting:
    @pytest.mark.parametrize("days", [29, 30, 31])
    async def test_since_the_latest_meeting(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, days: int
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        await backdate(session, mentorship["id"], 120)
        await meet(client, actors, mentorship["id"], 100)
        await meet(client, actors, mentorship["id"], days)
        reasons = await attention(client, actors.educator_53, mentorship["id"])
        if days <= 30:
            assert reasons == []
        else:
            assert reasons == [
                {
                    "code": "no_meeting",
                    "since": day(days),
                    "days": days,
                    "last_meeting_on": day(days),
                    "threshold_days": 30,
                }
            ]

    @pytest.mark.parametrize("days", [29, 30, 31])
    async def test_since_the_start_without_a_meeting(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, days: int
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, state="active")
        await backdate(session, mentorship["id"], days)
        reasons = await attention(client, actors.educator_53, mentorship["id"])
        expected = {
            "code": "no_meeting",
            "since": day(days),
            "days": days,
            "last_meeting_on": None,
            "threshold_days": 30,
        }
        assert reasons == ([expected] if days > 30 else [])

    @pytest.mark.parametrize("days", [9, 10, 11])
    async def test_the_departement_sets_the_threshold(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, days: int
    ) -> None:
        settings = await set_thresholds(client, actors, attention_meeting_days=10)
        assert settings["attention_meeting_days"] == 10
        mentorship = await make_mentorship(client, session, actors)
        await backdate(session, mentorship["id"], 60)
        await meet(client, actors, mentorship["id"], days)
        reasons = await attention(client, actors.educator_53, mentorship["id"])
        assert [(r["code"], r["days"], r["threshold_days"]) for r in reasons] == (
            [("no_meeting", days, 10)] if days > 10 else []
        )

    async def test_only_active_mentorships_wait_for_meetings(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        for state in ("accepted", "paused", "ended"):
            mentorship = await make_mentorship(client, session, actors, state=state)
            await backdate(session, mentorship["id"], 80)
            assert await attention(client, actors.educator_53, mentorship["id"]) == [], state


class TestObjectivesStale:
    @pytest.mark.parametrize("days", [30, 31, 32])
    async def test_unchanged_for_too_long(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, days: int
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        await backdate(session, mentorship["id"], 90)
        await meet(client, actors, mentorship["id"], 2)
        objective = await add_objective(client, actors, mentorship["id"])
        await unchanged_for(session, objective, days)
        reasons = await attention(client, actors.educator_53, mentorship["id"])
        # Stale on the 31st day unchanged: since the day after the 30 days.
        stale_since = today() - timedelta(days=days) + timedelta(days=31)
        expected = {
            "code": "objectives_stale",
            "since": stale_since.isoformat(),
            "days": (today() - stale_since).days,
            "objectives": 1,
            "threshold_days": 30,
        }
        assert reasons == ([expected] if days > 30 else [])

    @pytest.mark.parametrize("target", [1, 0, -1])
    async def test_past_its_target_date(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, target: int
    ) -> None:
        """Target tomorrow, today, yesterday: stale from the day after the target."""
        mentorship = await make_mentorship(client, session, actors)
        await backdate(session, mentorship["id"], 90)
        await meet(client, actors, mentorship["id"], 2)
        target_date = today() + timedelta(days=target)
        await add_objective(client, actors, mentorship["id"], target_date=target_date.isoformat())
        reasons = await attention(client, actors.educator_53, mentorship["id"])
        if target >= 0:
            assert reasons == []
        else:
            assert reasons == [
                {
                    "code": "objectives_stale",
                    "since": today().isoformat(),
                    "days": 0,
                    "objectives": 1,
                    "threshold_days": 30,
                }
            ]

    async def test_every_live_objective_must_be_stale_since_the_latest_went(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        await backdate(session, mentorship["id"], 120)
        await meet(client, actors, mentorship["id"], 1)
        old = await add_objective(client, actors, mentorship["id"], status="in_progress")
        await unchanged_for(session, old, 70)
        late = await add_objective(client, actors, mentorship["id"], target_date=day(5))
        done = await add_objective(client, actors, mentorship["id"], status="achieved")
        await unchanged_for(session, done, 100)
        # Stale since the later of the two: the day after the target date.
        assert await attention(client, actors.educator_53, mentorship["id"]) == [
            {
                "code": "objectives_stale",
                "since": day(4),
                "days": 4,
                "objectives": 2,
                "threshold_days": 30,
            }
        ]
        # A fresh change to one of them clears the reason.
        response = await client.patch(
            f"/v1/objectives/{late}", json={"progress": 20}, headers=actors.educator_53
        )
        assert response.status_code == 200, response.text
        reasons = await attention(client, actors.educator_53, mentorship["id"])
        assert reasons != [] and reasons[0]["since"] == day(4)  # still past its target date
        response = await client.patch(
            f"/v1/objectives/{late}", json={"target_date": None}, headers=actors.educator_53
        )
        assert response.status_code == 200, response.text
        assert await attention(client, actors.educator_53, mentorship["id"]) == []

    async def test_threshold_from_the_departement(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        await set_thresholds(client, actors, attention_objective_days=7)
        mentorship = await make_mentorship(client, session, actors)
        await backdate(session, mentorship["id"], 30)
        await meet(client, actors, mentorship["id"], 1)
        objective = await add_objective(client, actors, mentorship["id"])
        await unchanged_for(session, objective, 7)
        assert await attention(client, actors.educator_53, mentorship["id"]) == []
        await unchanged_for(session, objective, 8)
        (reason,) = await attention(client, actors.educator_53, mentorship["id"])
        assert (reason["code"], reason["since"], reason["threshold_days"]) == (
            "objectives_stale",
            day(0),
            7,
        )


class TestPausedTooLong:
    @pytest.mark.parametrize("days", [89, 90, 91])
    async def test_paused_for_more_than_the_threshold(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, days: int
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, state="paused")
        await backdate(session, mentorship["id"], 200)
        await pause_backdated(session, mentorship["id"], days)
        reasons = await attention(client, actors.educator_53, mentorship["id"])
        expected = {
            "code": "paused_too_long",
            "since": day(days),
            "days": days,
            "threshold_days": 90,
        }
        assert reasons == ([expected] if days > 90 else [])
        # Back to active, the pause is no reason any more (but the silence since may be).
        assert (await transition(client, actors.educator_53, mentorship["id"], "active")).is_success
        codes = [r["code"] for r in await attention(client, actors.educator_53, mentorship["id"])]
        assert "paused_too_long" not in codes

    async def test_threshold_from_the_departement(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        await set_thresholds(client, actors, attention_pause_days=14)
        mentorship = await make_mentorship(client, session, actors, state="paused")
        await pause_backdated(session, mentorship["id"], 15)
        (reason,) = await attention(client, actors.educator_53, mentorship["id"])
        assert (reason["code"], reason["days"], reason["threshold_days"]) == (
            "paused_too_long",
            15,
            14,
        )


class TestReasonsTogether:
    async def test_a_mentorship_may_have_several_reasons(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        await backdate(session, mentorship["id"], 90)
        await meet(client, actors, mentorship["id"], 45)
        objective = await add_objective(client, actors, mentorship["id"])
        await unchanged_for(session, objective, 40)
        reasons = await attention(client, actors.educator_53, mentorship["id"])
        assert [r["code"] for r in reasons] == ["no_meeting", "objectives_stale"]
        assert reasons[0]["since"] == day(45) and reasons[1]["since"] == day(9)


class TestFilterAgreesWithReasons:
    async def test_listed_as_needing_attention_exactly_when_it_has_a_reason(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        await set_thresholds(client, actors, attention_pause_days=20)
        made = []
        for state, backdated, met in (
            ("accepted", 100, None),
            ("active", 10, None),
            ("active", 40, None),
            ("active", 100, 31),
            ("active", 100, 30),
            ("paused", 100, None),
            ("ended", 100, None),
        ):
            mentorship = await make_mentorship(client, session, actors, state=state)
            await backdate(session, mentorship["id"], backdated)
            if met is not None:
                await meet(client, actors, mentorship["id"], met)
            made.append(mentorship["id"])
        await pause_backdated(session, made[5], 21)
        for headers in (actors.educator_53, actors.coordinator_a, actors.admin):
            everything = await listed(client, headers)
            assert set(made) <= set(everything)
            flagged = await listed(client, headers, "true")
            calm = await listed(client, headers, "false")
            assert set(flagged) == {id_ for id_, reasons in everything.items() if reasons}
            assert set(calm) == {id_ for id_, reasons in everything.items() if not reasons}
            # Each list shows the same reasons as the single read.
            for mentorship_id in made:
                single = await attention(client, headers, mentorship_id)
                assert everything[mentorship_id] == single
                assert (mentorship_id in flagged) == bool(single)
            assert {m for m in made if m in flagged} == {made[2], made[3], made[5]}


class TestEachSide:
    async def test_the_association_side_sees_the_reasons_not_the_child(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(
            client, session, actors, state="active", mentor=actors.mentor_a1
        )
        await backdate(session, mentorship["id"], 45)
        for who in ("coordinator_a", "mentor_a"):
            headers = getattr(actors, who)
            response = await client.get(f"/v1/mentorships/{mentorship['id']}", headers=headers)
            body = response.json()
            assert [r["code"] for r in body["attention"]] == ["no_meeting"], who
            assert body["child"]["id"] is None and body["child"]["reference"] is None, who
            (item,) = [
                m
                for m in (
                    await client.get(
                        "/v1/mentorships", params={"needs_attention": "true"}, headers=headers
                    )
                ).json()["items"]
                if m["id"] == mentorship["id"]
            ]
            assert item["attention"] == body["attention"]
            assert item["child"]["id"] is None and item["child"]["reference"] is None
            # The reasons hold dates, counts and codes: nothing of the child.
            assert set(item["attention"][0]) == {
                "code",
                "since",
                "days",
                "last_meeting_on",
                "threshold_days",
            }

    async def test_out_of_scope_is_not_found_nor_listed(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, state="active")
        await backdate(session, mentorship["id"], 45)
        for headers in (actors.educator_75, actors.coordinator_b):
            response = await client.get(f"/v1/mentorships/{mentorship['id']}", headers=headers)
            assert response.status_code == 404
            flagged = await listed(client, headers, "true")
            assert mentorship["id"] not in flagged

    async def test_the_spreadsheet_carries_the_reasons(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, state="active")
        await backdate(session, mentorship["id"], 45)
        response = await client.get(
            "/v1/mentorships",
            params={"needs_attention": "true"},
            headers=actors.educator_53 | {"Accept": "text/csv"},
        )
        assert response.status_code == 200, response.text
        header, *lines = response.text.splitlines()
        assert "attention" in header.split(";")
        (line,) = [line for line in lines if mentorship["id"] in line]
        assert "no_meeting" in line


class TestThresholdSettings:
    async def test_defaults_and_bounds(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        response = await client.get(f"/v1/departements/{DEPARTEMENT}", headers=actors.admin)
        body = response.json()
        assert (
            body["attention_meeting_days"],
            body["attention_objective_days"],
            body["attention_pause_days"],
        ) == (30, 30, 90)
        for value in (0, 366, "30", None):
            response = await client.patch(
                f"/v1/departements/{DEPARTEMENT}",
                json={"attention_meeting_days": value},
                headers=actors.manager_53,
            )
            assert response.status_code == 422, (value, response.text)
        after = (await client.get(f"/v1/departements/{DEPARTEMENT}", headers=actors.admin)).json()
        assert after["attention_meeting_days"] == 30
        response = await client.patch(
            "/v1/departements/75", json={"attention_pause_days": 10}, headers=actors.manager_53
        )
        assert response.status_code == 403
