"""Right of access: one JSON document with everything held about a child or a mentor."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.principal import Role
from tests.factories import Actors, bearer, token_for
from tests.mentorships.support import assert_problem, make_mentorship


async def lived_mentorship(
    client: httpx.AsyncClient, session: AsyncSession, actors: Actors
) -> dict[str, Any]:
    """Mentor A1 and a new child of 53: active, with an objective revised and a meeting."""
    mentorship = await make_mentorship(client, session, actors, mentor=actors.mentor_a1)
    base = f"/v1/mentorships/{mentorship['id']}"
    response = await client.post(
        f"{base}/meetings",
        json={"held_on": date.today().isoformat(), "duration_minutes": 50, "mode": "in_person"},
        headers=actors.mentor_a,
    )
    assert response.status_code == 201, response.text
    objective = (
        await client.post(
            f"{base}/objectives",
            json={"title": "Trouver un stage", "category": "stage"},
            headers=actors.mentor_a,
        )
    ).json()
    response = await client.patch(
        f"/v1/objectives/{objective['id']}", json={"progress": 50}, headers=actors.mentor_a
    )
    assert response.status_code == 200, response.text
    return mentorship


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["id"] for row in rows]


class TestChildExport:
    async def test_everything_about_the_child(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await lived_mentorship(client, session, actors)
        child_id = mentorship["child"]["id"]
        response = await client.get(f"/v1/children/{child_id}/export", headers=actors.manager_53)
        assert response.status_code == 200, response.text
        document = response.json()
        assert document["subject"] == {"type": "child", "id": child_id}
        assert document["child"]["first_name"] == mentorship["child"]["first_name"]
        assert document["child"]["reference"] == mentorship["child"]["reference"]
        assert document["child"]["availability"][0]["day"] == "wednesday"
        assert [o["outcome"] for o in document["offers"]] == ["accepted"]
        (offer,) = document["offers"]
        assert [(c["party"], c["kind"]) for c in offer["consents"]] == [
            ("child", "agreed"),
            ("parents", "agreed"),
        ]
        assert [a["id"] for a in document["assessments"]] == [offer["assessment_id"]]
        assert document["assessments"][0]["outcome"] == "mentoring_recommended"
        assert ids(document["proposals"]) == [mentorship["proposal_id"]]
        (exported,) = document["mentorships"]
        assert exported["id"] == mentorship["id"]
        assert [e["to_state"] for e in exported["events"]] == ["accepted", "active"]
        (objective,) = exported["objectives"]
        assert [r["revision"] for r in objective["revisions"]] == [1, 2]
        assert [m["duration_minutes"] for m in exported["meetings"]] == [50]
        about = {(e["entity_type"], e["entity_id"]) for e in document["audit_events"]}
        assert ("mentorship", mentorship["id"]) in about
        assert ("proposal", mentorship["proposal_id"]) in about
        assert ("child", child_id) in about
        # Nothing internal, nothing about anyone else's record.
        assert "goals_mask" not in document["child"]
        assert all(e["entity_id"] != str(actors.child_53.id) for e in document["audit_events"])

    async def test_the_export_is_audited(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child_id = str(actors.child_53.id)
        response = await client.get(f"/v1/children/{child_id}/export", headers=actors.admin)
        assert response.status_code == 200, response.text
        exports = await session.scalar(
            text(
                "SELECT count(*) FROM audit_event WHERE entity_type = 'child'"
                " AND entity_id = :id AND details->>'via' = 'export'"
            ),
            {"id": child_id},
        )
        assert exports == 1

    async def test_a_soft_deleted_child_is_exported(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        child_id = str(actors.child_53.id)
        response = await client.delete(f"/v1/children/{child_id}", headers=actors.educator_53)
        assert response.status_code == 204
        response = await client.get(f"/v1/children/{child_id}/export", headers=actors.manager_53)
        assert response.status_code == 200, response.text
        assert response.json()["child"]["deleted_at"] is not None

    @pytest.mark.parametrize("who", ["educator_53", "coordinator_a", "mentor_a"])
    async def test_other_roles_may_not(
        self, client: httpx.AsyncClient, actors: Actors, who: str
    ) -> None:
        response = await client.get(
            f"/v1/children/{actors.child_53.id}/export", headers=getattr(actors, who)
        )
        assert_problem(response, 403)

    async def test_another_departements_manager_gets_404(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        manager_75 = bearer(
            await token_for(session, Role.departement_manager, departement_code="75")
        )
        await session.commit()
        response = await client.get(f"/v1/children/{actors.child_53.id}/export", headers=manager_75)
        assert_problem(response, 404)
        response = await client.get(f"/v1/children/{actors.child_75.id}/export", headers=manager_75)
        assert response.status_code == 200


class TestMentorExport:
    async def test_everything_about_the_mentor_and_nothing_about_the_child(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await lived_mentorship(client, session, actors)
        mentor_id = str(actors.mentor_a1.id)
        response = await client.get(f"/v1/mentorships/{mentorship['id']}", headers=actors.mentor_a)
        assert response.status_code == 200  # a read of the child, audited with the child's id
        response = await client.get(f"/v1/mentors/{mentor_id}/export", headers=actors.mentor_a)
        assert response.status_code == 200, response.text
        document = response.json()
        assert document["subject"] == {"type": "mentor", "id": mentor_id}
        assert document["mentor"]["last_name"] == actors.mentor_a1.last_name
        assert document["mentor"]["honorability_valid_until"] == "2029-01-10"
        (principal,) = document["principals"]
        (token,) = document["tokens"]
        assert "token_hash" not in token and token["principal_id"] == principal["id"]
        assert ids(document["proposals"]) == [mentorship["proposal_id"]]
        (exported,) = document["mentorships"]
        assert [e["to_state"] for e in exported["events"]] == ["accepted", "active"]
        assert len(exported["objectives"][0]["revisions"]) == 2
        assert len(exported["meetings"]) == 1
        by_them = [e for e in document["audit_events"] if e["principal_id"] == principal["id"]]
        assert {e["entity_type"] for e in by_them} >= {"meeting", "objective"}
        child = mentorship["child"]
        assert child["id"] not in response.text
        assert child["first_name"] not in response.text

    @pytest.mark.parametrize(("who", "status"), [("admin", 200), ("coordinator_a", 200)])
    async def test_admin_and_coordinator(
        self, client: httpx.AsyncClient, actors: Actors, who: str, status: int
    ) -> None:
        response = await client.get(
            f"/v1/mentors/{actors.mentor_a1.id}/export", headers=getattr(actors, who)
        )
        assert response.status_code == status, response.text

    @pytest.mark.parametrize(
        ("who", "mentor", "status"),
        [
            ("coordinator_b", "mentor_a1", 404),
            ("coordinator_a", "mentor_b1", 404),
            ("mentor_a", "mentor_b1", 404),
            ("educator_53", "mentor_a1", 403),
            ("manager_53", "mentor_a1", 403),
        ],
    )
    async def test_outside_scope(
        self, client: httpx.AsyncClient, actors: Actors, who: str, mentor: str, status: int
    ) -> None:
        response = await client.get(
            f"/v1/mentors/{getattr(actors, mentor).id}/export", headers=getattr(actors, who)
        )
        assert_problem(response, status)
