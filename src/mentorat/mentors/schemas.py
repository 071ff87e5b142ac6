from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from mentorat.kit.schemas import (
    Email,
    Flag,
    Integer,
    IsoDate,
    NonEmptyStr,
    Number,
    Phone,
    ReadSchema,
    Schema,
    UpdateSchema,
    rounded,
)
from mentorat.models.mentor import MAX_CAPACITY, MAX_TRAVEL_RADIUS_KM
from mentorat.profile import Availability, Goals, Languages, Location, WeeklySlot
from mentorat.vocabulary import GENDERS

EARLIEST_DATE = date(1990, 1, 1)
MAX_HONORABILITY_VALIDITY = timedelta(days=3653)  # a plausibility bound, not a legal rule


def _past_date(value: date | None) -> date | None:
    if value is not None and not EARLIEST_DATE <= value <= date.today() + timedelta(days=1):
        raise ValueError("must be a past date, from 1990 on")
    return value


PastDate = Annotated[IsoDate, AfterValidator(_past_date)]
Gender = Literal[GENDERS]  # type: ignore[valid-type]
Capacity = Annotated[Integer, Field(ge=1, le=MAX_CAPACITY, description="Simultaneous mentees.")]
TravelRadius = Annotated[
    Number,
    Field(ge=0.1, le=MAX_TRAVEL_RADIUS_KM, description="Kilometres, kept to 0.1 km."),
    rounded(1),  # the column is numeric(4, 1)
]

MentorReference = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._/-]+$",
        description="The association's own reference (unique in it); spreadsheet imports "
        "match rows to mentors by it.",
    ),
]


CHECKED_ON = "Date the contrôle d'honorabilité was made (ISO date)."
VALID_UNTIL = "Last day the contrôle d'honorabilité is valid (ISO date, included)."


class HonorabilityCheck(Schema):
    """Contrôle d'honorabilité: without a valid one, a mentor is never matched."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"checked_on": "2026-06-15", "valid_until": "2029-06-14"}]}
    )

    checked_on: IsoDate = Field(description=CHECKED_ON + " Not in the future, from 1990 on.")
    valid_until: IsoDate = Field(
        description=VALID_UNTIL + " Not before checked_on, at most 10 years after it."
    )

    @model_validator(mode="after")
    def _plausible(self) -> Self:
        if self.valid_until < self.checked_on:
            raise ValueError("valid_until must not be before checked_on")
        if not EARLIEST_DATE <= self.checked_on <= date.today() + timedelta(days=1):
            raise ValueError("checked_on must be a past date")
        if self.valid_until > self.checked_on + MAX_HONORABILITY_VALIDITY:
            raise ValueError("a check is not valid for more than 10 years")
        return self


class HonorabilityCheckRead(ReadSchema):
    """The mentor's contrôle d'honorabilité on record."""

    checked_on: date = Field(description=CHECKED_ON)
    valid_until: date = Field(description=VALID_UNTIL)


MENTOR_EXAMPLE = {
    "reference": "BEN-0087",
    "first_name": "Claire",
    "last_name": "Guérin",
    "email": "claire.guerin@example.fr",
    "phone": "+33 6 12 34 56 78",
    "location": {
        "commune": "Château-Gontier-sur-Mayenne",
        "postcode": "53200",
        "latitude": 47.8286,
        "longitude": -0.7028,
    },
    "travel_radius_km": 25.0,
    "goals": ["orientation", "scolarite", "rome-J"],
    "availability": [
        {"day": "wednesday", "start": "14:00", "end": "18:00"},
        {"day": "saturday", "start": "09:30", "end": "12:00"},
    ],
    "capacity": 2,
    "gender": "female",
    "languages": ["fr", "en"],
    "remote_ok": True,
    "honorability_check": {"checked_on": "2026-06-15", "valid_until": "2029-06-14"},
    "training_completed_on": "2026-06-20",
    "active": True,
}

REFERENCE = (
    "The association's own reference for the mentor (unique in it; letters, digits, . _ / -); "
    "spreadsheet imports match rows to mentors by it. Null: none."
)
FIRST_NAME = "The mentor's first name."
LAST_NAME = "The mentor's last name."
EMAIL = "Contact email; null: none."
PHONE = "Contact phone number (digits, spaces, dots, dashes, brackets, optional +); null: none."
LOCATION = "Where the mentor lives; the travel radius is measured from there."
RADIUS = "How far the mentor will travel, in kilometres (0.1 to 200, kept to 0.1 km)."
GOALS = "What the mentor can help with."
AVAILABILITY = "When the mentor is free for meetings, every week."
CAPACITY = "How many children the mentor may mentor at the same time (1 to 10)."
GENDER = "The mentor's gender, as declared; null: not given (never meets a child's preference)."
LANGUAGES = "Languages the mentor speaks."
REMOTE_OK = "Whether the mentor accepts remote meetings with a child out of reach."
HONORABILITY = "The contrôle d'honorabilité; null: none on record (never matched)."
TRAINING = "Date the mentor completed the association's training; null: not yet."
ACTIVE = "Whether the mentor takes new children; inactive mentors are never matched."


class MentorCreate(Schema):
    """A volunteer mentor, recorded by their association's coordinator."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"association_id": "8b4f2d1e-5c3a-4e7b-9f60-1a2b3c4d5e6f", **MENTOR_EXAMPLE}
            ]
        }
    )

    association_id: uuid.UUID | None = Field(
        default=None,
        description="The mentor's association; defaults to the coordinator's association "
        "(administrators must give it).",
    )
    reference: MentorReference | None = Field(default=None, description=REFERENCE)
    first_name: NonEmptyStr = Field(description=FIRST_NAME)
    last_name: NonEmptyStr = Field(description=LAST_NAME)
    email: Email | None = Field(default=None, description=EMAIL)
    phone: Phone | None = Field(default=None, description=PHONE)
    location: Location = Field(description=LOCATION)
    travel_radius_km: TravelRadius = Field(default=15, description=RADIUS)
    goals: Goals = Field(default_factory=list, description=GOALS)
    availability: Availability = Field(default_factory=list, description=AVAILABILITY)
    capacity: Capacity = Field(default=1, description=CAPACITY)
    gender: Gender | None = Field(default=None, description=GENDER)
    languages: Languages = Field(default_factory=list, description=LANGUAGES)
    remote_ok: Flag = Field(default=False, description=REMOTE_OK)
    honorability_check: HonorabilityCheck | None = Field(default=None, description=HONORABILITY)
    training_completed_on: PastDate | None = Field(
        default=None, description=TRAINING + " A past date, from 1990 on."
    )
    active: Flag = Field(default=True, description=ACTIVE)


