"""Matching through PostgreSQL: a full run (load, score, solve, write) and the candidates
endpoint, on synthetic data in a fresh database.

    python benchmarks/matching_db.py [--run-size 2000] [--candidate-mentors 20000]

The server is MENTORAT_TEST_DATABASE_URL / MENTORAT_DATABASE_URL, else an embedded PostgreSQL;
a database is created for the benchmark and dropped at the end. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.matching import make_instance
from mentorat.agreements.service import add_agreement
from mentorat.app import create_app
from mentorat.auth.principal import Principal, Role
from mentorat.kit.db import Database, async_url, upgrade
from mentorat.matching import service
from mentorat.matching.schemas import RunCreate
from mentorat.matching.scoring import ChildArrays, MentorArrays
from mentorat.models import Association, Child, Departement, Mentor, Offer, OfferConsent
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
    operator = Principal(id=uuid.UUID(int=0), name="benchmark", role=Role.admin)
    async with database.sessionmaker() as session:
        run = await service.create_run(session, operator, RunCreate(departement_code=DEPARTEMENT))
        await session.commit()
    started = time.perf_counter()
    await service.execute_run(database, run.id)
    wall = time.perf_counter() - started
    async with database.sessionmaker() as session:
        finished = await session.get(service.MatchingRun, run.id)
        assert finished is not None
        return {"wall": wall, "status": finished.status, **finished.figures}


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
    parser.add_argument("--run-size", type=int, default=2000)
    parser.add_argument("--candidate-mentors", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    server = _server_url()
    server_url = next(server)
    name = f"mentorat_bench_{uuid.uuid4().hex[:8]}"
    url = await create_database(server_url, name)
    try:
        await asyncio.to_thread(upgrade, url)
        engine = create_async_engine(async_url(url), pool_size=5)
        database = Database(engine, async_sessionmaker(engine, expire_on_commit=False))
        settings = Settings(database_url=url.render_as_string(hide_password=False))

        seconds = await load(database, args.run_size, args.run_size, args.seed)
        print(f"inserted {args.run_size} children + {args.run_size} mentors in {seconds:.1f} s")
        figures = await full_run(database)
        timings = figures.pop("timings")
        print(f"\nfull run through the database, {args.run_size} x {args.run_size}:")
        print(f"  status {figures['status']}, wall {figures['wall']:.3f} s")
        for phase, value in timings.items():
            print(f"  {phase:<10} {value:.3f} s")
        for key in ("children", "mentors", "feasible_pairs", "components", "matched", "mean_score"):
            print(f"  {key:<16} {figures.get(key)}")

        extra = args.candidate_mentors - args.run_size
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
        next(server, None)


if __name__ == "__main__":
    asyncio.run(main())
