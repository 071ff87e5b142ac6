from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import ConfigDict, Field, model_validator

from mentorat.kit.problems import Problem
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
    child_reference: str | None = Field(
        description="The child's reference in the département's files; hidden from the "
        "association side."
    )
    child_first_name: str = Field(description="The child's first name.")
    child_commune: str | None = Field(
        description="The commune the child lives in; hidden from the association side."
    )
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
    published_at: datetime | None = Field(
        description="When a dry run's simulated proposal was published, becoming pending (UTC); "
        "null for any other."
    )
    version: int = Field(description="Incremented on every change.")
    created_at: datetime = Field(description="When it was proposed (UTC).")


BULK_MAX_ACTIONS = 500
BulkActionName = Literal["validate", "accept", "decline"]


class BulkAction(Schema):
    """One action on one proposal."""

    proposal_id: uuid.UUID = Field(description="The proposal, in your scope.")
    action: BulkActionName = Field(
        description="validate (the département side), accept (the mentor or their "
        "coordinator) or decline (either side)."
    )
    reason: Annotated[str, Field(min_length=1, max_length=1000)] | None = Field(
        default=None, description="Why it is declined (1 to 1,000 characters): decline only."
    )

    @model_validator(mode="after")
    def _reason_with_decline(self) -> Self:
        if (self.action == "decline") != (self.reason is not None):
            raise ValueError("a reason is required to decline, and only then")
        return self


class BulkActions(Schema):
    """Many proposal actions in one request, each answered on its own."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "actions": [
                        {
                            "proposal_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                            "action": "validate",
                        },
                        {
                            "proposal_id": "9b2f4c1d-3e5a-4b6c-8d7e-0f1a2b3c4d5e",
                            "action": "decline",
                            "reason": "The child's family moves to Rennes in January.",
                        },
                    ]
                }
            ]
        }
    )

    actions: Annotated[list[BulkAction], Field(min_length=1, max_length=BULK_MAX_ACTIONS)] = Field(
        description=f"1 to {BULK_MAX_ACTIONS} actions, applied in this order."
    )


class BulkOutcome(ReadSchema):
    """How one action went: the proposal as it now is, or the problem that stopped it."""

    proposal_id: uuid.UUID = Field(description="The proposal the action named.")
    action: BulkActionName = Field(description="The action asked for.")
    status: int = Field(
        description="As the single action would answer: 200 done, 403 not your side, 404 not "
        "in your scope, 409 not pending (already decided) or already done by your side."
    )
    proposal: Proposal | None = Field(description="The proposal after the action; null if refused.")
    problem: Problem | None = Field(
        description="Why the action was refused (problem details); null if done."
    )


class BulkOutcomes(ReadSchema):
    """Each action's outcome, in the order asked."""

    items: list[BulkOutcome] = Field(description="One outcome per action, in the request's order.")
    succeeded: int = Field(description="How many actions were done.")
    failed: int = Field(description="How many were refused (nothing of theirs changed).")
