"""Failed authentications are limited per client address: guessing tokens is slow."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from mentorat.auth.ratelimit import AuthFailureLimiter, TooManyFailedAuthentications
from mentorat.kit.db import Database
from mentorat.settings import Settings
from tests.api.own_apps import app_with, client_of
from tests.api.support import assert_problem
from tests.factories import Actors, bearer

LIMIT = 3
WINDOW = 60
GUESSER = "203.0.113.7"
NEIGHBOUR = "198.51.100.20"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def module_app(settings: Settings) -> FastAPI:
    return app_with(settings, auth_failure_limit=LIMIT, auth_failure_window_seconds=WINDOW)


@pytest.fixture
def limited_app(module_app: FastAPI, clock: FakeClock) -> FastAPI:
    """The module's app with a fresh limiter on a clock the test moves."""
    module_app.state.auth_failure_limiter = AuthFailureLimiter(LIMIT, WINDOW, clock=clock)
    return module_app


async def guess(client: httpx.AsyncClient, times: int) -> list[int]:
    statuses = []
    for attempt in range(times):
        response = await client.get("/v1/children", headers=bearer(f"mnt_guess-{attempt}"))
        statuses.append(response.status_code)
    return statuses


class TestAuthFailureLimit:
    async def test_too_many_bad_tokens_get_a_429_with_retry_after(
        self, limited_app: FastAPI, database: Database, actors: Actors, clock: FakeClock
    ) -> None:
        async with client_of(limited_app, database, GUESSER) as guesser:
            assert await guess(guesser, LIMIT) == [401] * LIMIT
            clock.now += 10
            refused = await guesser.get("/v1/children", headers=bearer("mnt_one-more"))
            body = assert_problem(refused, 429)
            assert body["type"].endswith("too-many-requests")
            assert refused.headers["retry-after"] == str(WINDOW - 10)
            assert refused.headers["cache-control"] == "no-store"
            # Even the right token waits: otherwise a guess that hits would get through.
            good = await guesser.get("/v1/children", headers=actors.educator_53)
            assert_problem(good, 429)

    async def test_another_address_is_not_held_back(
        self, limited_app: FastAPI, database: Database, actors: Actors
    ) -> None:
        async with client_of(limited_app, database, GUESSER) as guesser:
            await guess(guesser, LIMIT + 2)
        async with client_of(limited_app, database, NEIGHBOUR) as neighbour:
            response = await neighbour.get("/v1/children", headers=actors.educator_53)
            assert response.status_code == 200, response.text
            assert (await guess(neighbour, 1)) == [401]

    async def test_successes_do_not_count(
        self, limited_app: FastAPI, database: Database, actors: Actors
    ) -> None:
        async with client_of(limited_app, database, GUESSER) as client:
            for _ in range(LIMIT * 3):
                response = await client.get("/v1/children", headers=actors.educator_53)
                assert response.status_code == 200
            assert await guess(client, LIMIT) == [401] * LIMIT

    async def test_requests_without_a_token_are_not_counted(
        self, limited_app: FastAPI, database: Database, actors: Actors
    ) -> None:
        async with client_of(limited_app, database, GUESSER) as client:
            for _ in range(LIMIT * 3):
                assert (await client.get("/v1/children")).status_code == 401
            ok = await client.get("/v1/children", headers=actors.educator_53)
            assert ok.status_code == 200

    async def test_the_window_passes(
        self, limited_app: FastAPI, database: Database, actors: Actors, clock: FakeClock
    ) -> None:
        async with client_of(limited_app, database, GUESSER) as client:
            await guess(client, LIMIT)
            clock.now += WINDOW - 1
            assert (await client.get("/v1/children", headers=actors.educator_53)).status_code == 429
            clock.now += 1
            assert (await client.get("/v1/children", headers=actors.educator_53)).status_code == 200

    async def test_a_sliding_window_lets_one_guess_through_per_expired_failure(
        self, limited_app: FastAPI, database: Database, clock: FakeClock
    ) -> None:
        async with client_of(limited_app, database, GUESSER) as client:
            for _ in range(LIMIT):
                await guess(client, 1)
                clock.now += 10
            assert await guess(client, 1) == [429]
            clock.now = 1000.0 + WINDOW  # the first failure leaves the window
            assert await guess(client, 2) == [401, 429]

    async def test_zero_turns_the_limit_off(self, settings: Settings, database: Database) -> None:
        app = app_with(settings, auth_failure_limit=0)
        async with client_of(app, database, GUESSER) as client:
            assert await guess(client, 20) == [401] * 20


class TestLimiterMemory:
    def test_forgets_the_oldest_addresses_beyond_its_bound(self) -> None:
        clock = FakeClock()
        limiter = AuthFailureLimiter(1, WINDOW, clock=clock, max_addresses=2)
        for address in ("a", "b", "c"):
            limiter.record_failure(address)
        limiter.check("a")  # forgotten, so not blocked
        with pytest.raises(TooManyFailedAuthentications):
            limiter.check("c")

    def test_expired_addresses_go_first(self) -> None:
        clock = FakeClock()
        limiter = AuthFailureLimiter(1, WINDOW, clock=clock, max_addresses=2)
        limiter.record_failure("old")
        clock.now += WINDOW
        limiter.record_failure("b")
        limiter.record_failure("c")
        for address in ("b", "c"):
            with pytest.raises(TooManyFailedAuthentications):
                limiter.check(address)
