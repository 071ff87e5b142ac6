"""Migrations on their own fresh database: upgrade, downgrade to nothing, upgrade again."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from mentorat.kit.db import async_url, downgrade, head_revision, migrations_dir, upgrade
from mentorat.models import Base
from tests.conftest import create_database, drop_database

# What a migration can leave behind in the public schema, besides Alembic's own table.
LEFTOVERS = {
    "tables": """
        SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_name <> 'alembic_version'
    """,
    "functions": """
        SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public'
    """,
    "types": """
        SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c')
          AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid)
    """,
    "sequences": "SELECT sequence_name FROM information_schema.sequences"
    " WHERE sequence_schema = 'public'",
}


@pytest.fixture
async def fresh_url(server_url: URL) -> AsyncIterator[URL]:
    name = f"mentorat_migrations_{uuid.uuid4().hex[:12]}"
    url = await create_database(server_url, name)
    try:
        yield url
    finally:
        await drop_database(server_url, name)


async def _query(url: URL, sql: str) -> set[str]:
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return {row[0] for row in await connection.execute(text(sql))}
    finally:
        await engine.dispose()


def _revision_named(slug: str) -> Script:
    """A revision found by its file name, which stays when revisions are renumbered."""
    script = ScriptDirectory(str(migrations_dir()))
    return next(rev for rev in script.walk_revisions() if rev.path.endswith(f"_{slug}.py"))


async def _execute(url: URL, *statements: str) -> None:
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def _leftovers(url: URL) -> dict[str, set[str]]:
    return {kind: await _query(url, sql) for kind, sql in LEFTOVERS.items()}


def _not_the_queue(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """The job queue's tables are procrastinate's (migration 0016), not described by models."""
    table = obj if type_ == "table" else getattr(obj, "table", None)
    table_name = getattr(table, "name", name) or ""
    return not table_name.startswith("procrastinate_")


def _schema_diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": _not_the_queue}
    )
    return list(compare_metadata(context, Base.metadata))


async def _diff_with_models(url: URL) -> list[Any]:
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_schema_diff)
    finally:
        await engine.dispose()


class TestMigrations:
    async def test_upgrade_downgrade_upgrade(self, fresh_url: URL) -> None:
        # Alembic's env runs its own event loop, so it goes to a thread.
        await asyncio.to_thread(upgrade, fresh_url)
        tables = await _query(fresh_url, LEFTOVERS["tables"])
        assert set(Base.metadata.tables) <= tables
        version = await _query(fresh_url, "SELECT version_num FROM alembic_version")
        assert version == {head_revision()}
        departements = await _query(fresh_url, "SELECT code FROM departement")
        assert {"01", "2A", "53", "69M", "75", "976"} <= departements

        await asyncio.to_thread(downgrade, fresh_url, "base")
        assert await _leftovers(fresh_url) == {kind: set() for kind in LEFTOVERS}
        assert await _query(fresh_url, "SELECT version_num FROM alembic_version") == set()

        await asyncio.to_thread(upgrade, fresh_url)
        assert await _query(fresh_url, LEFTOVERS["tables"]) == tables
        assert await _query(fresh_url, "SELECT version_num FROM alembic_version") == version

    async def test_migrations_build_the_schema_the_models_describe(self, fresh_url: URL) -> None:
        await asyncio.to_thread(upgrade, fresh_url)
        assert await _diff_with_models(fresh_url) == []

    async def test_audit_trail_is_append_only_after_upgrade(self, fresh_url: URL) -> None:
        await asyncio.to_thread(upgrade, fresh_url)
        triggers = await _query(
            fresh_url,
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_event'::regclass"
            " AND NOT tgisinternal",
        )
        assert triggers == {"audit_event_append_only", "audit_event_no_truncate"}

    async def test_numbers_and_names_already_stored_are_brought_to_the_new_rules(
        self, fresh_url: URL
    ) -> None:
        # Before it a coordinate could be 1e-300 and names differ only by case or form.
        revision = _revision_named("numbers_at_their_precision_and_association_name_keys")
        await asyncio.to_thread(upgrade, fresh_url, revision.down_revision)
        await _execute(
            fresh_url,
            "INSERT INTO association (name) VALUES ('Les Ombres'), ('LES OMBRES'), ('Tremplin')",
            "INSERT INTO child (departement_code, reference, first_name, birth_date,"
            " school_level, college_entry_year, commune, postcode, latitude, longitude,"
            " availability) VALUES ('53', 'ASE-1', 'Inès', '2015-03-01', '6e', 2026, 'Laval',"
            " '53000', 1e-300, -0.77341234, '\\x00'::bytea || decode(repeat('00', 41), 'hex'))",
        )

        await asyncio.to_thread(upgrade, fresh_url, revision.revision)

        keys = await _query(fresh_url, "SELECT name_key FROM association")
        assert {"les ombres", "tremplin"} <= keys and len(keys) == 3
        coordinates = await _query(fresh_url, "SELECT latitude || ' ' || longitude FROM child")
        assert coordinates == {"0.000000 -0.773412"}
