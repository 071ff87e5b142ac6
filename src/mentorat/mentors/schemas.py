from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, model_validator

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


class HonorabilityCheck(Schema):
    """Contrôle d'honorabilité: without a valid one, a mentor is never matched."""

    checked_on: IsoDate
    valid_until: IsoDate

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
    checked_on: date
    valid_until: date


class MentorCreate(Schema):
    association_id: uuid.UUID | None = Field(
        default=None, description="Defaults to the coordinator's association."
    )
    reference: MentorReference | None = None
    first_name: NonEmptyStr
    last_name: NonEmptyStr
    email: Email | None = None
    phone: Phone | None = None
    location: Location
    travel_radius_km: TravelRadius = 15
    goals: Goals = Field(default_factory=list, description="What the mentor can help with.")
    availability: Availability = Field(default_factory=list)
    capacity: Capacity = 1
    gender: Gender | None = None
    languages: Languages = Field(default_factory=list, description="Languages spoken.")
    remote_ok: Flag = False
    honorability_check: HonorabilityCheck | None = None
    training_completed_on: PastDate | None = None
    active: Flag = True


class MentorUpdate(UpdateSchema):
    nullable_fields = frozenset(
        {"reference", "email", "phone", "gender", "honorability_check", "training_completed_on"}
    )

    reference: MentorReference | None = None
    first_name: NonEmptyStr | None = None
    last_name: NonEmptyStr | None = None
    email: Email | None = None
    phone: Phone | None = None
    location: Location | None = None
    travel_radius_km: TravelRadius | None = None
    goals: Goals | None = None
    availability: Availability | None = None
    capacity: Capacity | None = None
    gender: Gender | None = None
    languages: Languages | None = None
    remote_ok: Flag | None = None
    honorability_check: HonorabilityCheck | None = None
    training_completed_on: PastDate | None = None
    active: Flag | None = None


class Mentor(ReadSchema):
    id: uuid.UUID
    association_id: uuid.UUID
    reference: str | None = None
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    location: Location
    travel_radius_km: float
    goals: list[str]
    availability: list[WeeklySlot]
    capacity: int
    places_held: int = Field(
        description="Places taken by pending proposals and accepted or active mentorships."
    )
    gender: str | None
    languages: list[str]
    remote_ok: bool
    honorability_check: HonorabilityCheckRead | None
    training_completed_on: date | None
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
