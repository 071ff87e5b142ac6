"""Input is taken as written: no coercion, one answer for an unreadable body, a schema that says
what is refused, and names unique as people read them."""

from __future__ import annotations

import unicodedata
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.kit.schemas import UpdateSchema
from tests.api.support import assert_problem, column, row_counts
from tests.factories import Actors, child_body, mentor_body

C = "/v1/children"
M = "/v1/mentors"
A = "/v1/associations"


class TestMalformedBody:
    """Whatever makes a body unreadable as JSON, the answer is the same 400 problem."""

    @pytest.mark.parametrize(
        ("content", "content_type"),
        [
            (b'{"reference": "ASE-1", "first_name": "In', "application/json"),
            (b'{"reference": "ASE-1", "first_name": "In\xe8s"}', "application/json"),
            (b'{"reference": "ASE-1"}', "text/plain"),
            (b"[" * 100_000, "application/json"),
        ],
        ids=["truncated JSON", "invalid UTF-8", "not JSON content type", "nested too deeply"],
    )
    async def test_is_one_400_problem(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        content: bytes,
        content_type: str,
    ) -> None:
        before = await row_counts(session)

        response = await client.post(
            C, content=content, headers={**actors.educator_53, "Content-Type": content_type}
        )

        body = assert_problem(response, 400, "body")
        assert body["type"] == "urn:mentorat:problem:malformed-body"
        assert body["errors"] == [
            {"loc": ["body"], "msg": body["detail"], "type": "malformed_body"}
        ]
        assert await row_counts(session) == before

    async def test_is_documented_on_every_operation_with_a_body(self, app: FastAPI) -> None:
        operations = [
            (path, method, operation)
            for path, methods in app.openapi()["paths"].items()
            for method, operation in methods.items()
            if "requestBody" in operation
        ]

        assert len(operations) > 10
        for path, method, operation in operations:
            problem = operation["responses"].get("400", {}).get("content", {})
            assert "application/problem+json" in problem, (method, path)


class TestPatchSchemas:
    """A PATCH field the API refuses to set to null is not nullable in openapi.json."""

    def test_only_clearable_fields_are_nullable(self, app: FastAPI) -> None:
        schemas = app.openapi()["components"]["schemas"]
        updates = {cls.__name__: cls for cls in _subclasses(UpdateSchema)}

        assert {"ChildUpdate", "MentorUpdate", "AssociationUpdate"} <= set(updates)
        for name, cls in updates.items():
            for field, schema in schemas[name]["properties"].items():
                nullable = {"type": "null"} in schema.get("anyOf", [])
                assert nullable == (field in cls.nullable_fields), (name, field, schema)

    @pytest.mark.parametrize(
        ("path", "actor", "field"),
        [
            ("child", "educator_53", "first_name"),
            ("child", "educator_53", "location"),
            ("mentor", "coordinator_a", "travel_radius_km"),
            ("mentor", "coordinator_a", "active"),
        ],
    )
    async def test_a_null_for_a_required_field_is_a_422_naming_it(
        self, client: httpx.AsyncClient, actors: Actors, path: str, actor: str, field: str
    ) -> None:
        url = f"{C}/{actors.child_53.id}" if path == "child" else f"{M}/{actors.mentor_a1.id}"

        response = await client.patch(url, json={field: None}, headers=actors.everyone[actor])

        assert_problem(response, 422, field)


def _subclasses(cls: type) -> list[type]:
    found = []
    for subclass in cls.__subclasses__():
        found += [subclass, *_subclasses(subclass)]
    return found


class TestEmptyPatch:
    @pytest.mark.parametrize("if_match", [None, '"999"', ""])
    async def test_an_empty_body_is_a_422_whatever_the_if_match(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, if_match: str | None
    ) -> None:
        """The body is refused for itself, before the ETag is compared (a 412 would tell the
        caller to read again, when nothing they could send back would work)."""
        headers = actors.educator_53 | ({"If-Match": if_match} if if_match is not None else {})
        before = await row_counts(session)
        response = await client.patch(
            f"/v1/children/{actors.child_53.id}", json={}, headers=headers
        )
        problem = assert_problem(response, 422)
        assert problem["errors"][0]["msg"].endswith("Nothing to update.")
        assert await row_counts(session) == before


class TestAvailabilitySlot:
    @pytest.mark.parametrize(("start", "end"), [("18:00", "18:00"), ("18:00", "17:30")])
    async def test_an_empty_or_reversed_slot_is_refused_naming_its_end(
        self, client: httpx.AsyncClient, actors: Actors, start: str, end: str
    ) -> None:
        slot = {"day": "monday", "start": start, "end": end}

        response = await client.post(
            C, json=child_body(availability=[slot]), headers=actors.educator_53
        )

        body = assert_problem(response, 422, "availability.0.end")
        assert "after start" in body["errors"][0]["msg"]

    def test_the_schema_says_end_comes_after_start(self, app: FastAPI) -> None:
        end = app.openapi()["components"]["schemas"]["WeeklySlot"]["properties"]["end"]

        assert "After start" in end["description"]


