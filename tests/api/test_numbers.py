"""Numbers are kept to the precision they carry, and no stored number can break a query.

PostgreSQL's `real` cannot hold 1e-300: before, such a coordinate or radius passed validation
and every later cast to `real` (the mentor's matching record, the matching loader) failed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from mentorat.kit.db import Database
from tests.api.support import assert_problem
from tests.conftest import AppClient, run_queued_jobs
from tests.factories import LAVAL, Actors, child_body, create_child, create_mentor, mentor_body
from tests.mentorships.support import accepted_offer_body, recommend

C = "/v1/children"
M = "/v1/mentors"
RUNS = "/v1/matching-runs"
TINY = 1e-300  # far below the smallest positive `real` (about 1.4e-45)


def location(**overrides: Any) -> dict[str, Any]:
    return {**LAVAL, **overrides}


async def post_mentor(client: httpx.AsyncClient, actors: Actors, **overrides: Any) -> Any:
    return await client.post(M, json=mentor_body(**overrides), headers=actors.coordinator_a)


async def patch(client: httpx.AsyncClient, url: str, headers: dict[str, str], body: Any) -> Any:
    etag = (await client.get(url, headers=headers)).headers["ETag"]
    return await client.patch(url, json=body, headers={**headers, "If-Match": etag})


async def accept_offer(client: httpx.AsyncClient, actors: Actors, child_id: str) -> None:
    await recommend(client, actors.educator_53, child_id)
    response = await client.post(
        f"{C}/{child_id}/offers", json=accepted_offer_body(), headers=actors.educator_53
    )
    assert response.status_code == 201, response.text
    assert response.json()["outcome"] == "accepted"


class TestTinyNumbers:
    @pytest.mark.parametrize(
        "overrides",
        [
            {"location": location(latitude=TINY)},
            {"location": location(longitude=-TINY)},
        ],
        ids=["latitude", "longitude"],
    )
    async def test_a_mentor_with_a_tiny_number_is_stored_rounded(
        self, client: httpx.AsyncClient, actors: Actors, overrides: dict[str, Any]
    ) -> None:
        response = await post_mentor(client, actors, **overrides)

        assert response.status_code == 201, response.text
        mentor = response.json()
        assert mentor["location"]["latitude"] in (0.0, 48.0707)
        assert mentor["location"]["longitude"] in (0.0, -0.7734)
        assert mentor["location"]["latitude"] == 0.0 or mentor["location"]["longitude"] == 0.0

    async def test_a_tiny_radius_is_refused(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await post_mentor(client, actors, travel_radius_km=TINY)

        assert_problem(response, 422, "travel_radius_km")

    async def test_a_patch_with_a_tiny_number_is_stored_rounded(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        url = f"{M}/{actors.mentor_a1.id}"
        body = {"location": location(latitude=TINY, longitude=TINY)}

        response = await patch(client, url, actors.coordinator_a, body)

        assert response.status_code == 200, response.text
        assert response.json()["location"] | {"commune": "Laval"} == location(
            latitude=0.0, longitude=0.0
        )

    async def test_a_child_with_a_tiny_coordinate_breaks_no_matching(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.post(
            C, json=child_body(location=location(latitude=TINY)), headers=actors.educator_53
        )
        assert response.status_code == 201, response.text
        child_id = response.json()["id"]
        assert response.json()["location"]["latitude"] == 0.0
        await accept_offer(client, actors, child_id)

        candidates = await client.get(
            f"{C}/{child_id}/mentor-candidates", headers=actors.educator_53
        )
        proposal = await client.post(
            "/v1/proposals",
            json={"child_id": child_id, "mentor_id": str(actors.mentor_a1.id)},
            headers=actors.educator_53,
        )
        run = await client.post(RUNS, json={"dry_run": True}, headers=actors.manager_53)

        assert candidates.status_code == 200, candidates.text
        assert proposal.status_code in (201, 409), proposal.text
        assert run.status_code == 202, run.text
        await run_queued_jobs(client)
        status = (await client.get(f"{RUNS}/{run.json()['id']}", headers=actors.manager_53)).json()
        assert status["status"] == "succeeded", status

    async def test_the_database_rounds_what_is_written_past_the_api(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await create_child(session, latitude=TINY, longitude=-0.77341234)
        mentor = await create_mentor(
            session, association=actors.association_a, latitude=TINY, travel_radius_km=20.04
        )
        await session.commit()

        stored = await session.execute(
            text(
                "SELECT c.latitude, c.longitude, m.latitude, m.travel_radius_km"
                " FROM child c, mentor m WHERE c.id = :child AND m.id = :mentor"
            ),
            {"child": child.id, "mentor": mentor.id},
        )
        candidates = await client.get(
            f"{C}/{child.id}/mentor-candidates", headers=actors.educator_53
        )

        assert [float(value) for value in stored.one()] == [0.0, -0.773412, 0.0, 20.0]
        assert candidates.status_code == 200, candidates.text
        assert str(mentor.id) in [c["mentor_id"] for c in candidates.json()["candidates"]]


class TestPrecision:
    async def test_coordinates_keep_six_decimals_and_radius_one(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await post_mentor(
            client,
            actors,
            location=location(latitude=48.07071234, longitude=-0.77345678),
            travel_radius_km=12.345,
        )

        assert response.status_code == 201, response.text
        mentor = response.json()
        assert mentor["location"]["latitude"] == 48.070712
        assert mentor["location"]["longitude"] == -0.773457
        assert mentor["travel_radius_km"] == 12.3

    async def test_needed_hours_below_half_an_hour_are_refused(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.post(
            RUNS, json={"needed_hours": TINY, "dry_run": True}, headers=actors.manager_53
        )

        assert_problem(response, 422, "needed_hours")

    async def test_a_radius_under_a_tenth_of_a_km_is_refused(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await post_mentor(client, actors, travel_radius_km=0.04)

        assert_problem(response, 422, "travel_radius_km")

    async def test_run_numbers_keep_their_precision(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        third = 1 / 3
        response = await client.post(
            RUNS,
            json={
                "weights": {"goals": third, "distance": third, "availability": third},
                "min_score": TINY,
                "needed_hours": 2.0000000001,  # within multiple_of's tolerance
                "dry_run": True,
            },
            headers=actors.manager_53,
        )

        assert response.status_code == 202, response.text
        await run_queued_jobs(client)
        run = (
            await client.get(f"{RUNS}/{response.json()['id']}", headers=actors.manager_53)
        ).json()
        assert run["weights"] == {"goals": 0.333333, "distance": 0.333333, "availability": 0.333333}
        assert run["min_score"] == 0.0
        assert run["needed_hours"] == 2.0
        assert run["status"] == "succeeded", run


# --------------------------------------------------------------------------- property

COORDINATES = st.tuples(
    st.floats(min_value=-90, max_value=90), st.floats(min_value=-180, max_value=180)
)


@st.composite
def weights(draw: st.DrawFn) -> dict[str, float]:
    goals = draw(st.floats(min_value=0, max_value=1))
    distance = draw(st.floats(min_value=0, max_value=1 - goals))
    return {"goals": goals, "distance": distance, "availability": 1 - goals - distance}


@asynccontextmanager
async def rolled_back_client(
    app: FastAPI, connection: AsyncConnection
) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose writes go to a savepoint rolled back after one example."""
    savepoint = await connection.begin_nested()
    database = Database.on_connection(connection)
    app.state.database = database
    try:
        transport = httpx.ASGITransport(app=app)
        async with AppClient(
            database, app.state.settings, transport=transport, base_url="http://testserver"
        ) as client:
            yield client
    finally:
        if savepoint.is_active:
            await savepoint.rollback()


