"""A child's care facts: came into care, left care, legal situation, a young adult's request."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.kit.clock import today_in
from tests.api.support import assert_problem, column, row_counts
from tests.factories import Actors, child_body
from tests.mentorships.support import make_mentorship
from tests.spreadsheets.support import CHILD_HEADER, child_row, csv_bytes, upload

CARE_FIELDS = ("came_into_care_on", "left_care_on", "legal_situation", "mentoring_requested_on")
# 19 years old today: a young adult.
ADULT_BIRTH = (date.today() - timedelta(days=19 * 366)).isoformat()


def first_error_at(response: httpx.Response) -> list[Any]:
    loc = response.json()["errors"][0]["loc"]
    return loc[1:] if loc[:1] == ["body"] else loc


def in_days(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


async def revisions(session: AsyncSession, child_id: str) -> int:
    return int(
        await column(
            session, "SELECT count(*) FROM child_care_revision WHERE child_id = :id", id=child_id
        )
    )


class TestCreate:
    async def test_defaults_today_in_care_under_parental_authority(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.post("/v1/children", json=child_body(), headers=actors.educator_53)
        assert response.status_code == 201, response.text
        child = response.json()
        assert {field: child[field] for field in CARE_FIELDS} == {
            "came_into_care_on": today_in("53").isoformat(),
            "left_care_on": None,
            "legal_situation": "parental_authority",
            "mentoring_requested_on": None,
        }

    async def test_a_young_adult_who_asked(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        facts = {
            "birth_date": ADULT_BIRTH,
            "came_into_care_on": "2020-03-02",
            "left_care_on": in_days(200),  # the end of the contrat jeune majeur
            "legal_situation": "young_adult",
            "mentoring_requested_on": in_days(-3),
        }
        response = await client.post(
            "/v1/children", json=child_body(**facts), headers=actors.educator_53
        )
        assert response.status_code == 201, response.text
        child = response.json()
        assert {field: child[field] for field in facts} == facts
        read = (await client.get(f"/v1/children/{child['id']}", headers=actors.educator_53)).json()
        assert {field: read[field] for field in facts} == facts
        assert await revisions(session, child["id"]) == 1

    @pytest.mark.parametrize(
        ("facts", "field"),
        [
            ({"came_into_care_on": in_days(2)}, "came_into_care_on"),
            ({"came_into_care_on": "2014-09-01"}, "came_into_care_on"),  # before the birth
            ({"came_into_care_on": "2020-01-10", "left_care_on": "2020-01-09"}, "left_care_on"),
            ({"left_care_on": in_days(-1)}, "left_care_on"),  # before today, the default
            ({"legal_situation": "young_adult"}, "legal_situation"),  # a child of 12
            ({"legal_situation": "orphan"}, "legal_situation"),
            ({"mentoring_requested_on": in_days(-1)}, "mentoring_requested_on"),
            (
                {
                    "birth_date": ADULT_BIRTH,
                    "legal_situation": "young_adult",
                    "mentoring_requested_on": in_days(3),
                },
                "mentoring_requested_on",
            ),
        ],
        ids=["future", "before-birth", "left-before-came", "left-before-today", "young-minor",
             "unknown", "request-of-a-minor", "request-ahead"],
    )  # fmt: skip
    async def test_inconsistent_facts_are_422s_that_write_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        facts: dict[str, Any],
        field: str,
    ) -> None:
        before = await row_counts(session)
        response = await client.post(
            "/v1/children", json=child_body(**facts), headers=actors.educator_53
        )
        assert_problem(response, 422, field)
        assert first_error_at(response) == [field]
        assert await row_counts(session) == before


class TestUpdate:
    async def test_care_facts_change_with_their_history(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        created = await client.post(
            "/v1/children",
            json=child_body(came_into_care_on="2023-05-12"),
            headers=actors.educator_53,
        )
        child = created.json()
        path = f"/v1/children/{child['id']}"
        response = await client.patch(
            path,
            json={"left_care_on": in_days(-1), "legal_situation": "pupille"},
            headers=actors.educator_53 | {"If-Match": created.headers["ETag"]},
        )
        assert response.status_code == 200, response.text
        assert response.json()["left_care_on"] == in_days(-1)
        assert response.json()["legal_situation"] == "pupille"
        assert await revisions(session, child["id"]) == 2
        response = await client.patch(path, json={"left_care_on": None}, headers=actors.admin)
        assert response.status_code == 200, response.text
        assert response.json()["left_care_on"] is None
        assert await revisions(session, child["id"]) == 3
        # A change of something else is no care revision.
        response = await client.patch(path, json={"first_name": "Anaïs"}, headers=actors.admin)
        assert response.status_code == 200, response.text
        assert await revisions(session, child["id"]) == 3

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"left_care_on": "2023-05-11"}, "left_care_on"),
            ({"came_into_care_on": in_days(1)}, "came_into_care_on"),
            ({"came_into_care_on": "2013-01-01"}, "came_into_care_on"),
            ({"birth_date": "2024-01-01"}, "came_into_care_on"),
            ({"legal_situation": "young_adult"}, "legal_situation"),
            ({"mentoring_requested_on": in_days(-1)}, "mentoring_requested_on"),
            ({"legal_situation": None}, "legal_situation"),
            ({"came_into_care_on": None}, "came_into_care_on"),
        ],
        ids=["left-before-came", "future", "before-birth", "born-after", "young-minor",
             "request-of-a-minor", "null-situation", "null-came"],
    )  # fmt: skip
    async def test_a_change_breaking_the_facts_is_a_422_that_changes_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        change: dict[str, Any],
        field: str,
    ) -> None:
        created = await client.post(
            "/v1/children",
            json=child_body(came_into_care_on="2023-05-12"),
            headers=actors.educator_53,
        )
        child = created.json()
        response = await client.patch(
            f"/v1/children/{child['id']}", json=change, headers=actors.educator_53
        )
        assert_problem(response, 422, field)
        assert first_error_at(response) == [field]
        after = (await client.get(f"/v1/children/{child['id']}", headers=actors.educator_53)).json()
        assert after == child
        assert await revisions(session, child["id"]) == 1

    async def test_a_young_adult_can_ask(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        created = await client.post(
            "/v1/children", json=child_body(birth_date=ADULT_BIRTH), headers=actors.educator_53
        )
        response = await client.patch(
            f"/v1/children/{created.json()['id']}",
            json={"legal_situation": "young_adult", "mentoring_requested_on": in_days(0)},
            headers=actors.educator_53,
        )
        assert response.status_code == 200, response.text
        assert response.json()["mentoring_requested_on"] == in_days(0)


class TestAssociationSide:
    async def test_coordinators_see_no_care_facts(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        """The association side sees what a mentor needs: no legal situation, no care dates."""
        mentorship = await make_mentorship(client, session, actors, mentor=actors.mentor_a1)
        for side in (actors.coordinator_a, actors.mentor_a):
            seen = (await client.get(f"/v1/mentorships/{mentorship['id']}", headers=side)).json()[
                "child"
            ]
            assert set(seen) == {"id", "reference", "first_name", "age", "commune", "goals"}
            assert seen["id"] is None and seen["reference"] is None
            response = await client.get(f"/v1/children/{mentorship['child']['id']}", headers=side)
            assert_problem(response, 403)
        seen = (
            await client.get(f"/v1/mentorships/{mentorship['id']}", headers=actors.coordinator_a)
        ).text
        for field in CARE_FIELDS:
            assert field not in seen


class TestSpreadsheets:
    async def test_the_care_columns_are_imported_and_exported(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        header = [*CHILD_HEADER, *CARE_FIELDS]
        rows = [
            [*child_row("CARE-1"), "", "", "", ""],
            [
                *child_row("CARE-2", birth_date=ADULT_BIRTH),
                "02/03/2020",
                "",
                "young_adult",
                in_days(-2),
            ],
            [*child_row("CARE-3"), "2022-01-10", "2023-06-30", "pupille", ""],
        ]
        response = await upload(
            client, "/v1/children/import", actors.educator_53, csv_bytes(header, rows)
        )
        assert response.status_code == 200, response.text
        assert response.json()["created"] == 3
        exported = await client.get(
            "/v1/children", headers=actors.educator_53 | {"Accept": "text/csv"}
        )
        assert exported.status_code == 200, exported.text
        lines = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff")), delimiter=";"))
        by_reference = {line["reference"]: line for line in lines}
        assert {f: by_reference["CARE-1"][f] for f in CARE_FIELDS} == {
            "came_into_care_on": today_in("53").isoformat(),
            "left_care_on": "",
            "legal_situation": "parental_authority",
            "mentoring_requested_on": "",
        }
        assert {f: by_reference["CARE-2"][f] for f in CARE_FIELDS} == {
            "came_into_care_on": "2020-03-02",
            "left_care_on": "",
            "legal_situation": "young_adult",
            "mentoring_requested_on": in_days(-2),
        }
        assert by_reference["CARE-3"]["left_care_on"] == "2023-06-30"

    async def test_inconsistent_care_columns_are_reported_per_row(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        header = [*CHILD_HEADER, *CARE_FIELDS[:3]]
        rows = [
            [*child_row("BAD-1"), "2022-01-10", "2021-06-30", ""],
            [*child_row("BAD-2"), "", "", "young_adult"],
        ]
        before = await row_counts(session)
        response = await upload(
            client, "/v1/children/import", actors.educator_53, csv_bytes(header, rows)
        )
        assert_problem(response, 422)
        problems = {(p["row"], p["column"]) for p in response.json()["report"]["problems"]}
        assert problems == {(2, "left_care_on"), (3, "legal_situation")}
        assert await row_counts(session) == before
