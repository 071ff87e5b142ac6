"""`mentorat import children|mentors`: the same service as the API, with a report table.

These commit (the CLI owns its transaction): département 2B and a fresh association, which no
other test touches."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import URL
from typer.testing import CliRunner

from mentorat.cli import app
from mentorat.kit.db import sync_url
from mentorat.kit.text import name_key
from mentorat.settings import get_settings
from tests.spreadsheets.support import CHILD_HEADER, EXAMPLES, child_row, csv_bytes


@pytest.fixture
def cli(database_url: URL, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("MENTORAT_DATABASE_URL", database_url.render_as_string(False))
    monkeypatch.setenv("MENTORAT_LOG_JSON", "false")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def query(database_url: URL, sql: str, *args: object) -> object:
    async def run() -> object:
        connection = await asyncpg.connect(sync_url(database_url).render_as_string(False))
        try:
            return await connection.fetchval(sql, *args)
        finally:
            await connection.close()

    return asyncio.run(run())


def test_children_dry_run_then_import_then_no_op(
    cli: CliRunner, database_url: URL, tmp_path: Path
) -> None:
    file = tmp_path / "enfants.csv"
    file.write_bytes((EXAMPLES / "children.csv").read_bytes())
    count = "SELECT count(*) FROM child WHERE departement_code = '2B'"

    dry = cli.invoke(app, ["import", "children", str(file), "--departement", "2B", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run, nothing written" in dry.stdout
    assert query(database_url, count) == 0

    done = cli.invoke(app, ["import", "children", str(file), "--departement", "2B"])
    assert done.exit_code == 0, done.output
    assert "written" in done.stdout
    assert query(database_url, count) == 4

    again = cli.invoke(app, ["import", "children", str(file), "--departement", "2B"])
    assert again.exit_code == 0, again.output
    figures = [line for line in again.stdout.splitlines() if line.count("│") >= 5][-1]
    assert [cell.strip() for cell in figures.split("│")[1:-1]] == ["4", "0", "0", "4", "0"]


def test_bad_rows_are_listed_and_nothing_is_written(
    cli: CliRunner, database_url: URL, tmp_path: Path
) -> None:
    file = tmp_path / "bad.csv"
    file.write_bytes(
        csv_bytes(CHILD_HEADER, [child_row("CLI-OK"), child_row("CLI-BAD", birth_date="demain")])
    )
    result = cli.invoke(app, ["import", "children", str(file), "--departement", "2B"])
    assert result.exit_code == 1, result.output
    assert "refused, nothing written" in result.stdout
    assert "birth_date" in result.stdout
    assert query(database_url, "SELECT count(*) FROM child WHERE reference = 'CLI-OK'") == 0


def test_mentors_from_xlsx(cli: CliRunner, database_url: URL) -> None:
    association = uuid.uuid4()
    query(
        database_url,
        "INSERT INTO association (id, name, name_key) VALUES ($1, $2, $3)",
        association,
        f"CLI {association}",
        name_key(f"CLI {association}"),
    )
    workbook = str(EXAMPLES / "mentors.xlsx")
    result = cli.invoke(app, ["import", "mentors", workbook, "--association", str(association)])
    assert result.exit_code == 0, result.output
    assert (
        query(database_url, "SELECT count(*) FROM mentor WHERE association_id = $1", association)
        == 3
    )
    unknown = cli.invoke(app, ["import", "mentors", workbook, "--association", str(uuid.uuid4())])
    assert unknown.exit_code == 2
    assert "No such association" in unknown.output
