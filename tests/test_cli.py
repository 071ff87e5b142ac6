"""The `mentorat` command against the test database (it commits: it uses département 22,
which no other test touches)."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest
from sqlalchemy.engine import URL
from typer.testing import CliRunner

from mentorat.cli import app
from mentorat.settings import get_settings


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
