"""Matching through PostgreSQL: full runs (load, score, solve, write) against the pure score
and solve of the same data, and the candidates endpoint, on synthetic data in a fresh database.

    python benchmarks/matching_db.py [--run-sizes 2000 ...] [--run-repeats 1]
        [--before-src ../main/src] [--candidate-mentors 20000]

For each run size: children and mentors loaded, then `--run-repeats` times a full run through
the service, followed by the pure score + solve (no database, no thread) of the inputs the run
loaded, in the same process; the run is then deleted (its proposals with it) and the tables
vacuumed, so that every repetition starts from the same state. With `--before-src` (the `src`
of another checkout, same schema) each repetition also runs that code, in turn first and
second, each in a process of its own. The ratio is the run's wall time over score + solve.

The server is MENTORAT_TEST_DATABASE_URL / MENTORAT_DATABASE_URL, else an embedded PostgreSQL;
a database is created for the benchmark and dropped at the end. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import numpy as np
from sqlalchemy import delete, insert, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.matching import make_instance
from mentorat.agreements.service import add_agreement
from mentorat.app import create_app
from mentorat.auth.principal import Principal, Role
from mentorat.kit.db import Database, async_url, sync_url, upgrade
from mentorat.matching import service
from mentorat.matching.loading import (
    id_in,
    load_children,
    load_exclusions,
    load_mentors,
    mentors_serving,
)
from mentorat.matching.schemas import RunCreate
from mentorat.matching.scoring import ChildArrays, MentorArrays, Weights, score_pairs
from mentorat.matching.solver import solve
from mentorat.models import (
    Association,
    Child,
    Departement,
    Event,
    MatchingRun,
    Mentor,
    Offer,
    OfferConsent,
)
from mentorat.settings import Settings
from mentorat.tokens.schemas import TokenCreate
from mentorat.tokens.service import create_token
from mentorat.vocabulary import GENDERS, LANGUAGES, mask_to_goals
from tests.conftest import _server_url, create_database, drop_database

DEPARTEMENT = "53"
TODAY = date.today()


def _languages(mask: int) -> list[str]:
    return [code for bit, code in enumerate(LANGUAGES) if mask >> bit & 1]


def child_rows(arrays: ChildArrays) -> list[dict[str, Any]]:
    return [
        {
            "id": uuid.uuid4(),
            "departement_code": DEPARTEMENT,
            "reference": f"BENCH-{i:06d}",
            "first_name": f"Enfant{i}",
            "birth_date": date(2014, 1, 1),
            "school_level": "6e",
            "college_entry_year": 2025,
            "commune": "Laval",
            "postcode": "53000",
            "latitude": float(arrays.lat[i]),
            "longitude": float(arrays.lon[i]),
            "goals": mask_to_goals(int(arrays.goals[i])),
            "languages": _languages(int(arrays.languages[i])),
            "availability": arrays.availability[i].tobytes(),
            "remote_ok": bool(arrays.remote_ok[i]),
            "mentor_gender_preference": (
                GENDERS[int(arrays.mentor_gender_preference[i]) - 1]
                if 0 < arrays.mentor_gender_preference[i] < 3
                else None
            ),
        }
        for i in range(len(arrays))
    ]


def mentor_rows(arrays: MentorArrays, association_id: uuid.UUID) -> list[dict[str, Any]]:
    return [
        {
            "association_id": association_id,
            "first_name": f"Mentor{j}",
            "last_name": "Bench",
            "commune": "Laval",
            "postcode": "53000",
            "latitude": float(arrays.lat[j]),
            "longitude": float(arrays.lon[j]),
            "travel_radius_km": float(arrays.radius_km[j]),
            "goals": mask_to_goals(int(arrays.goals[j])),
            "languages": _languages(int(arrays.languages[j])),
            "availability": arrays.availability[j].tobytes(),
            "remote_ok": bool(arrays.remote_ok[j]),
            "gender": GENDERS[int(arrays.gender[j]) - 1] if arrays.gender[j] else None,
            "capacity": int(max(arrays.capacity_left[j], 1)),
            "active": bool(arrays.active[j]),
            "honorability_checked_on": TODAY - timedelta(days=30)
            if arrays.honorability_ok[j]
            else None,
            "honorability_valid_until": TODAY + timedelta(days=900)
            if arrays.honorability_ok[j]
            else None,
        }
        for j in range(len(arrays))
    ]


async def load(database: Database, n_children: int, n_mentors: int, seed: int) -> float:
    children, mentors, _ = make_instance(n_children, n_mentors, seed)
    started = time.perf_counter()
    async with database.sessionmaker() as session:
        departement = await session.get(Departement, DEPARTEMENT)
        association = Association(name=f"Bench {seed}", departements=[departement])
        session.add(association)
        await session.flush()
        await add_agreement(
            session, association_id=association.id, departement_code=DEPARTEMENT,
            signed_on=TODAY - timedelta(days=400), valid_from=TODAY - timedelta(days=365),
        )  # fmt: skip
        rows = child_rows(children)
        for start in range(0, len(rows), 5000):
            await session.execute(insert(Child), rows[start : start + 5000])
        offers = [
            {
                "id": uuid.uuid4(),
                "child_id": row["id"],
                "departement_code": DEPARTEMENT,
                "offered_on": TODAY,
                "offered_by_name": "bench",
                "legal_situation": "delegated_to_ase",
            }
            for row in rows
        ]
        for start in range(0, len(offers), 5000):
            await session.execute(insert(Offer), offers[start : start + 5000])
        # Both required agreements: PostgreSQL derives the accepted outcome from them.
        consents = [
            {
                "offer_id": offer["id"],
                "party": party,
                "kind": "agreed",
                "given_on": TODAY,
                "recorded_by_name": "bench",
            }
            for offer in offers
            for party in ("child", "ase")
        ]
        for start in range(0, len(consents), 5000):
            await session.execute(insert(OfferConsent), consents[start : start + 5000])
        mentor_list = mentor_rows(mentors, association.id)
        for start in range(0, len(mentor_list), 5000):
            await session.execute(insert(Mentor), mentor_list[start : start + 5000])
        await session.commit()
        # What autovacuum does soon after a bulk load; without it the planner guesses blind.
        await session.execute(text("ANALYZE"))
    return time.perf_counter() - started


async def full_run(database: Database) -> dict[str, Any]:
    """The pure score + solve of what a run would load, then the run through the service."""
    operator = Principal(id=uuid.UUID(int=0), name="benchmark", role=Role.admin)
    async with database.sessionmaker() as session:
        run = await service.create_run(session, operator, RunCreate(departement_code=DEPARTEMENT))
        await session.commit()
        # Before the run: its pending proposals then hold the children it matched.
        pure = await score_and_solve(session, run)
    started = time.perf_counter()
    await service.execute_run(database, run.id)
    wall = time.perf_counter() - started
    async with database.sessionmaker() as session:
        finished = await session.get(MatchingRun, run.id)
        assert finished is not None
        return {"wall": wall, "status": finished.status, "run_id": str(run.id), **pure,
                **finished.figures}  # fmt: skip


async def score_and_solve(session: Any, run: MatchingRun) -> dict[str, float]:
    """The run's inputs, loaded as a run loads them, then scored and solved, timed alone."""
    children_of = select(Child).where(
        Child.departement_code == run.departement_code, Child.deleted_at.is_(None)
    )
    serving = mentors_serving(run.departement_code)
    loaded = await load_children(session, children_of, run.run_date)
    mentors = await load_mentors(session, serving, run.run_date, run.departement_code)
    exclusions = await load_exclusions(session, loaded, mentors, children_of, serving)
    eligible = np.flatnonzero(loaded.arrays.eligible)
    position = np.full(len(loaded), -1, dtype=np.int64)
    position[eligible] = np.arange(len(eligible))
    if len(exclusions):
        exclusions = exclusions[position[exclusions[:, 0]] >= 0]
        exclusions[:, 0] = position[exclusions[:, 0]]
    children = loaded.arrays.take(eligible)
    started = time.perf_counter()
    pairs = score_pairs(
        children, mentors.arrays, Weights(**run.weights), exclusions, round(run.needed_hours * 2)
    )
    scored = time.perf_counter()
    solve(
        len(children), len(mentors), pairs.child_index, pairs.mentor_index, pairs.score,
        mentors.arrays.capacity_left, run.min_score, run.objective,  # type: ignore[arg-type]
    )  # fmt: skip
    solved = time.perf_counter()
    return {"pure_score": scored - started, "pure_solve": solved - scored}


