"""What kind of database failure an exception is: PostgreSQL away, or a query cancelled."""

from __future__ import annotations

import socket
import traceback
from collections.abc import Iterator

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# PostgreSQL refusing or dropping connections: shutting down, starting up, restarting, full.
_UNAVAILABLE_DRIVER_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.PostgresConnectionError,  # the connection died mid-operation
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    ConnectionError,  # refused, reset, aborted
    socket.gaierror,  # the server's name does not resolve
    TimeoutError,  # connect timeout
    PoolTimeout,  # every pooled connection busy for pool_timeout seconds
)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, what SQLAlchemy wrapped and what it was raised from, without cycles."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [getattr(current, "orig", None), current.__cause__]
        if isinstance(current, BaseExceptionGroup):
            pending += current.exceptions


def _raised_while_connecting(error: BaseException) -> bool:
    """An OSError from asyncpg's connect: on a Unix socket, a server that is down has no socket
    file, which is a FileNotFoundError rather than a refused connection."""
    return isinstance(error, OSError) and any(
        frame.filename.replace("\\", "/").endswith("asyncpg/connect_utils.py")
        for frame in traceback.extract_tb(error.__traceback__)
    )


def database_unavailable(error: BaseException) -> bool:
    """PostgreSQL cannot be reached (or drops us): worth retrying shortly, not a bug."""
    for current in _chain(error):
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, _UNAVAILABLE_DRIVER_ERRORS) or _raised_while_connecting(current):
            return True
    return False


def query_cancelled(error: BaseException) -> bool:
    """PostgreSQL cancelled the statement (statement_timeout, or a cancel request)."""
    return any(isinstance(e, asyncpg.exceptions.QueryCanceledError) for e in _chain(error))


def database_error(error: BaseException) -> bool:
    return any(isinstance(e, DBAPIError | asyncpg.PostgresError) for e in _chain(error))


def violated_constraint(error: BaseException) -> str | None:
    """The name of the constraint (or trigger check raised with `CONSTRAINT = ...`) that
    PostgreSQL refused the statement for, if any."""
    for current in _chain(error):
        name = getattr(current, "constraint_name", None)
        if name:
            return str(name)
    return None
