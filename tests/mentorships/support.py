"""Helpers shared by the mentorship tests: problems, proposals, mentorships, row counts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.models import Association, Child, Mentor
from tests.conftest import run_queued_jobs
from tests.factories import Actors, create_assessment, create_child, create_mentor

PROBLEM = "application/problem+json"
PROBLEM_PREFIX = "urn:mentorat:problem:"
STATES = ("accepted", "active", "paused", "ended")
ALLOWED = frozenset(
    {
        ("accepted", "active"),
        ("accepted", "ended"),
        ("active", "paused"),
        ("paused", "active"),
        ("active", "ended"),
        ("paused", "ended"),
    }
)
# From `accepted`, the moves that reach each state.
PATH_TO: dict[str, list[str]] = {
    "accepted": [],
    "active": ["active"],
    "paused": ["active", "paused"],
    "ended": ["ended"],
}


def assert_problem(
    response: httpx.Response, status: int, slug: str | None = None
) -> dict[str, Any]:
    """An RFC 9457 answer with this status (and this type, when given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith(PROBLEM_PREFIX)
    assert body["title"]
    if slug is not None:
        assert body["type"] == PROBLEM_PREFIX + slug, body
    return body


def days_ago(days: int) -> str:
    return (date.today() - timedelta(days=days)).isoformat()


async def scalar(session: AsyncSession, sql: str, **params: Any) -> Any:
    return (await session.execute(text(sql), params)).scalar()


async def count(session: AsyncSession, table: str, where: str = "TRUE", **params: Any) -> int:
    return int(await scalar(session, f"SELECT count(*) FROM {table} WHERE {where}", **params))


async def execute(session: AsyncSession, sql: str, **params: Any) -> None:
    """A direct write (e.g. moving dates into the past), committed for the API to see."""
    await session.execute(text(sql), params)
    await session.commit()


async def snapshot(session: AsyncSession, mentorship_id: str) -> tuple[Any, ...]:
    """What a refused move must leave untouched: state, version, dates and the events."""
    row = (
        await session.execute(
            text(
                "SELECT state, version, end_reason, started_at, ended_at FROM mentorship "
                "WHERE id = :id"
            ),
            {"id": mentorship_id},
        )
    ).one()
    events = (
        await session.execute(
            text("SELECT id, from_state, to_state FROM mentorship_event WHERE mentorship_id = :id"),
            {"id": mentorship_id},
        )
    ).all()
    return (tuple(row), sorted(tuple(event) for event in events))


async def new_mentor(session: AsyncSession, association: Association, **overrides: Any) -> Mentor:
    mentor = await create_mentor(session, association=association, **overrides)
    await session.commit()
    return mentor


async def new_child(session: AsyncSession, **overrides: Any) -> Child:
    child = await create_child(session, **overrides)
    await session.commit()
    return child


async def propose(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    child_id: Any,
    mentor_id: Any,
    **extra_headers: str,
) -> httpx.Response:
    return await client.post(
        "/v1/proposals",
        json={"child_id": str(child_id), "mentor_id": str(mentor_id)},
        headers=headers | extra_headers,
    )


async def transition(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    mentorship_id: str,
    to: str,
    reason: str | None = None,
    note: str | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"to": to}
    if reason is not None:
        body["reason"] = reason
    if note is not None:
        body["note"] = note
    return await client.post(
        f"/v1/mentorships/{mentorship_id}/transitions", json=body, headers=headers
    )


async def make_mentorship(
    client: httpx.AsyncClient,
    session: AsyncSession,
    actors: Actors,
    *,
    state: str = "accepted",
    mentor: Mentor | None = None,
    child: Child | None = None,
) -> dict[str, Any]:
    """A mentorship in département 53 with a mentor of association A, brought to `state`.

    The educator proposes (which validates), the coordinator accepts for the mentor.
    """
    mentor = mentor or await new_mentor(session, actors.association_a)
    child = child or await new_child(session)
    response = await propose(client, actors.educator_53, child.id, mentor.id)
    assert response.status_code == 201, response.text
    response = await client.post(
        f"/v1/proposals/{response.json()['id']}/accept", headers=actors.coordinator_a
    )
    assert response.status_code == 200, response.text
    mentorship_id = response.json()["mentorship_id"]
    assert mentorship_id
    for to in PATH_TO[state]:
        response = await transition(
            client, actors.educator_53, mentorship_id, to, reason="other" if to == "ended" else None
        )
        assert response.status_code == 200, response.text
    response = await client.get(f"/v1/mentorships/{mentorship_id}", headers=actors.educator_53)
    assert response.status_code == 200, response.text
    assert response.json()["state"] == state
    return response.json()


async def run_proposal(
    client: httpx.AsyncClient, actors: Actors, child: Child, mentor: Mentor
) -> dict[str, Any]:
    """A pending proposal from a (real) matching run: it awaits both consents."""
    response = await client.post(
        "/v1/matching-runs",
        json={"child_ids": [str(child.id)], "mentor_ids": [str(mentor.id)], "min_score": 0},
        headers=actors.manager_53,
    )
    assert response.status_code == 202, response.text
    await run_queued_jobs(client)
    run = (
        await client.get(f"/v1/matching-runs/{response.json()['id']}", headers=actors.manager_53)
    ).json()
    assert run["status"] == "succeeded", run
    page = (
        await client.get(f"/v1/matching-runs/{run['id']}/proposals", headers=actors.manager_53)
    ).json()
    (proposal,) = page["items"]
    response = await client.get(f"/v1/proposals/{proposal['id']}", headers=actors.manager_53)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "pending"
    assert body["validated_at"] is None and body["mentor_accepted_at"] is None
    return body


# --------------------------------------------------------------------------- the legal duty


async def assessed_child(
    session: AsyncSession,
    *,
    assessed_days_ago: int = 30,
    outcome: str = "mentoring_recommended",
    **overrides: Any,
) -> Child:
    """A child without an offer, with one assessment (recommending, by default) `assessed_days_ago`
    days ago."""
    child = await create_child(session, offer=None, **overrides)
    await create_assessment(
        session, child, assessed_on=date.today() - timedelta(days=assessed_days_ago),
        outcome=outcome,
    )  # fmt: skip
    await session.commit()
    return child


async def make_offer(
    client: httpx.AsyncClient, headers: dict[str, str], child_id: Any, **body: Any
) -> httpx.Response:
    return await client.post(f"/v1/children/{child_id}/offers", json=body, headers=headers)


def fact(party: str, kind: str, given_on: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"party": party, "kind": kind, "given_on": given_on or days_ago(1), **extra}


async def add_consent(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    offer_id: Any,
    party: str,
    kind: str,
    given_on: str | None = None,
    **extra: Any,
) -> httpx.Response:
    return await client.post(
        f"/v1/offers/{offer_id}/consents", json=fact(party, kind, given_on, **extra),
        headers=headers,
    )  # fmt: skip


async def recommend(
    client: httpx.AsyncClient, headers: dict[str, str], child_id: Any, **body: Any
) -> dict[str, Any]:
    """A recommending assessment of today, through the API."""
    response = await client.post(
        f"/v1/children/{child_id}/assessments",
        json={"assessed_on": date.today().isoformat(), "outcome": "mentoring_recommended", **body},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def accepted_offer_body(**body: Any) -> dict[str, Any]:
    """An offer made today that the child and the parents (parental authority) agreed to."""
    today = date.today().isoformat()
    return {
        "consents": [fact("child", "agreed", today), fact("parents", "agreed", today)],
        **body,
    }
