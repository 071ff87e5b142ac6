from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field

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
from mentorat.situation.schemas import (
    NEXT_ACTION,
    NEXT_ACTION_DUE_ON,
    SITUATION,
    NextAction,
    Situation,
)

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


LAVAL = {"commune": "Laval", "postcode": "53000", "latitude": 48.0707, "longitude": -0.7734}
CHILD_EXAMPLE = {
    "reference": "ASE53-2026-0142",
    "first_name": "Inès",
    "birth_date": "2014-03-17",
    "school_level": "cm2",
    "college_entry_year": 2026,
    "location": LAVAL,
    "goals": ["scolarite", "confiance"],
    "availability": [{"day": "wednesday", "start": "14:00", "end": "17:30"}],
    "mentor_gender_preference": "female",
    "languages": ["fr", "ar"],
    "remote_ok": False,
    "referent_educator": "Aline Chevreau",
}

DEPARTEMENT_OF_THE_CHILD = "Département in charge of the child (code such as 53)."
FIRST_NAME = "First name only: the child's last name is never stored."
BIRTH_DATE = "Date of birth (ISO date), between 1990-01-01 and today."
SCHOOL_LEVEL = "Current school level (French system: cm1 to terminale, cap, autre)."
GENDER_PREFERENCE = "Gender the child wishes the mentor to have; null: no preference."
REMOTE_OK = (
    "Whether the child accepts remote meetings: a mentor out of reach who accepts them too "
    "stays a candidate."
)
REFERENT_EDUCATOR = "Name of the educator who follows the child; null: none recorded."


class ChildCreate(Schema):
    """A child in the care of the ASE, as the département's educators record it."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"departement_code": "53", **CHILD_EXAMPLE}]}
    )

    departement_code: DepartementCode | None = Field(
        default=None,
        description="Département in charge of the child; defaults to the caller's département "
        "(administrators must give it).",
    )
    reference: Reference = Field(
        description="The département's own file reference (unique in the département)."
    )
    first_name: NonEmptyStr = Field(description=FIRST_NAME)
    birth_date: BirthDate = Field(description=BIRTH_DATE)
    school_level: SchoolLevel = Field(description=SCHOOL_LEVEL)
    college_entry_year: CollegeEntryYear
    location: Location = Field(description="Where the child lives.")
    goals: Goals = Field(default_factory=list, description="What the child wants help with.")
    availability: Availability = Field(
        default_factory=list, description="When the child is free for meetings, every week."
    )
    mentor_gender_preference: PreferredGender | None = Field(
        default=None, description=GENDER_PREFERENCE
    )
    languages: Languages = Field(
        default_factory=list, description="Languages the mentor should speak (any of them)."
    )
    remote_ok: Flag = Field(default=False, description=REMOTE_OK)
    referent_educator: NonEmptyStr | None = Field(default=None, description=REFERENT_EDUCATOR)


class ChildUpdate(UpdateSchema):
    """The fields to change; those left out stay as they are."""

    nullable_fields = frozenset({"mentor_gender_preference", "referent_educator"})

    reference: Reference | None = Field(
        default=None, description="The département's own file reference."
    )
    first_name: NonEmptyStr | None = Field(default=None, description=FIRST_NAME)
    birth_date: BirthDate | None = Field(default=None, description=BIRTH_DATE)
    school_level: SchoolLevel | None = Field(default=None, description=SCHOOL_LEVEL)
    college_entry_year: CollegeEntryYear | None = Field(
        default=None, description="Year the school year of entry into 6e starts."
    )
    location: Location | None = Field(default=None, description="Where the child lives.")
    goals: Goals | None = Field(
        default=None, description="What the child wants help with (replaces the whole list)."
    )
    availability: Availability | None = Field(
        default=None, description="When the child is free, every week (replaces every slot)."
    )
    mentor_gender_preference: PreferredGender | None = Field(
        default=None, description=GENDER_PREFERENCE
    )
    languages: Languages | None = Field(
        default=None, description="Languages the mentor should speak (replaces the whole list)."
    )
    remote_ok: Flag | None = Field(default=None, description=REMOTE_OK)
    referent_educator: NonEmptyStr | None = Field(default=None, description=REFERENT_EDUCATOR)


class Child(ReadSchema):
    """A child as the département side sees it (administrators, managers, educators)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3f1c9b52-7a0e-4d5b-9a63-2f7e4c1d8b90",
                    "departement_code": "53",
                    **CHILD_EXAMPLE,
                    "situation": "assessment_due",
                    "next_action": "assess",
                    "next_action_due_on": "2026-09-01",
                    "version": 1,
                    "created_at": "2026-09-01T09:30:00Z",
                    "updated_at": "2026-09-01T09:30:00Z",
                    "deleted_at": None,
                }
            ]
        }
    )

    id: uuid.UUID = Field(description="The child's id.")
    departement_code: str = Field(description=DEPARTEMENT_OF_THE_CHILD)
    reference: str = Field(description="The département's own file reference.")
    first_name: str = Field(description=FIRST_NAME)
    birth_date: date = Field(description="Date of birth.")
    school_level: str = Field(description=SCHOOL_LEVEL)
    college_entry_year: int = Field(description="Year the school year of entry into 6e starts.")
    location: Location = Field(description="Where the child lives.")
    goals: list[str] = Field(description="Goal codes, in vocabulary order.")
    availability: list[WeeklySlot] = Field(
        description="Weekly availability, as merged, ordered slots."
    )
    mentor_gender_preference: str | None = Field(description=GENDER_PREFERENCE)
    languages: list[str] = Field(description="Languages the mentor should speak (any of them).")
    remote_ok: bool = Field(description=REMOTE_OK)
    referent_educator: str | None = Field(description=REFERENT_EDUCATOR)
    situation: Situation = Field(description=SITUATION)
    next_action: NextAction = Field(description=NEXT_ACTION)
    next_action_due_on: date | None = Field(description=NEXT_ACTION_DUE_ON)
    version: int = Field(
        description="Incremented on every change; the ETag to send back in If-Match."
    )
    created_at: datetime = Field(description="When the record was created (UTC).")
    updated_at: datetime = Field(description="When the record last changed (UTC).")
    deleted_at: datetime | None = Field(
        default=None, description="When the child was soft-deleted; null while the record lives."
    )
