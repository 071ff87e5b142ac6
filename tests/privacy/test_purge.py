"""A purge leaves nothing of the person anywhere in the database, except bare ids in the
audit trail (RGPD art. 17)."""

from __future__ import annotations

from unittest.mock import ANY

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.models import Association
from tests.conftest import run_queued_jobs
from tests.factories import Actors, child_body
from tests.mentorships.support import accepted_offer_body, days_ago, new_child, new_mentor
from tests.privacy.support import get_ok, mentorship_life, new_marker, post_twice, tables_holding


class TestChildPurge:
    async def test_the_marker_is_nowhere_after_the_purge(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        marker = new_marker()
        body = child_body(
            reference=f"REF-{marker}",
            first_name=f"Lina{marker}",
            referent_educator=f"Educ {marker}",
        )
        body["location"] = body["location"] | {"commune": f"Laval {marker}"}
        response = await client.post("/v1/children", json=body, headers=actors.educator_53)
        assert response.status_code == 201, response.text
        child_id = response.json()["id"]
        association = await session.get(Association, actors.association_a.id)
        assert association is not None
        mentor = await new_mentor(session, association)
        excluded = await new_mentor(session, association)
        bystander = await new_child(session, mentor_gender_preference="male")  # left unmatched

        await post_twice(
            client,
            f"/v1/children/{child_id}/assessments",
            {
                "assessed_on": days_ago(10),
                "outcome": "not_now",
                "reason": f"pas encore {marker}",
                "note": f"bilan {marker}",
            },
            actors.educator_53,
        )
        await post_twice(
            client,
            f"/v1/children/{child_id}/assessments",
            {
                "assessed_on": days_ago(1),
                "outcome": "mentoring_recommended",
                "note": f"ok {marker}",
            },
            actors.educator_53,
        )
        consents = accepted_offer_body()["consents"]
        consents[0]["opinion"] = f"avis {marker}"
        offer = await post_twice(
            client,
            f"/v1/children/{child_id}/offers",
            {"note": f"offre {marker}", "consents": consents[:1]},
            actors.educator_53,
        )
        await post_twice(
            client, f"/v1/offers/{offer['id']}/consents", consents[1], actors.educator_53
        )
        for url in (f"/v1/children/{child_id}/assessments", f"/v1/offers/{offer['id']}"):
            await get_ok(client, url, actors.educator_53)
        response = await client.post(
            f"/v1/children/{child_id}/exclusions",
            json={"mentor_id": str(excluded.id), "reason": f"exclu {marker}"},
            headers=actors.educator_53,
        )
        assert response.status_code == 201, response.text

        # A matching run proposes the pair; the educator declines it with a reason.
        response = await client.post(
            "/v1/matching-runs",
            json={
                "child_ids": [child_id, str(bystander.id)],
                "mentor_ids": [str(mentor.id)],
                "min_score": 0,
            },
            headers=actors.manager_53,
        )
        assert response.status_code == 202, response.text
        await run_queued_jobs(client)
        run = response.json()
        run_proposals = await get_ok(
            client, f"/v1/matching-runs/{run['id']}/proposals", actors.manager_53
        )
        await get_ok(client, f"/v1/matching-runs/{run['id']}/unmatched", actors.manager_53)
        (run_proposal,) = [p for p in run_proposals["items"] if p["child_id"] == child_id]
        await post_twice(
            client,
            f"/v1/proposals/{run_proposal['id']}/decline",
            {"reason": f"non {marker}"},
            actors.educator_53,
        )
        await mentorship_life(
            client, actors, child_id, str(mentor.id), marker, actors.coordinator_a
        )
        for url in (f"/v1/children/{child_id}", "/v1/children", "/v1/proposals"):
            await get_ok(client, url, actors.educator_53)

        before = await tables_holding(session, marker)
        assert {
            "child",
            "assessment",
            "offer",
            "offer_consent",
            "pair_exclusion",
            "proposal",
            "mentorship_event",
            "objective",
            "objective_revision",
            "meeting",
            "idempotency_record",
        } <= set(before)

        response = await client.delete(f"/v1/children/{child_id}/purge", headers=actors.admin)
        assert response.status_code == 204, response.text

        assert await tables_holding(session, marker) == {}
        # The audit trail alone keeps the child's bare id (who read or changed it, when): the
        # events about the child (the run's proposal.created among them) go with the purge.
        assert await tables_holding(session, child_id) == {"audit_event": ANY}
        # The bystander's run result stays.
        assert "matching_run_unmatched" in await tables_holding(session, str(bystander.id))


class TestMentorPurge:
    async def test_the_marker_is_nowhere_after_the_purge(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        marker = new_marker()
        association = await session.get(Association, actors.association_a.id)
        assert association is not None
        mentor = await new_mentor(
            session,
            association,
            first_name=f"Paul{marker}",
            last_name=f"Durand{marker}",
            email=f"{marker.lower()}@example.org",
            commune=f"Laval {marker}",
        )
        child = await new_child(session)
        response = await client.post(
            "/v1/tokens",
            json={"name": f"Paul {marker}", "role": "mentor", "mentor_id": str(mentor.id)},
            headers=actors.admin,
        )
        assert response.status_code == 201, response.text
        mentor_headers = {"Authorization": f"Bearer {response.json()['token']}"}
        await get_ok(client, f"/v1/mentors/{mentor.id}", mentor_headers)
        await mentorship_life(client, actors, str(child.id), str(mentor.id), marker, mentor_headers)
        await get_ok(client, "/v1/proposals", mentor_headers)
        assert {"mentor", "principal", "audit_event", "idempotency_record"} <= set(
            await tables_holding(session, marker)
        )

        response = await client.delete(f"/v1/mentors/{mentor.id}/purge", headers=actors.admin)
        assert response.status_code == 204, response.text

        assert await tables_holding(session, marker) == {}
        assert await tables_holding(session, str(mentor.id)) == {"audit_event": ANY}
        # The child stays, with its care history, assessment and offer; the mentorship went
        # with the mentor.
        assert set(await tables_holding(session, str(child.id))) == {
            "child",
            "child_care_revision",
            "assessment",
            "offer",
            "audit_event",
        }
