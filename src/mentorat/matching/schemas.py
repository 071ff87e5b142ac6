from __future__ import annotations

import math
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import Field, model_validator

from mentorat.kit.schemas import (
    DepartementCode,
    Flag,
    Hours,
    IsoDate,
    Kilometres,
    Number,
    ReadSchema,
    Schema,
    Score,
    rounded,
)
from mentorat.matching.scoring import WEIGHT_SUM_TOLERANCE

Objective = Literal["coverage_first", "total_score"]
RunStatus = Literal["queued", "running", "succeeded", "failed"]
UnmatchedReason = Literal["no_feasible_mentor", "taken_by_others", "below_min_score"]
ProposalStatus = Literal["simulated", "pending", "accepted", "declined"]
RunPhase = Literal["queued", "loading", "scoring", "solving", "writing", "done", "failed"]
RunErrorCode = Literal[
    "abandoned", "database_unavailable", "database_error", "timeout", "internal_error"
]
# Scores are float32 (about 7 significant digits): 6 decimals is all a weight or a minimum
# score can mean, and a tiny value such as 1e-300 becomes 0.
SCORE_DECIMALS = 6
Weight = Annotated[Number, Field(ge=0, le=1), rounded(SCORE_DECIMALS)]
MAX_IDS = 50_000


class RunWeights(Schema):
    """Weights of the score components; non-negative and summing to 1."""

    goals: Weight = 0.5
    distance: Weight = 0.3
    availability: Weight = 0.2

    @model_validator(mode="after")
    def _sum_to_one(self) -> Self:
        total = math.fsum((self.goals, self.distance, self.availability))
        if abs(total - 1) > WEIGHT_SUM_TOLERANCE:
            raise ValueError(f"weights must sum to 1 (they sum to {total:g})")
        return self


class RunCreate(Schema):
    departement_code: DepartementCode | None = Field(
        default=None, description="Defaults to the manager's département."
    )
    child_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=MAX_IDS)] | None = Field(
        default=None, description="Only these children (all eligible children by default)."
    )
    mentor_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=MAX_IDS)] | None = Field(
        default=None, description="Only these mentors (all serving the département)."
    )
    weights: RunWeights = Field(default_factory=RunWeights)
    min_score: Annotated[Number, Field(ge=0, le=1), rounded(SCORE_DECIMALS)] = 0.3
    objective: Objective = "coverage_first"
    dry_run: Flag = False
    run_date: IsoDate | None = Field(
        default=None, description="Honorability checks must be valid on this date (today)."
    )
    # ge=0.5, not gt=0: multiple_of has a tolerance, and took 1e-300 as a multiple of 0.5;
    # rounded, so that what it tolerates (2.0000000001) is stored as the half hours meant.
    needed_hours: Annotated[Number, Field(ge=0.5, le=20, multiple_of=0.5), rounded(1)] = 2


class Run(ReadSchema):
    id: uuid.UUID
    departement_code: str
    status: RunStatus
    phase: RunPhase | None
    objective: Objective
    min_score: Score
    weights: RunWeights
    dry_run: bool
    run_date: date
    needed_hours: Hours
    requested_by_name: str
    figures: dict[str, Any]
    error_code: RunErrorCode | None = Field(
        description="Why a failed run failed; the detail is logged under the run id."
    )
    error: str | None = Field(description="The same, as one sentence.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class Components(ReadSchema):
    goals: Score
    distance: Score
    availability: Score


class Explanation(ReadSchema):
    """Why a pair scores what it scores: the weighted components add up to the score."""

    score: Score
    components: Components
    weights: Components
    contributions: Components
    distance_km: Kilometres
    overlap_hours: Hours
    needed_hours: Hours
    common_goals: list[str]


class ProposalOut(ReadSchema):
    id: uuid.UUID
    run_id: uuid.UUID | None
    status: ProposalStatus
    child_id: uuid.UUID
    child_first_name: str
    mentor_id: uuid.UUID
    mentor_name: str
    score: Score
    explanation: Explanation
    created_at: datetime


class UnmatchedChild(ReadSchema):
    child_id: uuid.UUID
    child_first_name: str
    reason: UnmatchedReason
    feasible_mentors: int
    best_score: Score | None
    excluded_by_reason: dict[str, int]


class Candidate(ReadSchema):
    mentor_id: uuid.UUID
    first_name: str
    last_name: str
    association_id: uuid.UUID
    commune: str
    score: Score
    explanation: Explanation


class CandidateList(ReadSchema):
    child_id: uuid.UUID
    run_date: date
    mentors_considered: int
    feasible: int
    excluded_by_reason: dict[str, int] = Field(
        description="Mentors left out, by the first hard constraint that rules them out."
    )
    candidates: list[Candidate]


class ExclusionCreate(Schema):
    mentor_id: uuid.UUID
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class Exclusion(ReadSchema):
    id: uuid.UUID
    child_id: uuid.UUID
    mentor_id: uuid.UUID
    reason: str
    created_by_name: str
    created_at: datetime
