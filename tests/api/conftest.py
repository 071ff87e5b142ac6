"""API tests share one cast of actors per module; each test still rolls back everything it did.

The module opens a transaction and creates the actors in it once; every test runs inside a
savepoint of that transaction, rolled back at the end. Same isolation as the top-level
fixtures, without building the actors again for each of several hundred parametrized cases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mentorat.kit.db import Database
from tests.factories import Actors, make_actors


@pytest.fixture(scope="module")
async def module_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture(scope="module")
async def module_actors(module_connection: AsyncConnection) -> Actors:
    async with Database.on_connection(module_connection).sessionmaker() as session:
        return await make_actors(session)


@pytest.fixture
async def database(
    module_connection: AsyncConnection, module_actors: Actors
) -> AsyncIterator[Database]:
    """Sessions committing to savepoints inside this test's savepoint, rolled back after."""
    savepoint = await module_connection.begin_nested()
    try:
        yield Database.on_connection(module_connection)
    finally:
        if savepoint.is_active:
            await savepoint.rollback()


@pytest.fixture
def actors(database: Database, module_actors: Actors) -> Actors:
    return module_actors
