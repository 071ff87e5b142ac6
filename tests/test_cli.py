"""The `mentorat` command against the test database (it commits: it uses département 22,
which no other test touches)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from typer.testing import CliRunner

from mentorat.cli import app
from mentorat.settings import get_settings
from tests.factories import create_child


@pytest.fixture
def cli_env(database_url: URL, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("MENTORAT_DATABASE_URL", database_url.render_as_string(False))
    monkeypatch.setenv("MENTORAT_LOG_JSON", "false")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_tokens_create_prints_the_token_alone_on_the_last_line(cli_env: CliRunner) -> None:
    result = cli_env.invoke(
        app, ["tokens", "create", "--role", "educator", "--departement", "22", "--name", "CLI"]
    )
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("mnt_") and " " not in last


def test_tokens_create_refuses_a_role_without_its_scope(cli_env: CliRunner) -> None:
    result = cli_env.invoke(app, ["tokens", "create", "--role", "educator", "--name", "CLI"])
    assert result.exit_code != 0
    assert "departement_code" in result.output


def test_match_runs_and_prints_a_summary(cli_env: CliRunner) -> None:
    result = cli_env.invoke(app, ["match", "--departement", "22", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.stdout
    assert "children" in result.stdout


def test_tokens_create_with_an_email(cli_env: CliRunner) -> None:
    result = cli_env.invoke(
        app,
        [
            "tokens",
            "create",
            "--role",
            "educator",
            "--departement",
            "22",
            "--name",
            "CLI courriel",
            "--email",
            "cli.token@ase22.example.fr",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1].startswith("mnt_")


def test_principals_create_registers_an_email_without_a_token(cli_env: CliRunner) -> None:
    arguments = ["principals", "create", "--role", "departement_manager", "--departement", "22"]
    first = cli_env.invoke(
        app, [*arguments, "--name", "Responsable 22", "--email", "resp@ase22.example.fr"]
    )
    assert first.exit_code == 0, first.output
    UUID(first.stdout.strip().splitlines()[-1])
    again = cli_env.invoke(
        app, [*arguments, "--name", "Doublon", "--email", "RESP@ase22.example.fr"]
    )
    assert again.exit_code == 2
    assert "email" in again.output


def test_principals_create_refuses_a_bad_email(cli_env: CliRunner) -> None:
    result = cli_env.invoke(
        app, ["principals", "create", "--role", "admin", "--name", "X", "--email", "nope"]
    )
    assert result.exit_code != 0
    assert "email" in result.output


@pytest.fixture
async def child_in_22(engine: AsyncEngine) -> None:
    """One child of 22 entering collège in 2025 (committed: the command reads it)."""
    async with AsyncSession(engine) as session:
        await create_child(
            session,
            departement="22",
            offer=None,
            birth_date=date(2014, 4, 1),
            college_entry_year=2025,
            came_into_care_on=date(2020, 1, 1),
        )
        await session.commit()


@pytest.mark.usefixtures("child_in_22")
def test_report_compliance_writes_csv_json_and_svg(cli_env: CliRunner, tmp_path: Path) -> None:
    arguments = ["report", "compliance", "--departement", "22", "--school-year", "2025-2026"]
    as_csv = cli_env.invoke(app, [*arguments, "--format", "csv"])
    assert as_csv.exit_code == 0, as_csv.output
    lines = as_csv.stdout.splitlines()
    assert lines[0].startswith("breakdown;key;label;measure;count")
    # Never assessed: eligible and due (F = 2025-09-01), not assessed.
    assert "all;;All children;eligible;1;;;;;" in lines
    assert "all;;All children;assessment_due;1;;;;;" in lines
    assert "all;;All children;assessed;0;0;;;;" in lines
    as_json = cli_env.invoke(app, [*arguments, "--as-of", "2025-06-30"])
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.stdout)
    # Recorded today: unknown on 2025-06-30.
    assert (report["as_of"], report["overall"]["funnel"][0]["count"]) == ("2025-06-30", 0)
    chart = tmp_path / "funnel.svg"
    as_svg = cli_env.invoke(app, [*arguments, "--format", "svg", "--output", str(chart)])
    assert as_svg.exit_code == 0, as_svg.output
    assert b"Mentoring duty 2025-2026" in chart.read_bytes()


def test_report_survival_and_its_errors(cli_env: CliRunner) -> None:
    survival = cli_env.invoke(app, ["report", "survival", "--departement", "22"])
    assert survival.exit_code == 0, survival.output
    assert json.loads(survival.stdout)["departement"] == "22"
    bad_year = cli_env.invoke(
        app, ["report", "compliance", "--departement", "22", "--school-year", "2025-2030"]
    )
    assert bad_year.exit_code == 2
    assert "consecutive" in bad_year.output
    bad_format = cli_env.invoke(
        app, ["report", "survival", "--departement", "22", "--format", "pdf"]
    )
    assert bad_format.exit_code == 2
