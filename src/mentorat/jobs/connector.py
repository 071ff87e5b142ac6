"""procrastinate's queries sent through mentorat's own `Database` (SQLAlchemy over asyncpg).

Why not procrastinate's `PsycopgConnector`: it would open a second pool with a second driver
(psycopg) beside the app's, it could not take part in a transaction of our SQLAlchemy sessions
(a matching run and its job are written together, or neither is), and it could not run inside
the single rolled-back transaction every test runs in. This connector sends each query through
the `Database`: on a pooled connection in autocommit (a savepoint of the test's transaction on
a test's connection), or on the caller's session when a job is deferred with
`connection=session`. procrastinate's `%(name)s` placeholders become asyncpg's `$n`. LISTEN
uses one asyncpg connection of the engine, held while the worker runs.

The `Database` is given when the app is opened (`jobs_app.open_async(database)`): tasks read
it from their context (`database_of(context)`), never from a global.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import asyncpg
from procrastinate import connector as procrastinate_connector
from procrastinate import exceptions, manager
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from mentorat.kit.db import Database

if TYPE_CHECKING:
    from procrastinate.job_context import JobContext
    from procrastinate.worker import Worker

log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"%\((\w+)\)s(\s*\|\|)?")
_QUEUEING_LOCK_DETAIL = re.compile(r"Key \((\w+)\)=\((.*)\) already exists")


@lru_cache(maxsize=128)
def _prepared(query: str) -> tuple[str, tuple[str, ...], frozenset[str]]:
    """The query with `$n` placeholders, the argument names in `$n` order, and the names used
    as text (`%(seconds)s || ' SECOND'`: asyncpg sends a text parameter only from a str)."""
    names: list[str] = []
    as_text: set[str] = set()

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        if match.group(2):
            as_text.add(name)
        return f"${names.index(name) + 1}{match.group(2) or ''}"

    converted = _PLACEHOLDER.sub(number, query).replace("%%", "%")
    return converted, tuple(names), frozenset(as_text)


def _adapt(value: Any) -> Any:
    """JSON values as text for the engine's jsonb codec; rows (tuples) and arrays item by item."""
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, list):
        return [_adapt(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_adapt(item) for item in value)
    return value


def _parameters(names: tuple[str, ...], as_text: frozenset[str], arguments: dict[str, Any]) -> Any:
    values = []
    for name in names:
        value = _adapt(arguments[name])
        if name in as_text and value is not None:
            value = str(value)
        values.append(value)
    return tuple(values)


def _unique_violation(error: DBAPIError) -> exceptions.UniqueViolation | None:
    cause = error.orig.__cause__ if error.orig is not None else None
    if not isinstance(cause, asyncpg.UniqueViolationError):
        return None
    constraint = cause.constraint_name
    queueing_lock = None
    if constraint == manager.QUEUEING_LOCK_CONSTRAINT:
        found = _QUEUEING_LOCK_DETAIL.search(cause.detail or "")
        queueing_lock = found.group(2) if found else None
    return exceptions.UniqueViolation(
        str(cause), constraint_name=constraint, queueing_lock=queueing_lock
    )


async def _run(connection: AsyncConnection, query: str, arguments: dict[str, Any]) -> list[Any]:
    sql, names, as_text = _prepared(query)
    try:
        result = await connection.exec_driver_sql(sql, _parameters(names, as_text, arguments))
    except DBAPIError as error:
        if (violation := _unique_violation(error)) is not None:
            raise violation from error
        raise
    if not result.returns_rows:
        return []
    return [dict(row) for row in result.mappings()]


class DatabaseConnector(procrastinate_connector.BaseAsyncConnector):
    """procrastinate's connector over a `Database` (see the module's docstring)."""

    def __init__(self) -> None:
        self.database: Database | None = None
        # On a test's connection (one connection, one transaction), queries take turns with
        # each other and with the job being run: see `one_at_a_time`.
        self._turn = asyncio.Lock()
        self._turn_holder: asyncio.Task[Any] | None = None

    def get_sync_connector(self) -> procrastinate_connector.BaseConnector:
        return self

    @property
    def serialized(self) -> bool:
        return self.database is not None and self.database.connection is not None

    def use(self, database: Database | None) -> None:
        self.database = database

    async def open_async(self, pool: Any = None) -> None:
        if pool is not None:
            if not isinstance(pool, Database):
                raise TypeError("DatabaseConnector opens on a mentorat Database.")
            self.database = pool
        if self.database is None:
            raise exceptions.AppNotOpen

    async def close_async(self) -> None:
        self.database = None

    def open(self, pool: Any = None) -> None:
        raise exceptions.SyncConnectorConfigurationError

    def close(self) -> None:
        self.database = None

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        if self.database is None:
            raise exceptions.AppNotOpen
        if not self.serialized or asyncio.current_task() is self._turn_holder:
            async with self.database.statement_connection() as connection:
                yield connection
            return
        async with self._turn, self.database.statement_connection() as connection:
            yield connection

    async def one_at_a_time(
        self, call_next: Callable[[], Awaitable[Any]], context: JobContext, worker: Worker
    ) -> Any:
        """Worker middleware for a test's connection: the job runs alone on it (the worker's
        heartbeat and deferrer wait), its own queries included."""
        if not self.serialized:
            return await call_next()
        async with self._turn:
            self._turn_holder = asyncio.current_task()
            try:
                return await call_next()
            finally:
                self._turn_holder = None

    async def execute_query_async(self, query: str, **arguments: Any) -> None:  # type: ignore[override]
        async with self._connection() as connection:
            await _run(connection, query, arguments)

    async def execute_query_one_async(self, query: str, **arguments: Any) -> dict[str, Any]:  # type: ignore[override]
        async with self._connection() as connection:
            rows = await _run(connection, query, arguments)
        if not rows:
            raise exceptions.NoResult
        return rows[0]  # type: ignore[no-any-return]

    async def execute_query_all_async(  # type: ignore[override]
        self, query: str, **arguments: Any
    ) -> list[dict[str, Any]]:
        async with self._connection() as connection:
            return await _run(connection, query, arguments)

    async def execute_query_one_async_with_connection(  # type: ignore[override]
        self, connection: AsyncSession | AsyncConnection, query: str, **arguments: Any
    ) -> dict[str, Any]:
        rows = await self.execute_query_all_async_with_connection(connection, query, **arguments)
        if not rows:
            raise exceptions.NoResult
        return rows[0]

    async def execute_query_all_async_with_connection(  # type: ignore[override]
        self, connection: AsyncSession | AsyncConnection, query: str, **arguments: Any
    ) -> list[dict[str, Any]]:
        """On the caller's session (or connection), in its transaction."""
        if isinstance(connection, AsyncSession):
            connection = await connection.connection()
        return await _run(connection, query, arguments)

    async def listen_notify(
        self, on_notification: procrastinate_connector.Notify, channels: Iterable[str]
    ) -> None:
        channels = list(channels)
        while True:
            try:
                await self._listen(on_notification, channels)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, DBAPIError):
                # Polling still finds the jobs meanwhile; listen again a little later.
                log.warning("job notifications: connection lost, listening again", exc_info=True)
                await asyncio.sleep(1)

    async def _listen(
        self, on_notification: procrastinate_connector.Notify, channels: list[str]
    ) -> None:
        if self.database is None:
            raise exceptions.AppNotOpen
        received: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

        def listener(_connection: Any, _pid: int, channel: str, payload: str) -> None:
            received.put_nowait((channel, payload))

        async with self.database.engine.connect() as connection:
            raw = (await connection.get_raw_connection()).driver_connection
            if raw is None:
                raise exceptions.ConnectorException("No asyncpg connection to listen on.")
            for channel in channels:
                await raw.add_listener(channel, listener)
            try:
                while True:
                    try:
                        channel, payload = await asyncio.wait_for(
                            received.get(), procrastinate_connector.LISTEN_TIMEOUT
                        )
                    except TimeoutError:
                        await raw.execute("SELECT 1")  # a dead connection shows itself here
                        continue
                    await on_notification(channel=channel, payload=payload)
            finally:
                with contextlib.suppress(Exception):
                    for channel in channels:
                        await raw.remove_listener(channel, listener)
