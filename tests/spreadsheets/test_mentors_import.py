"""POST /v1/mentors/import: the association's spreadsheets, CSV or XLSX."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.support import assert_problem, audit_events, column, row
from tests.factories import Actors, create_mentor, mentor_body
from tests.spreadsheets.support import EXAMPLES, XLSX, csv_bytes, read_csv, read_xlsx, upload

IMPORT = "/v1/mentors/import"


async def mentors_of(session: AsyncSession, association: object) -> int:
    return int(
        await column(
            session, "SELECT count(*) FROM mentor WHERE association_id = :a", a=association
        )
    )


class TestExamples:
    async def test_xlsx_and_csv_examples_hold_the_same_mentors(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        workbook = (EXAMPLES / "mentors.xlsx").read_bytes()
        response = await upload(client, IMPORT, actors.coordinator_a, workbook, XLSX)
        assert response.status_code == 200, response.text
        assert (response.json()["created"], response.json()["written"]) == (3, True)
        assert await row(
            session,
            "SELECT first_name, capacity, travel_radius_km, gender, goals, remote_ok,"
            " honorability_valid_until::text, training_completed_on::text, email"
            " FROM mentor WHERE reference = 'BEN-001' AND association_id = :a",
            a=actors.association_a.id,
        ) == (
            "Claire",
            2,
            20.0,
            "female",
            ["orientation", "numerique", "rome-M"],
            True,
            "2029-01-05",
            "2026-02-10",
            "claire.martin@example.org",
        )
        csv_file = (EXAMPLES / "mentors.csv").read_bytes()
        again = await upload(client, IMPORT, actors.coordinator_a, csv_file)
        assert again.json()["unchanged"] == 3

    async def test_xlsx_round_trip(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        csv_file = (EXAMPLES / "mentors.csv").read_bytes()
        await upload(client, IMPORT, actors.coordinator_a, csv_file)
        exported = await client.get("/v1/mentors", headers={**actors.coordinator_a, "Accept": XLSX})
        assert exported.status_code == 200, exported.text
        assert exported.headers["content-type"] == XLSX
        back = await upload(client, IMPORT, actors.coordinator_a, exported.content, XLSX)
        # The mentor created before references existed comes back without one: named, and
        # the file is refused whole; the three others are unchanged.
        body = assert_problem(back, 422, "reference")
        assert (body["report"]["unchanged"], body["report"]["invalid"]) == (3, 1)
        refused_row = body["errors"][0]["loc"][1]
        assert read_xlsx(exported.content)[refused_row - 1][0] == str(actors.mentor_a1.id)
        await client.patch(
            f"/v1/mentors/{actors.mentor_a1.id}",
            headers=actors.coordinator_a,
            # through the API, which also puts the factory's goals in vocabulary order
            json={"reference": "OLD-1", "goals": actors.mentor_a1.goals},
        )
        exported = await client.get("/v1/mentors", headers={**actors.coordinator_a, "Accept": XLSX})
        back = await upload(client, IMPORT, actors.coordinator_a, exported.content, XLSX)
        assert back.status_code == 200, back.text
        assert (back.json()["unchanged"], back.json()["rows"]) == (4, 4)


class TestUpsertAndRules:
    async def test_capacity_below_the_places_held_is_a_row_problem(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        await create_mentor(
            session, association=actors.association_a, reference="HELD-1", capacity=2
        )
        await session.execute(text("UPDATE mentor SET places_held = 2 WHERE reference = 'HELD-1'"))
        header = ["reference", "first_name", "last_name", "commune", "postcode", "latitude",
                  "longitude", "capacity"]  # fmt: skip
        content = csv_bytes(
            header, [["HELD-1", "Ana", "Costa", "Laval", "53000", "48.07", "-0.77", "1"]]
        )
        response = await upload(client, IMPORT, actors.coordinator_a, content)
        body = assert_problem(response, 422, "row.2.capacity")
        assert "holds 2 places" in body["errors"][0]["msg"]

    async def test_a_change_is_audited_and_bumps_the_version(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        csv_file = (EXAMPLES / "mentors.csv").read_bytes()
        await upload(client, IMPORT, actors.coordinator_a, csv_file)
        rows = read_csv(csv_file.replace(b",", b";"))
        assert rows[1][0] == "BEN-001"
        text = csv_file.decode().replace("Claire,Martin", "Claire,Martin-Roux")
        response = await upload(client, IMPORT, actors.coordinator_a, text.encode())
        assert (response.json()["updated"], response.json()["unchanged"]) == (1, 2)
        mentor_id, last_name, version = await row(
            session,
            "SELECT id, last_name, version FROM mentor"
            " WHERE reference = 'BEN-001' AND association_id = :a",
            a=actors.association_a.id,
        )
        assert (last_name, version) == ("Martin-Roux", 2)
        events = await audit_events(session, action="update", entity_id=str(mentor_id))
        assert [event.details for event in events] == [{"via": "import", "fields": ["last_name"]}]

    async def test_a_missing_reference_is_a_row_problem(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        header = ["reference", "first_name", "last_name", "commune", "postcode", "latitude",
                  "longitude", "honorability_checked_on"]  # fmt: skip
        content = csv_bytes(
            header, [["", "Ana", "Costa", "Laval", "53000", "48.07", "-0.77", "05/01/2026"]]
        )
        response = await upload(client, IMPORT, actors.coordinator_a, content, dry_run="true")
        problems = {(p["row"], p["column"]) for p in response.json()["problems"]}
        assert problems == {(2, "reference"), (2, "honorability_valid_until")}


class TestScope:
    async def test_coordinators_import_into_their_own_association_only(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        content = (EXAMPLES / "mentors.csv").read_bytes()
        before = await mentors_of(session, actors.association_a.id)
        other = await upload(
            client, IMPORT, actors.coordinator_b, content, association=str(actors.association_a.id)
        )
        assert_problem(other, 404)
        for name in ("educator_53", "manager_53", "mentor_a"):
            assert_problem(await upload(client, IMPORT, getattr(actors, name), content), 403)
        assert_problem(await upload(client, IMPORT, actors.admin, content), 422)
        assert await mentors_of(session, actors.association_a.id) == before
        admin = await upload(
            client, IMPORT, actors.admin, content, association=str(actors.association_a.id)
        )
        assert admin.json()["created"] == 3
        # References are the association's own: association B has its BEN-001 too.
        own = await upload(client, IMPORT, actors.coordinator_b, content)
        assert own.json()["created"] == 3


class TestReferenceThroughTheApi:
    async def test_unique_per_association_editable_and_clearable(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        first = await client.post(
            "/v1/mentors", json=mentor_body(reference="REF-1"), headers=actors.coordinator_a
        )
        assert first.status_code == 201, first.text
        assert first.json()["reference"] == "REF-1"
        again = await client.post(
            "/v1/mentors", json=mentor_body(reference="REF-1"), headers=actors.coordinator_a
        )
        body = assert_problem(again, 409)
        assert body["detail"] == "That reference is already used in this association."
        elsewhere = await client.post(
            "/v1/mentors", json=mentor_body(reference="REF-1"), headers=actors.coordinator_b
        )
        assert elsewhere.status_code == 201, elsewhere.text
        bad = await client.post(
            "/v1/mentors", json=mentor_body(reference="REF 1"), headers=actors.coordinator_a
        )
        assert_problem(bad, 422, "reference")
        cleared = await client.patch(
            f"/v1/mentors/{first.json()['id']}",
            json={"reference": None},
            headers=actors.coordinator_a,
        )
        assert cleared.status_code == 200, cleared.text
        assert cleared.json()["reference"] is None
