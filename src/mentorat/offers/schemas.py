from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import ConfigDict, Field, model_validator

from mentorat.kit.schemas import IsoDate, ReadSchema, Schema, UpdateSchema

Answer = Literal["pending", "accepted", "refused"]
ConsentSource = Literal["parental_authority", "ase_decision"]
Note = Annotated[str, Field(max_length=2000)]

CHILD_ANSWER = "The child's answer to the offer."
GUARDIAN_ANSWER = "The answer of the child's legal side (see guardian_answer_source)."
GUARDIAN_SOURCE = (
    "Whose answer stands for the child's legal side: the holder of parental authority, or an "
    "ASE decision. Required with an accepted or refused guardian answer."
)
NOTE = "Free note on the offer (2,000 characters at most); null: none."


class _Answers(Schema):
    child_answer: Answer | None = Field(
        default=None, description=CHILD_ANSWER + " Left out: pending."
    )
    guardian_answer: Answer | None = Field(
        default=None, description=GUARDIAN_ANSWER + " Left out: pending."
    )
    guardian_answer_source: ConsentSource | None = Field(default=None, description=GUARDIAN_SOURCE)

    @model_validator(mode="after")
    def _source_with_answer(self) -> Self:
        if self.guardian_answer not in (None, "pending") and self.guardian_answer_source is None:
            raise ValueError("guardian_answer_source is required with a guardian answer")
        return self


class OfferCreate(_Answers):
    """The legal offer of a mentor to a child, with the answers known so far."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "offered_on": "2026-09-14",
                    "child_answer": "accepted",
                    "guardian_answer": "accepted",
                    "guardian_answer_source": "parental_authority",
                    "note": "Offered at the review meeting in Laval, with the mother present.",
                },
                {"offered_on": "2026-09-14"},
            ]
        }
    )

    offered_on: IsoDate | None = Field(
        default=None, description="Date the offer was made (ISO date); defaults to today."
    )
    note: Note | None = Field(default=None, description=NOTE)


class OfferUpdate(_Answers, UpdateSchema):
    """The answers (or note) to change; those left out stay as they are."""

    nullable_fields = frozenset({"note", "guardian_answer_source"})

    note: Note | None = Field(default=None, description=NOTE)


class Offer(ReadSchema):
    """An offer of a mentor made to a child, and its outcome."""

    id: uuid.UUID = Field(description="The offer's id.")
    child_id: uuid.UUID = Field(description="The child.")
    departement_code: str = Field(description="The child's département.")
    offered_on: date = Field(description="Date the offer was made.")
    offered_by_name: str = Field(description="Name of whoever recorded the offer.")
    child_answer: Answer = Field(description=CHILD_ANSWER)
    guardian_answer: Answer = Field(description=GUARDIAN_ANSWER)
    guardian_answer_source: ConsentSource | None = Field(description=GUARDIAN_SOURCE)
    outcome: Answer = Field(
        description="accepted when both answers are accepted, refused when either is refused, "
        "otherwise pending. Only a child whose latest offer is accepted is matched."
    )
    note: str | None = Field(description=NOTE)
    decided_at: datetime | None = Field(
        description="When the outcome stopped being pending (UTC); null until then."
    )
    version: int = Field(
        description="Incremented on every change; the ETag to send back in If-Match."
    )
    created_at: datetime = Field(description="When the offer was recorded (UTC).")
    updated_at: datetime = Field(description="When it last changed (UTC).")
