"""GET /v1/children filters: situation, due_before, q (indexed prefix search), with cursors."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.principal import Principal, Role
from mentorat.children.service import ChildFilters, _listed
from tests.api.support import assert_problem
from tests.factories import Actors, availability
from tests.situation.support import TODAY, assess, child_in_care, days


async def ids(client: httpx.AsyncClient, headers: dict[str, str], params: Any) -> list[str]:
    response = await client.get("/v1/children", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


class TestSituationFilters:
    async def test_situation_is_repeatable_and_due_before_is_strict(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        due_today = await child_in_care(session, came_into_care_on=TODAY)
        overdue = await child_in_care(session, came_into_care_on=days(-3))
        not_recommended = await child_in_care(session)
        await assess(session, not_recommended, days(-3), outcome="not_now")
        headers = actors.educator_53

        assert await ids(client, headers, {"situation": "assessment_due"}) == [str(due_today.id)]
        both = await ids(
            client, headers, [("situation", "assessment_due"), ("situation", "assessment_overdue")]
        )
        assert sorted(both) == sorted([str(due_today.id), str(overdue.id)])
        before_today = await ids(client, headers, {"due_before": TODAY.isoformat()})
        assert str(overdue.id) in before_today
        assert str(due_today.id) not in before_today
        assert str(not_recommended.id) not in before_today
        assert_problem(
            await client.get("/v1/children?situation=lost", headers=headers), 422, "query.situation"
        )

    async def test_pages_keep_the_filters_and_a_cursor_keeps_to_its_filters(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        made = [str((await child_in_care(session, came_into_care_on=TODAY)).id) for _ in range(5)]
        await child_in_care(session, left_care_on=TODAY)
        headers, seen = actors.educator_53, []
        params: dict[str, Any] = {"situation": "assessment_due", "limit": 2}
        while True:
            response = await client.get("/v1/children", params=params, headers=headers)
            body = response.json()
            seen += [item["id"] for item in body["items"]]
            if body["next_cursor"] is None:
                break
            params["cursor"] = body["next_cursor"]
        assert sorted(seen) == sorted(made)  # each once (one transaction: created_at ties)
        first = (
            await client.get(
                "/v1/children", params={"situation": "assessment_due", "limit": 2}, headers=headers
            )
        ).json()
        other = await client.get(
            "/v1/children",
            params={"situation": "left_care", "limit": 2, "cursor": first["next_cursor"]},
            headers=headers,
        )
        assert_problem(other, 422, "query.cursor")


class TestSearch:
    async def test_prefix_of_reference_or_first_name_case_insensitive(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        zoe = await child_in_care(session, reference="SRCH-ALPHA-1", first_name="Zoé")
        emile = await child_in_care(session, reference="SRCH-BETA-2", first_name="Émile")
        headers = actors.educator_53
        assert await ids(client, headers, {"q": "srch-al"}) == [str(zoe.id)]
        assert sorted(await ids(client, headers, {"q": "SRCH"})) == sorted(
            [str(zoe.id), str(emile.id)]
        )
        assert await ids(client, headers, {"q": "zoÉ"}) == [str(zoe.id)]
        assert await ids(client, headers, {"q": "émi"}) == [str(emile.id)]
        assert await ids(client, headers, {"q": "ALPHA"}) == []  # a prefix, not a substring
        # LIKE's wildcards are taken literally.
        assert await ids(client, headers, {"q": "%"}) == []
        assert await ids(client, headers, {"q": "_"}) == []
        assert await ids(client, headers, {"q": "SRCH_"}) == []
        assert await ids(client, actors.educator_75, {"q": "srch"}) == []
        assert_problem(await client.get("/v1/children?q=", headers=headers), 422, "query.q")

    async def test_the_prefix_indexes_serve_the_search(self, session: AsyncSession) -> None:
        await session.execute(
            text(
                "INSERT INTO child (departement_code, reference, first_name, birth_date,"
                " school_level, college_entry_year, commune, postcode, latitude, longitude,"
                " goals, languages, availability, remote_ok)"
                " SELECT '53', 'BULK-' || n, 'Prenom' || n, DATE '2014-01-01', '6e', 2026,"
                " 'Laval', '53000', 48.07, -0.77, '{}', '{}', c.availability, false"
                " FROM generate_series(1, 500) AS n,"
                " (SELECT CAST(:slots AS bytea) AS availability) AS c"
            ),
            {"slots": availability()},
        )
        await session.execute(text("ANALYZE child"))
        educator = Principal(id=uuid.uuid4(), name="E", role=Role.educator, departement_code="53")
        statement = _listed(educator, ChildFilters(query="Bulk-1_%"))
        sql = str(
            statement.compile(dialect=asyncpg.dialect(), compile_kwargs={"literal_binds": True})
        )
        plan = "\n".join((await session.execute(text("EXPLAIN " + sql))).scalars())
        assert "ix_child_reference_prefix" in plan, plan
        assert "ix_child_first_name_prefix" in plan, plan
        assert "lower(reference) ~>=~ 'bulk-1_%'" in plan, plan  # the prefix bounds the scan
        assert "Seq Scan" not in plan, plan


class TestChildFilterOfProposalsAndMentorships:
    async def test_child_id_narrows_within_the_scope(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        from tests.mentorships.support import make_mentorship, new_child

        child = await new_child(session)
        made = await make_mentorship(client, session, actors, child=child)
        await make_mentorship(client, session, actors)
        for path in ("/v1/mentorships", "/v1/proposals"):
            own = await ids_of(client, actors.educator_53, path, child.id)
            expected = made["id"] if path == "/v1/mentorships" else made["proposal_id"]
            assert own == [expected]
            assert await ids_of(client, actors.educator_75, path, child.id) == []
            assert await ids_of(client, actors.educator_53, path, uuid.uuid4()) == []
            assert_problem(
                await client.get(f"{path}?child_id=nope", headers=actors.educator_53),
                422,
                "query.child_id",
            )


async def ids_of(
    client: httpx.AsyncClient, headers: dict[str, str], path: str, child_id: Any
) -> list[str]:
    response = await client.get(path, params={"child_id": str(child_id)}, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


class TestBadSearchInput:
    async def test_a_nul_or_overlong_query_is_a_422(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        for query in ("q=a%00b", "q=" + "a" * 65, "due_before=2026-13-01"):
            response = await client.get(f"/v1/children?{query}", headers=actors.educator_53)
            assert_problem(response, 422, "query." + query.split("=")[0])
