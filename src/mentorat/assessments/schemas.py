from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from mentorat.kit.schemas import IsoDate, ReadSchema, Schema
from mentorat.models.legal import ASSESSMENT_OUTCOMES

AssessmentOutcome = Literal[ASSESSMENT_OUTCOMES]  # type: ignore[valid-type]
AssessmentText = Annotated[str, Field(max_length=2000)]

ASSESSED_ON = (
    "Date of the assessment (ISO date): not in the future (the département's day), not before "
    "the child's birth."
)
OUTCOME = (
    "mentoring_recommended (an offer may follow within the year), not_now or not_applicable "
    "(both with a reason)."
)
REASON = (
    "Why mentoring is not recommended (2,000 characters at most): required unless the outcome "
    "is mentoring_recommended; null: none."
)
NOTE = "Free note on the assessment (2,000 characters at most); null: none."


class AssessmentCreate(Schema):
    """An assessment of whether mentoring serves the child. Assessments are never changed or
    deleted: a correction is a new assessment, and the latest one counts."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "assessed_on": "2026-09-07",
                    "outcome": "mentoring_recommended",
                    "note": "Inès is keen; her referent educator will present the scheme.",
                },
                {
                    "assessed_on": "2026-09-07",
                    "outcome": "not_now",
                    "reason": "Placement change under way; to assess again after the move.",
                },
            ]
        }
    )

    assessed_on: IsoDate = Field(description=ASSESSED_ON)
    outcome: AssessmentOutcome = Field(description=OUTCOME)
    reason: AssessmentText | None = Field(default=None, validate_default=True, description=REASON)
    note: AssessmentText | None = Field(default=None, description=NOTE)

    @field_validator("reason")
    @classmethod
    def _reason_unless_recommended(cls, value: str | None, info: ValidationInfo) -> str | None:
        outcome = info.data.get("outcome")
        if outcome is not None and outcome != "mentoring_recommended" and not value:
            raise ValueError(f"a reason is required when the outcome is {outcome}")
        return value or None


class Assessment(ReadSchema):
    """An assessment of whether mentoring serves the child, and when the next one is due."""

    id: uuid.UUID = Field(description="The assessment's id.")
    child_id: uuid.UUID = Field(description="The child assessed.")
    departement_code: str = Field(description="The child's département when assessed.")
    assessed_on: date = Field(description="Date of the assessment.")
    outcome: AssessmentOutcome = Field(description=OUTCOME)
    reason: str | None = Field(description="Why mentoring is not recommended; null: none.")
    note: str | None = Field(description=NOTE)
    author_name: str = Field(description="Name of whoever recorded the assessment.")
    next_due_on: date = Field(
        description="When the next assessment is due: a year after this one (renewed yearly)."
    )
    created_at: datetime = Field(description="When the assessment was recorded (UTC).")
