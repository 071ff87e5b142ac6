"""The duty reports through the API on a large département: 5,000 children of Mayenne with
three school years of history (care facts, yearly assessments, offers and their consent
facts, proposals, mentorships with their events and meetings), built from a seed.

    python benchmarks/reports.py [--children 5000] [--repeats 7] [--seed 53]

The server is MENTORAT_TEST_DATABASE_URL / MENTORAT_DATABASE_URL, else an embedded PostgreSQL;
a database is created for the benchmark and dropped at the end. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mentorat.app import create_app
from mentorat.auth.principal import Role
from mentorat.kit.clock import time_zone, today_in
from mentorat.kit.db import Database, async_url, upgrade
from mentorat.models import (
    Assessment,
    Association,
    Child,
    ChildCareRevision,
    Departement,
    Meeting,
    Mentor,
    Mentorship,
    MentorshipEvent,
    Offer,
    OfferConsent,
    Proposal,
)
from mentorat.models.legal import REQUIRED_PARTIES
from mentorat.profile import WeeklySlot, availability_to_bytes
from mentorat.settings import Settings
from mentorat.tokens.schemas import TokenCreate
from mentorat.tokens.service import create_token
from tests.conftest import _server_url, create_database, drop_database

DEPARTEMENT = "53"
TODAY = today_in(DEPARTEMENT)
PARIS = time_zone(DEPARTEMENT)
SITUATIONS = ("parental_authority", "delegated_to_ase", "pupille", "young_adult")
END_REASONS = ("completed", "child_choice", "mentor_unavailable", "placement_change", "other")
AVAILABILITY = availability_to_bytes([WeeklySlot(day="wednesday", start="14:00", end="18:00")])
BATCH = 5000


def noon(day: date) -> datetime:
    return datetime.combine(day, clock_time(12), PARIS)


def days(n: int) -> timedelta:
    return timedelta(days=n)


class History:
    """Every row of the département, drawn child by child from one seeded generator."""

    def __init__(self, n_children: int, seed: int, mentor_ids: list[uuid.UUID]) -> None:
        self.random = random.Random(seed)
        self.mentor_ids = mentor_ids
        self.rows: dict[type, list[dict[str, Any]]] = {
            model: []
            for model in (
                Child, ChildCareRevision, Assessment, Proposal, Mentorship,
                MentorshipEvent, Meeting,
            )
        }  # fmt: skip
        # A child's offers go in rounds (its first ones, then its second ones...), each
        # followed by its facts in three statements: informed, then agreements, then refusals
        # (an offer is pending until its facts are in; a statement's row triggers see its
        # other rows).
        self.rounds: list[tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]] = []
        self.offers_of_child = 0
        for number in range(n_children):
            self.child(number)

    def date_between(self, first: date, last: date) -> date:
        return first + days(self.random.randint(0, max((last - first).days, 0)))

    def child(self, number: int) -> None:
        pick = self.random
        self.offers_of_child = 0
        born = self.date_between(date(2006, 1, 1), date(2016, 8, 31))
        if (born.month, born.day) == (2, 29):
            born -= days(1)  # birthdays by year.replace below
        entry = born.year + 11 + (1 if born.month >= 9 else 0)
        situation = pick.choices(SITUATIONS, weights=(55, 20, 10, 15))[0]
        if situation == "young_adult" and born > date(2008, 6, 1):
            situation = "parental_authority"
        came = self.date_between(max(born + days(200), date(2012, 1, 1)), TODAY - days(10))
        left = self.date_between(came + days(30), TODAY) if pick.random() < 0.15 else None
        requested = (
            self.date_between(max(came, born.replace(year=born.year + 18)), TODAY)
            if situation == "young_adult" and pick.random() < 0.7
            else None
        )
        child_id = uuid.uuid4()
        facts = {
            "departement_code": DEPARTEMENT,
            "birth_date": born,
            "college_entry_year": entry,
            "came_into_care_on": came,
            "left_care_on": left,
            "legal_situation": situation,
            "mentoring_requested_on": requested,
        }
        self.rows[Child].append(
            {
                "id": child_id, "reference": f"BENCH-{number:06d}",
                "first_name": f"Enfant{number}", "school_level": "6e", "commune": "Laval",
                "postcode": "53000", "latitude": 48.07, "longitude": -0.77,
                "goals": ["orientation"], "languages": [], "availability": AVAILABILITY,
                "remote_ok": False, **facts,
            }
        )  # fmt: skip
        self.rows[ChildCareRevision].append(
            {"child_id": child_id, "recorded_at": noon(came), "deleted": False, **facts}
        )
        if situation == "young_adult":
            first_due = requested
        elif born.replace(year=born.year + 11) <= came or came >= date(entry, 9, 1):
            first_due = came
        else:
            first_due = date(entry, 9, 1)
        self.duties(child_id, situation, first_due, left)

    def duties(
        self, child_id: uuid.UUID, situation: str, due: date | None, left: date | None
    ) -> None:
        pick = self.random
        end = min(TODAY, left or TODAY)
        live_until: date | None = None  # the day the current mentorship ends (None: live)
        has_mentorship = False
        while due is not None and due <= end:
            if pick.random() > 0.88:
                return  # never assessed: overdue from then on
            assessed_on = due + days(pick.randint(-40, 90))
            if assessed_on > end:
                return
            recommended = pick.random() < 0.8
            assessment_id = uuid.uuid4()
            self.rows[Assessment].append(
                {
                    "id": assessment_id, "child_id": child_id,
                    "departement_code": DEPARTEMENT, "assessed_on": assessed_on,
                    "author_name": "bench",
                    "outcome": "mentoring_recommended" if recommended else "not_now",
                    "reason": None if recommended else "later",
                    "created_at": noon(assessed_on),
                }
            )  # fmt: skip
            due = assessed_on + days(365)
            mentored = has_mentorship and (live_until is None or live_until > assessed_on)
            if recommended and not mentored and pick.random() < 0.9:
                outcome = self.offer(child_id, situation, assessment_id, assessed_on, due, end)
                if outcome == "pending":
                    return  # one open offer at a time: the child's story stops there
                if outcome is not None:
                    live_until, has_mentorship = outcome

    def offer(
        self, child_id: uuid.UUID, situation: str, assessment_id: uuid.UUID, assessed_on: date,
        next_due: date, end: date,
    ) -> tuple[date | None, bool] | str | None:  # fmt: skip
        """An offer and what followed: "pending" if it is left open, (end of the mentorship
        or None if live, True) if one started, None otherwise."""
        pick = self.random
        offered_on = assessed_on + days(pick.randint(0, 60))
        if offered_on > end:
            return None
        offer_id = uuid.uuid4()
        if self.offers_of_child == len(self.rounds):
            self.rounds.append(([], {"informed": [], "agreed": [], "refused": []}))
        self.round = self.rounds[self.offers_of_child]
        self.offers_of_child += 1
        self.round[0].append(
            {
                "id": offer_id, "child_id": child_id, "departement_code": DEPARTEMENT,
                "offered_on": offered_on, "offered_by_name": "bench",
                "legal_situation": situation, "assessment_id": assessment_id,
                "created_at": noon(offered_on), "updated_at": noon(offered_on),
            }
        )  # fmt: skip
        parties = REQUIRED_PARTIES[situation]
        for party in parties:
            self.fact(offer_id, party, "informed", offered_on)
        answer = pick.random()
        if answer < 0.1:
            self.fact(offer_id, parties[-1], "refused", offered_on + days(pick.randint(1, 30)))
            return None
        agreed_on = offered_on
        last_answer = offered_on + days(pick.randint(1, 45))
        if answer > 0.95 or last_answer > min(end, next_due - days(1)):
            return "pending"
        for party in parties:
            given = self.date_between(offered_on, last_answer)
            agreed_on = max(agreed_on, given)
            self.fact(offer_id, party, "agreed", given)
        proposed_on = agreed_on + days(pick.randint(0, 75))
        if pick.random() > 0.8 or proposed_on > end:
            return None
        mentor_id = pick.choice(self.mentor_ids)
        accepted = pick.random() < 0.85
        proposal_id = uuid.uuid4()
        self.rows[Proposal].append(
            {
                "id": proposal_id, "child_id": child_id, "mentor_id": mentor_id,
                "departement_code": DEPARTEMENT,
                "status": "accepted" if accepted else "declined", "score": 0.7,
                "explanation": {}, "created_at": noon(proposed_on),
                "updated_at": noon(proposed_on), "decided_at": noon(proposed_on),
            }
        )  # fmt: skip
        start = proposed_on + days(pick.randint(3, 30))
        if not accepted or start > end:
            return None
        ended = start + days(pick.randint(20, 800)) if pick.random() < 0.55 else None
        if ended is not None and ended > end:
            ended = None
        if ended is None and (end < TODAY):
            ended = end  # the child left care
        self.mentorship(child_id, mentor_id, proposal_id, proposed_on, start, ended)
        return ended, True

    def fact(self, offer_id: uuid.UUID, party: str, kind: str, on: date) -> None:
        self.round[1][kind].append(
            {
                "offer_id": offer_id, "party": party, "kind": kind, "given_on": on,
                "recorded_at": noon(on), "recorded_by_name": "bench",
            }
        )  # fmt: skip

    def mentorship(
        self, child_id: uuid.UUID, mentor_id: uuid.UUID, proposal_id: uuid.UUID,
        accepted_on: date, start: date, ended: date | None,
    ) -> None:  # fmt: skip
        pick = self.random
        reason = pick.choice(END_REASONS) if ended else None
        mentorship_id = uuid.uuid4()
        self.rows[Mentorship].append(
            {
                "id": mentorship_id, "proposal_id": proposal_id, "child_id": child_id,
                "mentor_id": mentor_id, "departement_code": DEPARTEMENT,
                "state": "ended" if ended else "active", "started_at": noon(start),
                "ended_at": noon(ended) if ended else None, "end_reason": reason,
                "created_at": noon(accepted_on), "updated_at": noon(ended or start),
            }
        )  # fmt: skip
        events = [(accepted_on, None, "accepted"), (start, "accepted", "active")]
        if ended:
            events.append((ended, "active", "ended"))
        for day, source, target in events:
            self.rows[MentorshipEvent].append(
                {
                    "mentorship_id": mentorship_id, "occurred_at": noon(day),
                    "principal_name": "bench", "from_state": source, "to_state": target,
                    "reason": reason if target == "ended" else None,
                }
            )  # fmt: skip
        held_on = start + days(pick.randint(0, 40))
        while held_on <= (ended or TODAY):
            self.rows[Meeting].append(
                {
                    "mentorship_id": mentorship_id, "held_on": held_on,
                    "duration_minutes": 60, "mode": "in_person", "entered_by_name": "bench",
                    "created_at": noon(held_on),
                }
            )  # fmt: skip
            held_on += days(pick.randint(14, 60))


async def build(database: Database, n_children: int, seed: int) -> dict[str, int]:
    async with database.sessionmaker() as session:
        departement = await session.get(Departement, DEPARTEMENT)
        associations = [
            Association(name=f"Bench {seed} {letter}", departements=[departement])
            for letter in "ABC"
        ]
        session.add_all(associations)
        await session.flush()
        mentors = [
            {
                "id": uuid.uuid4(), "association_id": associations[j % 3].id,
                "first_name": f"Mentor{j}", "last_name": "Bench", "commune": "Laval",
                "postcode": "53000", "latitude": 48.07, "longitude": -0.77,
                "travel_radius_km": 20.0, "goals": ["orientation"], "languages": ["fr"],
                "availability": AVAILABILITY, "capacity": 10, "active": True,
            }
            for j in range(n_children // 5)
        ]  # fmt: skip
        await session.execute(insert(Mentor), mentors)
        history = History(n_children, seed, [row["id"] for row in mentors])
        for model, rows in history.rows.items():
            for start in range(0, len(rows), BATCH):
                await session.execute(insert(model), rows[start : start + BATCH])
        for offers, facts in history.rounds:
            for model, rows in ((Offer, offers), *((OfferConsent, f) for f in facts.values())):
                for start in range(0, len(rows), BATCH):
                    await session.execute(insert(model), rows[start : start + BATCH])
        await session.commit()
        # What autovacuum does soon after a bulk load; without it the planner guesses blind.
        await session.execute(text("ANALYZE"))
    counts = {model.__tablename__: len(rows) for model, rows in history.rows.items()}
    counts["offer"] = sum(len(offers) for offers, _ in history.rounds)
    counts["offer_consent"] = sum(
        len(rows) for _, facts in history.rounds for rows in facts.values()
    )
    return counts


async def timed(call: Callable[[], Awaitable[httpx.Response]], repeats: int) -> list[float]:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = await call()
        timings.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(response.text)
    return timings


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=53)
    parser.add_argument(
        "--keep",
        metavar="NAME",
        help="Keep the database under this name (and reuse it, built, on the next run).",
    )
    args = parser.parse_args()

    server = _server_url()
    server_url = next(server)
    name = args.keep or f"mentorat_bench_{uuid.uuid4().hex[:8]}"
    try:
        url = await create_database(server_url, name)
        fresh = True
    except asyncpg.DuplicateDatabaseError:
        url, fresh = server_url.set(database=name), False
    try:
        await asyncio.to_thread(upgrade, url)
        engine = create_async_engine(async_url(url), pool_size=5)
        database = Database(engine, async_sessionmaker(engine, expire_on_commit=False))
        settings = Settings(database_url=url.render_as_string(hide_password=False))
        if fresh:
            started = time.perf_counter()
            counts = await build(database, args.children, args.seed)
            print(f"built in {time.perf_counter() - started:.1f} s: " + ", ".join(
                f"{count} {table}" for table, count in counts.items()))  # fmt: skip
        async with database.sessionmaker() as session:
            secret, _, _ = await create_token(
                session,
                None,
                TokenCreate(
                    name="bench", role=Role.departement_manager, departement_code=DEPARTEMENT
                ),
            )
            await session.commit()
        app = create_app(settings, database)
        headers = {"Authorization": f"Bearer {secret}"}
        this_year = TODAY.year if TODAY.month >= 9 else TODAY.year - 1
        last_year = f"{this_year - 1}-{this_year}"
        cases: list[tuple[str, str, dict[str, str], dict[str, str]]] = [
            ("compliance, this year", "/v1/reports/compliance",
             {"school_year": f"{this_year}-{this_year + 1}"}, {}),
            ("compliance, last year", "/v1/reports/compliance", {"school_year": last_year}, {}),
            ("compliance, last year as of a year ago", "/v1/reports/compliance",
             {"school_year": last_year, "as_of": (TODAY - days(365)).isoformat()}, {}),
            ("compliance, CSV", "/v1/reports/compliance", {"school_year": last_year},
             {"Accept": "text/csv"}),
            ("compliance, SVG", "/v1/reports/compliance", {"school_year": last_year},
             {"Accept": "image/svg+xml"}),
            ("survival", "/v1/reports/survival", {}, {}),
            ("survival, SVG", "/v1/reports/survival", {}, {"Accept": "image/svg+xml"}),
        ]  # fmt: skip
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            first = await client.get(
                "/v1/reports/compliance",
                params={"departement": DEPARTEMENT, "school_year": last_year},
                headers=headers,
            )
            stages = first.json()["overall"]["funnel"]
            funnel = {s["stage"]: s["count"] for s in stages}
            in_mentorship = next(s["in_mentorship"] for s in stages if s["stage"] == "recommended")
            print(f"\n{last_year} funnel: {funnel}; recommended while in a mentorship: "
                  f"{in_mentorship}")  # fmt: skip
            print(f"\n{'request':<42} {'p50':>8} {'max':>8}  ({args.repeats} runs, after 1)")
            for label, path, params, extra in cases:

                def call(
                    path: str = path, params: dict[str, str] = params, extra: dict[str, str] = extra
                ) -> Awaitable[httpx.Response]:
                    return client.get(path, params={"departement": DEPARTEMENT, **params},
                                      headers={**headers, **extra})  # fmt: skip

                await call()  # the first call prepares the route (and imports matplotlib)
                timings = await timed(call, args.repeats)
                print(
                    f"{label:<42} {statistics.median(timings) * 1000:>6.0f} ms "
                    f"{max(timings) * 1000:>6.0f} ms"
                )
        await engine.dispose()
    finally:
        if not args.keep:
            await drop_database(server_url, name)
        next(server, None)


if __name__ == "__main__":
    asyncio.run(main())
