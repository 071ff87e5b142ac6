"""`GET /v1/children/{id}/mentor-candidates` over HTTP with 20,000 mentors in the département:
"before" against "after", the service keeping a snapshot of the mentors per process (default).
"before" is the code of another checkout (`--before-src`, e.g. main's `src`, which loads the
mentors and their names on every request) on a database of its own at `--before-revision`
(the same data), else this code without snapshots (`MENTORAT_MENTOR_SNAPSHOTS=0`: mentors,
names and details loaded on every request, on the same database).

    python benchmarks/candidates.py [--before-src ../main/src] [--mentors 20000] [--rounds 3]
        [--seconds 10] [--port 8780]

Creates a database on MENTORAT_TEST_DATABASE_URL / MENTORAT_DATABASE_URL (else an embedded
PostgreSQL), migrates it, loads the mentors (benchmarks/matching.py's instance, all in one
association serving 53) and 16 eligible children, starts both servers (`mentorat serve`, one
uvicorn worker each, on --port and --port + 1), and drives them alternately, round by round,
with wrk at concurrency 8 (`-t2 -c8`), every request for the next of the 16 children. Prints
the median over rounds of requests/s, p50 and p99 for each, and the machine load. Both servers
and the database are removed at the end. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import insert, text
from sqlalchemy.engine import URL

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.api import _UNITS_MS, _WRK_LATENCY, Measure, server  # noqa: E402
from benchmarks.matching import make_instance  # noqa: E402
from benchmarks.matching_db import mentor_rows  # noqa: E402
from mentorat.auth.tokens import display_prefix, hash_token, new_token  # noqa: E402
from mentorat.kit.db import Database, sync_url, upgrade  # noqa: E402
from mentorat.models import (  # noqa: E402
    ApiToken,
    Association,
    AssociationAgreement,
    Departement,
    Mentor,
)
from mentorat.models import Principal as PrincipalRow  # noqa: E402
from mentorat.settings import Settings  # noqa: E402
from tests.conftest import _server_url, create_database, drop_database  # noqa: E402
from tests.factories import create_child  # noqa: E402

CONCURRENCY = 8
CHILDREN = 16
DEPARTEMENT = "53"


@dataclass(frozen=True)
class Fixture:
    authorization: str
    paths: list[str]


async def fill(url: URL, n_mentors: int, seed: int, under_agreement: bool = True) -> Fixture:
    database = Database.from_url(url, Settings(database_url=str(url)))
    _, mentors, _ = make_instance(1, n_mentors, seed)
    try:
        async with database.sessionmaker() as session:
            departement = await session.get(Departement, DEPARTEMENT)
            association = Association(name="Bench", departements=[departement])
            session.add(association)
            await session.flush()
            if under_agreement:  # the code compared with may predate agreements
                session.add(
                    AssociationAgreement(
                        association_id=association.id,
                        departement_code=DEPARTEMENT,
                        signed_on=date(2026, 1, 5),
                        valid_from=date(2026, 1, 5),
                    )
                )
            rows = mentor_rows(mentors, association.id)
            for start in range(0, len(rows), 5000):
                await session.execute(insert(Mentor), rows[start : start + 5000])
            # Children in Laval, with an accepted offer (eligible), goals and evenings free.
            children = [
                await create_child(session, departement=DEPARTEMENT) for _ in range(CHILDREN)
            ]
            secret = new_token()
            educator = PrincipalRow(name="Bench educator", role="educator", departement_code="53")
            session.add(
                ApiToken(
                    principal=educator, token_hash=hash_token(secret), prefix=display_prefix(secret)
                )
            )
            await session.commit()
            await session.execute(text("ANALYZE"))
    finally:
        await database.engine.dispose()
    paths = [f"/v1/children/{child.id}/mentor-candidates" for child in children]
    return Fixture(authorization=f"Bearer {secret}", paths=paths)


def wrk(base: str, fixture: Fixture, seconds: float) -> Measure:
    """wrk -t2 -c8, each request for the next child's candidates (a Lua request hook)."""
    paths = ", ".join(f'"{path}"' for path in fixture.paths)
    script = (
        f"local paths = {{{paths}}}\nlocal i = 0\n"
        f'wrk.headers["Authorization"] = "{fixture.authorization}"\n'
        "request = function()\n  i = i % #paths + 1\n"
        '  return wrk.format("GET", paths[i])\nend\n'
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    try:
        output = subprocess.run(
            ["wrk", "-t2", f"-c{CONCURRENCY}", f"-d{seconds:g}s", "--latency", "-s", lua.name,
             base],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(lua.name)
    latencies = {
        int(p): float(value) * _UNITS_MS[unit] for p, value, unit in _WRK_LATENCY.findall(output)
    }
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if rate is None or len(latencies) != 2:
        raise RuntimeError(f"wrk said:\n{output}")
    return Measure(
        float(rate.group(1)), latencies[50], latencies[99], int(errors.group(1)) if errors else 0
    )


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main(
    n_mentors: int,
    rounds: int,
    seconds: float,
    port: int,
    seed: int,
    before_src: str | None,
    before_revision: str,
) -> None:
    server_url = next(_server_url())
    name = f"mentorat_bench_{uuid.uuid4().hex[:8]}"
    names = [name, name + "_before"] if before_src else [name]
    urls = [asyncio.run(create_database(server_url, each)) for each in names]
    logs = Path(os.environ.get("TMPDIR", "/tmp")) / name
    logs.mkdir(parents=True, exist_ok=True)
    try:
        upgrade(urls[0])
        fixture = asyncio.run(fill(urls[0], n_mentors, seed))
        dsn = sync_url(urls[0]).render_as_string(hide_password=False)
        command = [sys.executable, "-m", "mentorat.cli", "serve", "--port"]
        before_env = {"MENTORAT_DATABASE_URL": dsn, "MENTORAT_MENTOR_SNAPSHOTS": "0"}
        before_label = "before (no snapshot)"
        if before_src:
            upgrade(urls[1], before_revision)
            before_fixture = asyncio.run(fill(urls[1], n_mentors, seed))
            before_dsn = sync_url(urls[1]).render_as_string(hide_password=False)
            before_env = {"MENTORAT_DATABASE_URL": before_dsn, "PYTHONPATH": before_src}
            commit = subprocess.run(
                ["git", "-C", before_src, "log", "-1", "--format=%h"],
                capture_output=True, text=True,
            ).stdout.strip()  # fmt: skip
            before_label = f"before ({commit or before_src})"
        after_env = {"MENTORAT_DATABASE_URL": dsn}
        print(f"load: {uptime()}")
        print(f"client: wrk -t2 -c{CONCURRENCY}, {rounds} rounds of {seconds:g} s per server,"
              f" {n_mentors:,} mentors, {CHILDREN} children in turn")  # fmt: skip
        results: dict[str, list[Measure]] = {"before": [], "after": []}
        with (
            server([*command, str(port)], before_env, port, logs / "before.log") as before,
            server([*command, str(port + 1)], after_env, port + 1, logs / "after.log") as after,
        ):
            bases = {"before": before, "after": after}
            fixtures = {"before": before_fixture if before_src else fixture, "after": fixture}
            for which, base in bases.items():  # warm-up, and a check that the answers are real
                headers = {"Authorization": fixtures[which].authorization}
                response = httpx.get(base + fixtures[which].paths[0], headers=headers, timeout=30)
                response.raise_for_status()
                answer = response.json()
                print(f"{which}: {answer['mentors_considered']:,} mentors considered,"
                      f" {answer['feasible']:,} feasible")  # fmt: skip
                wrk(base, fixtures[which], 2)
            for round_number in range(rounds):
                order = ("before", "after") if round_number % 2 == 0 else ("after", "before")
                for which in order:
                    results[which].append(wrk(bases[which], fixtures[which], seconds))
        print(f"load: {uptime()}")
        print(f"\n{'server':<34} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7}")
        labels = {"before": before_label, "after": "after (snapshot per process)"}
        for which, measures in results.items():
            print(
                f"{labels[which]:<34}"
                f" {statistics.median(m.requests_per_s for m in measures):>7.0f}"
                f" {statistics.median(m.p50_ms for m in measures):>7.2f}"
                f" {statistics.median(m.p99_ms for m in measures):>7.2f}"
                f" {sum(m.errors for m in measures):>7}"
            )
            print("  per round (req/s, p50, p99): " + "; ".join(
                f"{m.requests_per_s:.0f}, {m.p50_ms:.1f}, {m.p99_ms:.1f}" for m in measures
            ))  # fmt: skip
        print("targets: p50 < 15 ms, p99 < 40 ms, >= 150 req/s at concurrency 8")
    finally:
        for each in names:
            asyncio.run(drop_database(server_url, each))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mentors", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--port", type=int, default=8780, help="The second server: port + 1.")
    parser.add_argument("--seed", type=int, default=20260207)
    parser.add_argument("--before-src", help="the src folder of the code to compare with")
    parser.add_argument(
        "--before-revision", default="0009", help="the migration the --before-src code expects"
    )
    arguments = parser.parse_args()
    main(
        arguments.mentors,
        arguments.rounds,
        arguments.seconds,
        arguments.port,
        arguments.seed,
        arguments.before_src,
        arguments.before_revision,
    )
