from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from mentorat.kit.schemas import ReadSchema, Schema, Score
from mentorat.matching.schemas import Explanation, ProposalStatus


class ProposalCreate(Schema):
    child_id: uuid.UUID
    mentor_id: uuid.UUID


class ProposalDecline(Schema):
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class Proposal(ReadSchema):
    id: uuid.UUID
    run_id: uuid.UUID | None
    status: ProposalStatus
    child_id: uuid.UUID | None = Field(description="Hidden from the association side.")
    child_first_name: str
    mentor_id: uuid.UUID
    mentor_name: str
    score: Score
    explanation: Explanation
    validated_at: datetime | None
    validated_by_name: str | None
    mentor_accepted_at: datetime | None
    mentor_accepted_by_name: str | None
    decided_at: datetime | None
    decline_reason: str | None
    mentorship_id: uuid.UUID | None
    version: int
    created_at: datetime
