"""`mentorat report supply-gaps` writes what the API answers, in Lozère (48), which no other
test uses: its rows are committed, since the command reads them through its own connection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from typer.testing import CliRunner

from mentorat.cli import app
from mentorat.settings import get_settings
from tests.factories import create_association, create_child, create_mentor

MENDE = {"commune": "Mende", "postcode": "48000", "latitude": 44.5181, "longitude": 3.5006}
MARVEJOLS = {"commune": "Marvejols", "postcode": "48100", "latitude": 44.5539, "longitude": 3.2914}


@pytest.fixture
def cli_env(database_url: URL, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("MENTORAT_DATABASE_URL", database_url.render_as_string(False))
    monkeypatch.setenv("MENTORAT_LOG_JSON", "false")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


@pytest.fixture
async def lozere(engine: AsyncEngine) -> None:
    """Two waiting children in Mende, one mentor 17 km away in Marvejols with a 10 km radius."""
    async with AsyncSession(engine) as session:
        association = await create_association(session, departements=("48",))
        for _ in range(2):
            await create_child(session, departement="48", **MENDE)
        await create_mentor(session, association=association, travel_radius_km=10.0, **MARVEJOLS)
        await session.commit()


@pytest.mark.usefixtures("lozere")
def test_report_supply_gaps_in_every_format(cli_env: CliRunner, tmp_path: Path) -> None:
    arguments = ["report", "supply-gaps", "--departement", "48"]
    as_json = cli_env.invoke(app, arguments)
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.stdout)
    assert (report["waiting"], report["unmatched"], report["constraints"]) == (
        2, 2, {"too_far": 2},
    )  # fmt: skip
    assert [(p["commune"], p["gain"]) for p in report["profiles"]] == [("Mende", 1), ("Mende", 1)]

    as_csv = cli_env.invoke(app, [*arguments, "--format", "csv", "--limit", "1"])
    assert as_csv.exit_code == 0, as_csv.output
    lines = as_csv.stdout.splitlines()
    assert lines[0].startswith("section;group;rank;commune;postcode")
    assert sum(line.startswith("profile;") for line in lines) == 1

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
