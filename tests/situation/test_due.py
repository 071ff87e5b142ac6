"""GET /v1/departements/{code}/due: due dates on chosen days, contents, scope."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.principal import Role
from tests.api.support import assert_problem, audit_events
from tests.factories import Actors, bearer, token_for
from tests.situation.support import (
    assess,
    child_in_care,
    days,
    offer,
    set_child,
    set_school_start,
)

# Not 53 or 75, where the actors' children are: this département holds only each test's own.
CODE = "49"


async def educator_49(session: AsyncSession) -> dict[str, str]:
    headers = bearer(await token_for(session, Role.educator, departement_code=CODE))
    await session.commit()
    return headers


async def due(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/departements/{CODE}/due", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def of(items: list[dict[str, Any]], child: Any) -> list[tuple[str, str, str, int]]:
    return [
        (item["kind"], item["situation"], item["due_on"], item["days_late"])
        for item in items
        if item["child"]["id"] == str(child.id)
    ]


class TestDueDates:
    async def test_a_child_of_12_coming_into_care_in_march_is_due_that_day(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        headers = await educator_49(session)
        child = await child_in_care(
            session,
            departement=CODE,
            birth_date=date(2015, 1, 10),
            came_into_care_on=date(2027, 3, 15),
            college_entry_year=2026,
        )
        on_the_day = await due(client, headers, as_of="2027-03-15")
        assert of(on_the_day, child) == [("assess", "assessment_due", "2027-03-15", 0)]
        assert of(await due(client, headers, as_of="2027-03-16"), child) == [
            ("assess", "assessment_overdue", "2027-03-15", 1)
        ]
        assert of(await due(client, headers, as_of="2027-03-14"), child) == []  # not in care
        (item,) = [i for i in on_the_day if i["child"]["id"] == str(child.id)]
        assert item["child"] == {
            "id": str(child.id),
            "reference": child.reference,
            "first_name": child.first_name,
        }
        assert item["link"] == f"/v1/children/{child.id}/assessments"

    async def test_collège_entry_is_due_on_the_departements_first_school_day(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        headers = await educator_49(session)
        await set_school_start(session, CODE, 9, 3)
        child = await child_in_care(
            session,
            departement=CODE,
            birth_date=date(2016, 5, 1),
            came_into_care_on=date(2025, 1, 10),
            college_entry_year=2027,
        )
        # 1 September would make it late on the 2nd; the département starts on the 3rd.
        assert of(await due(client, headers, as_of="2027-09-02"), child) == [
            ("assess", "assessment_due", "2027-09-03", 0)
        ]
        assert of(await due(client, headers, as_of="2027-09-04"), child) == [
            ("assess", "assessment_overdue", "2027-09-03", 1)
        ]
        # In June the assessment is more than 60 days away: not yet due, nothing to do.
        assert of(await due(client, headers, as_of="2027-06-01"), child) == []
        assert of(await due(client, headers, as_of="2027-06-01", until="2027-09-03"), child) == [
            ("assess", "not_yet_due", "2027-09-03", 0)
        ]

    async def test_a_renewal_is_due_a_year_later_and_overdue_the_day_after(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        headers = await educator_49(session)
        child = await child_in_care(session, departement=CODE, came_into_care_on=date(2025, 6, 1))
        await assess(session, child, date(2026, 1, 15), outcome="not_applicable")
        assert of(await due(client, headers, as_of="2027-01-15"), child) == [
            ("renew_assessment", "assessment_due", "2027-01-15", 0)
        ]
        assert of(await due(client, headers, as_of="2027-01-16"), child) == [
            ("renew_assessment", "assessment_overdue", "2027-01-15", 1)
        ]
        # The day before, the assessment still stands: renewal due within the week.
        assert of(await due(client, headers, as_of="2027-01-14"), child) == [
            ("renew_assessment", "not_recommended", "2027-01-15", 0)
        ]

    async def test_a_young_adult_is_listed_once_they_ask(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        headers = await educator_49(session)
        child = await child_in_care(
            session,
            departement=CODE,
            birth_date=date(2007, 6, 1),
            came_into_care_on=date(2024, 6, 1),
            legal_situation="young_adult",
        )
        assert of(await due(client, headers, as_of="2026-12-01"), child) == []
        await set_child(session, child, mentoring_requested_on=date(2026, 11, 20))
        assert of(await due(client, headers, as_of="2026-12-01"), child) == [
            ("assess", "assessment_overdue", "2026-11-20", 11)
        ]


class TestContents:
    async def test_this_week_and_late_only_the_earliest_first(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        headers = await educator_49(session)
        to_inform = await child_in_care(session, departement=CODE)
        await assess(session, to_inform, days(-40))  # inform by days(-10)
        awaiting = await child_in_care(session, departement=CODE)
        assessment = await assess(session, awaiting, days(-40))
        await offer(session, awaiting, assessment, offered_on=days(-31))  # collect by days(-1)
        long_wait = await child_in_care(session, departement=CODE)
        assessment = await assess(session, long_wait, days(-60))
        await offer(
            session, long_wait, assessment, offered_on=days(-50), answer="agreed",
            answered_on=days(-32),
        )  # fmt: skip
        short_wait = await child_in_care(session, departement=CODE)
        assessment = await assess(session, short_wait, days(-60))
        await offer(
            session, short_wait, assessment, offered_on=days(-50), answer="agreed",
            answered_on=days(-10),
        )  # fmt: skip
        later = await child_in_care(session, departement=CODE)
        await assess(session, later, days(-5))  # inform by days(25): not this week
        left = await child_in_care(session, departement=CODE, left_care_on=days(-1))

        items = await due(client, headers)
        assert [(item["kind"], item["child"]["id"], item["days_late"]) for item in items] == [
            ("inform_and_offer", str(to_inform.id), 10),
            ("propose_mentor", str(long_wait.id), 2),
            ("collect_agreements", str(awaiting.id), 1),
        ]
        assert items[1]["link"] == f"/v1/children/{long_wait.id}/mentor-candidates"
        assert items[2]["link"] == f"/v1/children/{awaiting.id}/offers"
        listed = {item["child"]["id"] for item in items}
        assert not listed & {str(short_wait.id), str(later.id), str(left.id)}

        first = (await client.get(f"/v1/departements/{CODE}/due?limit=2", headers=headers)).json()
        assert len(first["items"]) == 2 and first["next_cursor"]
        rest = await client.get(
            f"/v1/departements/{CODE}/due",
            params={"limit": 2, "cursor": first["next_cursor"]},
            headers=headers,
        )
        assert [i["child"]["id"] for i in first["items"] + rest.json()["items"]] == [
            i["child"]["id"] for i in items
        ]
        other_day = await client.get(
            f"/v1/departements/{CODE}/due",
            params={"limit": 2, "cursor": first["next_cursor"], "as_of": days(1).isoformat()},
            headers=headers,
        )
        assert_problem(other_day, 422, "query.cursor")
        reads = await audit_events(session, entity_type="child", action="read")
        assert {e.entity_id for e in reads if (e.details or {}).get("via") == "due"} >= listed

    async def test_until_before_as_of_is_a_422(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        headers = await educator_49(session)
        response = await client.get(
            f"/v1/departements/{CODE}/due?as_of=2027-01-10&until=2027-01-09", headers=headers
        )
        assert_problem(response, 422, "query.until")
        for query in ("as_of=9999-12-31", "as_of=0001-01-01", "until=2999-01-01", "as_of=x"):
            response = await client.get(f"/v1/departements/{CODE}/due?{query}", headers=headers)
            assert_problem(response, 422, "query." + query.split("=")[0])


class TestScope:
    async def test_who_may_read_the_due_list(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        path = "/v1/departements/53/due"
        for headers in (actors.admin, actors.manager_53, actors.educator_53):
            assert (await client.get(path, headers=headers)).status_code == 200
        assert_problem(await client.get(path, headers=actors.educator_75), 404)
        assert_problem(await client.get(path, headers=actors.coordinator_a), 403)
        assert_problem(await client.get(path, headers=actors.mentor_a), 403)
        assert_problem(await client.get("/v1/departements/01/due", headers=actors.educator_53), 404)