class MentorUpdate(UpdateSchema):
    """The fields to change; those left out stay as they are."""

    nullable_fields = frozenset(
        {"reference", "email", "phone", "gender", "honorability_check", "training_completed_on"}
    )

    reference: MentorReference | None = Field(default=None, description=REFERENCE)
    first_name: NonEmptyStr | None = Field(default=None, description=FIRST_NAME)
    last_name: NonEmptyStr | None = Field(default=None, description=LAST_NAME)
    email: Email | None = Field(default=None, description=EMAIL)
    phone: Phone | None = Field(default=None, description=PHONE)
    location: Location | None = Field(default=None, description=LOCATION)
    travel_radius_km: TravelRadius | None = Field(default=None, description=RADIUS)
    goals: Goals | None = Field(default=None, description=GOALS + " Replaces the whole list.")
    availability: Availability | None = Field(
        default=None, description=AVAILABILITY + " Replaces every slot."
    )
    capacity: Capacity | None = Field(
        default=None, description=CAPACITY + " Not below the places already held."
    )
    gender: Gender | None = Field(default=None, description=GENDER)
    languages: Languages | None = Field(
        default=None, description=LANGUAGES + " Replaces the whole list."
    )
    remote_ok: Flag | None = Field(default=None, description=REMOTE_OK)
    honorability_check: HonorabilityCheck | None = Field(default=None, description=HONORABILITY)
    training_completed_on: PastDate | None = Field(default=None, description=TRAINING)
    active: Flag | None = Field(default=None, description=ACTIVE)


class Mentor(ReadSchema):
    """A mentor, as their association, the mentor themself and the départements their
    association serves see them."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "c2d7e8f9-0a1b-4c3d-8e5f-6a7b8c9d0e1f",
                    "association_id": "8b4f2d1e-5c3a-4e7b-9f60-1a2b3c4d5e6f",
                    **MENTOR_EXAMPLE,
                    "places_held": 1,
                    "version": 3,
                    "created_at": "2026-06-20T16:05:00Z",
                    "updated_at": "2026-10-02T08:12:41Z",
                    "deleted_at": None,
                }
            ]
        }
    )

    id: uuid.UUID = Field(description="The mentor's id.")
    association_id: uuid.UUID = Field(description="The mentor's association.")
    reference: str | None = Field(
        default=None, description="The association's own reference; null: none."
    )
    first_name: str = Field(description=FIRST_NAME)
    last_name: str = Field(description=LAST_NAME)
    email: str | None = Field(description=EMAIL)
    phone: str | None = Field(description=PHONE)
    location: Location = Field(description=LOCATION)
    travel_radius_km: float = Field(description="How far the mentor will travel, in kilometres.")
    goals: list[str] = Field(description=GOALS + " Goal codes, in vocabulary order.")
    availability: list[WeeklySlot] = Field(description=AVAILABILITY + " Merged, ordered slots.")
    capacity: int = Field(description=CAPACITY)
    places_held: int = Field(
        description="Places taken by pending proposals and accepted or active mentorships."
    )
    gender: str | None = Field(description=GENDER)
    languages: list[str] = Field(description=LANGUAGES)
    remote_ok: bool = Field(description=REMOTE_OK)
    honorability_check: HonorabilityCheckRead | None = Field(description=HONORABILITY)
    training_completed_on: date | None = Field(description=TRAINING)
    active: bool = Field(description=ACTIVE)
    version: int = Field(
        description="Incremented on every change; the ETag to send back in If-Match."
    )
    created_at: datetime = Field(description="When the record was created (UTC).")
    updated_at: datetime = Field(description="When the record last changed (UTC).")
    deleted_at: datetime | None = Field(
        default=None, description="When the mentor was soft-deleted; null while the record lives."
    )
