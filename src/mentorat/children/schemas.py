from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo, field_validator

from mentorat.children.care import problem_of_field
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
from mentorat.models.legal import LEGAL_SITUATIONS
from mentorat.profile import Availability, Goals, Languages, Location, WeeklySlot

SchoolLevel = Literal[SCHOOL_LEVELS]  # type: ignore[valid-type]
PreferredGender = Literal[PREFERRED_MENTOR_GENDERS]  # type: ignore[valid-type]
LegalSituation = Literal[LEGAL_SITUATIONS]  # type: ignore[valid-type]
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
    "came_into_care_on": "2023-05-12",
    "legal_situation": "parental_authority",
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
CAME_INTO_CARE_ON = (
    "Date the child came into the ASE's care (ISO date): not in the future, not before the "
    "birth date."
)
CAME_INTO_CARE_ON_CREATE = CAME_INTO_CARE_ON + " Left out: today in the child's département."
LEFT_CARE_ON = (
    "Date the child left (or is to leave) care, not before came_into_care_on; null: in care."
)
LEGAL_SITUATION = (
    "Who holds parental authority, which decides whose agreement an offer needs: "
    "parental_authority (the parents), delegated_to_ase (the ASE, under a delegation), pupille "
    "(a pupille de l'État: the tutor and the family council), young_adult (a person of 18 or "
    "more today, under a contrat jeune majeur, who agrees alone)."
)
MENTORING_REQUESTED_ON = (
    "Date a young adult asked for mentoring (which brings them into the duty's scope): only "
    "with legal_situation young_adult, not in the future; null: not asked."
)


def _care_fact_check(value: object, info: ValidationInfo) -> object:
    if info.field_name is None:
        return value
    problem = problem_of_field(info.field_name, value, dict(info.data), date.today())
    if problem is not None:
        raise ValueError(problem)
    return value


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
    came_into_care_on: IsoDate | None = Field(default=None, description=CAME_INTO_CARE_ON_CREATE)
    left_care_on: IsoDate | None = Field(default=None, description=LEFT_CARE_ON)
    legal_situation: LegalSituation = Field(
        default="parental_authority", description=LEGAL_SITUATION
    )
    mentoring_requested_on: IsoDate | None = Field(default=None, description=MENTORING_REQUESTED_ON)

    # The rules between the care facts, so that a spreadsheet row gets them too; the service
    # checks them again with the département's day.
    _care_facts = field_validator(
        "came_into_care_on", "left_care_on", "legal_situation", "mentoring_requested_on"
    )(_care_fact_check)


class ChildUpdate(UpdateSchema):
    """The fields to change; those left out stay as they are."""

    nullable_fields = frozenset(
        {"mentor_gender_preference", "referent_educator", "left_care_on", "mentoring_requested_on"}
    )

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
    came_into_care_on: IsoDate | None = Field(default=None, description=CAME_INTO_CARE_ON)
    left_care_on: IsoDate | None = Field(default=None, description=LEFT_CARE_ON)
    legal_situation: LegalSituation | None = Field(default=None, description=LEGAL_SITUATION)
    mentoring_requested_on: IsoDate | None = Field(default=None, description=MENTORING_REQUESTED_ON)


class Child(ReadSchema):
    """A child as the département side sees it (administrators, managers, educators)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3f1c9b52-7a0e-4d5b-9a63-2f7e4c1d8b90",
                    "departement_code": "53",
                    **CHILD_EXAMPLE,
                    "left_care_on": None,
                    "mentoring_requested_on": None,
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
    came_into_care_on: date = Field(description=CAME_INTO_CARE_ON)
    left_care_on: date | None = Field(description=LEFT_CARE_ON)
    legal_situation: LegalSituation = Field(description=LEGAL_SITUATION)
    mentoring_requested_on: date | None = Field(description=MENTORING_REQUESTED_ON)
    version: int = Field(
        description="Incremented on every change; the ETag to send back in If-Match."
    )
    created_at: datetime = Field(description="When the record was created (UTC).")
    updated_at: datetime = Field(description="When the record last changed (UTC).")
    deleted_at: datetime | None = Field(
        default=None, description="When the child was soft-deleted; null while the record lives."
    )
