"""`mentorat report supply-gaps` writes what the API answers (the same service and rendering,
whose figures tests/reports/test_supply_gaps.py checks). The command reads through its own
connection, so it would only see committed rows: it runs on a département without data, so
that no test leaves rows behind for the others."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL
from typer.testing import CliRunner

from mentorat.cli import app
from mentorat.reports.supply_gaps import CSV_HEADER
from mentorat.settings import get_settings


@pytest.fixture
def cli_env(database_url: URL, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("MENTORAT_DATABASE_URL", database_url.render_as_string(False))
    monkeypatch.setenv("MENTORAT_LOG_JSON", "false")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_report_supply_gaps_in_every_format(cli_env: CliRunner, tmp_path: Path) -> None:
    # Lozère (48) has no data in any test: the report is empty, in every format.
    arguments = ["report", "supply-gaps", "--departement", "48"]
    as_json = cli_env.invoke(app, arguments)
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.stdout)
    assert (report["departement_code"], report["waiting"], report["groups"]) == ("48", 0, [])

    as_csv = cli_env.invoke(app, [*arguments, "--format", "csv", "--limit", "1"])
    assert as_csv.exit_code == 0, as_csv.output
    assert as_csv.stdout.splitlines() == [";".join(CSV_HEADER)]

    chart = tmp_path / "gaps.svg"
    as_svg = cli_env.invoke(app, [*arguments, "--format", "svg", "--output", str(chart)])
    assert as_svg.exit_code == 0, as_svg.output
    assert b"Supply gaps" in chart.read_bytes()


def test_report_supply_gaps_refuses_bad_options(cli_env: CliRunner) -> None:
    result = cli_env.invoke(app, ["report", "supply-gaps", "--departement", "48", "--limit", "0"])
    assert result.exit_code != 0
    result = cli_env.invoke(
        app, ["report", "supply-gaps", "--departement", "48", "--format", "pdf"]
    )
    assert result.exit_code != 0
