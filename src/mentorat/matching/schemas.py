from __future__ import annotations

import math
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import ConfigDict, Field, model_validator

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
# The hard constraints in priority order: scoring.REASON_CODES, as the API names them.
InfeasibleReason = Literal[
    "mentor_inactive",
    "no_agreement",
    "no_valid_honorability_check",
    "no_capacity_left",
    "child_not_eligible",
    "gender_preference_not_met",
    "language_preference_not_met",
    "pair_excluded",
    "declined_recently",
    "too_far",
    "no_common_availability",
]
ProposalStatus = Literal["simulated", "pending", "accepted", "declined"]
RunPhase = Literal["queued", "loading", "scoring", "solving", "writing", "done", "failed"]
RunErrorCode = Literal[
    "abandoned", "database_unavailable", "database_error", "timeout", "internal_error"
]
# Scores are float32 (about 7 significant digits): 6 decimals is all a weight or a minimum
# score can mean, and a tiny value such as 1e-300 becomes 0.
SCORE_DECIMALS = 6
Weight = Annotated[
    Number,
    Field(ge=0, le=1, description="Weight of the component in the score, 0 to 1 (6 decimals)."),
    rounded(SCORE_DECIMALS),
]
MAX_IDS = 50_000
REASON_COUNTS = (
    "Number of mentors ruled out, by the first hard constraint that rules each out "
    "(mentor_inactive, no_agreement: the mentor's association has no agreement with the "
    "child's département in force on the run date, no_valid_honorability_check, "
    "no_capacity_left, child_not_eligible, gender_preference_not_met, "
    "language_preference_not_met, pair_excluded, declined_recently: a proposal of the pair "
    "was declined within the département's decline memory, too_far, no_common_availability); "
    "constraints that ruled out nobody are left out."
)
RUN_ID = "The run that proposed it; null for an educator's own proposal."


class RunWeights(Schema):
    """Weights of the score components; non-negative and summing to 1."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"goals": 0.5, "distance": 0.3, "availability": 0.2}]}
    )

    goals: Weight = Field(default=0.5, description="Weight of the goals component.")
    distance: Weight = Field(default=0.3, description="Weight of the distance component.")
    availability: Weight = Field(default=0.2, description="Weight of the availability component.")

    @model_validator(mode="after")
    def _sum_to_one(self) -> Self:
        total = math.fsum((self.goals, self.distance, self.availability))
        if abs(total - 1) > WEIGHT_SUM_TOLERANCE:
            raise ValueError(f"weights must sum to 1 (they sum to {total:g})")
        return self


class RunCreate(Schema):
    """A batch matching run over one département's eligible children and its mentors."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "departement_code": "53",
                    "weights": {"goals": 0.5, "distance": 0.3, "availability": 0.2},
                    "min_score": 0.3,
                    "objective": "coverage_first",
                    "dry_run": True,
                    "run_date": "2026-11-25",
                    "needed_hours": 2,
                }
            ]
        }
    )

    departement_code: DepartementCode | None = Field(
        default=None,
        description="The département to match; defaults to the manager's (administrators "
        "must give it).",
    )
    child_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=MAX_IDS)] | None = Field(
        default=None, description="Only these children (all eligible children by default)."
    )
    mentor_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=MAX_IDS)] | None = Field(
        default=None, description="Only these mentors (all serving the département)."
    )
    weights: RunWeights = Field(
        default_factory=RunWeights, description="Weights of the score components."
    )
    min_score: Annotated[Number, Field(ge=0, le=1), rounded(SCORE_DECIMALS)] = Field(
        default=0.3, description="Pairs scoring below this (0 to 1, 6 decimals) are not proposed."
    )
    objective: Objective = Field(
        default="coverage_first",
        description="coverage_first: as many children as possible, then the best total score; "
        "total_score: the best total score.",
    )
    dry_run: Flag = Field(
        default=False,
        description="Proposals are only simulated: they hold no place and never show in "
        "/v1/proposals.",
    )
    run_date: IsoDate | None = Field(
        default=None,
        description="Honorability checks and association agreements must be valid on this "
        "date (default: today in the département).",
    )
    # ge=0.5, not gt=0: multiple_of has a tolerance, and took 1e-300 as a multiple of 0.5;
    # rounded, so that what it tolerates (2.0000000001) is stored as the half hours meant.
    needed_hours: Annotated[Number, Field(ge=0.5, le=20, multiple_of=0.5), rounded(1)] = Field(
        default=2,
        description="Weekly hours in common that give a full availability component (0.5 to "
        "20, in half hours).",
    )


