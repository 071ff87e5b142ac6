"""A throw-away database for a benchmark: created on the test server, migrated, dropped."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from mentorat.kit.db import Database, async_url, upgrade
from mentorat.settings import Settings
from tests.conftest import _server_url, create_database, drop_database


@asynccontextmanager
async def scratch_database(pool_size: int = 5) -> AsyncIterator[tuple[Database, Settings]]:
    """MENTORAT_TEST_DATABASE_URL / MENTORAT_DATABASE_URL's server, else an embedded
    PostgreSQL; a fresh database on it, migrated, with the settings that name it."""
    server = _server_url()
    server_url = next(server)
    name = f"mentorat_bench_{uuid.uuid4().hex[:8]}"
    url = await create_database(server_url, name)
    try:
        await asyncio.to_thread(upgrade, url)
        engine = create_async_engine(async_url(url), pool_size=pool_size)
        try:
            yield (
                Database(engine, async_sessionmaker(engine, expire_on_commit=False)),
                Settings(database_url=url.render_as_string(hide_password=False)),
            )
        finally:
            await engine.dispose()
    finally:
        await drop_database(server_url, name)
        next(server, None)
