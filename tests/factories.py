"""Small factories writing straight to the database, plus a cast of actors in two départements."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.agreements.service import add_agreement
from mentorat.auth.principal import Role
from mentorat.auth.tokens import display_prefix, hash_token, new_token
from mentorat.models import (
    ApiToken,
    Assessment,
    Association,
    Child,
    Departement,
    Mentor,
    Offer,
    OfferConsent,
)
from mentorat.models import Principal as PrincipalRow
from mentorat.models.legal import REQUIRED_PARTIES
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


AGREEMENTS_SINCE = date(2020, 1, 1)


async def create_association(
    session: AsyncSession,
    *,
    departements: tuple[str, ...] = ("53",),
    agreements: bool = True,
    **overrides: Any,
) -> Association:
    """An association serving `departements`, by default under an open-ended agreement with
    each (signed and in force since AGREEMENTS_SINCE), so its mentors may be matched there."""
    linked = [await session.get(Departement, code) for code in departements]
    values: dict[str, Any] = {"name": f"Association {next(_sequence)}", **overrides}
    association = Association(departements=linked, **values)
    session.add(association)
    await session.flush()
    if agreements:
        for code in departements:
            await add_agreement(
                session, association_id=association.id, departement_code=code,
                signed_on=AGREEMENTS_SINCE, valid_from=AGREEMENTS_SINCE,
            )  # fmt: skip
    return association


async def create_child(
    session: AsyncSession,
    *,
    departement: str = "53",
    offer: str | None = "accepted",
    **overrides: Any,
) -> Child:
    """A child; by default with an accepted offer, so eligible for matching."""
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
    if offer is not None:
        await create_offer(session, child, answer=offer)
    return child


async def create_assessment(
    session: AsyncSession,
    child: Child,
    *,
    assessed_on: date = date(2026, 8, 25),
    outcome: str = "mentoring_recommended",
) -> Assessment:
    assessment = Assessment(
        child_id=child.id,
        departement_code=child.departement_code,
        assessed_on=assessed_on,
        author_name="Factory",
        outcome=outcome,
        reason=None if outcome == "mentoring_recommended" else "Factory reason",
    )
    session.add(assessment)
    await session.flush()
    return assessment


async def create_offer(session: AsyncSession, child: Child, *, answer: str = "accepted") -> Offer:
    """An offer resting on a recommending assessment; `answer` is every required party's
    (a refusal: the first required party's, which decides the offer)."""
    assessment = await create_assessment(session, child)
    offer = Offer(
        child_id=child.id,
        departement_code=child.departement_code,
        offered_on=date(2026, 9, 1),
        offered_by_name="Factory",
        legal_situation=child.legal_situation or "parental_authority",
        assessment_id=assessment.id,
    )
    session.add(offer)
    await session.flush()
    if answer != "pending":
        kind = "agreed" if answer == "accepted" else "refused"
        session.add_all(
            OfferConsent(
                offer_id=offer.id, party=party, kind=kind, given_on=date(2026, 9, 2),
                recorded_by_name="Factory",
            )
            for party in REQUIRED_PARTIES[offer.legal_situation][: 1 if kind == "refused" else None]
        )  # fmt: skip
        await session.flush()
        await session.refresh(offer)
    return offer


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


async def _bearers(
    session: AsyncSession, **people: tuple[Role, dict[str, Any]]
) -> dict[str, dict[str, str]]:
    """Principals with one token each, in one flush (token_for's checks and audit row skipped)."""
    headers = {}
    for name, (role, scope) in people.items():
        secret = new_token()
        holder = PrincipalRow(name=f"{name} {next(_sequence)}", role=role.value, **scope)
        session.add(
            ApiToken(principal=holder, token_hash=hash_token(secret), prefix=display_prefix(secret))
        )
        headers[name] = bearer(secret)
    await session.flush()
    return headers


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def secret_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


LAVAL = {"commune": "Laval", "postcode": "53000", "latitude": 48.0707, "longitude": -0.7734}


def child_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /v1/children body."""
    return {
        "reference": f"NEW-{next(_sequence):05d}",
        "first_name": "Inès",
        "birth_date": "2014-09-02",
        "school_level": "6e",
        "college_entry_year": 2026,
        "location": LAVAL,
        "goals": ["confiance", "orientation"],
        "availability": [{"day": "wednesday", "start": "14:00", "end": "16:00"}],
        **overrides,
    }


def mentor_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /v1/mentors body."""
    return {
        "first_name": "Claire",
        "last_name": "Martin",
        "email": f"claire{next(_sequence)}@example.org",
        "location": LAVAL,
        "goals": ["numerique", "orientation"],
        "availability": [{"day": "saturday", "start": "10:00", "end": "12:00"}],
        "honorability_check": {"checked_on": "2026-01-05", "valid_until": "2029-01-05"},
        **overrides,
    }


ACTOR_NAMES = (
    "admin",
    "manager_53",
    "educator_53",
    "educator_75",
    "coordinator_a",
    "coordinator_b",
    "mentor_a",
)


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
        return {name: getattr(self, name) for name in ACTOR_NAMES}


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
    headers = await _bearers(
        session,
        admin=(Role.admin, {}),
        manager_53=(Role.departement_manager, {"departement_code": "53"}),
        educator_53=(Role.educator, {"departement_code": "53"}),
        educator_75=(Role.educator, {"departement_code": "75"}),
        coordinator_a=(Role.coordinator, {"association_id": association_a.id}),
        coordinator_b=(Role.coordinator, {"association_id": association_b.id}),
        mentor_a=(Role.mentor, {"mentor_id": mentor_a1.id}),
    )
    actors = Actors(
        **headers,
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
