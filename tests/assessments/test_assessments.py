"""Assessments (CASF D221-34): validated, scoped, append-only, idempotent, audited."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Actors
from tests.mentorships.support import assert_problem, count, days_ago, new_child, scalar


def url(child_id: Any) -> str:
    return f"/v1/children/{child_id}/assessments"


def body(**overrides: Any) -> dict[str, Any]:
    return {"assessed_on": days_ago(3), "outcome": "mentoring_recommended", **overrides}


def first_error_at(response: httpx.Response) -> list[Any]:
    loc = response.json()["errors"][0]["loc"]
    return loc[1:] if loc[:1] == ["body"] else loc


async def footprint(session: AsyncSession) -> tuple[int, int]:
    return await count(session, "assessment"), await count(session, "audit_event")


class TestRecording:
    async def test_a_recommendation_and_its_renewal_date(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session, offer=None)
        response = await client.post(
            url(child.id), json=body(assessed_on="2026-02-28", note="Motivé"),
            headers=actors.educator_53,
        )  # fmt: skip
        assert response.status_code == 201, response.text
        created = response.json()
        assert response.headers["Location"] == f"/v1/assessments/{created['id']}"
        assert created["child_id"] == str(child.id) and created["departement_code"] == "53"
        assert created["next_due_on"] == "2027-02-28"
        assert created["reason"] is None and created["note"] == "Motivé"
        author = await scalar(
            session, "SELECT author_name FROM assessment WHERE id = :id", id=created["id"]
        )
        assert created["author_name"] == author and author.startswith("educator_53")
        stored = await client.get(f"/v1/assessments/{created['id']}", headers=actors.manager_53)
        assert stored.status_code == 200, stored.text
        assert stored.json() == created

    async def test_a_leap_day_is_renewed_on_28_february(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session, offer=None)
        response = await client.post(
            url(child.id), json=body(assessed_on="2024-02-29"), headers=actors.educator_53
        )
        assert response.json()["next_due_on"] == "2025-02-28"

    @pytest.mark.parametrize("outcome", ["not_now", "not_applicable"])
    async def test_a_reason_is_required_unless_recommended(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, outcome: str
    ) -> None:
        child = await new_child(session, offer=None)
        before = await footprint(session)
        for missing in ({}, {"reason": "   "}, {"reason": None}):
            response = await client.post(
                url(child.id), json=body(outcome=outcome, **missing), headers=actors.educator_53
            )
            assert_problem(response, 422)
            assert first_error_at(response) == ["reason"]
        assert await footprint(session) == before
        response = await client.post(
            url(child.id),
            json=body(outcome=outcome, reason="Déménagement en cours"),
            headers=actors.educator_53,
        )
        assert response.status_code == 201, response.text
        assert response.json()["reason"] == "Déménagement en cours"

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"assessed_on": "2999-01-01"}, "assessed_on"),
            ({"assessed_on": (date.today() + timedelta(days=2)).isoformat()}, "assessed_on"),
            ({"assessed_on": "2015-02-28"}, "assessed_on"),  # the day before the birth
            ({"assessed_on": "01/09/2026"}, "assessed_on"),
            ({"outcome": "maybe"}, "outcome"),
            ({"note": "x" * 2001}, "note"),
            ({"author_name": "someone else"}, "author_name"),
        ],
        ids=["far-future", "future", "before-birth", "not-iso", "outcome", "long-note", "author"],
    )
    async def test_invalid_assessments_are_422s_that_change_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        overrides: dict[str, Any],
        field: str,
    ) -> None:
        child = await new_child(session, offer=None)  # born 2015-03-01
        before = await footprint(session)
        response = await client.post(
            url(child.id), json=body(**overrides), headers=actors.educator_53
        )
        assert_problem(response, 422)
        assert first_error_at(response) == [field], response.json()
        assert await footprint(session) == before

    async def test_assessments_are_append_only(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session, offer=None)
        created = (await client.post(url(child.id), json=body(), headers=actors.educator_53)).json()
        path = f"/v1/assessments/{created['id']}"
        for method in ("PATCH", "PUT", "DELETE"):
            response = await client.request(method, path, json={"note": "x"}, headers=actors.admin)
            assert_problem(response, 405)
        stored = (await client.get(path, headers=actors.educator_53)).json()
        assert stored == created


class TestListing:
    async def test_latest_first_in_pages(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session, offer=None)
        made = []
        for days, outcome in ((400, "mentoring_recommended"), (30, "not_now"), (30, "not_now")):
            extra = {"reason": "pas prêt"} if outcome == "not_now" else {}
            response = await client.post(
                url(child.id),
                json=body(assessed_on=days_ago(days), outcome=outcome, **extra),
                headers=actors.educator_53,
            )
            made.append(response.json()["id"])
        first = (
            await client.get(url(child.id), params={"limit": 2}, headers=actors.educator_53)
        ).json()
        second = (
            await client.get(
                url(child.id),
                params={"limit": 2, "cursor": first["next_cursor"]},
                headers=actors.educator_53,
            )
        ).json()
        # Same day: the one recorded last first (a correction is a new assessment).
        assert [a["id"] for a in first["items"] + second["items"]] == [made[2], made[1], made[0]]
        assert second["next_cursor"] is None


class TestScope:
    async def test_other_departements_and_the_association_side_see_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session, offer=None)
        created = (await client.post(url(child.id), json=body(), headers=actors.manager_53)).json()
        before = await footprint(session)
        for path in (url(child.id), f"/v1/assessments/{created['id']}"):
            assert_problem(await client.get(path, headers=actors.educator_75), 404)
        assert_problem(
            await client.post(url(child.id), json=body(), headers=actors.educator_75), 404
        )
        for side in (actors.coordinator_a, actors.mentor_a):
            for path in (url(child.id), f"/v1/assessments/{created['id']}"):
                assert_problem(await client.get(path, headers=side), 403)
            assert_problem(await client.post(url(child.id), json=body(), headers=side), 403)
        assert await footprint(session) == before
        # An administrator sees every département's.
        response = await client.get(f"/v1/assessments/{created['id']}", headers=actors.admin)
        assert response.status_code == 200, response.text

    async def test_reads_are_audited(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session, offer=None)
        created = (await client.post(url(child.id), json=body(), headers=actors.educator_53)).json()
        where = "entity_type = 'child' AND entity_id = :id AND details->>'via' = :via"
        for path, via in (
            (url(child.id), "assessments"),
            (f"/v1/assessments/{created['id']}", "assessment"),
        ):
            before = await count(session, "audit_event", where, id=str(child.id), via=via)
            assert (await client.get(path, headers=actors.educator_53)).status_code == 200
            assert (
                await count(session, "audit_event", where, id=str(child.id), via=via) == before + 1
            )


class TestIdempotency:
    async def test_a_retry_with_its_key_records_one_assessment(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session, offer=None)
        headers = actors.educator_53 | {"Idempotency-Key": "bilan-1"}
        first = await client.post(url(child.id), json=body(), headers=headers)
        assert first.status_code == 201, first.text
        retry = await client.post(url(child.id), json=body(), headers=headers)
        assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
        assert retry.json() == first.json()
        assert retry.headers["Location"] == first.headers["Location"]
        assert await count(session, "assessment", "child_id = :c", c=child.id) == 1
        other = await client.post(url(child.id), json=body(note="autre"), headers=headers)
        assert_problem(other, 422)
        assert await count(session, "assessment", "child_id = :c", c=child.id) == 1
