"""Authenticated reads over HTTP: the service against a bare Starlette + asyncpg app
(`benchmarks/bare_app.py`) doing the same token check and the same SELECT, on one database.

    python benchmarks/api.py [--children 5000] [--rounds 3] [--seconds 5] [--port 8760]

The script creates a database on MENTORAT_TEST_DATABASE_URL / MENTORAT_DATABASE_URL (else an
embedded PostgreSQL), migrates it, fills it (children in 53 and in 75, an educator of 53 with
a token), then starts the service (`mentorat serve`, one uvicorn worker, as in production) and
the bare app (one uvicorn worker) and drives them alternately, scenario by scenario and round
by round, with the same client: wrk (`-t2 -c16`) when installed, else an asyncio httpx load
generator with 16 concurrent requests. It prints, per scenario, the median over rounds of
requests/s, p50 and p99 for both apps and the ratio service / bare, then the PostgreSQL round
trips per request of each (counted on the wire by a proxy, `tests/wire.py`). Both servers and
the database are removed at the end. Prints figures; asserts nothing.

Add a row: append a Scenario to SCENARIOS (and, for its baseline, a route to bare_app.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
from sqlalchemy.engine import URL

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bare_app import make_app as make_bare_app  # noqa: E402
from mentorat.app import create_app  # noqa: E402
from mentorat.auth.tokens import display_prefix, hash_token, new_token  # noqa: E402
from mentorat.kit.db import Database, sync_url, upgrade  # noqa: E402
from mentorat.models import ApiToken, Child  # noqa: E402
from mentorat.models import Principal as PrincipalRow  # noqa: E402
from mentorat.profile import WeeklySlot, availability_to_bytes  # noqa: E402
from mentorat.settings import Settings  # noqa: E402
from tests.conftest import _server_url, create_database, drop_database  # noqa: E402
from tests.wire import CountingProxy  # noqa: E402

CONCURRENCY = 16


@dataclass(frozen=True)
class Fixture:
    """What the scenarios may use: the token's header and a child the token may read."""

    authorization: str
    child_id: uuid.UUID


@dataclass(frozen=True)
class Scenario:
    """One row: the same path (built from the fixture) asked of the service and the bare app."""

    name: str
    path: Callable[[Fixture], str]


SCENARIOS = [
    Scenario("GET /v1/children/{id}", lambda fixture: f"/v1/children/{fixture.child_id}"),
    Scenario("GET /v1/children?limit=50", lambda fixture: "/v1/children?limit=50"),
]


@dataclass
class Measure:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


# --- the data ---------------------------------------------------------------------------------


async def fill(url: URL, children: int) -> Fixture:
    database = Database.from_url(url, Settings(database_url=str(url)))
    slots = availability_to_bytes(
        [
            WeeklySlot(day="wednesday", start="14:00", end="18:00"),
            WeeklySlot(day="saturday", start="10:00", end="12:00"),
        ]
    )
    try:
        async with database.sessionmaker() as session:
            rows = [
                Child(
                    departement_code="53" if number % 10 else "75",
                    reference=f"BENCH-{number:06d}",
                    first_name=f"Enfant{number}",
                    birth_date=date(2014, 1, 1) + timedelta(days=number % 900),
                    school_level="6e",
                    college_entry_year=2026,
                    commune="Laval",
                    postcode="53000",
                    latitude=48.0707,
                    longitude=-0.7734,
                    goals=["orientation", "confiance"],
                    languages=[],
                    availability=slots,
                    remote_ok=False,
                )
                for number in range(children)
            ]
            session.add_all(rows)
            secret = new_token()
            educator = PrincipalRow(name="Bench educator", role="educator", departement_code="53")
            session.add(
                ApiToken(
                    principal=educator, token_hash=hash_token(secret), prefix=display_prefix(secret)
                )
            )
            await session.commit()
            child_id = next(row.id for row in rows if row.departement_code == "53")
    finally:
        await database.engine.dispose()
    return Fixture(authorization=f"Bearer {secret}", child_id=child_id)


# --- the servers ------------------------------------------------------------------------------


