from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from mentorat.kit.schemas import IsoDate, ReadSchema, Schema, UpdateSchema

Answer = Literal["pending", "accepted", "refused"]
ConsentSource = Literal["parental_authority", "ase_decision"]
Note = Annotated[str, Field(max_length=2000)]


class _Answers(Schema):
    child_answer: Answer | None = None
    guardian_answer: Answer | None = None
    guardian_answer_source: ConsentSource | None = Field(
        default=None,
        description="Whose answer stands for the child's legal side: the holder of parental "
        "authority, or an ASE decision.",
    )

    @model_validator(mode="after")
    def _source_with_answer(self) -> Self:
        if self.guardian_answer not in (None, "pending") and self.guardian_answer_source is None:
            raise ValueError("guardian_answer_source is required with a guardian answer")
        return self


class OfferCreate(_Answers):
    offered_on: IsoDate | None = Field(default=None, description="Defaults to today.")
    note: Note | None = None


class OfferUpdate(_Answers, UpdateSchema):
    nullable_fields = frozenset({"note", "guardian_answer_source"})

    note: Note | None = None


class Offer(ReadSchema):
    id: uuid.UUID
    child_id: uuid.UUID
    departement_code: str
    offered_on: date
    offered_by_name: str
    child_answer: Answer
    guardian_answer: Answer
    guardian_answer_source: ConsentSource | None
    outcome: Answer
    note: str | None
    decided_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
