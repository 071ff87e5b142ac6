from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from mentorat.kit.schemas import (
    DepartementCode,
    Flag,
    Integer,
    IsoDate,
    NonEmptyStr,
    ReadSchema,
    Schema,
    UpdateSchema,
)
from mentorat.models.child import PREFERRED_MENTOR_GENDERS, SCHOOL_LEVELS
from mentorat.profile import Availability, Goals, Languages, Location, WeeklySlot

SchoolLevel = Literal[SCHOOL_LEVELS]  # type: ignore[valid-type]
PreferredGender = Literal[PREFERRED_MENTOR_GENDERS]  # type: ignore[valid-type]
Reference = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._/-]+$")]
FIRST_COLLEGE_ENTRY_YEAR, LAST_COLLEGE_ENTRY_YEAR = 2000, 2100
CollegeEntryYear = Annotated[
    Integer,
    Field(
        ge=FIRST_COLLEGE_ENTRY_YEAR,
        le=LAST_COLLEGE_ENTRY_YEAR,
        description="Year the school year of entry into 6e starts.",
    ),
]


def _plausible_birth_date(value: date) -> date:
    if value < date(1990, 1, 1) or value > date.today():
        raise ValueError("birth date must be between 1990-01-01 and today")
    return value


BirthDate = Annotated[IsoDate, AfterValidator(_plausible_birth_date)]


class ChildCreate(Schema):
    departement_code: DepartementCode | None = Field(
        default=None, description="Defaults to the caller's département."
    )
    reference: Reference = Field(description="The département's own file reference.")
    first_name: NonEmptyStr
    birth_date: BirthDate
    school_level: SchoolLevel
    college_entry_year: CollegeEntryYear
    location: Location
    goals: Goals = Field(default_factory=list)
    availability: Availability = Field(default_factory=list)
    mentor_gender_preference: PreferredGender | None = None
    languages: Languages = Field(
        default_factory=list, description="Languages the mentor should speak (any of them)."
    )
    remote_ok: Flag = False
    referent_educator: NonEmptyStr | None = None


class ChildUpdate(UpdateSchema):
    nullable_fields = frozenset({"mentor_gender_preference", "referent_educator"})

    reference: Reference | None = None
    first_name: NonEmptyStr | None = None
    birth_date: BirthDate | None = None
    school_level: SchoolLevel | None = None
    college_entry_year: CollegeEntryYear | None = None
    location: Location | None = None
    goals: Goals | None = None
    availability: Availability | None = None
    mentor_gender_preference: PreferredGender | None = None
    languages: Languages | None = None
    remote_ok: Flag | None = None
    referent_educator: NonEmptyStr | None = None


class Child(ReadSchema):
    id: uuid.UUID
    departement_code: str
    reference: str
    first_name: str
    birth_date: date
    school_level: str
    college_entry_year: int
    location: Location
    goals: list[str]
    availability: list[WeeklySlot]
    mentor_gender_preference: str | None
    languages: list[str]
    remote_ok: bool
    referent_educator: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
