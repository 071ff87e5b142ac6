"""What remembering declines costs: the run's read of excluded and declined pairs, and the
candidates request, on a département with a proposal history.

    python benchmarks/declines.py [--size 5000] [--dry-runs 3] [--declined-share 0.3]
        [--repeats 15] [--rounds 4]

Creates a database on MENTORAT_TEST_DATABASE_URL / MENTORAT_DATABASE_URL (else an embedded
PostgreSQL), loads `--size` children and mentors (benchmarks/matching.py's instance), makes
`--dry-runs` dry runs (their simulated proposals are most of the proposal table, as in a
département that previews often), then declined proposals for a share of the children (one
to three mentors each, declined over the last twelve months). Then times, median of
`--repeats`:

1. the run's read of the pairs ruled out: exclusions alone (before) against exclusions and
   remembered declines in one statement (after);
2. `GET /v1/children/{id}/mentor-candidates` through the ASGI app for `--repeats` children
   with declines (each also declined its two best candidates a month ago, so that the answer
   flags them), with the département's memory at 6 months and at 0 (the same statement,
   nothing found), `--rounds` rounds of each, alternating.

Prints figures and the machine's load; asserts nothing. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import insert, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.matching_db import DEPARTEMENT, load
from benchmarks.scratch import scratch_database
from mentorat.app import create_app
from mentorat.auth.principal import Principal, Role
from mentorat.kit.clock import today_in
from mentorat.kit.db import Database
from mentorat.matching import service
from mentorat.matching.loading import (
    load_children,
    load_exclusions,
    load_mentors,
    load_ruled_out_pairs,
    mentors_serving,
)
from mentorat.matching.schemas import RunCreate
from mentorat.models import Child, Departement, Mentor, Proposal
from mentorat.settings import Settings
from mentorat.tokens.schemas import TokenCreate
from mentorat.tokens.service import create_token

EXPLANATION = {
    "score": 0.5,
    "components": {"goals": 0.5, "distance": 0.5, "availability": 0.5},
    "weights": {"goals": 0.5, "distance": 0.3, "availability": 0.2},
    "contributions": {"goals": 0.25, "distance": 0.15, "availability": 0.1},
    "distance_km": 5.0,
    "overlap_hours": 2.0,
    "needed_hours": 2.0,
    "common_goals": [],
}


async def dry_runs(database: Database, count: int) -> None:
    operator = Principal(id=uuid.UUID(int=0), name="benchmark", role=Role.admin)
    for _ in range(count):
        async with database.sessionmaker() as session:
            run = await service.create_run(
                session, operator, RunCreate(departement_code=DEPARTEMENT, dry_run=True)
            )
            await session.commit()
        await service.execute_run(database, run.id)


async def declines(database: Database, share: float, seed: int) -> list[uuid.UUID]:
    """Declined proposals for `share` of the children; returns those children."""
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    async with database.sessionmaker() as session:
        children = list((await session.scalars(select(Child.id).order_by(Child.id))).all())
        mentors = list((await session.scalars(select(Mentor.id).order_by(Mentor.id))).all())
        chosen = [c for c in children if rng.random() < share]
        rows = []
        for child_id in chosen:
            for mentor in rng.choice(len(mentors), size=int(rng.integers(1, 4)), replace=False):
                decided = now - timedelta(days=float(rng.uniform(0, 365)))
                rows.append(
                    {
                        "child_id": child_id,
                        "mentor_id": mentors[int(mentor)],
                        "departement_code": DEPARTEMENT,
                        "status": "declined",
                        "score": 0.5,
                        "explanation": EXPLANATION,
                        "validated_at": decided - timedelta(days=2),
                        "decided_at": decided,
                        "decline_reason": "Pas disponible cette année.",
                        "declined_by_name": "bench",
                    }
                )
        for start in range(0, len(rows), 5000):
            await session.execute(insert(Proposal), rows[start : start + 5000])
        await session.commit()
        # Statistics as autovacuum would gather them (committed: ANALYZE is transactional).
        await session.execute(text("ANALYZE"))
        await session.commit()
    print(f"declined proposals: {len(rows)} for {len(chosen)} children")
    return chosen


async def ruled_out_reads(database: Database, repeats: int) -> dict[str, float]:
    run_date = today_in(DEPARTEMENT)
    child_statement = select(Child).where(
        Child.departement_code == DEPARTEMENT, Child.deleted_at.is_(None)
    )
    mentor_statement = mentors_serving(DEPARTEMENT)
    before, after = [], []
    async with database.sessionmaker() as session:
        children = await load_children(session, child_statement, run_date)
        mentors = await load_mentors(session, mentor_statement, run_date, DEPARTEMENT)
        for _ in range(repeats):
            started = time.perf_counter()
            await load_exclusions(session, children, mentors, child_statement, mentor_statement)
            before.append(time.perf_counter() - started)
            started = time.perf_counter()
            ruled_out = await load_ruled_out_pairs(
                session, children, mentors, child_statement, mentor_statement,
                DEPARTEMENT, run_date,
            )  # fmt: skip
            after.append(time.perf_counter() - started)
    print(f"remembered declines found by the run's read: {len(ruled_out.declines)}")
    return {
        "before_ms": statistics.median(before) * 1000,
        "after_ms": statistics.median(after) * 1000,
    }


async def decline_top_candidates(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    database: Database,
    children: list[uuid.UUID],
) -> None:
    """Declines, a month ago, each child's two best candidates: mentors the answer flags."""
    rows = []
    decided = datetime.now(UTC) - timedelta(days=30)
    for child_id in children:
        response = await client.get(f"/v1/children/{child_id}/mentor-candidates", headers=headers)
        for candidate in response.json()["candidates"][:2]:
            rows.append(
                {
                    "child_id": child_id, "mentor_id": uuid.UUID(candidate["mentor_id"]),
                    "departement_code": DEPARTEMENT, "status": "declined", "score": 0.5,
                    "explanation": EXPLANATION, "validated_at": decided, "decided_at": decided,
                    "decline_reason": "Pas disponible cette année.", "declined_by_name": "bench",
                }
            )  # fmt: skip
    async with database.sessionmaker() as session:
        if rows:
            await session.execute(insert(Proposal), rows)
        await session.commit()


