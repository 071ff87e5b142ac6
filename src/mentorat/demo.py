"""Reproducible demo data for département 53 (Mayenne): associations and their agreements,
children and mentors."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.agreements.service import add_agreement
from mentorat.models import Association, Child, Departement, Mentor, Offer, OfferConsent
from mentorat.profile import WeeklySlot, availability_to_bytes

DEMO_DEPARTEMENT = "53"
DEMO_MARKER_ASSOCIATION = "Les Ombres — Mayenne"


@dataclass(frozen=True)
class Town:
    name: str
    postcode: str
    latitude: float
    longitude: float
    weight: float  # rough share of the population


TOWNS: tuple[Town, ...] = (
    Town("Laval", "53000", 48.0733, -0.7689, 0.30),
    Town("Mayenne", "53100", 48.3031, -0.6136, 0.09),
    Town("Château-Gontier-sur-Mayenne", "53200", 47.8286, -0.7028, 0.10),
    Town("Évron", "53600", 48.1564, -0.4044, 0.05),
    Town("Ernée", "53500", 48.2975, -0.9317, 0.04),
    Town("Craon", "53400", 47.8475, -0.9492, 0.04),
    Town("Gorron", "53120", 48.4108, -0.8144, 0.03),
    Town("Villaines-la-Juhel", "53700", 48.3436, -0.2778, 0.03),
    Town("Lassay-les-Châteaux", "53110", 48.4378, -0.4967, 0.03),
    Town("Meslay-du-Maine", "53170", 47.9544, -0.5522, 0.03),
    Town("Saint-Berthevin", "53940", 48.0686, -0.8294, 0.05),
    Town("Bonchamp-lès-Laval", "53960", 48.0744, -0.7000, 0.04),
    Town("Changé", "53810", 48.0997, -0.7908, 0.05),
    Town("Renazé", "53800", 47.7922, -1.0567, 0.03),
    Town("Pré-en-Pail-Saint-Samson", "53140", 48.4603, -0.1983, 0.03),
    Town("Cossé-le-Vivien", "53230", 47.9444, -0.9119, 0.03),
    Town("Ambrières-les-Vallées", "53300", 48.3994, -0.6186, 0.03),
)

ASSOCIATIONS: tuple[tuple[str, str, str], ...] = (
    (DEMO_MARKER_ASSOCIATION, "Claire Morin", "mayenne@lesombres.example.org"),
    ("Parrains par Mille 53", "Yannick Le Goff", "contact@ppm53.example.org"),
    ("Mentorat Solidaire Laval", "Sophie Besnard", "bonjour@msl.example.org"),
)

CHILD_FIRST_NAMES = (
    "Léa", "Emma", "Jade", "Louise", "Alice", "Chloé", "Lina", "Inès", "Sarah", "Manon",
    "Yasmine", "Aya", "Maëlys", "Camille", "Nour", "Lucas", "Hugo", "Gabriel", "Louis",
    "Adam", "Nathan", "Enzo", "Mohamed", "Noah", "Théo", "Rayan", "Ethan", "Mathis", "Yanis",
    "Kylian", "Ibrahim", "Sacha", "Tom", "Nolan", "Ilyes", "Mamadou", "Maël", "Timéo",
)  # fmt: skip
MENTOR_FIRST_NAMES = (
    "Anne", "Isabelle", "Nathalie", "Sylvie", "Catherine", "Céline", "Sandrine", "Julie",
    "Marion", "Aurélie", "Fatima", "Hélène", "Pierre", "Philippe", "Nicolas", "Laurent",
    "Stéphane", "Olivier", "Julien", "Thomas", "Karim", "Jean", "François", "Mehdi", "David",
)  # fmt: skip
MENTOR_GENDER = {
    name: ("female" if index < 12 else "male") for index, name in enumerate(MENTOR_FIRST_NAMES)
}
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "Bertrand", "Roux",
    "Fournier", "Girard", "Bonnet", "Guérin", "Lemoine", "Barbier", "Chevalier", "Benali",
)  # fmt: skip

YOUNG_GOALS = ("scolarite", "confiance", "numerique", "orientation")
OLDER_GOALS = ("orientation", "stage", "apprentissage", "alternance", "emploi", "numerique")
DOMAINS = tuple(f"rome-{letter}" for letter in "ABCDEFGHIJKLMN")

# Half-hour windows people commonly give: Wednesday afternoon, evenings, Saturday morning.
WINDOWS: tuple[tuple[str, str, str], ...] = (
    ("wednesday", "14:00", "17:00"),
    ("wednesday", "17:00", "19:00"),
    ("monday", "17:30", "19:30"),
    ("tuesday", "17:30", "19:30"),
    ("thursday", "17:30", "19:30"),
    ("friday", "17:00", "19:00"),
    ("saturday", "10:00", "12:00"),
    ("saturday", "14:00", "17:00"),
    ("sunday", "10:00", "12:00"),
)


def _place(rng: np.random.Generator, spread_km: float) -> tuple[Town, float, float]:
    weights = np.array([town.weight for town in TOWNS])
    town = TOWNS[int(rng.choice(len(TOWNS), p=weights / weights.sum()))]
    distance = abs(rng.normal(0, spread_km))
    bearing = rng.uniform(0, 2 * math.pi)
    latitude = town.latitude + distance * math.cos(bearing) / 111.0
    longitude = town.longitude + distance * math.sin(bearing) / (
        111.0 * math.cos(math.radians(town.latitude))
    )
    return town, round(latitude, 5), round(longitude, 5)


def _availability(rng: np.random.Generator, low: int, high: int) -> bytes:
    picks = rng.choice(len(WINDOWS), size=int(rng.integers(low, high + 1)), replace=False)
    return availability_to_bytes(
        [
            WeeklySlot(day=WINDOWS[i][0], start=WINDOWS[i][1], end=WINDOWS[i][2])
            for i in sorted(picks)
        ]
    )


def _pick(rng: np.random.Generator, pool: tuple[str, ...], low: int, high: int) -> list[str]:
    count = int(rng.integers(low, high + 1))
    return sorted(str(code) for code in rng.choice(pool, size=min(count, len(pool)), replace=False))


def _school_level(age: int) -> str:
    levels = {10: "cm2", 11: "6e", 12: "5e", 13: "4e", 14: "3e", 15: "2nde", 16: "1re"}
    return levels.get(age, "terminale" if age >= 17 else "cm2")


def demo_children(rng: np.random.Generator, count: int, today: date) -> list[Child]:
    children = []
    for number in range(1, count + 1):
        age = int(rng.integers(10, 18))
        birth_date = date(today.year - age, 1, 1) + timedelta(days=int(rng.integers(0, 365)))
        town, latitude, longitude = _place(rng, spread_km=4)
        young = age <= 13
        goals = _pick(rng, YOUNG_GOALS if young else OLDER_GOALS, 1, 2)
        if not young:
            goals += _pick(rng, DOMAINS, 0, 1)
        children.append(
            Child(
                departement_code=DEMO_DEPARTEMENT,
                reference=f"ASE53-{today.year}-{number:04d}",
                first_name=str(rng.choice(CHILD_FIRST_NAMES)),
                birth_date=birth_date,
                school_level=_school_level(age),
                college_entry_year=birth_date.year + 11,
                commune=town.name,
                postcode=town.postcode,
                latitude=latitude,
                longitude=longitude,
                goals=sorted(set(goals)),
                availability=_availability(rng, 2, 4),
                mentor_gender_preference=(
                    str(rng.choice(["female", "male"])) if rng.random() < 0.15 else None
                ),
                languages=[str(rng.choice(["ar", "en", "es", "tr"]))]
                if rng.random() < 0.08
                else [],
                remote_ok=bool(rng.random() < 0.3),
                referent_educator=f"{rng.choice(MENTOR_FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            )
        )
    return children


def demo_mentors(
    rng: np.random.Generator, count: int, associations: list[Association], today: date
) -> list[Mentor]:
    mentors = []
    for number in range(1, count + 1):
        first_name = str(rng.choice(MENTOR_FIRST_NAMES))
        last_name = str(rng.choice(LAST_NAMES))
        town, latitude, longitude = _place(rng, spread_km=6)
        goals = (
            _pick(rng, YOUNG_GOALS, 1, 3)
            + _pick(rng, OLDER_GOALS, 1, 3)
            + _pick(rng, DOMAINS, 1, 2)
        )
        honorability = rng.random()
        checked_on = valid_until = None
        if honorability < 0.85:
            checked_on = today - timedelta(days=int(rng.integers(30, 900)))
            valid_until = checked_on + timedelta(days=3 * 365)
        elif honorability < 0.93:
            checked_on = today - timedelta(days=int(rng.integers(1200, 1800)))
            valid_until = checked_on + timedelta(days=3 * 365)
        mentors.append(
            Mentor(
                association_id=associations[number % len(associations)].id,
                first_name=first_name,
                last_name=last_name,
                email=f"{first_name.lower()}.{last_name.lower()}.{number}@example.org".encode(
                    "ascii", "ignore"
                ).decode(),
                commune=town.name,
                postcode=town.postcode,
                latitude=latitude,
                longitude=longitude,
                travel_radius_km=float(rng.choice([10, 15, 20, 25, 30, 40])),
                goals=sorted(set(goals)),
                availability=_availability(rng, 2, 5),
                capacity=int(rng.choice([1, 1, 1, 2])),
                gender=MENTOR_GENDER[first_name],
                languages=[
                    "fr",
                    *(["en"] if rng.random() < 0.4 else []),
                    *(["ar"] if rng.random() < 0.08 else []),
                ],
                remote_ok=bool(rng.random() < 0.4),
                honorability_checked_on=checked_on,
                honorability_valid_until=valid_until,
                training_completed_on=checked_on,
                active=bool(rng.random() < 0.95),
            )
        )
    return mentors


async def load_demo(
    session: AsyncSession,
    *,
    seed: int = 53,
    children: int = 300,
    mentors: int = 200,
    today: date | None = None,
) -> bool:
    """Load the demo set once (False if it is already there). The caller commits."""
    exists = await session.scalar(
        select(Association.id).where(Association.name == DEMO_MARKER_ASSOCIATION)
    )
    if exists is not None:
        return False
    today = today or date.today()
    rng = np.random.default_rng(seed)
    departement = await session.get(Departement, DEMO_DEPARTEMENT)
    associations = [
        Association(
            name=name, contact_name=contact, contact_email=email, departements=[departement]
        )
        for name, contact, email in ASSOCIATIONS
    ]
    session.add_all(associations)
    await session.flush()
    await demo_agreements(session, associations, today)
    demo_kids = demo_children(rng, children, today)
    session.add_all(demo_kids)
    session.add_all(demo_mentors(rng, mentors, associations, today))
    await session.flush()
    offers = demo_offers(rng, demo_kids, today)
    session.add_all(offer for offer, _ in offers)
    await session.flush()
    session.add_all(demo_consents(offers))
    await session.flush()
    return True


def _school_year_start(today: date) -> date:
    return date(today.year if today.month >= 9 else today.year - 1, 9, 1)


async def demo_agreements(
    session: AsyncSession, associations: list[Association], today: date
) -> None:
    """Every association works under an agreement in force today. The first one's expired at
    the end of the school year before last and was renewed for three years from the next day;
    the second's is open-ended; the third signed this school year."""
    start = _school_year_start(today)
    first, second, third = associations

    def years(count: int) -> date:
        return start.replace(year=start.year + count)

    terms = (
        (first, years(-3) - timedelta(days=60), years(-3), years(-1) - timedelta(days=1)),
        (first, years(-1) - timedelta(days=45), years(-1), years(2) - timedelta(days=1)),
        (second, years(-2) - timedelta(days=30), years(-2), None),
        (third, start - timedelta(days=20), start, years(3) - timedelta(days=1)),
    )
    for number, (association, signed_on, valid_from, valid_until) in enumerate(terms, 1):
        await add_agreement(
            session, association_id=association.id, departement_code=DEMO_DEPARTEMENT,
            signed_on=signed_on, valid_from=valid_from, valid_until=valid_until,
            document_reference=f"CD53-PAR-{valid_from.year}-{number:03d}",
        )  # fmt: skip


