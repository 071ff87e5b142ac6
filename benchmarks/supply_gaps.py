"""The supply-gaps report through PostgreSQL and the API, on synthetic Mayenne-like
départements in a fresh database. Prints figures; asserts nothing.

    python benchmarks/supply_gaps.py [--repeats 5]

Scenarios (children in the département, of whom waiting, and mentors):
- demo: 300 children, all waiting, 200 mentors (the size `serve --demo` writes);
- 5k: 5,000 children, 1,000 waiting, 600 mentors;
- 5k-all-waiting: 5,000 children, all waiting, 1,000 mentors (a stress case).
Children and mentors are placed around the six largest towns of Mayenne (within 15 km of
them, by sqrt(population)), with the goals, availability, preferences and mentor states of
benchmarks/matching.py. A waiting child has a recommending assessment and an offer its child
and parents agreed to (PostgreSQL's trigger decides the outcome, as in production).

Timings: the GET (median of `--repeats` after one warm-up), split into loading (the SQL), the
analysis (`supply_gaps_analysis.analyse`, scoring, runs and greedy) and the rest; the CSV and
SVG renderings once each. The server is MENTORAT_TEST_DATABASE_URL / MENTORAT_DATABASE_URL,
else an embedded PostgreSQL; the benchmark's database is dropped at the end.
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
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.matching import (
    KM_PER_DEGREE,
    SPREAD_KM,
    TOWNS,
    _availability,
    _goals,
    _languages,
)
from mentorat import vocabulary
from mentorat.app import create_app
from mentorat.auth.principal import Role
from mentorat.kit.db import Database, upgrade
from mentorat.models import Assessment, Association, Child, Departement, Mentor, Offer, OfferConsent
from mentorat.reports import supply_gaps, supply_gaps_analysis
from mentorat.settings import Settings
from mentorat.tokens.schemas import TokenCreate
from mentorat.tokens.service import create_token
from mentorat.vocabulary import GENDERS, LANGUAGES, mask_to_goals
from tests.conftest import _server_url, create_database, drop_database

TODAY = date.today()
MAYENNE = [town for town in TOWNS if town[0] == "53"]
SCENARIOS: tuple[tuple[str, str, int, int, int], ...] = (
    # (name, département, children, waiting, mentors)
    ("demo", "53", 300, 300, 200),
    ("5k", "72", 5000, 1000, 600),
    ("5k-all-waiting", "49", 5000, 5000, 1000),
)
CHUNK = 5000


def _places(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    population = np.array([town[4] for town in MAYENNE])
    weight = np.sqrt(population) / np.sqrt(population).sum()
    town = rng.choice(len(MAYENNE), size=n, p=weight)
    lat0 = np.array([MAYENNE[t][2] for t in town])
    lon0 = np.array([MAYENNE[t][3] for t in town])
    distance = SPREAD_KM * rng.random(n)
    bearing = rng.uniform(0, 2 * np.pi, n)
    lat = lat0 + distance * np.cos(bearing) / KM_PER_DEGREE
    lon = lon0 + distance * np.sin(bearing) / (KM_PER_DEGREE * np.cos(np.radians(lat0)))
    return np.round(lat, 6), np.round(lon, 6), town


def _language_codes(mask: int) -> list[str]:
    return [code for bit, code in enumerate(LANGUAGES) if mask >> bit & 1]


def child_rows(rng: np.random.Generator, code: str, n: int) -> list[dict[str, Any]]:
    lat, lon, town = _places(rng, n)
    goals = _goals(rng, n, 1, 3)
    availability = _availability(rng, n, mentor=False)
    languages = _languages(rng, n, 0.05)
    preference = np.where(rng.random(n) < 0.1, rng.integers(1, 3, n), 0)
    return [
        {
            "id": uuid.uuid4(),
            "departement_code": code,
            "reference": f"BENCH-{code}-{i:06d}",
            "first_name": f"Enfant{i}",
            "birth_date": date(2014, 1, 1),
            "school_level": "6e",
            "college_entry_year": 2025,
            "came_into_care_on": TODAY - timedelta(days=400),
            "commune": MAYENNE[town[i]][1],
            "postcode": "53000",
            "latitude": float(lat[i]),
            "longitude": float(lon[i]),
            "goals": mask_to_goals(int(goals[i])),
            "languages": _language_codes(int(languages[i])),
            "availability": availability[i].tobytes(),
            "mentor_gender_preference": GENDERS[preference[i] - 1] if preference[i] else None,
        }
        for i in range(n)
    ]


def mentor_rows(rng: np.random.Generator, association_id: uuid.UUID, m: int) -> list[dict]:
    lat, lon, town = _places(rng, m)
    goals = _goals(rng, m, 2, 6)
    availability = _availability(rng, m, mentor=True)
    french = 1 << vocabulary.LANGUAGE_BIT["fr"]
    languages = french | _languages(rng, m, 0.3)
    gender = rng.choice([0, 1, 2, 3], m, p=[0.05, 0.6, 0.33, 0.02])
    checked = rng.random(m) < 0.93
    return [
        {
            "association_id": association_id,
            "first_name": f"Mentor{j}",
            "last_name": "Bench",
            "commune": MAYENNE[town[j]][1],
            "postcode": "53000",
            "latitude": float(lat[j]),
            "longitude": float(lon[j]),
            "travel_radius_km": float(round(rng.uniform(10, 40), 1)),
            "goals": mask_to_goals(int(goals[j])),
            "languages": _language_codes(int(languages[j])),
            "availability": availability[j].tobytes(),
            "gender": GENDERS[gender[j] - 1] if gender[j] else None,
            "capacity": int(rng.choice([1, 2], p=[0.7, 0.3])),
            "active": bool(rng.random() < 0.95),
            "honorability_checked_on": TODAY - timedelta(days=30) if checked[j] else None,
            "honorability_valid_until": TODAY + timedelta(days=900) if checked[j] else None,
        }
        for j in range(m)
    ]


async def _insert(session: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        await session.execute(insert(model), rows[start : start + CHUNK])


async def load(database: Database, code: str, n: int, waiting: int, m: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    async with database.sessionmaker() as session:
        departement = await session.get(Departement, code)
        association = Association(name=f"Bench {code}", departements=[departement])
        session.add(association)
        await session.flush()
        children = child_rows(rng, code, n)
        await _insert(session, Child, children)
        assessments, offers, consents = [], [], []
        for row in children[:waiting]:
            assessment_id, offer_id = uuid.uuid4(), uuid.uuid4()
            assessments.append({
                "id": assessment_id, "child_id": row["id"], "departement_code": code,
                "assessed_on": TODAY - timedelta(days=60), "author_name": "bench",
                "outcome": "mentoring_recommended",
            })  # fmt: skip
            offers.append({
                "id": offer_id, "child_id": row["id"], "departement_code": code,
                "offered_on": TODAY - timedelta(days=50), "offered_by_name": "bench",
                "legal_situation": "parental_authority", "assessment_id": assessment_id,
            })  # fmt: skip
            consents += [
                {"offer_id": offer_id, "party": party, "kind": "agreed",
                 "given_on": TODAY - timedelta(days=40), "recorded_by_name": "bench"}
                for party in ("child", "parents")
            ]  # fmt: skip
        await _insert(session, Assessment, assessments)
        await _insert(session, Offer, offers)
        await _insert(session, OfferConsent, consents)
        await _insert(session, Mentor, mentor_rows(rng, association.id, m))
        await session.commit()
        await session.execute(text("ANALYZE"))
    return time.perf_counter() - started


class _Phases:
    """Wraps the service's loading and analysis to time them inside the real request."""

    def __init__(self) -> None:
        self.analysis: list[float] = []
        original = supply_gaps_analysis.analyse

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.analysis.append(time.perf_counter() - started)

        supply_gaps.analyse = timed  # type: ignore[attr-defined]


