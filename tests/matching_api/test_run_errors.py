"""A failed run tells its readers what kind of failure, never the SQL; the log has the detail."""

from __future__ import annotations

import asyncio
import logging
import uuid

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from mentorat.kit.db import async_url, upgrade
from mentorat.matching.service import RUN_ERROR_SENTENCES, run_error_code
from tests.conftest import create_database, drop_database, run_queued_jobs
from tests.factories import Actors

RUNS = "/v1/matching-runs"

# Inside the test's transaction (rolled back after): writing the run's proposals fails in
# PostgreSQL, the way a constraint or a lost connection would make a real run fail.
BLOCK_PROPOSALS = [
    """
    CREATE FUNCTION block_proposal() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'proposal blocked for child %', NEW.child_id;
    END
    $$
    """,
    """
    CREATE TRIGGER block_proposal BEFORE INSERT ON proposal
    FOR EACH ROW EXECUTE FUNCTION block_proposal()
    """,
]


class TestFailedRun:
    async def test_readers_get_a_code_and_a_sentence_and_the_log_gets_the_detail(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        for statement in BLOCK_PROPOSALS:
            await session.execute(text(statement))
        await session.commit()

        with caplog.at_level(logging.ERROR, logger="mentorat.matching"):
            response = await client.post(RUNS, json={}, headers=actors.manager_53)
            assert response.status_code == 202, response.text
            await run_queued_jobs(client)
        run_id = response.json()["id"]

        for reader in (actors.manager_53, actors.educator_53, actors.admin):
            run = (await client.get(f"{RUNS}/{run_id}", headers=reader)).json()
            assert run["status"] == "failed", run
            assert run["error_code"] == "database_error"
            error = run["error"]
            assert error and error.endswith(".")
            for leak in ("SQL", "INSERT", "proposal", "block", str(actors.child_53.id), "$1"):
                assert leak not in error, error

        (logged,) = [r for r in caplog.records if r.getMessage() == "matching run failed"]
        assert getattr(logged, "run_id", None) == run_id
        assert logged.exc_info is not None
        assert "proposal blocked for child" in str(logged.exc_info[1])


class TestOldFailedRunsAfterUpgrade:
    async def test_the_migration_replaces_old_sql_errors_by_a_code_and_a_sentence(
        self, server_url: URL
    ) -> None:
        name = f"mentorat_run_errors_{uuid.uuid4().hex[:12]}"
        url = await create_database(server_url, name)
        engine = create_async_engine(async_url(url), poolclass=NullPool)
        try:
            await asyncio.to_thread(upgrade, url, "0003")
            old_errors = {
                "DBAPIError: (sqlalchemy.dialects.postgresql.asyncpg.Error) boom\n"
                "[SQL: INSERT INTO proposal (child_id) VALUES ($1)]\n"
                "[parameters: ('a4c1…',)]": "database_error",
                "Abandoned: the process running it stopped before it finished.": "abandoned",
                "ZeroDivisionError: division by zero": "internal_error",
            }
            async with engine.begin() as connection:
                for error in old_errors:
                    await connection.execute(
                        text(
                            "INSERT INTO matching_run (departement_code, requested_by_name,"
                            " status, phase, objective, min_score, weights, dry_run, run_date,"
                            " error, finished_at) VALUES ('53', 'x', 'failed', 'failed',"
                            " 'coverage_first', 0.3, '{}', true, current_date, :error, now())"
                        ),
                        {"error": error},
                    )
            await asyncio.to_thread(upgrade, url)
            async with engine.connect() as connection:
                rows = (
                    await connection.execute(text("SELECT error_code, error FROM matching_run"))
                ).all()
        finally:
            await engine.dispose()
            await drop_database(server_url, name)
        assert sorted(code for code, _ in rows) == sorted(old_errors.values())
        for code, error in rows:
            assert error == RUN_ERROR_SENTENCES[code]


def wrapped(error: Exception) -> DBAPIError:
    """The way SQLAlchemy raises a driver error."""
    try:
        raise DBAPIError("INSERT ...", None, error) from error
    except DBAPIError as raised:
        return raised


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConnectionRefusedError(111, "Connect call failed"), "database_unavailable"),
        (wrapped(asyncpg.exceptions.AdminShutdownError("terminating")), "database_unavailable"),
        (wrapped(asyncpg.exceptions.QueryCanceledError("statement timeout")), "timeout"),
        (wrapped(asyncpg.exceptions.CheckViolationError("no capacity left")), "database_error"),
        (ZeroDivisionError("division by zero"), "internal_error"),
    ],
)
def test_each_kind_of_failure_has_its_code(error: Exception, code: str) -> None:
    assert run_error_code(error) == code
    assert code in RUN_ERROR_SENTENCES
