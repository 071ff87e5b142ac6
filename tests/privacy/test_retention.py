"""Retention: past its time, personal data is anonymised (what statistics need stays) or
deleted, and the audit trail loses its expired events, through a controlled exception only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from mentorat.cli import app
from mentorat.models import Association
from mentorat.retention.service import apply_retention
from mentorat.settings import Settings
from tests.factories import Actors, child_body
from tests.mentorships.support import (
    accepted_offer_body,
    days_ago,
    new_child,
    new_mentor,
    recommend,
)
from tests.privacy.support import mentorship_life, new_marker, tables_holding
from tests.test_cli import cli_env  # noqa: F401


async def one(session: AsyncSession, sql: str, **params: Any) -> Any:
    return (await session.execute(text(sql), params)).one()


async def execute(session: AsyncSession, sql: str, **params: Any) -> None:
    await session.execute(text(sql), params)
    await session.commit()


async def ended_long_ago(
    client: httpx.AsyncClient, session: AsyncSession, actors: Actors, marker: str
) -> tuple[str, str, str]:
    """A child and a mentor (marked in every free text) whose mentorship ended and who both
    left 6 years ago."""
    body = child_body(
        reference=f"REF-{marker}", first_name=f"Lina{marker}", referent_educator=f"E {marker}"
    )
    body["location"] = body["location"] | {"commune": f"Laval {marker}"}
    response = await client.post("/v1/children", json=body, headers=actors.educator_53)
    assert response.status_code == 201, response.text
    child_id = response.json()["id"]
    response = await client.post(
        f"/v1/children/{child_id}/assessments",
        json={"assessed_on": days_ago(5), "outcome": "not_now", "reason": f"non {marker}"},
        headers=actors.educator_53,
    )
    assert response.status_code == 201, response.text
    await recommend(client, actors.educator_53, child_id, note=f"bilan {marker}")
    body = accepted_offer_body(note=f"offre {marker}")
    body["consents"][0]["opinion"] = f"avis {marker}"
    response = await client.post(
        f"/v1/children/{child_id}/offers", json=body, headers=actors.educator_53
    )
    assert response.status_code == 201, response.text
    association = await session.get(Association, actors.association_a.id)
    assert association is not None
    mentor = await new_mentor(
        session, association, first_name=f"Paul{marker}", email=f"{marker.lower()}@example.org"
    )
    mentorship_id = await mentorship_life(
        client, actors, child_id, str(mentor.id), marker, actors.coordinator_a
    )
    response = await client.post(
        f"/v1/mentorships/{mentorship_id}/transitions",
        json={"to": "ended", "reason": "completed", "note": f"fin {marker}"},
        headers=actors.educator_53,
    )
    assert response.status_code == 200, response.text
    for url in (f"/v1/children/{child_id}", f"/v1/mentors/{mentor.id}"):
        version = (await client.get(url, headers=actors.admin)).headers["ETag"]
        response = await client.delete(url, headers=actors.admin | {"If-Match": version})
        assert response.status_code == 204, response.text
    await execute(
        session,
        "UPDATE mentorship SET ended_at = now() - interval '6 years' WHERE id = :id",
        id=mentorship_id,
    )
    for table, record in (("child", child_id), ("mentor", mentor.id)):
        await execute(
            session,
            f"UPDATE {table} SET deleted_at = now() - interval '6 years' WHERE id = :id",
            id=record,
        )
    return child_id, str(mentor.id), mentorship_id


class TestAnonymisation:
    async def test_past_its_time_only_statistics_stay(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        settings: Settings,
    ) -> None:
        marker = new_marker()
        child_id, mentor_id, mentorship_id = await ended_long_ago(client, session, actors, marker)
        kept = await new_child(session)  # in care: untouched
        await execute(
            session,
            "UPDATE child SET deleted_at = now() - interval '1 year' WHERE id = :id",
            id=actors.child_75.id,
        )  # left a year ago: untouched
        before = await tables_holding(session, marker)
        assert {
            "child",
            "mentor",
            "assessment",
            "offer",
            "offer_consent",
            "meeting",
            "objective_revision",
        } <= set(before)

        report = await apply_retention(session, settings, now=datetime.now(UTC))
        await session.commit()

        assert report.counts[("child", "anonymised")] == 1
        assert report.counts[("mentor", "anonymised")] == 1
        assert await tables_holding(session, marker) == {}
        child = await one(
            session,
            "SELECT departement_code, first_name, birth_date, college_entry_year, postcode,"
            " referent_educator, anonymised_at IS NOT NULL FROM child WHERE id = :id",
            id=child_id,
        )
        assert child == ("53", "anonymised", datetime(2014, 1, 1).date(), 2026, "53000", None, True)
        mentorship = await one(
            session,
            "SELECT state, end_reason, (SELECT count(*) FROM meeting WHERE mentorship_id = :id),"
            " (SELECT count(*) FROM mentorship_event WHERE mentorship_id = :id),"
            " (SELECT count(*) FROM objective_revision WHERE mentorship_id = :id)"
            " FROM mentorship WHERE id = :id",
            id=mentorship_id,
        )
        assert mentorship == ("ended", "completed", 1, 4, 2)
        offers = await one(
            session, "SELECT count(*), min(outcome) FROM offer WHERE child_id = :id", id=child_id
        )
        assert offers == (1, "accepted")
        # The assessments' dates and outcomes and the consent facts stay, without their texts.
        assessments = await one(
            session,
            "SELECT count(*), count(*) FILTER (WHERE outcome = 'not_now'"
            " AND reason = 'anonymised'), count(note), count(DISTINCT author_name)"
            " FROM assessment WHERE child_id = :id",
            id=child_id,
        )
        assert assessments == (2, 1, 0, 1)
        consents = await one(
            session,
            "SELECT count(*), count(opinion), min(recorded_by_name) FROM offer_consent"
            " WHERE offer_id IN (SELECT id FROM offer WHERE child_id = :id)",
            id=child_id,
        )
        assert consents == (2, 0, "anonymised")
        assert report.counts[("assessment", "free text removed")] == 2
        assert report.counts[("offer_consent", "free text removed")] == 2
        assert (await one(session, "SELECT first_name FROM mentor WHERE id = :id", id=mentor_id))[
            0
        ] == "anonymised"
        trail = await one(
            session,
            "SELECT principal_name, action, departement_code, details->>'via' FROM audit_event"
            " WHERE entity_type = 'child' AND entity_id = :id ORDER BY id DESC LIMIT 1",
            id=child_id,
        )
        assert trail == ("system", "update", "53", "retention")
        for untouched in (kept.id, actors.child_75.id):
            row = await one(session, "SELECT anonymised_at FROM child WHERE id = :id", id=untouched)
            assert row == (None,)

    async def test_a_dry_run_reports_the_same_and_changes_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        settings: Settings,
    ) -> None:
        marker = new_marker()
        await ended_long_ago(client, session, actors, marker)
        before = await tables_holding(session, marker)
        dry = await apply_retention(session, settings, now=datetime.now(UTC), dry_run=True)
        await session.rollback()
        assert await tables_holding(session, marker) == before
        real = await apply_retention(session, settings, now=datetime.now(UTC))
        assert dry.counts == real.counts
        assert dry.dry_run and not real.dry_run


class TestExpiredRecords:
    async def test_old_audit_events_and_idempotent_answers_are_deleted(
        self, session: AsyncSession, actors: Actors, settings: Settings
    ) -> None:
        for age, hours in (("13 months", 25), ("11 months", 23)):
            await session.execute(
                text(
                    "INSERT INTO audit_event (occurred_at, principal_name, principal_role,"
                    " action, entity_type, entity_id)"
                    f" VALUES (now() - interval '{age}', 'x', 'admin', 'read', 'child', :age)"
                ),
                {"age": age},
            )
            await session.execute(
                text(
                    "INSERT INTO idempotency_record (principal_id, key, fingerprint, created_at)"
                    f" VALUES (gen_random_uuid(), :age, '\\x00', now() - interval '{hours} hours')"
                ),
                {"age": age},
            )
        await session.commit()
        report = await apply_retention(session, settings, now=datetime.now(UTC))
        assert report.counts[("audit_event", "deleted (expired)")] == 1
        left = await session.scalars(
            text("SELECT entity_id FROM audit_event WHERE entity_id LIKE '%months'")
        )
        assert list(left) == ["11 months"]
        keys = await session.scalars(
            text("SELECT key FROM idempotency_record WHERE key LIKE '%months'")
        )
        assert list(keys) == ["11 months"]

    async def test_the_trail_stays_append_only_outside_retention(
        self, session: AsyncSession, actors: Actors, settings: Settings
    ) -> None:
        await execute(
            session,
            "INSERT INTO audit_event (principal_name, principal_role, action, entity_type,"
            " entity_id) VALUES ('x', 'admin', 'read', 'child', 'recent')",
        )
        await apply_retention(session, settings, now=datetime.now(UTC))
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(text("DELETE FROM audit_event"))
        await session.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(text("UPDATE audit_event SET principal_name = 'x'"))
        await session.rollback()


def test_the_command_prints_its_report(cli_env: CliRunner) -> None:  # noqa: F811
    result = cli_env.invoke(app, ["retention", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run" in result.stdout
    assert "audit_event" in result.stdout and "anonymised" in result.stdout
