"""The daily reminders: what each kind emits to the outbox, with which scope, once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.kit.clock import today_in
from mentorat.kit.db import Database
from mentorat.reminders.daily import DailyReminders, send_daily_reminders
from tests.factories import Actors, create_mentor
from tests.mentorships.support import execute, make_mentorship, new_child, propose, transition
from tests.situation.support import assess, child_in_care, days, years_before

TODAY = today_in("53")


async def events(session: AsyncSession, kind: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            "SELECT entity_type, entity_id, departement_code, association_id, data "
            "FROM event WHERE type = :kind ORDER BY seq"
        ),
        {"kind": kind},
    )
    return [dict(row._mapping) for row in rows]


def about(found: list[dict[str, Any]], entity_id: Any) -> list[dict[str, Any]]:
    return [event for event in found if str(event["entity_id"]) == str(entity_id)]


async def backdate(session: AsyncSession, mentorship_id: str, days_ago: int) -> None:
    await execute(
        session,
        "UPDATE mentorship SET created_at = now() - make_interval(days => :days), "
        "started_at = CASE WHEN started_at IS NULL THEN NULL "
        "ELSE now() - make_interval(days => :days) END WHERE id = :id",
        days=days_ago,
        id=mentorship_id,
    )


async def attention_of(
    client: httpx.AsyncClient, headers: dict[str, str], mentorship_id: str
) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/mentorships/{mentorship_id}", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["attention"])


async def mentorship_in_75(client: httpx.AsyncClient, session: AsyncSession, actors: Actors) -> str:
    """An active mentorship of département 75, with a mentor of association B."""
    child = await new_child(
        session, departement="75", commune="Paris", postcode="75011", latitude=48.858,
        longitude=2.38,
    )  # fmt: skip
    response = await propose(client, actors.educator_75, child.id, actors.mentor_b1.id)
    assert response.status_code == 201, response.text
    response = await client.post(
        f"/v1/proposals/{response.json()['id']}/accept", headers=actors.coordinator_b
    )
    assert response.status_code == 200, response.text
    mentorship_id = str(response.json()["mentorship_id"])
    assert (await transition(client, actors.educator_75, mentorship_id, "active")).is_success
    return mentorship_id


class TestNeedsAttention:
    async def test_told_once_when_it_starts_and_again_when_the_reasons_change(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        database: Database,
        actors: Actors,
    ) -> None:
        silent = await make_mentorship(client, session, actors, state="active")
        await backdate(session, silent["id"], 45)
        healthy = await make_mentorship(client, session, actors, state="active")
        response = await client.post(
            f"/v1/mentorships/{healthy['id']}/meetings",
            json={"held_on": TODAY.isoformat(), "duration_minutes": 30, "mode": "remote"},
            headers=actors.coordinator_a,
        )
        assert response.status_code == 201, response.text
        paused = await make_mentorship(client, session, actors, state="paused")
        elsewhere = await mentorship_in_75(client, session, actors)
        await backdate(session, elsewhere, 60)

        figures = await send_daily_reminders(database)
        assert figures.needs_attention >= 2
        told = await events(session, "mentorship.needs_attention")
        (first,) = about(told, silent["id"])
        assert first["entity_type"] == "mentorship"
        assert (first["departement_code"], first["association_id"]) == (
            "53",
            actors.association_a.id,
        )
        reasons = await attention_of(client, actors.educator_53, silent["id"])
        assert first["data"] == {
            "mentor_id": silent["mentor"]["id"],
            "state": "active",
            "reasons": reasons,
        }
        (other,) = about(told, elsewhere)
        assert (other["departement_code"], other["association_id"]) == (
            "75",
            actors.association_b.id,
        )
        assert about(told, healthy["id"]) == [] and about(told, paused["id"]) == []
        # Ids, codes, dates and counts only: nothing of the child.
        assert silent["child"]["id"] not in str(first["data"])
        assert silent["child"]["first_name"] not in str(first["data"])

        # The same day again, and the next day while nothing changed: nothing more.
        again = await send_daily_reminders(database)
        assert again == DailyReminders(0, 0, 0)
        tomorrow = await send_daily_reminders(database, today=TODAY + timedelta(days=1))
        assert tomorrow.needs_attention == 0
        assert len(await events(session, "mentorship.needs_attention")) == len(told)

        # A new reason: told again, with both.
        response = await client.post(
            f"/v1/mentorships/{silent['id']}/objectives",
            json={"title": "Stage", "category": "orientation", "target_date": days(-3).isoformat()},
            headers=actors.educator_53,
        )
        assert response.status_code == 201, response.text
        await send_daily_reminders(database)
        latest = about(await events(session, "mentorship.needs_attention"), silent["id"])
        assert len(latest) == 2
        assert [r["code"] for r in latest[-1]["data"]["reasons"]] == [
            "no_meeting",
            "objectives_stale",
        ]

        # Once fine again it is forgotten; when it needs attention later, it is told again.
        response = await client.post(
            f"/v1/mentorships/{silent['id']}/meetings",
            json={"held_on": TODAY.isoformat(), "duration_minutes": 30, "mode": "remote"},
            headers=actors.coordinator_a,
        )
        assert response.status_code == 201, response.text
        objective = (
            await client.get(
                f"/v1/mentorships/{silent['id']}/objectives", headers=actors.educator_53
            )
        ).json()["items"][0]
        response = await client.patch(
            f"/v1/objectives/{objective['id']}",
            json={"target_date": None},
            headers=actors.educator_53,
        )
        assert response.status_code == 200, response.text
        assert await attention_of(client, actors.educator_53, silent["id"]) == []
        remembered = "SELECT count(*) FROM reminder_sent WHERE entity_id = :id"
        assert (await session.execute(text(remembered), {"id": silent["id"]})).scalar() == 1
        assert (await send_daily_reminders(database)).needs_attention == 0
        assert (await session.execute(text(remembered), {"id": silent["id"]})).scalar() == 0
        later = await send_daily_reminders(database, today=TODAY + timedelta(days=31))
        assert later.needs_attention >= 1
        final = about(await events(session, "mentorship.needs_attention"), silent["id"])
        assert len(final) == 3
        assert final[-1]["data"]["reasons"][0]["since"] == TODAY.isoformat()


class TestHonorabilityExpiring:
    async def test_within_30_days_once_per_mentor_and_expiry_date(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        database: Database,
        actors: Actors,
    ) -> None:
        def check(valid_for: int) -> dict[str, date]:
            return {
                "honorability_checked_on": TODAY - timedelta(days=1000),
                "honorability_valid_until": TODAY + timedelta(days=valid_for),
            }

        a = actors.association_a
        mentors = {
            valid_for: await create_mentor(session, association=a, **check(valid_for))
            for valid_for in (-1, 0, 29, 30, 31)
        }
        gone = await create_mentor(
            session, association=actors.association_b, deleted_at=datetime.now(UTC), **check(10)
        )
        in_b = await create_mentor(session, association=actors.association_b, **check(5))
        await session.commit()
        # A mentor in a live mentorship: the département is told too.
        await make_mentorship(client, session, actors, state="active", mentor=mentors[29])

        await send_daily_reminders(database, today=TODAY)
        told = await events(session, "honorability.expiring")
        for valid_for in (-1, 31):
            assert about(told, mentors[valid_for].id) == [], valid_for
        assert about(told, gone.id) == []
        for valid_for in (0, 30):
            (event,) = about(told, mentors[valid_for].id)
            assert event["entity_type"] == "mentor"
            assert (event["departement_code"], event["association_id"]) == (
                None,
                actors.association_a.id,
            )
            assert event["data"] == {
                "mentor_id": str(mentors[valid_for].id),
                "valid_until": (TODAY + timedelta(days=valid_for)).isoformat(),
                "days_left": valid_for,
            }
        scopes = {(e["departement_code"], e["association_id"]) for e in about(told, mentors[29].id)}
        assert scopes == {(None, actors.association_a.id), ("53", None)}
        (event,) = about(told, in_b.id)
        assert event["association_id"] == actors.association_b.id

        # Run again, the same day or the next: nobody is told twice about the same expiry.
        assert (await send_daily_reminders(database, today=TODAY)).honorability_expiring == 0
        await send_daily_reminders(database, today=TODAY + timedelta(days=1))
        new = (await events(session, "honorability.expiring"))[len(told) :]
        # Tomorrow, the check expiring in 31 days enters the window; nothing else is new.
        assert {str(e["entity_id"]) for e in new} == {str(mentors[31].id)}
        # A new check with a new expiry date is a new occasion.
        await execute(
            session,
            "UPDATE mentor SET honorability_valid_until = :until WHERE id = :id",
            until=TODAY + timedelta(days=20),
            id=mentors[0].id,
        )
        figures = await send_daily_reminders(database, today=TODAY)
        assert figures.honorability_expiring == 1
        assert len(about(await events(session, "honorability.expiring"), mentors[0].id)) == 2


class TestAssessmentDue:
    async def test_due_or_late_once_per_child_and_due_date(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        database: Database,
        actors: Actors,
    ) -> None:
        # Came into care at 13, ten days ago: assessed on arrival, so 10 days late.
        late = await child_in_care(
            session, birth_date=years_before(TODAY, 13), came_into_care_on=days(-10)
        )
        # Not recommended 340 days ago: the renewal is due in 25 days.
        renewal = await child_in_care(session)
        await assess(session, renewal, days(-340), outcome="not_now")
        # Not recommended 100 days ago: renewal far off.
        calm = await child_in_care(session)
        await assess(session, calm, days(-100), outcome="not_now")
        # Too young, first assessment on collège entry, next year.
        young = await child_in_care(
            session, birth_date=years_before(TODAY, 9), college_entry_year=TODAY.year + 2
        )
        elsewhere = await child_in_care(
            session, departement="75", birth_date=years_before(TODAY, 14),
            came_into_care_on=days(-3),
        )  # fmt: skip

        await send_daily_reminders(database, today=TODAY)
        told = await events(session, "assessment.due")
        (event,) = about(told, late.id)
        assert event["entity_type"] == "child"
        assert (event["departement_code"], event["association_id"]) == ("53", None)
        assert event["data"] == {
            "child_id": str(late.id),
            "situation": "assessment_overdue",
            "next_action": "assess",
            "due_on": days(-10).isoformat(),
            "days_late": 10,
        }
        (event,) = about(told, renewal.id)
        assert (event["data"]["due_on"], event["data"]["days_late"]) == (
            years_before(days(-340), -1).isoformat(),
            0,
        )
        assert about(told, calm.id) == [] and about(told, young.id) == []
        (event,) = about(told, elsewhere.id)
        assert (event["departement_code"], event["association_id"]) == ("75", None)
        assert late.first_name not in str(told) and late.reference not in str(told)

        # The same children as the due list's assessments within the 60-day window.
        response = await client.get(
            "/v1/departements/53/due",
            params={"until": days(60).isoformat(), "limit": 200},
            headers=actors.educator_53,
        )
        assert response.status_code == 200, response.text
        listed = {
            item["child"]["id"]
            for item in response.json()["items"]
            if item["kind"] in ("assess", "renew_assessment")
        }
        assert listed == {str(e["entity_id"]) for e in told if e["departement_code"] == "53"}

        # Run twice: nothing more.
        assert (await send_daily_reminders(database, today=TODAY)).assessment_due == 0
        assert len(await events(session, "assessment.due")) == len(told)
        # Assessed now: the next due date is a year away, nothing to tell.
        await assess(session, late, TODAY, outcome="not_now")
        assert (await send_daily_reminders(database, today=TODAY)).assessment_due == 0


class TestOneTransaction:
    async def test_nothing_is_written_when_it_fails(
        self, session: AsyncSession, database: Database, actors: Actors
    ) -> None:
        """An emitted event of an unknown type fails the run: no reminder is remembered."""
        late = await child_in_care(
            session, birth_date=years_before(TODAY, 13), came_into_care_on=days(-10)
        )
        await execute(
            session, "ALTER TABLE event ADD CONSTRAINT no_due CHECK (type <> 'assessment.due')"
        )
        try:
            await send_daily_reminders(database, today=TODAY)
        except Exception as error:  # the violated constraint, whatever its wrapping
            assert "no_due" in str(error)
        else:
            raise AssertionError("the run should have failed")
        remembered = await session.execute(
            text("SELECT count(*) FROM reminder_sent WHERE entity_id = :id"), {"id": late.id}
        )
        assert remembered.scalar() == 0
