"""The individual agreement of a mentorship (ASE, association, child): its signature date,
who records it, and the département setting that requires it before the mentorship is active.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.kit.clock import today_in
from tests.factories import Actors
from tests.mentorships.support import (
    assert_problem,
    count,
    execute,
    make_mentorship,
    snapshot,
    transition,
)

REQUIRED = "individual-agreement-required"


def url(mentorship: dict[str, Any]) -> str:
    return f"/v1/mentorships/{mentorship['id']}"


async def require_agreement(session: AsyncSession, code: str = "53") -> None:
    await execute(
        session, "UPDATE departement SET individual_agreement_required = true WHERE code = :c",
        c=code,
    )  # fmt: skip


class TestSignatureDate:
    async def test_unsigned_at_first_then_recorded_by_the_educator(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        assert mentorship["agreement_signed_on"] is None
        today = today_in("53").isoformat()
        response = await client.patch(
            url(mentorship),
            json={"agreement_signed_on": today},
            headers={**actors.educator_53, "If-Match": f'"{mentorship["version"]}"'},
        )
        assert response.status_code == 200, response.text
        assert response.json()["agreement_signed_on"] == today
        assert response.headers["ETag"] == f'"{mentorship["version"] + 1}"'
        read = await client.get(url(mentorship), headers=actors.coordinator_a)
        assert read.json()["agreement_signed_on"] == today
        # A mistake is corrected with null.
        cleared = await client.patch(
            url(mentorship), json={"agreement_signed_on": None}, headers=actors.coordinator_a
        )
        assert cleared.status_code == 200, cleared.text
        assert cleared.json()["agreement_signed_on"] is None

    @pytest.mark.parametrize("role", ["admin", "manager_53", "educator_53", "coordinator_a"])
    async def test_each_side_of_the_agreement_may_record_it(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, role: str
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        response = await client.patch(
            url(mentorship), json={"agreement_signed_on": "2026-10-05"},
            headers=getattr(actors, role),
        )  # fmt: skip
        assert response.status_code == 200, response.text

    @pytest.mark.parametrize(
        ("role", "status"),
        [("mentor_a", 403), ("educator_75", 404), ("coordinator_b", 404)],
    )
    async def test_others_may_not_and_nothing_changes(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        role: str,
        status: int,
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        before = await snapshot(session, mentorship["id"])
        response = await client.patch(
            url(mentorship), json={"agreement_signed_on": "2026-10-05"},
            headers=getattr(actors, role),
        )  # fmt: skip
        assert_problem(response, status)
        assert await snapshot(session, mentorship["id"]) == before
        read = await client.get(url(mentorship), headers=actors.admin)
        assert read.json()["agreement_signed_on"] is None

    @pytest.mark.parametrize(
        "value",
        ["tomorrow", "1999-12-31", "05/10/2026", 20261005, ""],
    )
    async def test_a_bad_date_is_a_422_and_changes_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, value: Any
    ) -> None:
        if value == "tomorrow":
            value = (today_in("53") + timedelta(days=1)).isoformat()
        mentorship = await make_mentorship(client, session, actors)
        before = await snapshot(session, mentorship["id"])
        response = await client.patch(
            url(mentorship), json={"agreement_signed_on": value}, headers=actors.educator_53
        )
        problem = assert_problem(response, 422)
        assert problem["errors"][0]["loc"][-1] == "agreement_signed_on", problem
        assert await snapshot(session, mentorship["id"]) == before

    async def test_an_empty_body_or_another_field_is_a_422(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        assert_problem(await client.patch(url(mentorship), json={}, headers=actors.admin), 422)
        response = await client.patch(
            url(mentorship), json={"state": "ended"}, headers=actors.admin
        )
        assert_problem(response, 422)

    async def test_a_stale_if_match_is_a_412(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        response = await client.patch(
            url(mentorship),
            json={"agreement_signed_on": "2026-10-05"},
            headers={**actors.educator_53, "If-Match": '"99"'},
        )
        assert_problem(response, 412)


class TestRequiredByTheDepartement:
    async def test_not_required_by_default_the_mentorship_becomes_active_unsigned(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        response = await transition(client, actors.educator_53, mentorship["id"], "active")
        assert response.status_code == 200, response.text
        assert response.json()["agreement_signed_on"] is None

    async def test_required_and_unsigned_becoming_active_is_a_409_that_changes_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        await require_agreement(session)
        before = await snapshot(session, mentorship["id"])
        response = await transition(client, actors.educator_53, mentorship["id"], "active")
        problem = assert_problem(response, 409, REQUIRED)
        assert "agreement_signed_on" in problem["detail"]
        assert await snapshot(session, mentorship["id"]) == before
        # Ending stays possible.
        ended = await transition(
            client, actors.educator_53, mentorship["id"], "ended", reason="child_choice"
        )
        assert ended.status_code == 200, ended.text

    async def test_once_signed_it_becomes_active(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        await require_agreement(session)
        signed = await client.patch(
            url(mentorship), json={"agreement_signed_on": today_in("53").isoformat()},
            headers=actors.coordinator_a,
        )  # fmt: skip
        assert signed.status_code == 200, signed.text
        response = await transition(client, actors.educator_53, mentorship["id"], "active")
        assert response.status_code == 200, response.text
        assert response.json()["state"] == "active"

    async def test_resuming_a_paused_unsigned_mentorship_is_refused_too(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, state="paused")
        await require_agreement(session)
        response = await transition(client, actors.educator_53, mentorship["id"], "active")
        assert_problem(response, 409, REQUIRED)

    async def test_a_first_meeting_does_not_activate_an_unsigned_mentorship(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        await require_agreement(session)
        meeting = {
            "held_on": today_in("53").isoformat(),
            "mode": "in_person",
            "duration_minutes": 60,
        }
        response = await client.post(
            f"{url(mentorship)}/meetings", json=meeting, headers=actors.coordinator_a
        )
        assert_problem(response, 409, REQUIRED)
        assert await count(session, "meeting", "mentorship_id = :id", id=mentorship["id"]) == 0
        read = await client.get(url(mentorship), headers=actors.admin)
        assert read.json()["state"] == "accepted"

    async def test_another_departements_setting_does_not_apply(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        await require_agreement(session, "75")
        mentorship = await make_mentorship(client, session, actors)
        response = await transition(client, actors.educator_53, mentorship["id"], "active")
        assert response.status_code == 200, response.text

    async def test_the_setting_set_through_the_api_applies(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        setting = await client.patch(
            "/v1/departements/53", json={"individual_agreement_required": True},
            headers=actors.manager_53,
        )  # fmt: skip
        assert setting.status_code == 200, setting.text
        response = await transition(client, actors.educator_53, mentorship["id"], "active")
        assert_problem(response, 409, REQUIRED)
