"""GET /v1/reports/supply-gaps on a hand-built Côtes-d'Armor (22) whose answer is known.

Two towns 105 km apart. Lannion: five waiting children free on Wednesday 14:00-16:00, no
mentor within reach. Dinan: two mentors (capacity 2, radius 20 km, Wednesday 14:00-18:00 and
Saturday 10:00-12:00); one waiting child free on Wednesday (an optimal run matches it now) and
two free only on Sunday (blocked by hours alone). Around them, children who do not wait
(pending offer, left care, aged 21, in another département) and must not be counted.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.principal import Role
from mentorat.models import Association, Child, Mentor
from mentorat.profile import WeeklySlot, availability_to_bytes
from tests.api.support import assert_problem
from tests.conftest import run_queued_jobs
from tests.factories import (
    bearer,
    create_association,
    create_child,
    create_mentor,
    token_for,
)

REPORT = "/v1/reports/supply-gaps"
LANNION = {"commune": "Lannion", "postcode": "22300", "latitude": 48.7326, "longitude": -3.4566}
DINAN = {"commune": "Dinan", "postcode": "22100", "latitude": 48.4552, "longitude": -2.0504}
WEDNESDAY = [WeeklySlot(day="wednesday", start="14:00", end="16:00")]
SUNDAY = [WeeklySlot(day="sunday", start="10:00", end="12:00")]
MENTOR_SLOTS = [
    WeeklySlot(day="wednesday", start="14:00", end="18:00"),
    WeeklySlot(day="saturday", start="10:00", end="12:00"),
]
GOALS = ["confiance", "orientation"]


def near(place: dict[str, Any], north_km: float) -> dict[str, Any]:
    """The place moved north by a few km (1 degree of latitude is 111.2 km)."""
    return {**place, "latitude": round(place["latitude"] + north_km / 111.195, 6)}


class Departement22:
    def __init__(
        self,
        association: Association,
        other_association: Association,
        lannion: list[Child],
        dinan_now: Child,
        dinan_sunday: list[Child],
        mentors: list[Mentor],
        tokens: dict[str, dict[str, str]],
    ) -> None:
        self.association = association
        self.other_association = other_association
        self.lannion = lannion
        self.dinan_now = dinan_now
        self.dinan_sunday = dinan_sunday
        self.mentors = mentors
        self.tokens = tokens


@pytest.fixture
async def d22(session: AsyncSession) -> Departement22:
    association = await create_association(session, departements=("22",))
    other_association = await create_association(session, departements=("53",))
    wednesday, sunday = availability_to_bytes(WEDNESDAY), availability_to_bytes(SUNDAY)
    # Lannion's five, spread north over 4 km: the third is the medoid.
    lannion = [
        await create_child(
            session, departement="22", availability=wednesday, goals=GOALS,
            **near(LANNION, k),
        )
        for k in range(5)
    ]  # fmt: skip
    dinan_now = await create_child(
        session, departement="22", availability=wednesday, goals=GOALS, **DINAN
    )
    dinan_sunday = [
        await create_child(
            session, departement="22", availability=sunday, goals=GOALS, **near(DINAN, k)
        )
        for k in (1, 2)
    ]
    # Not waiting: a pending offer, a child who left care, one of 21, one of another département.
    # (The one who left care is free on Sunday only, so that no matching run gives it a
    # Lannion mentor: runs still take children whose latest offer was accepted.)
    await create_child(session, departement="22", offer="pending", **LANNION)
    await create_child(
        session, departement="22", came_into_care_on=date(2020, 1, 1),
        left_care_on=date(2026, 1, 1), availability=sunday, **LANNION,
    )  # fmt: skip
    await create_child(
        session, departement="22", birth_date=date(2004, 1, 1), school_level="autre",
        college_entry_year=2015, came_into_care_on=date(2020, 1, 1), availability=sunday,
        **LANNION,
    )  # fmt: skip
    await create_child(session, departement="53", **LANNION)
    mentors = [
        await create_mentor(
            session, association=association, capacity=2, travel_radius_km=20.0,
            availability=availability_to_bytes(MENTOR_SLOTS),
            goals=["orientation", "confiance", "numerique"], **DINAN,
        )
        for _ in range(2)
    ]  # fmt: skip
    tokens = {
        "admin": bearer(await token_for(session, Role.admin)),
        "manager": bearer(
            await token_for(session, Role.departement_manager, departement_code="22")
        ),
        "educator": bearer(await token_for(session, Role.educator, departement_code="22")),
        "manager_53": bearer(
            await token_for(session, Role.departement_manager, departement_code="53")
        ),
        "coordinator": bearer(
            await token_for(session, Role.coordinator, association_id=association.id)
        ),
        "other_coordinator": bearer(
            await token_for(session, Role.coordinator, association_id=other_association.id)
        ),
        "mentor": bearer(await token_for(session, Role.mentor, mentor_id=mentors[0].id)),
    }
    await session.commit()
    return Departement22(
        association, other_association, lannion, dinan_now, dinan_sunday, mentors, tokens
    )


async def report(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    response = await client.get(REPORT, params={"departement": "22", **params}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- hand computation


def haversine_km(a: dict[str, Any], b: dict[str, Any]) -> float:
    phi1, phi2 = math.radians(a["latitude"]), math.radians(b["latitude"])
    dphi, dlam = phi2 - phi1, math.radians(b["longitude"] - a["longitude"])
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def half_hours(slots: list[WeeklySlot]) -> set[tuple[str, int]]:
    def index(hhmm: str) -> int:
        return int(hhmm[:2]) * 2 + (hhmm[3:] == "30")

    return {(s.day.value, k) for s in slots for k in range(index(s.start), index(s.end))}


def most_matched(feasible: set[tuple[int, int]], n_children: int, capacity: list[int]) -> int:
    """The largest number of children matched, by enumerating every assignment."""
    best = 0
    for choice in itertools.product([None, *range(len(capacity))], repeat=n_children):
        pairs = [(child, mentor) for child, mentor in enumerate(choice) if mentor is not None]
        if all(pair in feasible for pair in pairs) and all(
            sum(1 for _, mentor in pairs if mentor == m) <= cap for m, cap in enumerate(capacity)
        ):
            best = max(best, len(pairs))
    return best


class TestKnownDepartement:
    async def test_groups_and_constraints(
        self, client: httpx.AsyncClient, d22: Departement22
    ) -> None:
        body = await report(client, d22.tokens["manager"])
        assert body["departement_code"] == "22"
        assert (body["waiting"], body["matchable_now"], body["unmatched"]) == (8, 1, 7)
        assert body["mentors_with_places"] == 2
        assert body["constraints"] == {"too_far": 5, "no_common_availability": 2}
        assert body["typical_mentor"] == {
            "travel_radius_km": 20.0, "capacity": 2, "weekly_hours": 6.0, "goals": 3,
            "languages": 1,
        }  # fmt: skip
        first, second = body["groups"]
        assert first == {
            "group": 1, "commune": "Lannion", "postcode": "22300",
            "latitude": round(LANNION["latitude"] + 2 / 111.195, 2), "longitude": -3.46,
            "waiting": 5, "matchable_now": 0, "unmatched": 5, "constraints": {"too_far": 5},
            "communes": [{"commune": "Lannion", "postcode": "22300", "waiting": 5}],
        }  # fmt: skip
        assert second["commune"] == "Dinan"
        assert (second["waiting"], second["matchable_now"], second["unmatched"]) == (3, 1, 2)
        assert second["constraints"] == {"no_common_availability": 2}
        assert second["communes"] == [{"commune": "Dinan", "postcode": "22100", "waiting": 3}]

    async def test_top_profile_is_in_lannion_and_gains_what_brute_force_says(
        self, client: httpx.AsyncClient, d22: Departement22
    ) -> None:
        body = await report(client, d22.tokens["manager"])
        top = body["profiles"][0]
        assert (top["rank"], top["group"], top["commune"]) == (1, 1, "Lannion")
        assert top["travel_radius_km"] == 20.0 and top["capacity"] == 2
        assert top["availability"] == [{"day": "wednesday", "start": "14:00", "end": "16:00"}]
        assert top["goals"] == ["orientation", "confiance"]
        assert top["languages"] == ["fr"] and top["gender"] is None

        # Independently: feasibility by hand (within radius and a common half hour), then the
        # largest matching by enumeration, with and without the profile's mentor.
        places = [near(LANNION, k) for k in range(5)] + [DINAN, near(DINAN, 1), near(DINAN, 2)]
        slots = [half_hours(WEDNESDAY)] * 6 + [half_hours(SUNDAY)] * 2
        profile_place = {"latitude": top["latitude"], "longitude": top["longitude"]}
        mentor_places = [DINAN, DINAN, profile_place]
        profile_slots = half_hours([WeeklySlot(**slot) for slot in top["availability"]])
        mentor_slots = [half_hours(MENTOR_SLOTS)] * 2 + [profile_slots]
        feasible = {
            (child, mentor)
            for child in range(8)
            for mentor in range(3)
            if haversine_km(places[child], mentor_places[mentor]) <= 20.0
            and slots[child] & mentor_slots[mentor]
        }
        without = most_matched({p for p in feasible if p[1] < 2}, 8, [2, 2, 0])
        with_profile = most_matched(feasible, 8, [2, 2, top["capacity"]])
        assert without == body["matchable_now"] == 1
        assert top["gain"] == with_profile - without == min(5, top["capacity"]) == 2
        assert top["matched_after"] == with_profile

    async def test_greedy_ranking(self, client: httpx.AsyncClient, d22: Departement22) -> None:
        body = await report(client, d22.tokens["manager"])
        # A second Lannion mentor gains 2 (ties with Dinan's Sunday profile go to group 1),
        # then Dinan's Sunday profile 2, then the last Lannion child; then nothing is left.
        assert [(p["group"], p["gain"], p["matched_after"]) for p in body["profiles"]] == [
            (1, 2, 3), (1, 2, 5), (2, 2, 7), (1, 1, 8),
        ]  # fmt: skip
        sunday = body["profiles"][2]
        assert sunday["commune"] == "Dinan"
        assert sunday["availability"] == [{"day": "sunday", "start": "10:00", "end": "12:00"}]
        limited = await report(client, d22.tokens["manager"], limit=2)
        assert limited["profiles"] == body["profiles"][:2]

    async def test_recruiting_the_top_profile_matches_those_children(
        self, client: httpx.AsyncClient, session: AsyncSession, d22: Departement22
    ) -> None:
        top = (await report(client, d22.tokens["manager"]))["profiles"][0]
        created = await client.post(
            "/v1/mentors",
            headers=d22.tokens["coordinator"],
            json={
                "first_name": "Nolwenn",
                "last_name": "Le Goff",
                "email": "nolwenn@example.org",
                "location": {
                    "commune": top["commune"], "postcode": top["postcode"],
                    "latitude": top["latitude"], "longitude": top["longitude"],
                },
                "travel_radius_km": top["travel_radius_km"],
                "capacity": top["capacity"],
                "goals": top["goals"],
                "languages": top["languages"],
                "availability": top["availability"],
                "honorability_check": {"checked_on": "2026-01-05", "valid_until": "2029-01-05"},
            },
        )  # fmt: skip
        assert created.status_code == 201, created.text
        recruit = created.json()["id"]
        run = await client.post(
            "/v1/matching-runs",
            headers=d22.tokens["manager"],
            json={"departement_code": "22", "dry_run": True},
        )
        assert run.status_code == 202, run.text
        await run_queued_jobs(client)
        proposals = (
            await client.get(
                f"/v1/matching-runs/{run.json()['id']}/proposals",
                params={"limit": 100},
                headers=d22.tokens["manager"],
            )
        ).json()["items"]
        lannion = {str(child.id) for child in d22.lannion}
        to_recruit = [p["child_id"] for p in proposals if p["mentor_id"] == recruit]
        assert len(to_recruit) == top["gain"] == 2
        assert set(to_recruit) <= lannion
        assert len(proposals) == top["matched_after"] == 3

        after = await report(client, d22.tokens["manager"])
        assert (after["matchable_now"], after["groups"][0]["unmatched"]) == (3, 3)


class TestRenderings:
    async def test_csv(self, client: httpx.AsyncClient, d22: Departement22) -> None:
        response = await client.get(
            REPORT, params={"departement": "22"},
            headers={**d22.tokens["manager"], "Accept": "text/csv"},
        )  # fmt: skip
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        rows = list(
            csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";")
        )
        groups = [row for row in rows if row["section"] == "group"]
        assert [(r["commune"], r["waiting"], r["unmatched"]) for r in groups] == [
            ("Lannion", "5", "5"), ("Dinan", "3", "2"),
        ]  # fmt: skip
        constraints = {
            (r["group"], r["constraint"]): r["children"]
            for r in rows
            if r["section"] == "constraint"
        }
        assert constraints == {("1", "too_far"): "5", ("2", "no_common_availability"): "2"}
        profiles = [row for row in rows if row["section"] == "profile"]
        top = profiles[0]
        assert (top["rank"], top["commune"], top["gain"]) == ("1", "Lannion", "2")
        assert top["availability"] == "wednesday 14:00-16:00"

    async def test_svg(self, client: httpx.AsyncClient, d22: Departement22) -> None:
        response = await client.get(
            REPORT, params={"departement": "22"},
            headers={**d22.tokens["manager"], "Accept": "image/svg+xml"},
        )  # fmt: skip
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/svg+xml"
        svg = response.text
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
        assert "1. Lannion" in svg and "too_far" in svg

    async def test_unacceptable_is_406(self, client: httpx.AsyncClient, d22: Departement22) -> None:
        response = await client.get(
            REPORT, params={"departement": "22"},
            headers={**d22.tokens["manager"], "Accept": "text/html"},
        )  # fmt: skip
        assert_problem(response, 406)


class TestScope:
    @pytest.mark.parametrize(
        ("who", "status"),
        [
            ("admin", 200), ("manager", 200), ("educator", 200), ("coordinator", 200),
            ("manager_53", 404), ("other_coordinator", 404), ("mentor", 403),
        ],
    )  # fmt: skip
    async def test_who_may_read(
        self, client: httpx.AsyncClient, d22: Departement22, who: str, status: int
    ) -> None:
        response = await client.get(REPORT, params={"departement": "22"}, headers=d22.tokens[who])
        assert response.status_code == status, response.text
        if status != 200:
            assert_problem(response, status)

    async def test_coordinators_get_no_commune_counts(
        self, client: httpx.AsyncClient, d22: Departement22
    ) -> None:
        manager = await report(client, d22.tokens["manager"])
        coordinator = await report(client, d22.tokens["coordinator"])
        assert all(group["communes"] is None for group in coordinator["groups"])
        for group in manager["groups"]:
            group["communes"] = None
        assert coordinator == manager

    async def test_out_of_scope_looks_like_a_missing_departement(
        self, client: httpx.AsyncClient, d22: Departement22
    ) -> None:
        outside = await client.get(
            REPORT, params={"departement": "22"}, headers=d22.tokens["manager_53"]
        )
        missing = await client.get(
            REPORT, params={"departement": "2A"}, headers=d22.tokens["other_coordinator"]
        )
        assert assert_problem(outside, 404)["title"] == assert_problem(missing, 404)["title"]

    async def test_an_empty_departement_has_no_gaps(
        self, client: httpx.AsyncClient, d22: Departement22
    ) -> None:
        body = await report(client, d22.tokens["admin"], departement="2A")
        assert (body["waiting"], body["groups"], body["profiles"]) == (0, [], [])


class TestBadParameters:
    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({}, "departement"),
            ({"departement": "20"}, "departement"),
            ({"departement": "22", "limit": "0"}, "limit"),
            ({"departement": "22", "limit": "21"}, "limit"),
            ({"departement": "22", "limit": "two"}, "limit"),
            ({"departement": "22", "cluster_km": "0"}, "cluster_km"),
            ({"departement": "22", "cluster_km": "nan"}, "cluster_km"),
        ],
    )
    async def test_422(
        self, client: httpx.AsyncClient, d22: Departement22, params: dict[str, str], field: str
    ) -> None:
        response = await client.get(REPORT, params=params, headers=d22.tokens["admin"])
        assert_problem(response, 422, field)