async def candidates(
    database: Database, settings: Settings, children: list[uuid.UUID], rounds: int
) -> dict[int, tuple[float, float, int]]:
    """Median and p90 of the candidates request with the memory at 6 months and at 0, rounds
    alternating (after a warm-up round), and how many declined mentors were flagged."""
    async with database.sessionmaker() as session:
        secret, _, _ = await create_token(
            session, None,
            TokenCreate(name="bench", role=Role.educator, departement_code=DEPARTEMENT),
        )  # fmt: skip
        await session.commit()
    app = create_app(settings, database)
    headers = {"Authorization": f"Bearer {secret}"}
    timings: dict[int, list[float]] = {6: [], 0: []}
    flagged: dict[int, int] = {6: 0, 0: 0}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        await decline_top_candidates(client, headers, database, children)
        for round_number in range(2 * rounds + 1):
            months = 6 if round_number % 2 else 0
            async with database.sessionmaker() as session:
                await session.execute(
                    update(Departement)
                    .where(Departement.code == DEPARTEMENT)
                    .values(decline_memory_months=months)
                )
                await session.commit()
            for child_id in children:
                started = time.perf_counter()
                response = await client.get(
                    f"/v1/children/{child_id}/mentor-candidates", headers=headers
                )
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, response.text
                if round_number:  # the first round warms the snapshot up
                    timings[months].append(elapsed)
                    flagged[months] += response.json()["recently_declined"]
    return {
        months: (
            statistics.median(values) * 1000,
            float(np.percentile(values, 90)) * 1000,
            flagged[months] // rounds,
        )
        for months, values in timings.items()
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--dry-runs", type=int, default=3)
    parser.add_argument("--declined-share", type=float, default=0.3)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    async with scratch_database() as (database, settings):
        print(f"load average at start: {os.getloadavg()}")
        await load(database, args.size, args.size, args.seed)
        await dry_runs(database, args.dry_runs)
        chosen = await declines(database, args.declined_share, args.seed)
        async with database.sessionmaker() as session:
            total = await session.scalar(text("SELECT count(*) FROM proposal"))
        print(f"{args.size} children x {args.size} mentors, {total} proposals in all")

        reads = await ruled_out_reads(database, args.repeats)
        print(
            f"\nrun's read of ruled-out pairs, median of {args.repeats}: exclusions only "
            f"{reads['before_ms']:.1f} ms; exclusions and remembered declines "
            f"{reads['after_ms']:.1f} ms"
        )
        results = await candidates(database, settings, chosen[: args.repeats], args.rounds)
        print(
            f"\nGET mentor-candidates over {args.size} mentors, {args.repeats} children with "
            f"declines, {args.rounds} rounds per setting, alternating:"
        )
        for months, (median, p90, flagged) in results.items():
            print(
                f"  memory {months} months: median {median:.1f} ms, p90 {p90:.1f} ms "
                f"({flagged} declined mentors flagged per round)"
            )
        print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    asyncio.run(main())
