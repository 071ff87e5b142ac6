from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from mentorat.kit.schemas import (
    DepartementCode,
    Flag,
    Integer,
    NonEmptyStr,
    ReadSchema,
    Schema,
    UpdateSchema,
)
from mentorat.models.departement import MAX_ATTENTION_DAYS, MAX_DECLINE_MEMORY_MONTHS

CODE = "Code of the département, such as 53, 2A, 974 or 69M (Métropole de Lyon)."
NAME = "The département's name."
SCHOOL_START_MONTH = (
    "Month of the first school day (1 to 12): with school_start_day, the date by which a child "
    "entering collège must have been assessed. Default 9."
)
SCHOOL_START_DAY = (
    "Day of the month of the first school day; school_start_month and school_start_day must "
    "make a real date of any year (no 29 February). Default 1."
)
INDIVIDUAL_AGREEMENT_REQUIRED = (
    "Whether a mentorship may become active only once its individual agreement (ASE, "
    "association, child) is signed. Default false."
)
ATTENTION_MEETING_DAYS = (
    "A mentorship needs attention when active and without a meeting for more than this many "
    "days (1 to 365). Default 30."
)
ATTENTION_OBJECTIVE_DAYS = (
    "An objective is stale when unchanged for more than this many days (1 to 365) or past its "
    "target date; an active mentorship whose live objectives are all stale needs attention. "
    "Default 30."
)
ATTENTION_PAUSE_DAYS = (
    "A mentorship needs attention when paused for more than this many days (1 to 365). Default 90."
)
DECLINE_MEMORY_MONTHS = (
    f"Months a declined proposal is remembered (0 to {MAX_DECLINE_MEMORY_MONTHS}): until then, "
    "runs do not propose the pair again and the child's candidates list the mentor last, "
    "unless an educator re-proposes the pair explicitly. Counted from the day of the decline "
    "in the département; 0: declines are not remembered. Default 6."
)
# A year without 29 February: the first school day must exist every year.
_COMMON_YEAR = 2001


def school_start_problem(month: int, day: int) -> str | None:
    """Why (month, day) is not a first school day of every year, or None."""
    try:
        date(_COMMON_YEAR, month, day)
    except ValueError:
        return f"{month:02d}-{day:02d} is not a date of every year"
    return None


def _real_day(value: int | None, info: ValidationInfo) -> int | None:
    month = info.data.get("school_start_month")
    if value is not None and month is not None and (problem := school_start_problem(month, value)):
        raise ValueError(problem)
    return value


class DepartementCreate(Schema):
    """A département using the service (administrators only)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "53", "name": "Mayenne"}]})

    code: DepartementCode = Field(description=CODE)
    name: NonEmptyStr = Field(description=NAME)


Month = Annotated[Integer, Field(ge=1, le=12)]
Day = Annotated[Integer, Field(ge=1, le=31)]
AttentionDays = Annotated[Integer, Field(ge=1, le=MAX_ATTENTION_DAYS)]
Months = Annotated[Integer, Field(ge=0, le=MAX_DECLINE_MEMORY_MONTHS)]


class DepartementUpdate(UpdateSchema):
    """The fields to change; those left out stay as they are. Administrators change anything,
    the département's managers its settings (not its name)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "school_start_month": 9,
                    "school_start_day": 1,
                    "individual_agreement_required": True,
                    "attention_meeting_days": 21,
                    "decline_memory_months": 6,
                }
            ]
        }
    )

    name: NonEmptyStr | None = Field(default=None, description=NAME)
    school_start_month: Month | None = Field(default=None, description=SCHOOL_START_MONTH)
    school_start_day: Day | None = Field(default=None, description=SCHOOL_START_DAY)
    individual_agreement_required: Flag | None = Field(
        default=None, description=INDIVIDUAL_AGREEMENT_REQUIRED
    )
    attention_meeting_days: AttentionDays | None = Field(
        default=None, description=ATTENTION_MEETING_DAYS
    )
    attention_objective_days: AttentionDays | None = Field(
        default=None, description=ATTENTION_OBJECTIVE_DAYS
    )
    attention_pause_days: AttentionDays | None = Field(
        default=None, description=ATTENTION_PAUSE_DAYS
    )
    decline_memory_months: Months | None = Field(default=None, description=DECLINE_MEMORY_MONTHS)

    _school_start_day = field_validator("school_start_day")(_real_day)


class Departement(ReadSchema):
    """A département using the service."""

    code: str = Field(description=CODE)
    name: str = Field(description=NAME)
    school_start_month: int = Field(description=SCHOOL_START_MONTH)
    school_start_day: int = Field(description=SCHOOL_START_DAY)
    individual_agreement_required: bool = Field(description=INDIVIDUAL_AGREEMENT_REQUIRED)
    attention_meeting_days: int = Field(description=ATTENTION_MEETING_DAYS)
    attention_objective_days: int = Field(description=ATTENTION_OBJECTIVE_DAYS)
    attention_pause_days: int = Field(description=ATTENTION_PAUSE_DAYS)
    decline_memory_months: int = Field(description=DECLINE_MEMORY_MONTHS)
    created_at: datetime = Field(description="When the record was created (UTC).")
    updated_at: datetime = Field(description="When the record last changed (UTC).")