class TestAnyNumberInRange:
    """Every number in its documented range is accepted, and nothing later breaks on it."""

    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        child_at=COORDINATES,
        child_moves_to=COORDINATES,
        college_entry_year=st.integers(2000, 2100),
        mentor_at=COORDINATES,
        mentor_moves_to=COORDINATES,
        radius=st.floats(min_value=0.1, max_value=200),
        new_radius=st.floats(min_value=0.1, max_value=200),
        capacity=st.integers(1, 10),
        run_weights=weights(),
        min_score=st.floats(min_value=0, max_value=1),
        needed_hours=st.one_of(
            st.integers(1, 40).map(lambda halves: halves / 2),
            st.floats(min_value=0, max_value=20, exclude_min=True),
        ),
    )
    async def test_never_a_500_and_runs_succeed(
        self,
        app: FastAPI,
        module_connection: AsyncConnection,
        module_actors: Actors,
        child_at: tuple[float, float],
        child_moves_to: tuple[float, float],
        college_entry_year: int,
        mentor_at: tuple[float, float],
        mentor_moves_to: tuple[float, float],
        radius: float,
        new_radius: float,
        capacity: int,
        run_weights: dict[str, float],
        min_score: float,
        needed_hours: float,
    ) -> None:
        actors = module_actors
        async with rolled_back_client(app, module_connection) as client:
            child = await client.post(
                C,
                json=child_body(
                    location=location(latitude=child_at[0], longitude=child_at[1]),
                    college_entry_year=college_entry_year,
                ),
                headers=actors.educator_53,
            )
            assert child.status_code == 201, child.text
            child_url = f"{C}/{child.json()['id']}"
            moved = await patch(
                client,
                child_url,
                actors.educator_53,
                {"location": location(latitude=child_moves_to[0], longitude=child_moves_to[1])},
            )
            assert moved.status_code == 200, moved.text
            await accept_offer(client, actors, child.json()["id"])

            mentor = await post_mentor(
                client,
                actors,
                location=location(latitude=mentor_at[0], longitude=mentor_at[1]),
                travel_radius_km=radius,
                capacity=capacity,
                remote_ok=True,
            )
            assert mentor.status_code == 201, mentor.text
            mentor_id = mentor.json()["id"]
            changed = await patch(
                client,
                f"{M}/{mentor_id}",
                actors.coordinator_a,
                {
                    "location": location(latitude=mentor_moves_to[0], longitude=mentor_moves_to[1]),
                    "travel_radius_km": new_radius,
                },
            )
            assert changed.status_code == 200, changed.text

            candidates = await client.get(
                f"{child_url}/mentor-candidates", headers=actors.educator_53
            )
            assert candidates.status_code == 200, candidates.text

            run = await client.post(
                RUNS,
                json={
                    "weights": run_weights,
                    "min_score": min_score,
                    "needed_hours": needed_hours,
                    "dry_run": True,
                },
                headers=actors.manager_53,
            )
            if run.status_code == 422:  # not a multiple of half an hour
                assert_problem(run, 422, "needed_hours")
                assert (needed_hours * 2) % 1
            else:
                assert run.status_code == 202, run.text
                await run_queued_jobs(client)
                done = await client.get(f"{RUNS}/{run.json()['id']}", headers=actors.manager_53)
                assert done.json()["status"] == "succeeded", done.json()

            proposal = await client.post(
                "/v1/proposals",
                json={"child_id": child.json()["id"], "mentor_id": mentor_id},
                headers=actors.educator_53,
            )
            assert proposal.status_code in (201, 409, 422), proposal.text
