"""Candidates come from a per-process snapshot of the département's mentors, kept while the
matching version PostgreSQL bumps is unchanged: a change to any table the arrays are made of,
made through another app instance on the same database (or by anyone else), shows in the next
answer; with no change, the snapshot is used and PostgreSQL is not asked for the mentors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.app import create_app
from mentorat.kit.db import Database
from mentorat.models import (
    AssociationAgreement,
    DepartementMatchingVersion,
    Mentor,
    association_departement,
)
from mentorat.settings import Settings
from tests.factories import (
    Actors,
    create_association,
    create_child,
    create_mentor,
    mentor_body,
)
from tests.mentorships.support import propose


@pytest.fixture(scope="module")
def other_app(settings: Settings) -> FastAPI:
    """A second instance of the service: its own process state, the same database."""
    return create_app(settings)


@pytest.fixture
async def other_client(other_app: FastAPI, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    other_app.state.database = database
    transport = httpx.ASGITransport(app=other_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


class Reader:
    """Asks app A for actors.child_53's candidates and counts A's mentor loads."""

    def __init__(self, client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
        self.client, self.app, self.actors = client, app, actors

    @property
    def loads(self) -> int:
        snapshots = getattr(self.app.state, "mentor_snapshots", None)
        return 0 if snapshots is None else snapshots.loads

    async def candidates(self) -> dict[str, Any]:
        response = await self.client.get(
            f"/v1/children/{self.actors.child_53.id}/mentor-candidates?limit=100",
            headers=self.actors.educator_53,
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def after_change(self, before: dict[str, Any]) -> dict[str, Any]:
        """The next answer, which must come from a fresh load."""
        loads = self.loads
        answer = await self.candidates()
        assert self.loads == loads + 1, "the snapshot was used after a change"
        return answer


@pytest.fixture
async def reader(client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> Reader:
    return Reader(client, app, actors)


def ids(answer: dict[str, Any]) -> list[str]:
    return [candidate["mentor_id"] for candidate in answer["candidates"]]


async def version_of(session: AsyncSession, code: str) -> int | None:
    return await session.scalar(
        select(DepartementMatchingVersion.version).where(
            DepartementMatchingVersion.departement_code == code
        )
    )


class TestSnapshot:
    async def test_unchanged_data_is_answered_from_the_snapshot(
        self, reader: Reader, session: AsyncSession, actors: Actors
    ) -> None:
        await create_mentor(session, association=actors.association_a)
        await session.commit()
        first = await reader.candidates()
        loads = reader.loads
        second = await reader.candidates()
        assert reader.loads == loads, "PostgreSQL was asked for unchanged mentors"
        assert second == first
        assert first["feasible"] >= 1

    async def test_versions_are_never_given_twice(
        self, session: AsyncSession, actors: Actors
    ) -> None:
        await create_mentor(session, association=actors.association_a)
        await session.commit()
        first = await version_of(session, "53")
        await create_mentor(session, association=actors.association_a)
        await session.commit()
        second = await version_of(session, "53")
        assert first is not None and second is not None and second > first
        # Only the départements the association serves: 75 is not served by association_a.
        untouched = await version_of(session, "75")
        await create_mentor(session, association=actors.association_a)
        await session.commit()
        assert await version_of(session, "75") == untouched


class TestEveryChangeShows:
    async def test_a_mentor_change(
        self, reader: Reader, session: AsyncSession, actors: Actors
    ) -> None:
        mentor = await create_mentor(session, association=actors.association_a)
        await session.commit()
        before = await reader.candidates()
        assert str(mentor.id) in ids(before)
        await session.execute(update(Mentor).where(Mentor.id == mentor.id).values(active=False))
        await session.commit()
        after = await reader.after_change(before)
        assert str(mentor.id) not in ids(after)
        inactive = before["excluded_by_reason"].get("mentor_inactive", 0)
        assert after["excluded_by_reason"]["mentor_inactive"] == inactive + 1

    async def test_a_new_mentor_through_the_other_instance(
        self, reader: Reader, other_client: httpx.AsyncClient, actors: Actors
    ) -> None:
        before = await reader.candidates()
        body = mentor_body(association_id=str(actors.association_a.id))
        response = await other_client.post("/v1/mentors", json=body, headers=actors.admin)
        assert response.status_code == 201, response.text
        after = await reader.after_change(before)
        assert after["mentors_considered"] == before["mentors_considered"] + 1
        assert response.json()["id"] not in ids(before)
        assert response.json()["id"] in ids(after)
        assert after["feasible"] == before["feasible"] + 1

    async def test_places_held_by_a_proposal_of_the_other_instance(
        self,
        reader: Reader,
        other_client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
    ) -> None:
        mentor = await create_mentor(session, association=actors.association_a, capacity=1)
        other_child = await create_child(session, departement="53")
        await session.commit()
        before = await reader.candidates()
        assert str(mentor.id) in ids(before)
        response = await propose(other_client, actors.educator_53, other_child.id, mentor.id)
        assert response.status_code == 201, response.text
        after = await reader.after_change(before)
        assert str(mentor.id) not in ids(after)
        full = before["excluded_by_reason"].get("no_capacity_left", 0)
        assert after["excluded_by_reason"]["no_capacity_left"] == full + 1

    async def test_an_exclusion_through_the_other_instance(
        self,
        reader: Reader,
        other_client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
    ) -> None:
        mentor = await create_mentor(session, association=actors.association_a)
        await session.commit()
        before = await reader.candidates()
        response = await other_client.post(
            f"/v1/children/{actors.child_53.id}/exclusions",
            json={"mentor_id": str(mentor.id), "reason": "ancien conflit"},
            headers=actors.educator_53,
        )
        assert response.status_code == 201, response.text
        after = await reader.candidates()
        assert str(mentor.id) in ids(before) and str(mentor.id) not in ids(after)
        excluded = before["excluded_by_reason"].get("pair_excluded", 0)
        assert after["excluded_by_reason"]["pair_excluded"] == excluded + 1

    async def test_an_association_starting_to_serve_the_departement(
        self, reader: Reader, session: AsyncSession
    ) -> None:
        association = await create_association(session, departements=("75",))
        mentor = await create_mentor(session, association=association)
        # Under agreement in 53 already: only the association_departement row is missing.
        session.add(
            AssociationAgreement(
                association_id=association.id,
                departement_code="53",
                signed_on=date(2026, 1, 5),
                valid_from=date(2026, 1, 5),
            )
        )
        await session.commit()
        before = await reader.candidates()
        assert str(mentor.id) not in ids(before)
        await session.execute(
            insert(association_departement).values(
                association_id=association.id, departement_code="53"
            )
        )
        await session.commit()
        after = await reader.after_change(before)
        assert after["mentors_considered"] == before["mentors_considered"] + 1
        assert str(mentor.id) in ids(after)

    async def test_an_association_agreement_ending(
        self, reader: Reader, session: AsyncSession, actors: Actors
    ) -> None:
        mentor = await create_mentor(session, association=actors.association_a)
        await session.commit()
        before = await reader.candidates()
        assert str(mentor.id) in ids(before)
        version = await version_of(session, "53")
        await session.execute(
            update(AssociationAgreement)
            .where(
                AssociationAgreement.association_id == actors.association_a.id,
                AssociationAgreement.departement_code == "53",
            )
            .values(valid_until=AssociationAgreement.valid_from)
        )
        await session.commit()
        assert await version_of(session, "53") != version
        after = await reader.after_change(before)
        assert after["candidates"] == []
        assert after["excluded_by_reason"]["no_agreement"] == before["mentors_considered"]
