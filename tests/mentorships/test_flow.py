"""The whole life of a mentorship through the API, from offer to end."""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Actors, create_child


async def test_offer_proposal_mentorship_objectives_meetings(
    client: httpx.AsyncClient, session: AsyncSession, actors: Actors
) -> None:
    child = await create_child(session, offer=None)
    await session.commit()

    # Without an accepted offer the child cannot be proposed.
    response = await client.post(
        "/v1/proposals",
        json={"child_id": str(child.id), "mentor_id": str(actors.mentor_a1.id)},
        headers=actors.educator_53,
    )
    assert response.status_code == 409, response.text
    assert response.json()["reason"] == "child_not_eligible"

    # No offer without an assessment recommending mentoring.
    today = date.today().isoformat()
    response = await client.post(
        f"/v1/children/{child.id}/offers", json={}, headers=actors.educator_53
    )
    assert response.status_code == 409, response.text
    response = await client.post(
        f"/v1/children/{child.id}/assessments",
        json={"assessed_on": today, "outcome": "mentoring_recommended"},
        headers=actors.educator_53,
    )
    assert response.status_code == 201, response.text
    assessment = response.json()

    response = await client.post(
        f"/v1/children/{child.id}/offers",
        json={"consents": [{"party": "child", "kind": "agreed", "given_on": today}]},
        headers=actors.educator_53,
    )
    assert response.status_code == 201, response.text
    offer = response.json()
    assert offer["outcome"] == "pending" and offer["assessment_id"] == assessment["id"]
    assert offer["awaiting"] == ["parents"]
    response = await client.post(
        f"/v1/offers/{offer['id']}/consents",
        json={"party": "parents", "kind": "agreed", "given_on": today},
        headers=actors.educator_53 | {"If-Match": response.headers["ETag"]},
    )
    assert response.status_code == 201, response.text
    assert response.json()["outcome"] == "accepted"

    response = await client.post(
        "/v1/proposals",
        json={"child_id": str(child.id), "mentor_id": str(actors.mentor_a1.id)},
        headers=actors.educator_53 | {"Idempotency-Key": "k1"},
    )
    assert response.status_code == 201, response.text
    proposal = response.json()
    retry = await client.post(
        "/v1/proposals",
        json={"child_id": str(child.id), "mentor_id": str(actors.mentor_a1.id)},
        headers=actors.educator_53 | {"Idempotency-Key": "k1"},
    )
    assert retry.status_code == 201 and retry.json()["id"] == proposal["id"]

    response = await client.post(f"/v1/proposals/{proposal['id']}/accept", headers=actors.mentor_a)
    assert response.status_code == 200, response.text
    accepted = response.json()
    assert accepted["status"] == "accepted" and accepted["mentorship_id"]
    assert accepted["child_id"] is None  # the mentor side does not get the child's id

    mentorship_id = accepted["mentorship_id"]
    response = await client.get(f"/v1/mentorships/{mentorship_id}", headers=actors.mentor_a)
    assert response.status_code == 200, response.text
    assert response.json()["child"]["reference"] is None
    assert response.json()["state"] == "accepted"

    response = await client.post(
        f"/v1/mentorships/{mentorship_id}/objectives",
        json={"title": "Trouver un stage de 3e", "category": "stage"},
        headers=actors.educator_53,
    )
    assert response.status_code == 201, response.text
    objective = response.json()
    response = await client.patch(
        f"/v1/objectives/{objective['id']}",
        json={"status": "in_progress", "progress": 40},
        headers=actors.mentor_a,
    )
    assert response.status_code == 200, response.text
    history = (
        await client.get(f"/v1/objectives/{objective['id']}/history", headers=actors.educator_53)
    ).json()["items"]
    assert [h["changed_fields"] for h in history][1] == ["progress", "status"]

    response = await client.post(
        f"/v1/mentorships/{mentorship_id}/meetings",
        json={
            "held_on": __import__("datetime").date.today().isoformat(),
            "duration_minutes": 60,
            "mode": "in_person",
        },
        headers=actors.mentor_a,
    )
    assert response.status_code == 201, response.text
    mentorship = (
        await client.get(f"/v1/mentorships/{mentorship_id}", headers=actors.educator_53)
    ).json()
    assert mentorship["state"] == "active"
    assert mentorship["cadence"]["meetings"] == 1

    timeline = (
        await client.get(f"/v1/mentorships/{mentorship_id}/timeline", headers=actors.educator_53)
    ).json()
    kinds = [entry["kind"] for entry in timeline["items"]]
    assert (
        kinds.count("event") == 2 and kinds.count("objective_revision") == 2 and "meeting" in kinds
    )

    response = await client.post(
        f"/v1/mentorships/{mentorship_id}/transitions",
        json={"to": "accepted"},
        headers=actors.educator_53,
    )
    assert response.status_code == 409
    response = await client.post(
        f"/v1/mentorships/{mentorship_id}/transitions",
        json={"to": "ended", "reason": "safeguarding"},
        headers=actors.educator_53,
    )
    assert response.status_code == 200, response.text
    response = await client.get(f"/v1/children/{child.id}/exclusions", headers=actors.educator_53)
    assert [e["mentor_id"] for e in response.json()["items"]] == [str(actors.mentor_a1.id)]
