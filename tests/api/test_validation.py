"""Bad input of every kind: a 4xx problem naming the fields, never a 500, and nothing written."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.support import assert_problem, row_counts
from tests.factories import LAVAL, Actors, child_body, mentor_body


def cursor_of(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


Body = Callable[[Actors], Any]


@dataclass(frozen=True)
class Bad:
    name: str
    method: str
    path: str
    actor: str
    body: Body | None
    status: int
    fields: tuple[str, ...] = ()
    raw: bytes | None = None


def _names(fields: str | tuple[str, ...]) -> tuple[str, ...]:
    return (fields,) if isinstance(fields, str) else fields


def post_child(name: str, fields: str | tuple[str, ...], **overrides: Any) -> Bad:
    body = child_body(**overrides)
    return Bad(name, "POST", C, "educator_53", lambda a: body, 422, _names(fields))


def post_mentor(name: str, fields: str | tuple[str, ...], **overrides: Any) -> Bad:
    body = mentor_body(**overrides)
    return Bad(name, "POST", M, "coordinator_a", lambda a: body, 422, _names(fields))


def patch(name: str, path: str, body: Any, fields: str | tuple[str, ...], actor: str = "") -> Bad:
    actor = actor or {CHILD_53: "educator_53", MENTOR_A1: "coordinator_a"}.get(path, "admin")
    return Bad(name, "PATCH", path, actor, lambda a: body, 422, _names(fields))


def get(name: str, url: str, fields: str) -> Bad:
    return Bad(name, "GET", url, "admin", None, 422, (fields,))


def post(name: str, path: str, body: Body, status: int, *fields: str, actor: str = "admin") -> Bad:
    return Bad(name, "POST", path, actor, body, status, fields)


def token(label: str, fields: str, **body: Any) -> Bad:
    return Bad(label, "POST", T, "admin", lambda a: {"name": "Jeton", **body}, 422, (fields,))


def location(**overrides: Any) -> dict[str, Any]:
    return {**LAVAL, **overrides}


def slot(day: str, start: str, end: str) -> list[dict[str, str]]:
    return [{"day": day, "start": start, "end": end}]


C = "/v1/children"
M = "/v1/mentors"
A = "/v1/associations"
D = "/v1/departements"
T = "/v1/tokens"
CHILD_53 = "/v1/children/{child_53}"
MENTOR_A1 = "/v1/mentors/{mentor_a1}"
ASSOCIATION_A = "/v1/associations/{association_a}"
ZERO_UUID = "00000000-0000-0000-0000-000000000000"
NUL = "\u0000"
EMPTY_PARTS = ("reference", "first_name", "birth_date", "school_level", "college_entry_year")

CASES = [
    # Wrong types.
    post_child(
        "child wrong types",
        ("college_entry_year", "remote_ok", "goals", "birth_date"),
        college_entry_year="twenty",
        remote_ok="maybe",
        goals="orientation",
        birth_date=12,
    ),
    post_child("location as text", "location", location="Laval"),
    post_mentor("capacity as float", "capacity", capacity=1.5),
    patch("patch wrong type", CHILD_53, {"remote_ok": [1]}, "remote_ok"),
    post("array instead of object", C, lambda a: [child_body()], 422, "body", actor="educator_53"),
    # Vocabulary and ranges.
    post_child("unknown goal", "goals.1", goals=["orientation", "astronaute"]),
    patch("unknown goal in patch", MENTOR_A1, {"goals": ["cuisine"]}, "goals.0"),
    post_mentor("unknown language", "languages.1", languages=["fr", "xx"]),
    post_child("latitude 300", "location.latitude", location=location(latitude=300)),
    post_mentor("longitude -181", "location.longitude", location=location(longitude=-181)),
    post_child("bad postcode", "location.postcode", location=location(postcode="5300")),
    post_mentor("capacity 0", "capacity", capacity=0),
    patch("capacity 11", MENTOR_A1, {"capacity": 11}, "capacity"),
    post_mentor("travel radius 0", "travel_radius_km", travel_radius_km=0),
    post_child("school level", "school_level", school_level="7e"),
    post_child("birth date in the future", "birth_date", birth_date="2999-01-01"),
    post_child("college entry year 1999", "college_entry_year", college_entry_year=1999),
    post_mentor("bad email", "email", email="claire.example.org"),
    post_child("bad reference", "reference", reference="ASE 53 001"),
    post_child("blank first name", "first_name", first_name="   "),
    # Empty bodies and nulls.
    Bad("no body", "POST", C, "educator_53", None, 422, ("body",)),
    post("empty object", C, lambda a: {}, 422, *EMPTY_PARTS, "location", actor="educator_53"),
    post("empty mentor", M, lambda a: {}, 422, "first_name", "last_name", actor="coordinator_a"),
    post("empty association", A, lambda a: {}, 422, "name", "departements"),
    patch("empty child patch", CHILD_53, {}, "body"),
    patch("empty mentor patch", MENTOR_A1, {}, "body"),
    patch("empty association patch", ASSOCIATION_A, {}, "body", actor="coordinator_a"),
    patch("empty departement patch", f"{D}/53", {}, "body"),
    patch("null first name", CHILD_53, {"first_name": None}, "first_name"),
    patch(
        "null location", MENTOR_A1, {"location": None, "capacity": None}, ("location", "capacity")
    ),
    patch("null association name", ASSOCIATION_A, {"name": None}, "name", actor="coordinator_a"),
    patch("null departement name", f"{D}/53", {"name": None}, "name"),
    post_child("null required on create", "first_name", first_name=None),
    # Unknown fields.
    post_child("unknown child field", "nickname", nickname="Lulu"),
    post_child("unknown nested field", "location.altitude", location=location(altitude=70)),
    patch("unknown mentor patch field", MENTOR_A1, {"salary": 1}, "salary"),
    post_mentor(
        "unknown slot field",
        "availability.0.tz",
        availability=[{"day": "monday", "start": "10:00", "end": "11:00", "tz": "UTC"}],
    ),
    patch(
        "departement_code is not editable", CHILD_53, {"departement_code": "75"}, "departement_code"
    ),
    # Size and syntax.
    Bad(
        "10 MB of JSON", "POST", C, "educator_53", lambda a: child_body(first_name="x" * 10**7), 413
    ),
    Bad("malformed JSON", "POST", C, "educator_53", None, 400, ("body",), raw=b'{"reference": '),
    Bad("deeply nested JSON", "POST", C, "educator_53", None, 400, ("body",), raw=b"[" * 100_000),
    # Cursors and limits.
    get("cursor not base64", f"{C}?cursor=%25%25%25", "cursor"),
    get("cursor not json", f"{M}?cursor={cursor_of('x')[:-2]}", "cursor"),
    get("cursor wrong shape", f"{C}?cursor={cursor_of(['2026-01-01T00:00:00+00:00'])}", "cursor"),
    get("cursor bad date", f"{C}?cursor={cursor_of(['yesterday', ZERO_UUID])}", "cursor"),
    get("cursor number for uuid", f"{C}?cursor={cursor_of(['2026-01-01T00:00', 123])}", "cursor"),
    get("cursor past bigint", f"/v1/audit-events?cursor={cursor_of(['9' * 30])}", "cursor"),
    get("cursor with NUL", f"{D}?cursor={cursor_of(['5' + NUL])}", "cursor"),
    get("cursor too long", f"{C}?cursor={'A' * 600}", "cursor"),
    get("limit 0", f"{C}?limit=0", "limit"),
    get("limit 1000", f"{M}?limit=1000", "limit"),
    get("limit not a number", f"{T}?limit=ten", "limit"),
    # Ids and codes.
    Bad("non-UUID child id", "GET", f"{C}/123", "educator_53", None, 422, ("child_id",)),
    patch("non-UUID mentor id", f"{M}/abc", {"capacity": 2}, "mentor_id", actor="coordinator_a"),
    Bad("non-UUID purge id", "DELETE", f"{C}/abc/purge", "admin", None, 422, ("child_id",)),
    Bad("non-UUID token id", "DELETE", f"{T}/xyz", "admin", None, 422, ("token_id",)),
    get("non-UUID association filter", f"{M}?association=A", "association"),
    post(
        "bad departement code",
        C,
        lambda a: child_body(departement_code="99"),
        422,
        "departement_code",
    ),
    post(
        "unknown departement",
        C,
        lambda a: child_body(departement_code="975"),
        422,
        "departement_code",
    ),
    get("bad departement code in path", f"{D}/9Z", "code"),
    get("bad departement filter", f"{C}?departement=2C", "departement"),
    get("bad departement filter on mentors", f"{M}?departement=100", "departement"),
    post("bad new departement code", D, lambda a: {"code": "100", "name": "Cent"}, 422, "code"),
    post(
        "unknown departement for an association",
        A,
        lambda a: {"name": "Nouvelle", "departements": ["53", "975"]},
        422,
        "departements",
    ),
    patch("association without departements", ASSOCIATION_A, {"departements": []}, "departements"),
    get("bad date filter", f"{M}?honorability_valid_on=2026-02-30", "honorability_valid_on"),
    get("bad boolean filter", f"{M}?active=perhaps", "active"),
    get("bad year filter", f"{C}?college_entry_year=1850", "college_entry_year"),
    get("NUL in an audit filter", "/v1/audit-events?entity_type=child%00", "entity_type"),
    # Availability.
    post_child(
        "slot end before start", "availability.0", availability=slot("monday", "18:00", "17:00")
    ),
    post_mentor(
        "slot end equals start", "availability.0", availability=slot("monday", "18:00", "18:00")
    ),
    post_child(
        "slot off the half hour",
        "availability.0.start",
        availability=slot("monday", "18:15", "19:00"),
    ),
    patch(
        "slot past midnight",
        CHILD_53,
        {"availability": slot("friday", "23:00", "24:30")},
        "availability.0.end",
    ),
    post_child(
        "slot unknown day", "availability.0.day", availability=slot("funday", "10:00", "11:00")
    ),
    # Honorability.
    post_mentor(
        "valid_until before checked_on",
        "honorability_check",
        honorability_check={"checked_on": "2026-05-01", "valid_until": "2026-04-30"},
    ),
    patch(
        "honorability without end",
        MENTOR_A1,
        {"honorability_check": {"checked_on": "2026-05-01"}},
        "honorability_check.valid_until",
    ),
    # Conflicts.
    post(
        "duplicate child reference",
        C,
        lambda a: child_body(reference=a.child_53.reference),
        409,
        actor="educator_53",
    ),
    post(
        "duplicate association",
        A,
        lambda a: {"name": a.association_b.name, "departements": ["75"]},
        409,
    ),
    Bad(
        "duplicate association rename",
        "PATCH",
        ASSOCIATION_A,
        "admin",
        lambda a: {"name": a.association_b.name},
        409,
    ),
    post("duplicate departement", D, lambda a: {"code": "2A", "name": "Corse"}, 409),
    # Tokens.
    token("educator token with no departement", "departement_code", role="educator"),
    post(
        "educator token with an association",
        T,
        lambda a: {"name": "E", "role": "educator", "association_id": str(a.association_a.id)},
        422,
        "departement_code",
    ),
    token("admin token with a departement", "no scope", role="admin", departement_code="53"),
    token("coordinator token without scope", "association_id", role="coordinator"),
    token(
        "mentor token with two scopes",
        "mentor_id",
        role="mentor",
        mentor_id=ZERO_UUID,
        departement_code="53",
    ),
    token("token for an unknown mentor", "mentor_id", role="mentor", mentor_id=ZERO_UUID),
    token(
        "token for an unknown departement",
        "departement_code",
        role="educator",
        departement_code="975",
    ),
    token("unknown role", "role", role="superuser"),
    token("token expired already", "expires_at", role="admin", expires_at="2020-01-01T00:00:00Z"),
    token(
        "token expiry without timezone",
        "expires_at",
        role="admin",
        expires_at="2099-01-01T00:00:00",
    ),
    token(
        "token expiry out of range",
        "expires_at",
        role="admin",
        expires_at="9999-12-31T23:59:59-14:00",
    ),
    # Text PostgreSQL cannot store.
    post_child("NUL in a name", "first_name", first_name=f"In{NUL}ès"),
    post_mentor("NUL in a nested field", "location", location=location(commune=f"La{NUL}val")),
    post_mentor("NUL in an email", "email", email=f"a{NUL}@example.org"),
    patch(
        "NUL in a patch",
        ASSOCIATION_A,
        {"contact_name": NUL},
        "contact_name",
        actor="coordinator_a",
    ),
    token("NUL in a token name", "name", role="admin", name=f"x{NUL}"),
    Bad(
        "lone surrogate",
        "POST",
        C,
        "educator_53",
        None,
        422,
        ("first_name",),
        raw=json.dumps(child_body(first_name="\ud800")).encode(),
    ),
]


def _targets(actors: Actors) -> dict[str, str]:
    return {
        "child_53": str(actors.child_53.id),
        "mentor_a1": str(actors.mentor_a1.id),
        "association_a": str(actors.association_a.id),
    }


class TestBadInput:
    @pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
    async def test_is_refused_and_writes_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, case: Bad
    ) -> None:
        before = await row_counts(session)
        headers = dict(actors.everyone[case.actor])
        if case.raw is not None:
            content = case.raw
        elif case.body is not None:
            content = json.dumps(case.body(actors)).encode()
        else:
            content = None
        if content is not None:
            headers["Content-Type"] = "application/json"

        response = await client.request(
            case.method, case.path.format(**_targets(actors)), headers=headers, content=content
        )

        assert_problem(response, case.status, *case.fields)
        assert await row_counts(session) == before

    async def test_a_refused_patch_leaves_the_record_as_it_was(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        url = f"/v1/children/{actors.child_53.id}"
        before = (await client.get(url, headers=actors.educator_53)).json()
        response = await client.patch(
            url,
            json={"first_name": "Nouveau", "goals": ["orientation", "inconnu"]},
            headers=actors.educator_53,
        )
        assert_problem(response, 422, "goals.1")
        after = (await client.get(url, headers=actors.educator_53)).json()
        assert after == before

    async def test_validation_problem_lists_each_error(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        body = child_body(location=location(latitude=300, longitude=500), capacity=3)
        response = await client.post("/v1/children", json=body, headers=actors.educator_53)
        problem = assert_problem(response, 422)
        assert problem["type"] == "urn:mentorat:problem:validation-error"
        assert problem["instance"] == "/v1/children"
        locations = sorted(".".join(map(str, error["loc"])) for error in problem["errors"])
        assert locations == ["capacity", "location.latitude", "location.longitude"]
        assert problem["detail"] == (
            "Invalid field(s): capacity, location.latitude, location.longitude"
        )
        assert problem["request_id"] == response.headers["x-request-id"]


class TestNullNamesTheField:
    async def test_null_on_a_required_field_is_located_on_that_field(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.patch(
            f"/v1/children/{actors.child_53.id}",
            json={"first_name": None},
            headers=actors.educator_53,
        )
        problem = assert_problem(response, 422)
        assert [issue["loc"] for issue in problem["errors"]] == [["first_name"]]


class TestHonorabilityPlausibility:
    async def test_a_check_valid_for_a_century_is_refused(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.patch(
            f"/v1/mentors/{actors.mentor_a1.id}",
            json={"honorability_check": {"checked_on": "2026-01-10", "valid_until": "2126-01-10"}},
            headers=actors.coordinator_a,
        )
        assert_problem(response, 422)
