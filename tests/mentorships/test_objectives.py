"""Objectives: every change is a revision; the objectives can be read as they stood then."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Actors
from tests.mentorships.support import (
    assert_problem,
    count,
    make_mentorship,
    transition,
)

FIELDS = ("title", "category", "description", "target_date", "status", "progress")


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def between(earlier: str, later: str) -> str:
    a, b = instant(earlier), instant(later)
    assert a < b
    return (a + (b - a) / 2).isoformat()


def just_before(value: str) -> str:
    return (instant(value) - timedelta(microseconds=1)).isoformat()


def values_of(objective: dict[str, Any]) -> dict[str, Any]:
    return {field: objective[field] for field in FIELDS}


async def create(
    client: httpx.AsyncClient, headers: dict[str, str], mentorship_id: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/mentorships/{mentorship_id}/objectives", json=body, headers=headers
    )


async def patch(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    objective: dict[str, Any],
    etag: str | None = None,
    **changes: Any,
) -> httpx.Response:
    extra = {"If-Match": etag} if etag else {}
    return await client.patch(
        f"/v1/objectives/{objective['id']}", json=changes, headers=headers | extra
    )


async def history(
    client: httpx.AsyncClient, headers: dict[str, str], objective_id: str
) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/objectives/{objective_id}/history", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def as_of(
    client: httpx.AsyncClient, headers: dict[str, str], mentorship_id: str, at: str | None
) -> dict[str, dict[str, Any]]:
    params = {"as_of": at} if at is not None else {}
    response = await client.get(
        f"/v1/mentorships/{mentorship_id}/objectives", params=params, headers=headers
    )
    assert response.status_code == 200, response.text
    return {o["id"]: o for o in response.json()["items"]}


class TestRevisions:
    async def test_every_change_is_kept_with_who_when_and_what(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, mentor=actors.mentor_a1)
        response = await create(
            client,
            actors.educator_53,
            mentorship["id"],
            title="Trouver un stage de 3e",
            category="stage",
            target_date="2027-02-01",
        )
        assert response.status_code == 201, response.text
        objective = response.json()
        assert objective["revision"] == 1 and objective["status"] == "open"
        assert objective["progress"] == 0 and objective["as_of"] is None
        assert response.headers["Location"] == f"/v1/objectives/{objective['id']}"
        etag = response.headers["ETag"]
        assert etag == '"1"'

        steps = [
            (actors.mentor_a, "mentor_a", {"status": "in_progress", "progress": 30}),
            (actors.coordinator_a, "coordinator_a", {"description": "Boulangerie ou garage"}),
            (actors.educator_53, "educator_53", {"progress": 80, "target_date": None}),
            (actors.mentor_a, "mentor_a", {"status": "achieved", "progress": 100}),
        ]
        expected = [values_of(objective)]
        for headers, _, changes in steps:
            response = await patch(client, headers, objective, etag, **changes)
            assert response.status_code == 200, response.text
            etag = response.headers["ETag"]
            expected.append(values_of(response.json()))
            assert expected[-1] == expected[-2] | changes
        assert response.json()["revision"] == len(steps) + 1

        revisions = await history(client, actors.educator_53, objective["id"])
        assert [r["revision"] for r in revisions] == list(range(1, len(steps) + 2))
        assert [r["values"] for r in revisions] == expected
        assert revisions[0]["changed_fields"] == list(FIELDS)
        assert [r["changed_fields"] for r in revisions[1:]] == [
            sorted(changes) for _, _, changes in steps
        ]
        assert [r["principal_name"].split()[0] for r in revisions] == [
            "educator_53",
            *(who for _, who, _ in steps),
        ]
        times = [instant(r["recorded_at"]) for r in revisions]
        assert times == sorted(times) and len(set(times)) == len(times)
        # Every reader in scope sees the same history.
        assert await history(client, actors.mentor_a, objective["id"]) == revisions

    async def test_a_patch_that_changes_nothing_adds_no_revision(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        objective = (
            await create(
                client, actors.educator_53, mentorship["id"], title="CV", category="emploi"
            )
        ).json()
        response = await patch(client, actors.educator_53, objective, title="CV", progress=0)
        assert response.status_code == 200, response.text
        assert response.json()["revision"] == 1
        assert len(await history(client, actors.educator_53, objective["id"])) == 1

    @pytest.mark.parametrize(
        "body",
        [
            {"title": "", "category": "stage"},
            {"title": "x", "category": "astrologie"},
            {"title": "x", "category": "stage", "progress": 101},
            {"title": "x", "category": "stage", "status": "forgotten"},
            {"category": "stage"},
        ],
        ids=["blank-title", "unknown-category", "progress", "status", "no-title"],
    )
    async def test_invalid_objectives_are_422(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        body: dict[str, Any],
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        assert_problem(await create(client, actors.educator_53, mentorship["id"], **body), 422)
        assert await count(session, "objective", "mentorship_id = :m", m=mentorship["id"]) == 0

    @pytest.mark.parametrize(
        "changes",
        [{"title": None}, {"progress": -1}, {"category": "x"}, {}],
        ids=["null-title", "progress", "category", "empty"],
    )
    async def test_invalid_changes_are_422_and_change_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        changes: dict[str, Any],
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        objective = (
            await create(
                client, actors.educator_53, mentorship["id"], title="CV", category="emploi"
            )
        ).json()
        assert_problem(await patch(client, actors.educator_53, objective, **changes), 422)
        assert len(await history(client, actors.educator_53, objective["id"])) == 1


class TestAsOf:
    async def test_objectives_as_they_stood_at_each_instant(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, state="active")
        headers = actors.educator_53
        first = (
            await create(client, headers, mentorship["id"], title="Stage", category="stage")
        ).json()
        await patch(client, headers, first, status="in_progress", progress=20)
        second = (
            await create(client, headers, mentorship["id"], title="Pix", category="numerique")
        ).json()
        await patch(client, headers, first, progress=60, description="chez un boulanger")
        await patch(client, headers, second, status="abandoned")
        await patch(client, headers, first, title="Stage de 3e")

        first_history = await history(client, headers, first["id"])
        second_history = await history(client, headers, second["id"])
        timeline = sorted(
            [(r["recorded_at"], first["id"], r) for r in first_history]
            + [(r["recorded_at"], second["id"], r) for r in second_history],
            key=lambda entry: instant(entry[0]),
        )
        assert len(timeline) == 6

        # Before anything was written: nothing.
        assert await as_of(client, headers, mentorship["id"], just_before(timeline[0][0])) == {}
        # At each revision exactly, and between it and the next: the values of that moment.
        standing: dict[str, dict[str, Any]] = {}
        for position, (at, objective_id, revision) in enumerate(timeline):
            standing[objective_id] = revision
            probes = [at]
            if position + 1 < len(timeline):
                probes.append(between(at, timeline[position + 1][0]))
            for probe in probes:
                shown = await as_of(client, headers, mentorship["id"], probe)
                assert set(shown) == set(standing), probe
                for shown_id, row in shown.items():
                    assert values_of(row) == standing[shown_id]["values"]
                    assert row["revision"] == standing[shown_id]["revision"]
                    assert instant(row["as_of"]) == instant(probe)

        # Now (and later): the current values, the same as without as_of.
        current = await as_of(client, headers, mentorship["id"], None)
        later = (datetime.fromisoformat(timeline[-1][0]) + timedelta(days=365)).isoformat()
        for at in (datetime.now().astimezone().isoformat(), later):
            shown = await as_of(client, headers, mentorship["id"], at)
            assert {k: values_of(v) for k, v in shown.items()} == {
                k: values_of(v) for k, v in current.items()
            }
        assert current[first["id"]]["title"] == "Stage de 3e"
        assert current[second["id"]]["status"] == "abandoned"

    async def test_as_of_needs_a_time_zone(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        response = await client.get(
            f"/v1/mentorships/{mentorship['id']}/objectives",
            params={"as_of": "2026-01-01T12:00:00"},
            headers=actors.educator_53,
        )
        assert_problem(response, 422)


class TestConcurrentEdits:
    async def test_a_stale_if_match_is_a_412_and_changes_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, mentor=actors.mentor_a1)
        response = await create(
            client, actors.educator_53, mentorship["id"], title="Pix", category="numerique"
        )
        objective, first_etag = response.json(), response.headers["ETag"]
        # The mentor changes it first...
        response = await patch(client, actors.mentor_a, objective, first_etag, progress=50)
        assert response.status_code == 200, response.text
        current = response.json()
        # ...so the educator's change, made on the first version, is refused.
        response = await patch(client, actors.educator_53, objective, first_etag, progress=10)
        assert_problem(response, 412)
        revisions = await history(client, actors.educator_53, objective["id"])
        assert len(revisions) == 2
        listed = await as_of(client, actors.educator_53, mentorship["id"], None)
        assert listed[objective["id"]] == current
        # Re-read, re-apply: accepted.
        response = await patch(
            client, actors.educator_53, objective, f'"{current["revision"]}"', progress=10
        )
        assert response.status_code == 200, response.text


class TestClosedObjectives:
    async def test_objectives_of_an_ended_mentorship_cannot_change(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, state="active")
        response = await create(
            client, actors.educator_53, mentorship["id"], title="Pix", category="numerique"
        )
        objective, etag = response.json(), response.headers["ETag"]
        response = await transition(
            client, actors.educator_53, mentorship["id"], "ended", reason="completed"
        )
        assert response.status_code == 200, response.text

        assert_problem(await patch(client, actors.educator_53, objective, etag, progress=90), 409)
        assert_problem(await patch(client, actors.coordinator_a, objective, status="achieved"), 409)
        response = await create(
            client, actors.educator_53, mentorship["id"], title="Autre", category="stage"
        )
        assert_problem(response, 409)
        assert len(await history(client, actors.educator_53, objective["id"])) == 1
        assert await count(session, "objective", "mentorship_id = :m", m=mentorship["id"]) == 1
        # They can still be read.
        listed = await as_of(client, actors.educator_53, mentorship["id"], None)
        assert values_of(listed[objective["id"]]) == values_of(objective)

    async def test_objectives_of_a_paused_mentorship_can_change(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, state="paused")
        response = await create(
            client, actors.educator_53, mentorship["id"], title="Pix", category="numerique"
        )
        assert response.status_code == 201, response.text
        objective = response.json()
        response = await patch(client, actors.coordinator_a, objective, progress=10)
        assert response.status_code == 200, response.text

        for headers in (actors.educator_53, actors.coordinator_a):
            stored = (await as_of(client, headers, mentorship["id"], None))[objective["id"]]
            assert (stored["title"], stored["progress"]) == ("Pix", 10)
        revisions = await history(client, actors.educator_53, objective["id"])
        assert [r["values"]["progress"] for r in revisions] == [0, 10]
        assert revisions[-1]["changed_fields"] == ["progress"]
        # The change made nothing move: the mentorship is still paused.
        response = await client.get(
            f"/v1/mentorships/{mentorship['id']}", headers=actors.educator_53
        )
        assert response.json()["state"] == "paused"