class Run(ReadSchema):
    """A matching run: its request, its progress and, once done, its figures."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "5e0b7c3a-91d2-4f8e-a6b4-0c1d2e3f4a5b",
                    "departement_code": "53",
                    "status": "succeeded",
                    "phase": "done",
                    "objective": "coverage_first",
                    "min_score": 0.3,
                    "weights": {"goals": 0.5, "distance": 0.3, "availability": 0.2},
                    "dry_run": False,
                    "run_date": "2026-11-25",
                    "needed_hours": 2.0,
                    "requested_by_name": "Sophie Moreau",
                    "figures": {
                        "children": 42,
                        "children_not_eligible": 3,
                        "mentors": 37,
                        "feasible_pairs": 611,
                        "matched": 35,
                        "unmatched": 7,
                        "total_score": 24.871,
                        "mean_score": 0.710600,
                        "timings": {"load": 0.04, "score": 0.01, "solve": 0.002, "write": 0.03},
                    },
                    "error_code": None,
                    "error": None,
                    "published_at": None,
                    "published_by_name": None,
                    "published_count": 0,
                    "attempt": 1,
                    "created_at": "2026-11-25T08:00:00Z",
                    "started_at": "2026-11-25T08:00:01Z",
                    "finished_at": "2026-11-25T08:00:02Z",
                }
            ]
        }
    )

    id: uuid.UUID = Field(description="The run's id.")
    departement_code: str = Field(description="The département matched.")
    status: RunStatus = Field(description="Where the run stands.")
    phase: RunPhase | None = Field(
        description="The step the run is at (done or failed at the end)."
    )
    objective: Objective = Field(description="What the run optimised.")
    min_score: Score = Field(description="Pairs scoring below this were not proposed.")
    weights: RunWeights = Field(description="Weights of the score components.")
    dry_run: bool = Field(description="Whether the proposals are only simulated.")
    run_date: date = Field(
        description="Date on which honorability checks and association agreements had to be valid."
    )
    needed_hours: Hours = Field(
        description="Weekly hours in common that give a full availability component."
    )
    requested_by_name: str = Field(description="Name of whoever started the run.")
    figures: dict[str, Any] = Field(
        description="Counts (children, children_not_eligible, mentors, feasible_pairs, "
        "components, matched, unmatched, unmatched_by_reason), total_score and mean_score, and "
        "timings: seconds per phase. Filled in as the run goes."
    )
    error_code: RunErrorCode | None = Field(
        description="Why a failed run failed; the detail is logged under the run id."
    )
    error: str | None = Field(description="The same, as one sentence.")
    published_at: datetime | None = Field(
        default=None,
        description="When a dry run's proposals were last published (UTC); null until then.",
    )
    published_by_name: str | None = Field(
        default=None, description="Name of whoever last published the dry run's proposals."
    )
    published_count: int = Field(
        default=0, description="How many of a dry run's proposals have been published so far."
    )
    attempt: int = Field(
        description="Attempts at running it so far: 0 while first queued; more than 1 when a "
        "worker stopped during the run and another took it up again (back to `queued` "
        "meanwhile). Only the last attempt writes results."
    )
    created_at: datetime = Field(description="When the run was requested (UTC).")
    started_at: datetime | None = Field(
        description="When the run's first attempt started; null while first queued."
    )
    finished_at: datetime | None = Field(description="When the run ended; null until then.")


class Components(ReadSchema):
    """One value per score component."""

    goals: Score = Field(
        description="Goals: share of the child's goals the mentor can help with (1 when the "
        "child has none)."
    )
    distance: Score = Field(
        description="Distance: 1 at 0 km, falling to 0 at the mentor's travel radius."
    )
    availability: Score = Field(
        description="Availability: weekly hours in common against the hours needed, capped at 1."
    )


class Explanation(ReadSchema):
    """Why a pair scores what it scores: the weighted components add up to the score."""

    score: Score = Field(description="The score, 0 to 1 (4 decimals).")
    components: Components = Field(description="Each component's value, 0 to 1 (4 decimals).")
    weights: Components = Field(description="The weight given to each component.")
    contributions: Components = Field(
        description="Each component's value times its weight; they add up to the score."
    )
    distance_km: Kilometres = Field(
        description="Great-circle distance between the child and the mentor, in km (2 decimals)."
    )
    overlap_hours: Hours = Field(description="Weekly hours both are available (1 decimal).")
    needed_hours: Hours = Field(
        description="Weekly hours in common that give a full availability component."
    )
    common_goals: list[str] = Field(description="Goal codes the child and the mentor share.")


class ProposalOut(ReadSchema):
    """A proposal made by a matching run (simulated ones included)."""

    id: uuid.UUID = Field(description="The proposal's id.")
    run_id: uuid.UUID | None = Field(description=RUN_ID)
    status: ProposalStatus = Field(
        description="simulated (a dry run's), pending, accepted (by both sides) or declined."
    )
    child_id: uuid.UUID = Field(description="The child proposed.")
    child_reference: str = Field(description="The child's reference in the département's files.")
    child_first_name: str = Field(description="The child's first name.")
    child_commune: str = Field(description="The commune the child lives in.")
    mentor_id: uuid.UUID = Field(description="The mentor proposed.")
    mentor_name: str = Field(description="The mentor's first and last name.")
    score: Score = Field(description="The pair's score, 0 to 1 (4 decimals).")
    explanation: Explanation = Field(description="How the score is made up.")
    created_at: datetime = Field(description="When the proposal was made (UTC).")


class UnmatchedChild(ReadSchema):
    """A child a matching run left without a proposal, and why."""

    child_id: uuid.UUID = Field(description="The child left unmatched.")
    child_reference: str = Field(description="The child's reference in the département's files.")
    child_first_name: str = Field(description="The child's first name.")
    child_commune: str = Field(description="The commune the child lives in.")
    reason: UnmatchedReason = Field(
        description="no_feasible_mentor: every mentor is ruled out by a hard constraint; "
        "below_min_score: every feasible mentor scores below min_score; taken_by_others: the "
        "feasible mentors went to other children."
    )
    feasible_mentors: int = Field(description="How many mentors no hard constraint ruled out.")
    best_score: Score | None = Field(
        description="The best score among feasible mentors; null when there is none."
    )
    excluded_by_reason: dict[InfeasibleReason, int] = Field(description=REASON_COUNTS)


CANDIDATE_EXAMPLE = {
    "mentor_id": "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a",
    "first_name": "Julien",
    "last_name": "Bouvier",
    "association_id": "8b4f2d1e-5c3a-4e7b-9f60-1a2b3c4d5e6f",
    "commune": "Louverné",
    "score": 0.6348,
    "explanation": {
        "score": 0.6348,
        "components": {"goals": 0.5, "distance": 0.616, "availability": 1.0},
        "weights": {"goals": 0.5, "distance": 0.3, "availability": 0.2},
        "contributions": {"goals": 0.25, "distance": 0.1848, "availability": 0.2},
        "distance_km": 9.6,
        "overlap_hours": 3.5,
        "needed_hours": 2.0,
        "common_goals": ["scolarite"],
    },
}


class RememberedDecline(ReadSchema):
    """A proposal of the pair declined recently, which the child's département still
    remembers (`decline_memory_months`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "proposal_id": "7a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d",
                    "declined_at": "2026-10-02T14:12:00Z",
                    "reason": "The mentor moves to Rennes in January.",
                    "declined_by_name": "Nadia Perrin",
                    "remembered_until": "2027-04-02",
                }
            ]
        }
    )

    proposal_id: uuid.UUID = Field(description="The declined proposal.")
    declined_at: datetime = Field(description="When it was declined (UTC).")
    reason: str | None = Field(description="Why, as the side that declined wrote it.")
    declined_by_name: str | None = Field(description="Name of whoever declined it.")
    remembered_until: date = Field(
        description="The first day the decline is no longer remembered (in the département)."
    )