async def measure(
    database: Database, settings: Settings, code: str, repeats: int
) -> dict[str, Any]:
    async with database.sessionmaker() as session:
        secret, _, _ = await create_token(
            session, None, TokenCreate(name=f"bench {code}", role=Role.departement_manager,
                                       departement_code=code),
        )  # fmt: skip
        await session.commit()
    phases = _Phases()
    app = create_app(settings, database)
    headers = {"Authorization": f"Bearer {secret}"}
    url = f"/v1/reports/supply-gaps?departement={code}"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=600
    ) as client:
        walls = []
        for _ in range(repeats + 1):
            started = time.perf_counter()
            response = await client.get(url, headers=headers)
            walls.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(response.text)
        body = response.json()
        formats = {}
        for name, accept in (("csv", "text/csv"), ("svg", "image/svg+xml")):
            started = time.perf_counter()
            rendered = await client.get(url, headers={**headers, "Accept": accept})
            formats[name] = (time.perf_counter() - started, len(rendered.content))
    walls, analysis = walls[1:], phases.analysis[1 : repeats + 1]
    return {
        "waiting": body["waiting"],
        "matchable_now": body["matchable_now"],
        "groups": len(body["groups"]),
        "gains": [profile["gain"] for profile in body["profiles"]],
        "constraints": body["constraints"],
        "wall_ms": statistics.median(walls) * 1000,
        "analysis_ms": statistics.median(analysis) * 1000,
        "csv": formats["csv"],
        "svg": formats["svg"],
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--scenarios", default=",".join(s[0] for s in SCENARIOS), help="Comma-separated names."
    )
    args = parser.parse_args()
    wanted = set(args.scenarios.split(","))

    server = _server_url()
    server_url = next(server)
    name = f"mentorat_bench_{uuid.uuid4().hex[:8]}"
    url = await create_database(server_url, name)
    try:
        await asyncio.to_thread(upgrade, url)
        settings = Settings(database_url=url.render_as_string(hide_password=False))
        database = Database.from_url(url, settings)
        for scenario, code, n, waiting, m in SCENARIOS:
            if scenario not in wanted:
                continue
            loaded = await load(database, code, n, waiting, m, args.seed)
            figures = await measure(database, settings, code, args.repeats)
            print(
                f"{scenario:>15}: {n} children, {figures['waiting']} waiting, {m} mentors "
                f"(loaded in {loaded:.1f} s)\n"
                f"{'':>17}GET {figures['wall_ms']:.0f} ms (median of {args.repeats}), "
                f"of which analysis {figures['analysis_ms']:.0f} ms and SQL + shaping "
                f"{figures['wall_ms'] - figures['analysis_ms']:.0f} ms; "
                f"CSV {figures['csv'][0] * 1000:.0f} ms ({figures['csv'][1]} B), "
                f"SVG {figures['svg'][0] * 1000:.0f} ms ({figures['svg'][1]} B)\n"
                f"{'':>17}matchable now {figures['matchable_now']}, groups {figures['groups']}, "
                f"gains {figures['gains']}, constraints {figures['constraints']}"
            )
        await database.engine.dispose()
    finally:
        await drop_database(server_url, name)
        next(server, None)


if __name__ == "__main__":
    asyncio.run(main())