async def forget_run(database: Database, url: URL, run_id: uuid.UUID) -> None:
    """Delete the run, its proposals (their places freed by the triggers) and their events,
    then vacuum, so that the next repetition starts where this one did."""
    async with database.sessionmaker() as session:
        proposals = select(service.Proposal.id).where(service.Proposal.run_id == run_id)
        await session.execute(delete(Event).where(id_in(Event.entity_id, list(
            (await session.scalars(proposals)).all()))))  # fmt: skip
        await session.execute(delete(MatchingRun).where(MatchingRun.id == run_id))
        await session.commit()
    connection = await asyncpg.connect(sync_url(url).render_as_string(hide_password=False))
    try:
        await connection.execute("VACUUM ANALYZE mentor, proposal, matching_run_unmatched, event")
    finally:
        await connection.close()


def run_elsewhere(url: URL, src: str | None) -> dict[str, Any]:
    """`full_run` in a process of its own, on the code of `src` (else this checkout's)."""
    environment = dict(os.environ)
    if src is not None:
        environment["PYTHONPATH"] = src
    command = [sys.executable, __file__, "--one-run", url.render_as_string(hide_password=False)]
    output = subprocess.run(command, env=environment, check=True, capture_output=True, text=True)
    return json.loads(output.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


async def one_run(url: URL) -> None:
    engine = create_async_engine(async_url(url), pool_size=5)
    database = Database(engine, async_sessionmaker(engine, expire_on_commit=False))
    figures = await full_run(database)
    await engine.dispose()
    print(json.dumps({"source": service.__file__, **figures}))


async def compare_runs(
    url: URL, database: Database, size: int, repeats: int, before_src: str | None
) -> None:
    codes: list[str | None] = [None] if before_src is None else [before_src, None]
    labels = {before_src: "before", None: "after" if before_src else "this code"}
    results: dict[str | None, list[dict[str, Any]]] = {code: [] for code in codes}
    for repeat in range(repeats):
        for code in codes if repeat % 2 == 0 else codes[::-1]:
            load_average = os.getloadavg()[0]
            figures = await asyncio.to_thread(run_elsewhere, url, code)
            figures["load_average"] = load_average
            results[code].append(figures)
            await forget_run(database, url, uuid.UUID(figures["run_id"]))
            pure = figures["pure_score"] + figures["pure_solve"]
            print(
                f"  {labels[code]:<9} wall {figures['wall']:.3f} s, score+solve {pure:.3f} s, "
                f"x{figures['wall'] / pure:.2f}, write {figures['timings']['write']:.3f} s, "
                f"{figures['matched']} matched, load average {load_average:.1f}",
                flush=True,
            )
    print(f"\n{size} x {size}, medians of {repeats} (seconds):")
    print("  code       wall   load  score  solve   write  score+solve(pure)  ratio")
    for code in codes:
        runs = results[code]
        timings = [run["timings"] for run in runs]
        pure = statistics.median(run["pure_score"] + run["pure_solve"] for run in runs)
        wall = statistics.median(run["wall"] for run in runs)
        medians = {
            phase: statistics.median(t[phase] for t in timings)
            for phase in ("load", "score", "solve", "write")
        }
        ratio = statistics.median(
            run["wall"] / (run["pure_score"] + run["pure_solve"]) for run in runs
        )
        print(
            f"  {labels[code]:<9} {wall:6.3f} {medians['load']:6.3f} {medians['score']:6.3f} "
            f"{medians['solve']:6.3f} {medians['write']:7.3f} {pure:18.3f}  x{ratio:.2f}"
        )


async def candidates(database: Database, settings: Settings, repeats: int) -> dict[str, float]:
    async with database.sessionmaker() as session:
        secret, _, _ = await create_token(
            session,
            None,
            TokenCreate(name="bench", role=Role.educator, departement_code=DEPARTEMENT),
        )
        child_ids = list((await session.scalars(select(Child.id).limit(repeats))).all())
        await session.commit()
    app = create_app(settings, database)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {secret}"}
    timings = []
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for child_id in child_ids:
            started = time.perf_counter()
            response = await client.get(
                f"/v1/children/{child_id}/mentor-candidates", headers=headers
            )
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
    considered = response.json()["mentors_considered"]
    return {
        "mentors": considered,
        "median_ms": statistics.median(timings) * 1000,
        "p90_ms": float(np.percentile(timings, 90)) * 1000,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run-sizes", type=int, nargs="+", default=[2000])
    parser.add_argument("--run-repeats", type=int, default=1)
    parser.add_argument("--before-src", help="the src folder of the code to compare with")
    parser.add_argument("--candidate-mentors", type=int, default=20000, help="0: skip")
    parser.add_argument("--repeats", type=int, default=30, help="candidates requests")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--one-run", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_run:
        await one_run(make_url(args.one_run))
        return

    server = _server_url()
    server_url = next(server)
    try:
        for size in args.run_sizes:
            await measure_size(server_url, size, args)
    finally:
        next(server, None)


async def measure_size(server_url: URL, size: int, args: argparse.Namespace) -> None:
    name = f"mentorat_bench_{uuid.uuid4().hex[:8]}"
    url = await create_database(server_url, name)
    try:
        await asyncio.to_thread(upgrade, url)
        engine = create_async_engine(async_url(url), pool_size=5)
        database = Database(engine, async_sessionmaker(engine, expire_on_commit=False))
        settings = Settings(database_url=url.render_as_string(hide_password=False))

        seconds = await load(database, size, size, args.seed)
        print(f"inserted {size} children + {size} mentors in {seconds:.1f} s", flush=True)
        figures = await full_run(database)
        await forget_run(database, url, uuid.UUID(figures["run_id"]))
        timings = figures.pop("timings")
        print(f"\nfull run through the database, {size} x {size}:")
        print(f"  status {figures['status']}, wall {figures['wall']:.3f} s")
        for phase, value in timings.items():
            print(f"  {phase:<10} {value:.3f} s")
        for key in ("children", "mentors", "feasible_pairs", "components", "matched", "mean_score"):
            print(f"  {key:<16} {figures.get(key)}")
        print(f"  pure score + solve {figures['pure_score'] + figures['pure_solve']:.3f} s\n")
        if args.run_repeats > 1 or args.before_src:
            await compare_runs(url, database, size, args.run_repeats, args.before_src)

        extra = args.candidate_mentors - size
        if args.candidate_mentors:
            seconds = await load(database, 0, extra, args.seed + 1)
            result = await candidates(database, settings, args.repeats)
            print(f"\nGET /v1/children/{{id}}/mentor-candidates over {result['mentors']} mentors:")
            print(
                f"  median {result['median_ms']:.1f} ms, p90 {result['p90_ms']:.1f} ms "
                f"({args.repeats} children, through the ASGI app, auth and audit included)"
            )
        await engine.dispose()
    finally:
        await drop_database(server_url, name)


if __name__ == "__main__":
    asyncio.run(main())