class Candidate(ReadSchema):
    """A feasible mentor for the child, with the explained score."""

    model_config = ConfigDict(json_schema_extra={"examples": [CANDIDATE_EXAMPLE]})

    mentor_id: uuid.UUID = Field(description="The mentor's id.")
    first_name: str = Field(description="The mentor's first name.")
    last_name: str = Field(description="The mentor's last name.")
    association_id: uuid.UUID = Field(description="The mentor's association.")
    commune: str = Field(description="The commune the mentor lives in.")
    score: Score = Field(description="The pair's score, 0 to 1 (4 decimals).")
    explanation: Explanation = Field(description="How the score is made up.")
    declined: RememberedDecline | None = Field(
        default=None,
        description="Set when a proposal of the pair was declined recently: such mentors come "
        "after all the others. Runs do not propose them until `remembered_until`; an "
        "educator may (`repropose`).",
    )


class CandidateList(ReadSchema):
    """The best feasible mentors for one child, and why the others were ruled out."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "child_id": "3f1c9b52-7a0e-4d5b-9a63-2f7e4c1d8b90",
                    "run_date": "2026-11-25",
                    "mentors_considered": 37,
                    "feasible": 12,
                    "below_min_score": 0,
                    "recently_declined": 0,
                    "excluded_by_reason": {"too_far": 19, "no_common_availability": 6},
                    "candidates": [CANDIDATE_EXAMPLE],
                }
            ]
        }
    )

    child_id: uuid.UUID = Field(description="The child.")
    run_date: date = Field(
        description="Date on which honorability checks and association agreements had to be valid."
    )
    mentors_considered: int = Field(
        description="Mentors of the associations serving the child's département."
    )
    feasible: int = Field(description="How many of them no hard constraint ruled out.")
    below_min_score: int = Field(
        description="How many feasible mentors were left out for scoring below `min_score` "
        "(0 without it)."
    )
    recently_declined: int = Field(
        description="How many feasible mentors were declined recently for this child (listed "
        "after all the others, each with its decline)."
    )
    excluded_by_reason: dict[InfeasibleReason, int] = Field(description=REASON_COUNTS)
    candidates: list[Candidate] = Field(
        description="The best feasible mentors at or above `min_score` (at most `limit`): "
        "those not declined recently first, then the declined ones, each group the highest "
        "score first."
    )


class ExclusionCreate(Schema):
    """A mentor who must never be proposed for this child."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "mentor_id": "c2d7e8f9-0a1b-4c3d-8e5f-6a7b8c9d0e1f",
                    "reason": "The mentor is a neighbour of the child's family.",
                }
            ]
        }
    )

    mentor_id: uuid.UUID = Field(description="The mentor to rule out.")
    reason: Annotated[str, Field(min_length=1, max_length=500)] = Field(
        description="Why (1 to 500 characters)."
    )


