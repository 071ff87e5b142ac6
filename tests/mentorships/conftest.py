"""Fixtures for races: committed data on the real engine, cleaned up after each test.

The default `client` runs every request on one connection inside a rolled-back transaction,
so two requests can never really race there. `committed` gives an app on the real engine,
where each request has its own connection and transaction, and PostgreSQL decides.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from mentorat.app import create_app
from mentorat.auth.principal import Role
from mentorat.auth.tokens import display_prefix, hash_token, new_token
from mentorat.kit.db import Database
from mentorat.models import ApiToken, Association
from mentorat.models import Principal as PrincipalRow
from mentorat.settings import Settings
from tests.factories import bearer, create_association, create_child, create_mentor

# Not 53 or 75, where the rolled-back tests work: rows left by a failed cleanup stay apart.
DEPARTEMENT = "44"


@dataclass
class Committed:
    """Writes straight to the database (committed), remembering what to delete afterwards."""

    database: Database
    client: httpx.AsyncClient
    departement: str = DEPARTEMENT
    children: list[uuid.UUID] = field(default_factory=list)
    mentors: list[uuid.UUID] = field(default_factory=list)
    associations: list[uuid.UUID] = field(default_factory=list)
    principals: list[uuid.UUID] = field(default_factory=list)

    async def association(self) -> uuid.UUID:
        async with self.database.sessionmaker() as session:
            association = await create_association(session, departements=(self.departement,))
            await session.commit()
        self.associations.append(association.id)
        return association.id

    async def mentor(self, association_id: uuid.UUID, **overrides: Any) -> uuid.UUID:
        async with self.database.sessionmaker() as session:
            association = await session.get(Association, association_id)
            assert association is not None
            mentor = await create_mentor(session, association=association, **overrides)
            await session.commit()
        self.mentors.append(mentor.id)
        return mentor.id

    async def child(self, **overrides: Any) -> uuid.UUID:
        async with self.database.sessionmaker() as session:
            child = await create_child(session, departement=self.departement, **overrides)
            await session.commit()
        self.children.append(child.id)
        return child.id

    async def bearer(self, role: Role, **scope: Any) -> dict[str, str]:
        secret = new_token()
        async with self.database.sessionmaker() as session:
            holder = PrincipalRow(
                name=f"race {role.value} {uuid.uuid4().hex[:6]}", role=role.value, **scope
            )
            session.add(
                ApiToken(
                    principal=holder, token_hash=hash_token(secret), prefix=display_prefix(secret)
                )
            )
            await session.commit()
        self.principals.append(holder.id)
        return bearer(secret)

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.database.engine.connect() as connection:
            return (await connection.execute(text(sql), params)).scalar()

    async def cleanup(self) -> None:
        """Children, mentors and principals cascade to what hangs on them."""
        async with self.database.engine.begin() as connection:
            ids = {
                "children": self.children,
                "mentors": self.mentors,
                "principals": self.principals,
                "associations": self.associations,
            }
            await connection.execute(
                text("DELETE FROM idempotency_record WHERE principal_id = ANY(:principals)"), ids
            )
            await connection.execute(text("DELETE FROM child WHERE id = ANY(:children)"), ids)
            await connection.execute(text("DELETE FROM principal WHERE id = ANY(:principals)"), ids)
            await connection.execute(text("DELETE FROM mentor WHERE id = ANY(:mentors)"), ids)
            await connection.execute(
                text("DELETE FROM association WHERE id = ANY(:associations)"), ids
            )


@pytest.fixture(scope="session")
def real_database(engine: AsyncEngine) -> Database:
    return Database(engine, async_sessionmaker(engine, expire_on_commit=False))


@pytest.fixture(scope="session")
def real_app(settings: Settings, real_database: Database) -> FastAPI:
    return create_app(settings, real_database)


@pytest.fixture
async def committed(real_app: FastAPI, real_database: Database) -> AsyncIterator[Committed]:
    transport = httpx.ASGITransport(app=real_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        data = Committed(real_database, client)
        try:
            yield data
        finally:
            await data.cleanup()
            for table, ids in (
                ("child", data.children),
                ("mentor", data.mentors),
                ("principal", data.principals),
                ("association", data.associations),
            ):
                left = await data.scalar(
                    f"SELECT count(*) FROM {table} WHERE id = ANY(:ids)", ids=ids
                )
                assert left == 0, f"{left} {table} rows left behind"