def demo_offers(
    rng: np.random.Generator, children: list[Child], today: date
) -> list[tuple[Offer, str]]:
    """Most children accepted the offer of a mentor; some have not answered, a few refused."""
    offers = []
    for child in children:
        draw = rng.random()
        answer = "accepted" if draw < 0.8 else "pending" if draw < 0.92 else "refused"
        offered_on = today - timedelta(days=int(rng.integers(5, 200)))
        offer = Offer(
            child_id=child.id,
            departement_code=child.departement_code,
            offered_on=offered_on,
            offered_by_name=child.referent_educator or "ASE 53",
            legal_situation="parental_authority",
        )
        offers.append((offer, answer))
    return offers


def demo_consents(offers: list[tuple[Offer, str]]) -> list[OfferConsent]:
    """The child's answer, and the parents' agreement unless the child refused."""
    consents = []
    for offer, answer in offers:
        if answer == "pending":
            continue
        for party, kind in (
            ("child", "agreed" if answer == "accepted" else "refused"),
            ("parents", "agreed"),
        ):
            if kind == "agreed" and answer == "refused" and party == "parents":
                continue
            consents.append(
                OfferConsent(
                    offer_id=offer.id, party=party, kind=kind,
                    given_on=offer.offered_on + timedelta(days=3),
                    recorded_by_name=offer.offered_by_name,
                )
            )  # fmt: skip
    return consents
