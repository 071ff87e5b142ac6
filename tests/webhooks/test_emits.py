"""Every proposal and mentorship change writes its event in its own transaction: present
after the change, absent when the change is rolled back."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.principal import Principal, Role
from mentorat.kit.db import Database
from mentorat.mentorships import service as mentorships
from mentorat.proposals import service as proposals
from tests.factories import Actors
from tests.mentorships.support import new_child, new_mentor, propose, run_proposal, transition
from tests.webhooks.support import register, rows, scalar


async def _events(session: AsyncSession, entity_id: str) -> list[dict[str, Any]]:
    found = await rows(
        session,
        "SELECT type, entity_type, departement_code, association_id, data FROM event "
        "WHERE entity_id = :id ORDER BY seq",
        id=entity_id,
    )
    return [dict(row) for row in found]


def _proposal_data(proposal: dict[str, Any], association_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "proposal_id": proposal["id"],
        "run_id": proposal["run_id"],
        "child_id": proposal["child_id"],
        "mentor_id": proposal["mentor_id"],
        "association_id": association_id,
        "departement_code": "53",
        "status": proposal["status"],
        "mentorship_id": None,
    } | changes


EDUCATOR = Principal(id=uuid.uuid4(), name="Aline", role=Role.educator, departement_code="53")


class TestProposalEvents:
    async def test_an_educators_proposal_is_created_then_accepted(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        association = str(actors.association_a.id)
        response = await propose(
            client, actors.educator_53, actors.child_53.id, actors.mentor_a1.id
        )
        assert response.status_code == 201, response.text
        proposal = response.json()
        response = await client.post(
            f"/v1/proposals/{proposal['id']}/accept", headers=actors.coordinator_a
        )
        assert response.status_code == 200, response.text
        accepted = response.json()

        events = await _events(session, proposal["id"])
        assert [event["type"] for event in events] == ["proposal.created", "proposal.accepted"]
        assert all(event["entity_type"] == "proposal" for event in events)
        assert all(event["departement_code"] == "53" for event in events)
        assert all(str(event["association_id"]) == association for event in events)
        assert events[0]["data"] == _proposal_data(proposal, association)
        assert events[1]["data"] == _proposal_data(
            proposal, association, status="accepted", mentorship_id=accepted["mentorship_id"]
        )

    async def test_a_runs_proposal_is_validated_then_declined(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session)
        mentor = await new_mentor(session, actors.association_a)
        proposal = await run_proposal(client, actors, child, mentor)
        before = await _events(session, proposal["id"])
        response = await client.post(
            f"/v1/proposals/{proposal['id']}/validate", headers=actors.educator_53
        )
        assert response.status_code == 200, response.text
        response = await client.post(
            f"/v1/proposals/{proposal['id']}/decline",
            json={"reason": "Le mentor déménage."},
            headers=actors.coordinator_a,
        )
        assert response.status_code == 200, response.text

        events = (await _events(session, proposal["id"]))[len(before) :]
        association = str(actors.association_a.id)
        assert [(event["type"], event["data"]) for event in events] == [
            ("proposal.validated", _proposal_data(proposal, association)),
            ("proposal.declined", _proposal_data(proposal, association, status="declined")),
        ]
        assert "déménage" not in str(events)

    async def test_validation_that_completes_the_pair_names_the_mentorship(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child = await new_child(session)
        mentor = await new_mentor(session, actors.association_a)
        proposal = await run_proposal(client, actors, child, mentor)
        await client.post(f"/v1/proposals/{proposal['id']}/accept", headers=actors.coordinator_a)
        response = await client.post(
            f"/v1/proposals/{proposal['id']}/validate", headers=actors.manager_53
        )
        assert response.status_code == 200, response.text
        events = await _events(session, proposal["id"])
        validated = [event for event in events if event["type"] == "proposal.validated"]
        (event,) = validated
        assert event["data"]["status"] == "accepted"
        assert event["data"]["mentorship_id"] == response.json()["mentorship_id"]


class TestMentorshipEvents:
    async def test_started_once_and_ended_with_its_reason(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        response = await propose(
            client, actors.educator_53, actors.child_53.id, actors.mentor_a1.id
        )
        response = await client.post(
            f"/v1/proposals/{response.json()['id']}/accept", headers=actors.coordinator_a
        )
        mentorship_id = response.json()["mentorship_id"]
        assert await _events(session, mentorship_id) == []
        for to, reason in (
            ("active", None),
            ("paused", None),
            ("active", None),
            ("ended", "placement_change"),
        ):
            response = await transition(client, actors.educator_53, mentorship_id, to, reason)
            assert response.status_code == 200, response.text
        mentorship = response.json()

        events = await _events(session, mentorship_id)
        assert [event["type"] for event in events] == ["mentorship.started", "mentorship.ended"]
        base = {
            "mentorship_id": mentorship_id,
            "proposal_id": mentorship["proposal_id"],
            "child_id": str(actors.child_53.id),
            "mentor_id": str(actors.mentor_a1.id),
            "association_id": str(actors.association_a.id),
            "departement_code": "53",
        }
        assert events[0]["data"] == base | {"state": "active", "end_reason": None}
        assert events[1]["data"] == base | {"state": "ended", "end_reason": "placement_change"}
        assert all(str(event["association_id"]) == str(actors.association_a.id) for event in events)


class TestRolledBack:
    async def test_a_change_rolled_back_leaves_no_event_and_no_delivery(
        self,
        client: httpx.AsyncClient,
        database: Database,
        session: AsyncSession,
        actors: Actors,
    ) -> None:
        await register(client, actors.admin, "https://ase.example.fr/hooks")
        child = await new_child(session)
        mentor = await new_mentor(session, actors.association_a)
        proposal = await run_proposal(client, actors, child, mentor)
        events_before = await scalar(session, "SELECT count(*) FROM event")
        # The run told its own events (the proposal created, the run succeeded) already.
        deliveries_before = await scalar(session, "SELECT count(*) FROM webhook_delivery")
        async with database.sessionmaker() as work:
            await proposals.validate(work, EDUCATOR, proposal["id"])
            assert await scalar(work, "SELECT count(*) FROM event") == events_before + 1
            assert (
                await scalar(work, "SELECT count(*) FROM webhook_delivery") == deliveries_before + 1
            )
            await work.rollback()
        async with database.sessionmaker() as work:
            await proposals.decline(work, EDUCATOR, proposal["id"], "non")
            await work.rollback()

        assert await scalar(session, "SELECT count(*) FROM event") == events_before
        assert await scalar(session, "SELECT count(*) FROM webhook_delivery") == deliveries_before
        response = await client.get(f"/v1/proposals/{proposal['id']}", headers=actors.educator_53)
        assert response.json()["status"] == "pending"
        assert response.json()["validated_at"] is None

    async def test_a_transition_rolled_back_leaves_no_event(
        self, client: httpx.AsyncClient, database: Database, session: AsyncSession, actors: Actors
    ) -> None:
        response = await propose(
            client, actors.educator_53, actors.child_53.id, actors.mentor_a1.id
        )
        response = await client.post(
            f"/v1/proposals/{response.json()['id']}/accept", headers=actors.coordinator_a
        )
        mentorship_id = response.json()["mentorship_id"]
        async with database.sessionmaker() as work:
            for to, reason in (("active", None), ("ended", "other")):
                await mentorships.transition(
                    work, EDUCATOR, mentorship_id, to, reason=reason, note=None, if_match=None
                )
            assert len(await _events(work, mentorship_id)) == 2
            await work.rollback()
        assert await _events(session, mentorship_id) == []
        response = await client.get(f"/v1/mentorships/{mentorship_id}", headers=actors.educator_53)
        assert response.json()["state"] == "accepted"


class TestPurge:
    async def test_a_purged_childs_events_and_their_deliveries_are_gone(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        await register(client, actors.admin, "https://ase.example.fr/hooks")
        child = await new_child(session)
        response = await propose(client, actors.educator_53, child.id, actors.mentor_a1.id)
        mentor = await new_mentor(session, actors.association_a)
        other = await propose(client, actors.educator_53, actors.child_53.id, mentor.id)
        assert response.status_code == other.status_code == 201
        assert await scalar(session, "SELECT count(*) FROM webhook_delivery") == 2

        response = await client.delete(f"/v1/children/{child.id}/purge", headers=actors.admin)
        assert response.status_code == 204, response.text

        assert (
            await scalar(
                session, "SELECT count(*) FROM event WHERE data::text LIKE :id", id=f"%{child.id}%"
            )
            == 0
        )
        remaining = await rows(
            session, "SELECT e.data FROM webhook_delivery d JOIN event e ON e.id = d.event_id"
        )
        assert [row["data"]["child_id"] for row in remaining] == [str(actors.child_53.id)]