class TestNoCoercion:
    """JSON numbers, booleans and ISO dates only: no 0 for false, no 0 for 1970-01-01."""

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"active": 0}, "active"),
            ({"active": "yes"}, "active"),
            ({"remote_ok": 1}, "remote_ok"),
            ({"capacity": "2"}, "capacity"),
            ({"capacity": True}, "capacity"),
            ({"capacity": 2.0}, "capacity"),
            ({"travel_radius_km": "12"}, "travel_radius_km"),
            ({"travel_radius_km": True}, "travel_radius_km"),
            ({"training_completed_on": 0}, "training_completed_on"),
            ({"training_completed_on": "20260105"}, "training_completed_on"),
            (
                {"honorability_check": {"checked_on": 1767571200, "valid_until": "2029-01-05"}},
                "honorability_check.checked_on",
            ),
        ],
    )
    async def test_a_mentor_body(
        self, client: httpx.AsyncClient, actors: Actors, overrides: dict[str, Any], field: str
    ) -> None:
        response = await client.post(M, json=mentor_body(**overrides), headers=actors.coordinator_a)

        assert_problem(response, 422, field)

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"birth_date": 0}, "birth_date"),
            ({"college_entry_year": "2026"}, "college_entry_year"),
            ({"remote_ok": "true"}, "remote_ok"),
            ({"location": {**child_body()["location"], "latitude": "48.07"}}, "latitude"),
        ],
    )
    async def test_a_child_body(
        self, client: httpx.AsyncClient, actors: Actors, overrides: dict[str, Any], field: str
    ) -> None:
        response = await client.post(C, json=child_body(**overrides), headers=actors.educator_53)

        assert_problem(response, 422, field)

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"run_date": 0}, "run_date"),
            ({"dry_run": 1}, "dry_run"),
            ({"min_score": "0.3"}, "min_score"),
            ({"needed_hours": "2"}, "needed_hours"),
        ],
    )
    async def test_a_run_body(
        self, client: httpx.AsyncClient, actors: Actors, body: dict[str, Any], field: str
    ) -> None:
        response = await client.post("/v1/matching-runs", json=body, headers=actors.manager_53)

        assert_problem(response, 422, field)

    async def test_a_token_expiry(self, client: httpx.AsyncClient, actors: Actors) -> None:
        response = await client.post(
            "/v1/tokens",
            json={"name": "Jeton", "role": "admin", "expires_at": 4102444800},
            headers=actors.admin,
        )

        assert_problem(response, 422, "expires_at")

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ("/v1/mentors?active=0", "active"),
            ("/v1/mentors?active=yes", "active"),
            ("/v1/mentors?include_deleted=1", "include_deleted"),
            ("/v1/mentors?honorability_valid_on=0", "honorability_valid_on"),
            ("/v1/children?include_deleted=on", "include_deleted"),
            ("/v1/mentorships?needs_attention=1", "needs_attention"),
            ("/v1/children/{child}/mentor-candidates?run_date=0", "run_date"),
        ],
    )
    async def test_a_query_parameter(
        self, client: httpx.AsyncClient, actors: Actors, query: str, field: str
    ) -> None:
        url = query.format(child=actors.child_53.id)

        response = await client.get(url, headers=actors.admin)

        assert_problem(response, 422, field)

    async def test_true_false_and_iso_dates_still_work(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        for url in (
            "/v1/mentors?active=true&honorability_valid_on=2026-12-01&include_deleted=false",
            f"/v1/children/{actors.child_53.id}/mentor-candidates?run_date=2026-12-01",
            "/v1/mentorships?needs_attention=false",
        ):
            response = await client.get(url, headers=actors.admin)
            assert response.status_code == 200, (url, response.text)


class TestAssociationNames:
    """Names that look the same are the same name: 409, as for an identical one."""

    NAME = "Les Ombres Éveillées"

    @pytest.mark.parametrize(
        "look_alike",
        [
            unicodedata.normalize("NFD", NAME),
            NAME.upper(),
            "Les Ombres\u200b Éveillées",
            "Les  Ombres\u00a0Éveillées ",
            "Les Ombres Éveill\u00adées",
        ],
        ids=["NFD", "case", "zero-width space", "spacing", "soft hyphen"],
    )
    async def test_a_look_alike_is_a_conflict(
        self, client: httpx.AsyncClient, actors: Actors, look_alike: str
    ) -> None:
        first = await client.post(
            A, json={"name": self.NAME, "departements": ["53"]}, headers=actors.admin
        )
        assert first.status_code == 201, first.text

        again = await client.post(
            A, json={"name": look_alike, "departements": ["53"]}, headers=actors.admin
        )

        body = assert_problem(again, 409)
        assert "already exists" in body["detail"]

    async def test_renaming_to_a_look_alike_is_a_conflict(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        url = f"{A}/{actors.association_b.id}"
        etag = (await client.get(url, headers=actors.admin)).headers["ETag"]

        response = await client.patch(
            url,
            json={"name": actors.association_a.name.upper()},
            headers={**actors.admin, "If-Match": etag},
        )

        assert_problem(response, 409)

    async def test_invisible_characters_are_not_stored(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        response = await client.post(
            A,
            json={"name": " Les\u200b  Ombres\u2060 du Maine ", "departements": ["53"]},
            headers=actors.admin,
        )

        assert response.status_code == 201, response.text
        assert response.json()["name"] == "Les Ombres du Maine"
        stored = await column(
            session, "SELECT name FROM association WHERE id = :id", id=response.json()["id"]
        )
        assert stored == "Les Ombres du Maine"

    async def test_a_name_of_invisible_characters_only_is_refused(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.post(
            A, json={"name": "\u200b\u200d", "departements": ["53"]}, headers=actors.admin
        )

        assert_problem(response, 422, "name")
