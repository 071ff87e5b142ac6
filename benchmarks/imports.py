"""Spreadsheet imports and exports through PostgreSQL, on synthetic children.

    python benchmarks/imports.py [--rows 50000] [--export-rows 100000]

Import: a `rows`-row children CSV (Windows-1252, `;`, French dates and decimals, as a French
spreadsheet saves it) through the import service (what the API and the CLI call): a dry run
(read + validate + compare), the real import (written, committed), and a re-import (a no-op).
Export: in a fresh process, `export-rows` children streamed as CSV and as XLSX through the
export path (read in batches from a server-side cursor, formatted, written out); the bytes are
counted and dropped, as a client would receive them. Peak RSS is the process's max RSS.

The server is MENTORAT_TEST_DATABASE_URL / MENTORAT_DATABASE_URL, else an embedded PostgreSQL;
a database is created for the benchmark and dropped at the end. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import json
import random
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mentorat.auth.principal import Principal, Role
from mentorat.children import spreadsheet
from mentorat.kit.db import Database, upgrade
from mentorat.models import Child
from mentorat.settings import Settings
from mentorat.spreadsheets.reading import CSV_MEDIA_TYPE
from mentorat.spreadsheets.writing import spreadsheet_body
from tests.conftest import _server_url, create_database, drop_database

DEPARTEMENT = "53"
TOWNS = [
    ("Laval", "53000", 48.0707, -0.7734),
    ("Mayenne", "53100", 48.3031, -0.6136),
    ("Château-Gontier-sur-Mayenne", "53200", 47.8286, -0.7028),
    ("Évron", "53600", 48.1565, -0.4047),
    ("Craon", "53400", 47.8486, -0.9489),
]
GOALS = ["orientation", "stage", "numerique", "scolarite", "confiance", "rome-F", "rome-J"]
SLOTS = ["mercredi 14:00-17:00", "samedi 10:00-12:00", "mardi 17:00-19:00", "jeudi 17:30-19:00"]
HEADER = [column.name for column in spreadsheet.COLUMNS]
OPERATOR = Principal(id=uuid.UUID(int=0), name="benchmark", role=Role.admin)


def children_csv(rows: int, seed: int = 53) -> bytes:
    rng = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for i in range(rows):
        commune, postcode, lat, lon = rng.choice(TOWNS)
        writer.writerow(
            [
                f"ASE53-{i:06d}",
                rng.choice(["Inès", "Noé", "Maëlle", "Yanis", "Léa", "Chloé"]),
                f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2011, 2015)}",
                rng.choice(["cm2", "6e", "5e", "4e"]),
                str(rng.randint(2024, 2027)),
                commune,
                postcode,
                f"{lat + rng.uniform(-0.05, 0.05):.4f}".replace(".", ","),
                f"{lon + rng.uniform(-0.05, 0.05):.4f}".replace(".", ","),
                ", ".join(rng.sample(GOALS, rng.randint(1, 3))),
                "; ".join(rng.sample(SLOTS, rng.randint(1, 2))),
                rng.choice(["", "", "femme", "homme"]),
                rng.choice(["fr", "fr, ar", "", "fr, tr"]),
                rng.choice(["oui", "non"]),
                rng.choice(["Aline Chevreau", "Bruno Lefèvre", ""]),
            ]
        )
    return buffer.getvalue().encode("cp1252")


def max_rss_mib() -> float:
    """The process's peak RSS (VmHWM; ru_maxrss would carry the parent's over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_max_rss() -> None:
    """Start the peak RSS afresh (Linux: `5` into clear_refs); elsewhere it stays."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


async def run_import(url: str, rows: int) -> dict[str, Any]:
    settings = Settings(database_url=url, import_max_rows=max(rows, 50_000))
    database = Database.from_url(make_url(url), settings)
    data = children_csv(rows)
    figures: dict[str, Any] = {"rows": rows, "file_mib": round(len(data) / 2**20, 2)}
    try:
        for label, dry_run in (("dry_run", True), ("import", False), ("reimport", False)):
            phases: dict[str, float] = {}

            def progress(
                phase: str, done: int, total: int, seen: dict[str, float] = phases
            ) -> None:
                seen.setdefault(phase, time.perf_counter())

            async with database.sessionmaker() as session:
                started = time.perf_counter()
                report = await spreadsheet.import_children(
                    session,
                    OPERATOR,
                    settings,
                    departement_code=DEPARTEMENT,
                    data=data,
                    content_type=CSV_MEDIA_TYPE,
                    dry_run=dry_run,
                    progress=progress,
                )
                await session.commit()
                ended = time.perf_counter()
                figures[f"{label}_s"] = round(ended - started, 2)
                # reading: decode and split; validating: schemas, then the stored records
                # loaded and compared; writing: COPY, UPDATE and audit, then the commit.
                marks = [*phases.items(), ("end", ended)]
                figures[f"{label}_phases_s"] = {
                    phase: round(marks[i + 1][1] - at, 2)
                    for i, (phase, at) in enumerate(marks[:-1])
                }
                figures[f"{label}_report"] = report.model_dump(
                    include={"created", "updated", "unchanged", "invalid"}
                )
        figures["max_rss_mib"] = round(max_rss_mib())  # the whole run, the file held once
    finally:
        await database.engine.dispose()
    return figures


async def run_export(url: str, rows: int) -> dict[str, Any]:
    settings = Settings(database_url=url)
    database = Database.from_url(make_url(url), settings)
    figures: dict[str, Any] = {"rows": rows}
    try:
        async with database.sessionmaker() as session:
            have = await session.scalar(select(func.count()).select_from(Child))
            # The rest, as the import writes them (the import's row limit is 50,000).
            await session.execute(
                text(
                    "INSERT INTO child (departement_code, reference, first_name, birth_date,"
                    " school_level, college_entry_year, commune, postcode, latitude, longitude,"
                    " goals, languages, availability, remote_ok)"
                    " SELECT departement_code, 'FILL-' || n, first_name, birth_date, school_level,"
                    " college_entry_year, commune, postcode, latitude, longitude, goals,"
                    " languages, availability, remote_ok"
                    " FROM generate_series(1, :missing) AS n JOIN ("
                    "   SELECT *, row_number() OVER (ORDER BY id) - 1 AS k FROM child LIMIT 1000"
                    " ) AS model ON model.k = n % least(1000, :have)"
                ),
                {"missing": max(rows - (have or 0), 0), "have": have or 1},
            )
            await session.commit()
        reset_max_rss()
        figures["rss_before_mib"] = round(max_rss_mib())
        statement = select(Child).where(Child.departement_code == DEPARTEMENT)
        statement = statement.order_by(Child.created_at, Child.id)
        for fmt in ("csv", "xlsx"):
            started = time.perf_counter()
            size = 0
            async for chunk in spreadsheet_body(
                database,
                fmt,  # type: ignore[arg-type]
                statement,
                spreadsheet.EXPORT_HEADER,
                spreadsheet.export_cells,
            ):
                size += len(chunk)
            figures[f"{fmt}_s"] = round(time.perf_counter() - started, 2)
            figures[f"{fmt}_mib"] = round(size / 2**20, 1)
            figures[f"{fmt}_max_rss_mib"] = round(max_rss_mib())
            reset_max_rss()
    finally:
        await database.engine.dispose()
    return figures


async def main(arguments: argparse.Namespace) -> None:
    server = next(_server_url())
    name = f"mentorat_bench_{uuid.uuid4().hex[:8]}"
    url = await create_database(server, name)
    rendered = url.render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade, url)
        print(
            json.dumps({"import": await run_import(rendered, arguments.rows)}, ensure_ascii=False)
        )
        # A fresh process, so that its max RSS is the export's own.
        command = [sys.executable, __file__, "--export-only", rendered]
        command += ["--export-rows", str(arguments.export_rows)]
        exported = await asyncio.to_thread(
            subprocess.run, command, check=False, capture_output=True, text=True
        )
        print(exported.stdout.strip() or exported.stderr)
    finally:
        await drop_database(server, name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--export-only", metavar="URL", help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    if parsed.export_only:
        figures = asyncio.run(run_export(parsed.export_only, parsed.export_rows))
        print(json.dumps({"export": figures}))
    else:
        asyncio.run(main(parsed))
