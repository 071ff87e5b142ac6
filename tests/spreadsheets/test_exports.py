"""Accept: text/csv or XLSX on the lists: every row in scope, streamed, in the import's format."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.kit.clock import today_in
from tests.api.support import assert_problem, audit_events
from tests.factories import Actors, create_child
from tests.spreadsheets.support import (
    CHILD_HEADER,
    CSV,
    EXAMPLES,
    XLSX,
    child_row,
    csv_bytes,
    read_csv,
    read_xlsx,
    upload,
)

CHILDREN = "/v1/children"
# Optional on import: the examples leave them out, the exports write them.
CARE_HEADER = ["came_into_care_on", "left_care_on", "legal_situation", "mentoring_requested_on"]


def accept(headers: dict[str, str], media_type: str) -> dict[str, str]:
    return {**headers, "Accept": media_type}


class TestChildrenExport:
    async def test_csv_round_trip_then_an_edited_cell_updates_one_child(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        content = (EXAMPLES / "children.csv").read_bytes()
        assert (await upload(client, "/v1/children/import", actors.educator_53, content)).json()[
            "created"
        ] == 4
        exported = await client.get(
            CHILDREN, params={"limit": 1}, headers=accept(actors.educator_53, CSV)
        )
        assert exported.status_code == 200, exported.text
        assert exported.headers["content-type"] == "text/csv; charset=utf-8"
        assert exported.headers["content-disposition"] == 'attachment; filename="children.csv"'
        rows = read_csv(exported.content)
        assert rows[0] == ["id", *CHILD_HEADER, *CARE_HEADER]
        by_reference = {row[1]: row for row in rows[1:]}
        # Scope: département 53 only, every child (limit ignored), the factory's one included.
        assert set(by_reference) == {
            "ASE53-2026-0001",
            "ASE53-2026-0002",
            "ASE53-2026-0003",
            "ASE53-2026-0004",
            actors.child_53.reference,
        }
        assert by_reference["ASE53-2026-0004"][2:] == [
            "Yanis", "2012-01-28", "5e", "2024", "Évron", "53600", "48.1565", "-0.4047",
            "emploi, rome-G", "mardi 17:00-19:00; jeudi 17:00-19:00", "", "fr, tr", "oui",
            "Bruno Lefèvre", today_in("53").isoformat(), "", "parental_authority", "",
        ]  # fmt: skip
        imported = [row for row in rows if row[1].startswith("ASE53-2026-")]
        back = await upload(
            client, "/v1/children/import", actors.educator_53, csv_bytes(rows[0], imported)
        )
        assert back.status_code == 200, back.text
        assert (back.json()["unchanged"], back.json()["updated"]) == (4, 0)
        imported[0][CHILD_HEADER.index("first_name") + 1] = "Inès-Marie"
        edited = await upload(
            client, "/v1/children/import", actors.educator_53, csv_bytes(rows[0], imported)
        )
        assert (edited.json()["unchanged"], edited.json()["updated"]) == (3, 1)

    async def test_xlsx_export_reimports_unchanged(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        await upload(
            client,
            "/v1/children/import",
            actors.educator_53,
            csv_bytes(CHILD_HEADER, [child_row("X-1"), child_row("X-2", remote_ok="oui")]),
        )
        exported = await client.get(
            CHILDREN, params={"college_entry_year": 2026}, headers=accept(actors.educator_53, XLSX)
        )
        assert exported.headers["content-type"] == XLSX
        sheet = read_xlsx(exported.content)
        assert sheet[0] == ["id", *CHILD_HEADER, *CARE_HEADER]
        assert len(sheet) == 1 + 3  # the two imported and the factory's child, all of 2026
        back = await upload(
            client, "/v1/children/import", actors.educator_53, exported.content, XLSX
        )
        assert back.status_code == 200, back.text
        assert back.json()["unchanged"] == 3

    async def test_each_exported_child_is_audited_as_read(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        extra = await create_child(session, departement="53")
        exported = await client.get(CHILDREN, headers=accept(actors.manager_53, CSV))
        ids = {row[0] for row in read_csv(exported.content)[1:]}
        assert ids == {str(actors.child_53.id), str(extra.id)}
        reads = await audit_events(session, action="read", entity_type="child")
        exported_reads = [event for event in reads if event.details == {"via": "export"}]
        assert {event.entity_id for event in exported_reads} == ids
        assert {event.departement_code for event in exported_reads} == {"53"}

    async def test_filters_and_scope_hold(self, client: httpx.AsyncClient, actors: Actors) -> None:
        other = await client.get(
            CHILDREN, params={"departement": "53"}, headers=accept(actors.educator_75, CSV)
        )
        assert read_csv(other.content)[1:] == []
        admin = await client.get(CHILDREN, headers=accept(actors.admin, CSV))
        ids = {row[0] for row in read_csv(admin.content)[1:]}
        assert {str(actors.child_53.id), str(actors.child_75.id)} <= ids
        for name in ("coordinator_a", "mentor_a"):
            assert_problem(
                await client.get(CHILDREN, headers=accept(getattr(actors, name), CSV)), 403
            )
        assert_problem(await client.get(CHILDREN, headers={"Accept": CSV}), 401)

    async def test_json_stays_the_default(self, client: httpx.AsyncClient, actors: Actors) -> None:
        response = await client.get(
            CHILDREN, headers=accept(actors.educator_53, "application/json, */*")
        )
        assert response.headers["content-type"] == "application/json"
        assert "items" in response.json()


class TestMentorsExport:
    async def test_each_side_sees_what_it_sees_in_json(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        for name, expected in (
            ("coordinator_a", {actors.mentor_a1.id}),
            ("coordinator_b", {actors.mentor_b1.id}),
            ("educator_53", {actors.mentor_a1.id}),
            ("mentor_a", {actors.mentor_a1.id}),
        ):
            response = await client.get("/v1/mentors", headers=accept(getattr(actors, name), CSV))
            assert response.status_code == 200, response.text
            ids = {row[0] for row in read_csv(response.content)[1:]}
            assert ids == {str(mentor_id) for mentor_id in expected}, name
