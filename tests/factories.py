"""Small factories writing straight to the database, plus a cast of actors in two départements."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.principal import Role
from mentorat.models import Association, Child, Departement, Mentor
from mentorat.profile import WeeklySlot, availability_to_bytes
from mentorat.tokens.schemas import TokenCreate
from mentorat.tokens.service import create_token

_sequence = itertools.count(1)

EVENINGS = [
    WeeklySlot(day="wednesday", start="14:00", end="18:00"),
    WeeklySlot(day="saturday", start="10:00", end="12:00"),
]


def availability(slots: list[WeeklySlot] | None = None) -> bytes:
    return availability_to_bytes(EVENINGS if slots is None else slots)


async def create_association(
    session: AsyncSession, *, departements: tuple[str, ...] = ("53",), **overrides: Any
) -> Association:
    linked = [await session.get(Departement, code) for code in departements]
    values: dict[str, Any] = {"name": f"Association {next(_sequence)}", **overrides}
    association = Association(departements=linked, **values)
    session.add(association)
    await session.flush()
    return association


async def create_child(
    session: AsyncSession, *, departement: str = "53", **overrides: Any
) -> Child:
    number = next(_sequence)
    values: dict[str, Any] = {
        "departement_code": departement,
        "reference": f"ASE-{departement}-{number:05d}",
        "first_name": f"Enfant{number}",
        "birth_date": date(2015, 3, 1),
        "school_level": "6e",
        "college_entry_year": 2026,
        "commune": "Laval",
        "postcode": "53000",
        "latitude": 48.0707,
        "longitude": -0.7734,
        "goals": ["orientation", "confiance"],
        "languages": [],
        "availability": availability(),
        "remote_ok": False,
        **overrides,
    }
    child = Child(**values)
    session.add(child)
    await session.flush()
    return child


async def create_mentor(
    session: AsyncSession, *, association: Association, **overrides: Any
) -> Mentor:
    number = next(_sequence)
    values: dict[str, Any] = {
        "association_id": association.id,
        "first_name": f"Mentor{number}",
        "last_name": "Dupont",
        "email": f"mentor{number}@example.org",
        "commune": "Laval",
        "postcode": "53000",
        "latitude": 48.0707,
        "longitude": -0.7734,
        "travel_radius_km": 20.0,
        "goals": ["orientation", "confiance", "numerique"],
        "languages": ["fr"],
        "availability": availability(),
        "capacity": 1,
        "honorability_checked_on": date(2026, 1, 10),
        "honorability_valid_until": date(2029, 1, 10),
        "active": True,
        **overrides,
    }
    mentor = Mentor(**values)
    session.add(mentor)
    await session.flush()
    return mentor


async def token_for(session: AsyncSession, role: Role, **scope: Any) -> str:
    secret, _, _ = await create_token(
        session, None, TokenCreate(name=f"{role.value} {next(_sequence)}", role=role, **scope)
    )
    return secret


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Actors:
    """Département 53 (association A) and département 75 (association B), with their people."""

    admin: dict[str, str]
    manager_53: dict[str, str]
    educator_53: dict[str, str]
    educator_75: dict[str, str]
    coordinator_a: dict[str, str]
    coordinator_b: dict[str, str]
    mentor_a: dict[str, str]
    association_a: Association
    association_b: Association
    child_53: Child
    child_75: Child
    mentor_a1: Mentor
    mentor_b1: Mentor

    @property
    def everyone(self) -> dict[str, dict[str, str]]:
        return {
            "admin": self.admin,
            "manager_53": self.manager_53,
            "educator_53": self.educator_53,
            "educator_75": self.educator_75,
            "coordinator_a": self.coordinator_a,
            "coordinator_b": self.coordinator_b,
            "mentor_a": self.mentor_a,
        }


async def make_actors(session: AsyncSession) -> Actors:
    association_a = await create_association(session, departements=("53",))
    association_b = await create_association(session, departements=("75",))
    child_53 = await create_child(session, departement="53")
    child_75 = await create_child(
        session,
        departement="75",
        commune="Paris",
        postcode="75011",
        latitude=48.858,
        longitude=2.38,
    )
    mentor_a1 = await create_mentor(session, association=association_a)
    mentor_b1 = await create_mentor(
        session,
        association=association_b,
        commune="Paris",
        postcode="75011",
        latitude=48.86,
        longitude=2.37,
    )
    actors = Actors(
        admin=bearer(await token_for(session, Role.admin)),
        manager_53=bearer(
            await token_for(session, Role.departement_manager, departement_code="53")
        ),
        educator_53=bearer(await token_for(session, Role.educator, departement_code="53")),
        educator_75=bearer(await token_for(session, Role.educator, departement_code="75")),
        coordinator_a=bearer(
            await token_for(session, Role.coordinator, association_id=association_a.id)
        ),
        coordinator_b=bearer(
            await token_for(session, Role.coordinator, association_id=association_b.id)
        ),
        mentor_a=bearer(await token_for(session, Role.mentor, mentor_id=mentor_a1.id)),
        association_a=association_a,
        association_b=association_b,
        child_53=child_53,
        child_75=child_75,
        mentor_a1=mentor_a1,
        mentor_b1=mentor_b1,
    )
    await session.commit()
    return actors


def new_id() -> str:
    return str(uuid.uuid4())