class Exclusion(ReadSchema):
    """A mentor ruled out for a child."""

    id: uuid.UUID = Field(description="The exclusion's id.")
    child_id: uuid.UUID = Field(description="The child.")
    mentor_id: uuid.UUID = Field(description="The mentor ruled out.")
    reason: str = Field(description="Why.")
    created_by_name: str = Field(description="Name of whoever ruled the mentor out.")
    created_at: datetime = Field(description="When (UTC).")


class PublicationCreate(Schema):
    """Which of a dry run's simulated proposals to publish (all of them by default)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {},
                {
                    "proposal_ids": [
                        "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                        "9b2f4c1d-3e5a-4b6c-8d7e-0f1a2b3c4d5e",
                    ]
                },
            ]
        }
    )

    proposal_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=MAX_IDS)] | None = (
        Field(
            default=None,
            description="Proposals of the run to publish, each still simulated; omitted or "
            "null: every proposal of the run still simulated.",
        )
    )


class Publication(ReadSchema):
    """What a publication made pending."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "run_id": "5e0b7c3a-91d2-4f8e-a6b4-0c1d2e3f4a5b",
                    "published_at": "2026-11-25T10:12:00Z",
                    "published_by_name": "Sophie Moreau",
                    "published": 2,
                    "proposal_ids": [
                        "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                        "9b2f4c1d-3e5a-4b6c-8d7e-0f1a2b3c4d5e",
                    ],
                    "still_simulated": 33,
                }
            ]
        }
    )

    run_id: uuid.UUID = Field(description="The dry run published.")
    published_at: datetime = Field(description="When (UTC).")
    published_by_name: str = Field(description="Name of whoever published.")
    published: int = Field(description="How many proposals this publication made pending.")
    proposal_ids: list[uuid.UUID] = Field(
        description="The proposals it made pending, now awaiting both sides' consent."
    )
    still_simulated: int = Field(
        description="How many of the run's proposals are still simulated (not published)."
    )
