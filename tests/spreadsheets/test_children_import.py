"""POST /v1/children/import: validation report, all-or-nothing writes, upserts, encodings."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.support import assert_problem, audit_count, audit_events, column, row
from tests.factories import Actors
from tests.spreadsheets.support import (
    CHILD_HEADER,
    EXAMPLES,
    XLSX,
    child_row,
    csv_bytes,
    upload,
    xlsx_bytes,
)

IMPORT = "/v1/children/import"


async def children_in(session: AsyncSession, departement: str) -> int:
    return int(
        await column(
            session, "SELECT count(*) FROM child WHERE departement_code = :d", d=departement
        )
    )


class TestExampleFile:
    async def test_dry_run_reports_and_writes_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        before = await children_in(session, "53")
        audits = await audit_count(session)
        content = (EXAMPLES / "children.csv").read_bytes()
        response = await upload(client, IMPORT, actors.educator_53, content, dry_run="true")
        assert response.status_code == 200, response.text
        report = response.json()
        assert report | {"problems": None} == {
            "dry_run": True,
            "written": False,
            "rows": 4,
            "created": 4,
            "updated": 0,
            "unchanged": 0,
            "invalid": 0,
            "problems": None,
            "problems_truncated": False,
        }
        assert report["problems"] == []
        assert await children_in(session, "53") == before
        assert await audit_count(session) == audits

    async def test_windows_1252_semicolons_import_then_reimport_is_a_no_op(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        content = (EXAMPLES / "children.csv").read_bytes()
        with_bom_utf8 = content.decode("cp1252").encode("utf-8")
        assert content != with_bom_utf8  # the example really is Windows-1252
        first = await upload(client, IMPORT, actors.educator_53, content)
        assert first.status_code == 200, first.text
        assert (first.json()["created"], first.json()["written"]) == (4, True)
        stored = await row(
            session,
            "SELECT first_name, birth_date::text, commune, latitude::float8, goals, languages,"
            " mentor_gender_preference, remote_ok, version FROM child"
            " WHERE departement_code = '53' AND reference = 'ASE53-2026-0002'",
        )
        assert stored == (
            "Noé",
            "2013-03-17",
            "Château-Gontier-sur-Mayenne",
            47.8286,
            ["stage", "rome-F"],
            ["fr", "ar"],
            "male",
            True,
            1,
        )
        created = await audit_events(session, action="create", entity_type="child")
        assert len([event for event in created if event.details == {"via": "import"}]) == 4

        audits = await audit_count(session)
        again = await upload(client, IMPORT, actors.educator_53, content)
        assert again.status_code == 200, again.text
        assert again.json() | {"problems": []} == {
            "dry_run": False,
            "written": True,
            "rows": 4,
            "created": 0,
            "updated": 0,
            "unchanged": 4,
            "invalid": 0,
            "problems": [],
            "problems_truncated": False,
        }
        assert await audit_count(session) == audits
        versions = await column(
            session,
            "SELECT array_agg(DISTINCT version) FROM child"
            " WHERE departement_code = '53' AND reference LIKE 'ASE53-2026-%'",
        )
        assert versions == [1]
        # The same file in UTF-8 is the same data.
        utf8 = await upload(client, IMPORT, actors.educator_53, with_bom_utf8)
        assert utf8.json()["unchanged"] == 4


class TestUpsert:
    async def test_a_changed_row_updates_that_child_and_is_audited(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        rows = [child_row("UP-1"), child_row("UP-2")]
        assert (
            await upload(client, IMPORT, actors.educator_53, csv_bytes(CHILD_HEADER, rows))
        ).json()["created"] == 2
        rows[1] = child_row("UP-2", first_name="Lou", goals="rome-J")
        response = await upload(client, IMPORT, actors.educator_53, csv_bytes(CHILD_HEADER, rows))
        assert response.status_code == 200, response.text
        assert (response.json()["updated"], response.json()["unchanged"]) == (1, 1)
        child_id, first_name, goals, version = await row(
            session,
            "SELECT id, first_name, goals, version FROM child WHERE reference = 'UP-2'",
        )
        assert (first_name, goals, version) == ("Lou", ["rome-J"], 2)
        updates = await audit_events(session, action="update", entity_id=str(child_id))
        assert [event.details for event in updates] == [
            {"via": "import", "fields": ["first_name", "goals"]}
        ]

    async def test_columns_left_out_keep_their_stored_values(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        full = csv_bytes(CHILD_HEADER, [child_row("KEEP-1", languages="fr, ar")])
        assert (await upload(client, IMPORT, actors.educator_53, full)).json()["created"] == 1
        required = CHILD_HEADER[:9]
        partial = csv_bytes(required, [child_row("KEEP-1", first_name="Lina")[:9]])
        response = await upload(client, IMPORT, actors.educator_53, partial)
        assert response.json()["updated"] == 1
        assert await row(
            session, "SELECT first_name, languages FROM child WHERE reference = 'KEEP-1'"
        ) == ("Lina", ["fr", "ar"])

    async def test_a_soft_deleted_childs_reference_is_a_row_problem(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        await upload(
            client, IMPORT, actors.educator_53, csv_bytes(CHILD_HEADER, [child_row("DEL-1")])
        )
        child_id = await column(session, "SELECT id FROM child WHERE reference = 'DEL-1'")
        deleted = await client.delete(f"/v1/children/{child_id}", headers=actors.educator_53)
        assert deleted.status_code == 204
        response = await upload(
            client, IMPORT, actors.educator_53, csv_bytes(CHILD_HEADER, [child_row("DEL-1")])
        )
        body = assert_problem(response, 422, "row.2.reference")
        assert "deleted child" in body["errors"][0]["msg"]


class TestBadRows:
    def bad_file(self) -> bytes:
        return csv_bytes(
            CHILD_HEADER,
            [
                child_row("OK-1"),
                child_row("BAD-1", birth_date="31/02/2014", goals="orientation, astronomie"),
                child_row("BAD-2", availability="mercredi après-midi", latitude="nord"),
                child_row("OK-1"),
                child_row("BAD-3", postcode="53-000", remote_ok="peut-être", school_level="CP"),
            ],
        )

    async def test_dry_run_names_each_row_and_column(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await upload(client, IMPORT, actors.educator_53, self.bad_file(), dry_run="true")
        assert response.status_code == 200, response.text
        report = response.json()
        assert (report["rows"], report["invalid"], report["created"]) == (5, 4, 1)
        found = {(problem["row"], problem["column"]) for problem in report["problems"]}
        assert found == {
            (3, "birth_date"),
            (3, "goals"),
            (4, "availability"),
            (4, "latitude"),
            (5, "reference"),
            (6, "postcode"),
            (6, "remote_ok"),
            (6, "school_level"),
        }
        duplicate = next(p for p in report["problems"] if p["row"] == 5)
        assert duplicate["problem"] == "the same reference is on row 2"

    async def test_without_dry_run_nothing_is_written_and_the_report_comes_back(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        before = await children_in(session, "53")
        audits = await audit_count(session)
        response = await upload(client, IMPORT, actors.educator_53, self.bad_file())
        body = assert_problem(response, 422, "row.3.birth_date", "row.6.postcode")
        assert body["report"]["invalid"] == 4
        assert body["report"]["written"] is False
        assert await children_in(session, "53") == before
        assert await audit_count(session) == audits

    async def test_a_file_failing_half_way_writes_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        rows = [child_row(f"HALF-{number:05d}") for number in range(5000)]
        rows[4321] = child_row("HALF-04321", college_entry_year="1999")
        before = await children_in(session, "53")
        response = await upload(client, IMPORT, actors.educator_53, csv_bytes(CHILD_HEADER, rows))
        body = assert_problem(response, 422, "row.4323.college_entry_year")
        assert body["report"]["created"] == 4999
        assert await children_in(session, "53") == before

    @pytest.mark.parametrize(
        ("event", "condition"),
        [("UPDATE", "OLD.reference = 'T-0'"), ("INSERT", "NEW.reference = 'T-4000'")],
        ids=["in-the-updates", "in-the-copy"],
    )
    async def test_a_write_failing_after_thousands_of_rows_leaves_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        event: str,
        condition: str,
    ) -> None:
        """A trigger stands for a concurrent writer taking a reference, either in the middle of
        the COPY of the new rows or once they are all in, in the updates: the answer is a 409
        and not one row stays."""
        await upload(
            client, IMPORT, actors.educator_53, csv_bytes(CHILD_HEADER, [child_row("T-0")])
        )
        await session.execute(
            text(
                "CREATE FUNCTION pg_temp.taken() RETURNS trigger LANGUAGE plpgsql AS $$"
                " BEGIN RAISE EXCEPTION 'taken' USING ERRCODE = 'unique_violation'; END $$"
            )
        )
        await session.execute(
            text(
                f"CREATE TRIGGER taken BEFORE {event} ON child FOR EACH ROW"
                f" WHEN ({condition}) EXECUTE FUNCTION pg_temp.taken()"
            )
        )
        await session.commit()
        before = await children_in(session, "53")
        audits = await audit_count(session)
        rows = [child_row(f"T-{number}") for number in range(1, 4500)]
        rows.append(child_row("T-0", first_name="Changée"))
        response = await upload(client, IMPORT, actors.educator_53, csv_bytes(CHILD_HEADER, rows))
        assert_problem(response, 409)
        assert await children_in(session, "53") == before
        assert await audit_count(session) == audits
        await session.execute(text("DROP TRIGGER taken ON child"))
        await session.commit()

    async def test_header_problems(self, client: httpx.AsyncClient, actors: Actors) -> None:
        header = [name for name in CHILD_HEADER if name != "postcode"] + ["notes"]
        content = csv_bytes(header, [])
        response = await upload(client, IMPORT, actors.educator_53, content, dry_run="true")
        problems = {(p["row"], p["column"], p["problem"]) for p in response.json()["problems"]}
        assert problems == {
            (1, "notes", "unknown column; see the documented columns"),
            (1, "postcode", "required column missing"),
        }


class TestFormats:
    async def test_encodings_and_separators(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        cases = {
            "ENC-BOM": ("utf-8-sig", ";"),
            "ENC-UTF8": ("utf-8", ","),
            "ENC-1252": ("cp1252", "\t"),
        }
        for reference, (encoding, delimiter) in cases.items():
            content = csv_bytes(
                CHILD_HEADER,
                [child_row(reference, first_name="Zoé-Maëlle", commune="Évron", latitude="48,15")],
                delimiter=delimiter,
                encoding=encoding,
            )
            response = await upload(client, IMPORT, actors.educator_53, content)
            assert response.status_code == 200, (reference, response.text)
            assert await row(
                session,
                "SELECT first_name, commune, latitude::float8 FROM child WHERE reference = :r",
                r=reference,
            ) == ("Zoé-Maëlle", "Évron", 48.15)

    async def test_an_excel_sep_line_names_the_separator(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        content = b"sep=,\r\n" + csv_bytes(CHILD_HEADER, [child_row("SEP-1")], delimiter=",")
        response = await upload(client, IMPORT, actors.educator_53, content, dry_run="true")
        assert (response.json()["created"], response.json()["problems"]) == (1, [])

    async def test_bytes_that_are_no_text_are_refused(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await upload(client, IMPORT, actors.educator_53, b"\x81\x8d\x8f\x90\x9d")
        assert_problem(response, 422, "body")
        garbage = await upload(client, IMPORT, actors.educator_53, b"PK\x03\x04 not a zip", XLSX)
        assert_problem(garbage, 422, "body")

    async def test_xlsx_with_typed_cells(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        from datetime import datetime

        values = child_row("XL-1")
        typed: list[object] = list(values)
        typed[CHILD_HEADER.index("birth_date")] = datetime(2014, 9, 2)
        typed[CHILD_HEADER.index("college_entry_year")] = 2026
        typed[CHILD_HEADER.index("latitude")] = 48.0707
        typed[CHILD_HEADER.index("postcode")] = 1000  # Excel ate the leading zero of 01000
        typed[CHILD_HEADER.index("remote_ok")] = True
        response = await upload(
            client, IMPORT, actors.educator_53, xlsx_bytes(CHILD_HEADER, [typed]), XLSX
        )
        assert response.status_code == 200, response.text
        assert await row(
            session,
            "SELECT birth_date::text, postcode, latitude::float8, remote_ok FROM child"
            " WHERE reference = 'XL-1'",
        ) == ("2014-09-02", "01000", 48.0707, True)

    async def test_unsupported_media_type(self, client: httpx.AsyncClient, actors: Actors) -> None:
        response = await upload(client, IMPORT, actors.educator_53, b"{}", "application/json")
        assert_problem(response, 415)


class TestScope:
    async def test_roles_and_departements(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        content = csv_bytes(CHILD_HEADER, [child_row("SCOPE-1")])
        before = await children_in(session, "53")
        elsewhere = await upload(client, IMPORT, actors.educator_75, content, departement="53")
        assert_problem(elsewhere, 404)
        for name in ("coordinator_a", "mentor_a"):
            refused = await upload(client, IMPORT, getattr(actors, name), content)
            assert_problem(refused, 403)
        admin_without = await upload(client, IMPORT, actors.admin, content)
        assert_problem(admin_without, 422, "query.departement")
        unknown = await upload(client, IMPORT, actors.admin, content, departement="99")
        assert_problem(unknown, 422)
        assert await children_in(session, "53") == before
        admin = await upload(client, IMPORT, actors.admin, content, departement="53")
        assert admin.json()["created"] == 1
        # The same reference in another département is another child.
        other = await upload(client, IMPORT, actors.educator_75, content)
        assert other.json()["created"] == 1

    async def test_unauthenticated(self, client: httpx.AsyncClient) -> None:
        response = await upload(client, IMPORT, {}, csv_bytes(CHILD_HEADER, []))
        assert_problem(response, 401)
