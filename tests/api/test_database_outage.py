"""PostgreSQL away: 503 with Retry-After, and back to normal as soon as it returns."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from mentorat.app import create_app
from mentorat.kit.db import Database
from mentorat.kit.db_errors import database_unavailable
from mentorat.settings import Settings
from tests.api.support import assert_problem


class CuttableProxy:
    """A TCP proxy in front of PostgreSQL that a test can cut (every connection dropped and
    new ones refused, as in a restart) and restore on the same port."""

    def __init__(self, server: URL) -> None:
        # The embedded server listens on a Unix socket only (its folder in `?host=`).
        socket_dir = server.query.get("host")
        port = server.port or 5432
        self.unix_target = f"{socket_dir}/.s.PGSQL.{port}" if isinstance(socket_dir, str) else None
        self.target = (server.host or "127.0.0.1", port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()
        self._server = None

    async def _serve(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        if self.unix_target is not None:
            upstream_reader, upstream = await asyncio.open_unix_connection(self.unix_target)
        else:
            upstream_reader, upstream = await asyncio.open_connection(*self.target)
        self._writers |= {client, upstream}

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            writer.transport.abort()

        await asyncio.gather(pipe(client_reader, upstream), pipe(upstream_reader, client))
        self._writers -= {client, upstream}


def over_tcp(server: URL, port: int) -> URL:
    """The same database, reached over TCP on 127.0.0.1:port (not the Unix socket)."""
    return server.difference_update_query(["host"]).set(host="127.0.0.1", port=port)


@pytest.fixture
async def proxy(database_url: URL) -> AsyncIterator[CuttableProxy]:
    proxy = CuttableProxy(database_url)
    await proxy.start()
    yield proxy
    if proxy._server is not None:
        await proxy.cut()


@pytest.fixture
async def outage_client(
    settings: Settings, database_url: URL, proxy: CuttableProxy
) -> AsyncIterator[httpx.AsyncClient]:
    """The app on its own engine (real pool, committed sessions) through the proxy."""
    through_proxy = over_tcp(database_url, proxy.port)
    database = Database.from_url(through_proxy, settings)
    app: FastAPI = create_app(settings, database=database)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await database.engine.dispose()


NOBODY = {"Authorization": "Bearer not-a-token"}


class TestDatabaseOutage:
    async def test_503_with_retry_after_while_away_then_back_at_once(
        self, outage_client: httpx.AsyncClient, proxy: CuttableProxy
    ) -> None:
        # Up: the token look-up reaches PostgreSQL and refuses the unknown token.
        assert (await outage_client.get("/v1/children", headers=NOBODY)).status_code == 401
        assert (await outage_client.get("/readyz")).status_code == 200

        await proxy.cut()  # pooled connections die, new ones are refused
        for _ in range(2):
            response = await outage_client.get("/v1/children", headers=NOBODY)
            body = assert_problem(response, 503)
            assert body["type"].endswith("service-unavailable")
            assert body["request_id"]
            assert int(response.headers["retry-after"]) > 0
            for leak in ("Error", "asyncpg", "refused", "127.0.0.1", str(proxy.port)):
                assert leak not in response.text, response.text

            ready = await outage_client.get("/readyz")
            assert ready.status_code == 503
            assert "Error" not in ready.text, ready.text
            assert ready.json()["database"] == "unreachable"

        await proxy.start()  # PostgreSQL is back on the same address
        assert (await outage_client.get("/v1/children", headers=NOBODY)).status_code == 401
        assert (await outage_client.get("/readyz")).status_code == 200

    async def test_no_server_at_all_is_a_503(
        self, settings: Settings, database_url: URL, proxy: CuttableProxy
    ) -> None:
        await proxy.cut()  # nothing listens on that port any more
        database = Database.from_url(over_tcp(database_url, proxy.port), settings)
        app = create_app(settings, database=database)
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.get("/v1/mentors", headers=NOBODY)
                assert_problem(response, 503)
                assert "retry-after" in response.headers
        finally:
            await database.engine.dispose()

    async def test_a_statement_timeout_is_not_an_outage(
        self, settings: Settings, database_url: URL
    ) -> None:
        # A query cancelled by PostgreSQL is a fault of ours (500), not the database away.
        database = Database.from_url(
            database_url, settings.model_copy(update={"db_statement_timeout_ms": 50})
        )
        app = create_app(settings, database=database)

        @app.get("/test-only/slow")
        async def slow() -> None:
            async with database.sessionmaker() as session:
                await session.execute(text("SELECT pg_sleep(0.2)"))

        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.get("/test-only/slow")
                body = assert_problem(response, 500)
                assert body["type"].endswith("internal-error")
                assert "retry-after" not in response.headers
        finally:
            await database.engine.dispose()


def wrapped(error: BaseException) -> DBAPIError:
    """The way SQLAlchemy raises a driver error."""
    try:
        raise DBAPIError("SELECT 1", None, error) from error
    except DBAPIError as raised:
        return raised


class TestWhatCountsAsAnOutage:
    @pytest.mark.parametrize(
        "error",
        [
            asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
            asyncpg.exceptions.AdminShutdownError("terminating connection"),
            asyncpg.exceptions.TooManyConnectionsError("too many clients already"),
            asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
            ConnectionRefusedError(111, "Connect call failed"),
            PoolTimeout("QueuePool limit reached"),
        ],
        ids=lambda error: type(error).__name__,
    )
    def test_connection_level_failures_are_outages(self, error: Exception) -> None:
        assert database_unavailable(error)
        assert database_unavailable(wrapped(error))

    async def test_a_unix_socket_with_no_server_behind_it_is_an_outage(
        self, tmp_path: Path
    ) -> None:
        """The embedded server listens on a Unix socket: when it is down there is no socket
        file, and asyncpg's connect raises FileNotFoundError."""
        with pytest.raises(OSError) as raised:
            await asyncpg.connect(host=str(tmp_path), port=5432, user="postgres", timeout=5)
        assert database_unavailable(raised.value)

    def test_a_file_missing_elsewhere_is_not(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError) as raised:
            (tmp_path / "nothing-here").read_text()
        assert not database_unavailable(raised.value)

    @pytest.mark.parametrize(
        "error",
        [
            asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"),
            asyncpg.exceptions.UniqueViolationError("duplicate key"),
            ValueError("a bug"),
        ],
        ids=lambda error: type(error).__name__,
    )
    def test_other_failures_are_not(self, error: Exception) -> None:
        assert not database_unavailable(error)
        assert not database_unavailable(wrapped(error))
