"""Database access: engine and sessions, the embedded PostgreSQL, and migrations."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from mentorat.kit.cursors import SESSION_INFO_KEY, CursorKeys
from mentorat.kit.embedded import embedded_server
from mentorat.settings import Settings

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "mentorat"


def async_url(url: str | URL) -> URL:
    """Any PostgreSQL URL, turned into one for SQLAlchemy's asyncpg dialect."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(drivername="postgresql+asyncpg")


def sync_url(url: str | URL) -> URL:
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(drivername="postgresql")


@contextmanager
def database_url(settings: Settings) -> Iterator[URL]:
    """The configured server's URL, else the embedded PostgreSQL's (started or joined in the
    data folder for the time of the block, and stopped after it unless another process still
    uses it)."""
    if settings.database_url is not None:
        yield async_url(settings.database_url.get_secret_value())
        return
    with embedded_server(settings.data_dir, database=EMBEDDED_DATABASE) as url:
        yield async_url(url)


def migrations_dir(settings: Settings | None = None) -> Path:
    if settings is not None and settings.migrations_dir is not None:
        return settings.migrations_dir
    return Path(__file__).resolve().parents[3] / "migrations"


def alembic_config(url: URL, settings: Settings | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir(settings)))
    # ConfigParser interpolates %, which URL-quoted socket paths contain.
    rendered = async_url(url).render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    config.attributes["configure_logging"] = False
    return config


def upgrade(url: URL, revision: str = "head", settings: Settings | None = None) -> None:
    from alembic import command

    command.upgrade(alembic_config(url, settings), revision)


def downgrade(url: URL, revision: str = "base", settings: Settings | None = None) -> None:
    from alembic import command

    command.downgrade(alembic_config(url, settings), revision)


def head_revision(settings: Settings | None = None) -> str | None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(migrations_dir(settings)))
    return script.get_current_head()


def _refuse_closed_connection(
    dbapi_connection: Any, _record: ConnectionPoolEntry, _proxy: object
) -> None:
    """At checkout, a pooled connection the server closed (a restart, a terminated backend)
    is replaced by a new one, without the round trip a pre-ping costs: asyncpg marks its
    connection closed as soon as the event loop sees the socket end. A connection that dies
    while a statement runs still fails that request (a 503), and SQLAlchemy then invalidates
    every connection of the pool opened before it."""
    asyncpg_connection = getattr(dbapi_connection, "_connection", None)
    if asyncpg_connection is not None and asyncpg_connection.is_closed():
        raise DisconnectionError("The server closed this pooled connection.")


@dataclass
class Database:
    """The engine and the session factories the app uses; built in the lifespan or by tests.

    `sessionmaker` opens one transaction per session (BEGIN ... COMMIT). `autocommit_sessionmaker`
    sends each statement on its own, as its own implicit transaction, without BEGIN or COMMIT
    round trips: it is for work that is one statement (authentication, a read with its audit
    rows written by the same statement). On a test's connection both join its transaction.
    """

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    autocommit_sessionmaker: async_sessionmaker[AsyncSession] | None = None

    def __post_init__(self) -> None:
        if self.autocommit_sessionmaker is None:  # built by hand: one transaction per session
            self.autocommit_sessionmaker = self.sessionmaker

    def statement_sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        return self.autocommit_sessionmaker or self.sessionmaker

    @classmethod
    def from_url(cls, url: URL, settings: Settings) -> Database:
        connect_args: dict[str, Any] = {}
        if settings.db_statement_timeout_ms:
            connect_args["server_settings"] = {
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "application_name": "mentorat",
            }
        engine = create_async_engine(
            async_url(url), pool_size=settings.db_pool_size, connect_args=connect_args
        )
        event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
        info = {SESSION_INFO_KEY: CursorKeys(settings.cursor_secret)}
        return cls(
            engine,
            async_sessionmaker(engine, expire_on_commit=False, info=info),
            async_sessionmaker(
                engine.execution_options(isolation_level="AUTOCOMMIT"),
                expire_on_commit=False,
                info=info,
            ),
        )

    @classmethod
    def on_connection(cls, connection: AsyncConnection) -> Database:
        """Sessions that commit to savepoints inside an outer transaction (tests)."""
        sessionmaker = async_sessionmaker(
            bind=connection,
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
            info={SESSION_INFO_KEY: CursorKeys()},
        )
        return cls(connection.engine, sessionmaker, sessionmaker)

    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            yield session

    async def current_revision(self) -> str | None:
        async with self.engine.connect() as connection:
            exists = await connection.scalar(text("SELECT to_regclass('alembic_version')"))
            if exists is None:
                return None
            return await connection.scalar(text("SELECT version_num FROM alembic_version"))