@contextmanager
def server(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    base = f"http://127.0.0.1:{port}"
    with log.open("w") as output:
        process = subprocess.Popen(
            command, env={**os.environ, **env}, cwd=ROOT, stdout=output, stderr=output
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code in (200, 404):
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{command[0]} did not start; see {log}")
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


# --- the load ---------------------------------------------------------------------------------

_WRK_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, authorization: str, seconds: float) -> Measure:
    output = subprocess.run(
        ["wrk", "-t2", f"-c{CONCURRENCY}", f"-d{seconds:g}s", "--latency",
         "-H", f"Authorization: {authorization}", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
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


async def _httpx_load(url: str, authorization: str, seconds: float) -> Measure:
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": authorization}
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        stop_at = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                response = await client.get(url, headers=headers)
                latencies.append(time.perf_counter() - started)
                errors += response.status_code >= 300

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return Measure(len(latencies) / elapsed, cuts[49] * 1000, cuts[98] * 1000, errors)


def load(url: str, authorization: str, seconds: float) -> Measure:
    if shutil.which("wrk"):
        return wrk(url, authorization, seconds)
    return asyncio.run(_httpx_load(url, authorization, seconds))


# --- round trips ------------------------------------------------------------------------------


async def round_trips(
    url: URL, fixture: Fixture, requests: int = 20
) -> dict[str, tuple[float, float]]:
    """Per scenario: PostgreSQL round trips per request of the service and of the bare app,
    each app in this process on a pool that reaches PostgreSQL through a counting proxy."""
    proxy = CountingProxy(url)
    await proxy.start()
    settings = Settings(database_url=str(proxy.url))
    database = Database.from_url(proxy.url, settings)
    bare = make_bare_app(sync_url(proxy.url).render_as_string(hide_password=False))
    counts: dict[str, tuple[float, float]] = {}
    headers = {"Authorization": fixture.authorization}
    try:
        async with bare.router.lifespan_context(bare):
            clients = [
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
                for app in (create_app(settings, database=database), bare)
            ]
            for scenario in SCENARIOS:
                per_app = []
                for client in clients:
                    path = scenario.path(fixture)
                    for _ in range(3):  # warm-up: connections, prepared statements, keys
                        (await client.get(path, headers=headers)).raise_for_status()
                    proxy.reset()
                    for _ in range(requests):
                        await client.get(path, headers=headers)
                    per_app.append(len(proxy.round_trips()) / requests)
                counts[scenario.name] = (per_app[0], per_app[1])
            for client in clients:
                await client.aclose()
    finally:
        await database.engine.dispose()
        await proxy.stop()
    return counts


# --- the run ----------------------------------------------------------------------------------


def main(children: int, rounds: int, seconds: float, port: int) -> None:
    server_url = next(_server_url())
    name = f"mentorat_bench_{uuid.uuid4().hex[:8]}"
    url = asyncio.run(create_database(server_url, name))
    logs = Path(os.environ.get("TMPDIR", "/tmp")) / name
    logs.mkdir(parents=True, exist_ok=True)
    try:
        upgrade(url)
        fixture = asyncio.run(fill(url, children))
        dsn = sync_url(url).render_as_string(hide_password=False)
        env = {"MENTORAT_DATABASE_URL": dsn, "BENCH_DATABASE_URL": dsn}
        python = sys.executable
        service_command = [python, "-m", "mentorat.cli", "serve", "--port", str(port)]
        bare_command = [python, "-m", "uvicorn", "benchmarks.bare_app:app", "--port",
                        str(port + 1), "--log-level", "warning", "--no-access-log"]  # fmt: skip
        print(f"load: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
        client = "wrk -t2 -c16" if shutil.which("wrk") else "httpx, 16 concurrent"
        print(
            f"client: {client}, {rounds} rounds of {seconds:g} s per app and scenario,"
            f" {children} children"
        )
        results: dict[tuple[str, str], list[Measure]] = {}
        with (
            server(service_command, env, port, logs / "service.log") as service_base,
            server(bare_command, env, port + 1, logs / "bare.log") as bare_base,
        ):
            for scenario in SCENARIOS:
                path = scenario.path(fixture)
                for base in (service_base, bare_base):  # warm-up
                    load(base + path, fixture.authorization, 1)
            for round_number in range(rounds):
                order = ("service", "bare") if round_number % 2 == 0 else ("bare", "service")
                for scenario in SCENARIOS:
                    for app in order:
                        base = service_base if app == "service" else bare_base
                        measure = load(
                            base + scenario.path(fixture), fixture.authorization, seconds
                        )
                        results.setdefault((scenario.name, app), []).append(measure)
        print(f"load: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
        trips = asyncio.run(round_trips(url, fixture))
        print()
        print(f"{'scenario':<28} {'app':<8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
              f" {'errors':>7} {'trips':>6} {'ratio':>6}")  # fmt: skip
        for scenario in SCENARIOS:
            medians = {}
            for index, app in enumerate(("service", "bare")):
                measures = results[(scenario.name, app)]
                medians[app] = statistics.median(m.requests_per_s for m in measures)
                print(
                    f"{scenario.name:<28} {app:<8} {medians[app]:>8.0f}"
                    f" {statistics.median(m.p50_ms for m in measures):>8.2f}"
                    f" {statistics.median(m.p99_ms for m in measures):>8.2f}"
                    f" {sum(m.errors for m in measures):>7}"
                    f" {trips[scenario.name][index]:>6.1f}"
                    + (f" {medians['service'] / medians['bare']:>6.2f}" if app == "bare" else "")
                )
            print(
                "  req/s per round: "
                + "  ".join(
                    f"{app} "
                    + ", ".join(f"{m.requests_per_s:.0f}" for m in results[(scenario.name, app)])
                    for app in ("service", "bare")
                )
            )
    finally:
        asyncio.run(drop_database(server_url, name))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--port", type=int, default=8760, help="The bare app takes port + 1.")
    arguments = parser.parse_args()
    main(arguments.children, arguments.rounds, arguments.seconds, arguments.port)
