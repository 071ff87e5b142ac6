"""One migrated database per test run; every test runs in a transaction rolled back at the end.

Server: MENTORAT_TEST_DATABASE_URL, else MENTORAT_DATABASE_URL, else an embedded PostgreSQL in a
temporary folder. A fresh database is created on that server for the run and dropped after.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from mentorat.app import create_app
from mentorat.jobs.worker import run_until_idle
from mentorat.kit.db import Database, async_url, sync_url, upgrade
from mentorat.kit.embedded import embedded_server
from mentorat.settings import Settings
from tests.factories import Actors, make_actors


def _server_url() -> Iterator[URL]:
    configured = os.environ.get("MENTORAT_TEST_DATABASE_URL") or os.environ.get(
        "MENTORAT_DATABASE_URL"
    )
    if configured:
        yield make_url(configured)
        return
    folder = Path(tempfile.mkdtemp(prefix="mentorat-test-pg-"))
    with embedded_server(folder, throw_away=True) as url:
        yield url


def _asyncpg_dsn(url: URL) -> str:
    return sync_url(url).render_as_string(hide_password=False)


async def create_database(server: URL, name: str) -> URL:
    connection = await asyncpg.connect(_asyncpg_dsn(server))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return server.set(database=name)


async def drop_database(server: URL, name: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(server))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def server_url() -> Iterator[URL]:
    yield from _server_url()


@pytest.fixture(scope="session")
async def database_url(server_url: URL) -> AsyncIterator[URL]:
    name = f"mentorat_test_{uuid.uuid4().hex[:12]}"
    url = await create_database(server_url, name)
    try:
        # Alembic's env runs its own event loop, so it goes to a thread.
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        await drop_database(server_url, name)


@pytest.fixture(scope="session")
async def engine(database_url: URL) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(async_url(database_url), pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def settings(database_url: URL) -> Settings:
    # The 401 tests send hundreds of bad tokens from one address within a minute; the limit on
    # failed authentications is tested on apps of its own (tests/api/test_auth_rate_limit.py).
    return Settings(
        database_url=database_url.render_as_string(hide_password=False), auth_failure_limit=100_000
    )


@pytest.fixture
async def database(engine: AsyncEngine) -> AsyncIterator[Database]:
    """A Database whose sessions commit to savepoints of one transaction, rolled back after."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield Database.on_connection(connection)
        finally:
            await transaction.rollback()


@pytest.fixture
async def session(database: Database) -> AsyncIterator[AsyncSession]:
    """For factories and for checking what the API wrote."""
    async with database.sessionmaker() as session:
        yield session


@pytest.fixture(scope="session")
def app(settings: Settings) -> FastAPI:
    """One app for the run: FastAPI prepares each route on its first request, which is slow."""
    return create_app(settings)


class AppClient(httpx.AsyncClient):
    """httpx's client on the app, with the test's Database (to run the jobs it queued)."""

    def __init__(self, database: Database, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.database = database
        self.settings = settings


async def run_queued_jobs(client: httpx.AsyncClient) -> None:
    """Runs the jobs this test's requests queued (matching runs, and the jobs they queue) with
    procrastinate's worker, one at a time, in the test's transaction, until none is left."""
    if not isinstance(client, AppClient):
        raise TypeError("run_queued_jobs needs the `client` fixture's client.")
    await run_until_idle(client.database, client.settings)


@pytest.fixture
async def client(
    app: FastAPI, database: Database, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    app.state.database = database  # this test's rolled-back transaction
    transport = httpx.ASGITransport(app=app)
    async with AppClient(
        database, settings, transport=transport, base_url="http://testserver"
    ) as client:
        yield client


@pytest.fixture
async def actors(session: AsyncSession) -> Actors:
    """Two départements' worth of people and records, to test scoping both ways."""
    return await make_actors(session)
