from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field

from mentorat.kit.schemas import Flag, ReadSchema, Schema, Score
from mentorat.matching.schemas import Explanation, ProposalStatus


class ProposalCreate(Schema):
    """An educator's own choice of a mentor for a child (the pair must be feasible)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "child_id": "3f1c9b52-7a0e-4d5b-9a63-2f7e4c1d8b90",
                    "mentor_id": "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a",
                }
            ]
        }
    )

    child_id: uuid.UUID = Field(description="The child, in the caller's scope.")
    mentor_id: uuid.UUID = Field(
        description="The mentor, of an association serving the child's département."
    )
    repropose: Flag = Field(
        default=False,
        description="Propose the pair although a proposal of it was declined recently (within "
        "the département's `decline_memory_months`); without it such a pair is a 409 "
        "`recently-declined`. Audited.",
    )


class ProposalDecline(Schema):
    """Why the proposal is declined."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "The mentor moves to Rennes in January."}]}
    )

    reason: Annotated[str, Field(min_length=1, max_length=1000)] = Field(
        description="Why (1 to 1,000 characters); both sides see it."
    )


class Proposal(ReadSchema):
    """A proposed pair on its way to a mentorship: validated by the département side, accepted
    by the mentor's side."""

    id: uuid.UUID = Field(description="The proposal's id.")
    run_id: uuid.UUID | None = Field(
        description="The run that proposed it; null for an educator's own proposal."
    )
    status: ProposalStatus = Field(
        description="pending until both sides agree (accepted) or either declines (declined)."
    )
    child_id: uuid.UUID | None = Field(description="Hidden from the association side.")
    child_first_name: str = Field(description="The child's first name.")
    mentor_id: uuid.UUID = Field(description="The mentor proposed.")
    mentor_name: str = Field(description="The mentor's first and last name.")
    score: Score = Field(description="The pair's score, 0 to 1 (4 decimals).")
    explanation: Explanation = Field(description="How the score is made up.")
    validated_at: datetime | None = Field(
        description="When the département side validated it (UTC); null until then."
    )
    validated_by_name: str | None = Field(description="Name of whoever validated it.")
    mentor_accepted_at: datetime | None = Field(
        description="When the mentor's side accepted it (UTC); null until then."
    )
    mentor_accepted_by_name: str | None = Field(
        description="Name of whoever accepted it (the mentor or their coordinator)."
    )
    decided_at: datetime | None = Field(
        description="When it was accepted by both sides or declined (UTC); null while pending."
    )
    decline_reason: str | None = Field(description="Why it was declined; null unless declined.")
    mentorship_id: uuid.UUID | None = Field(
        description="The mentorship it became; null until accepted by both sides."
    )
    version: int = Field(description="Incremented on every change.")
    created_at: datetime = Field(description="When it was proposed (UTC).")
