"""The situation's values, and the due list's items."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal, get_args

from pydantic import ConfigDict, Field

from mentorat.kit.schemas import ReadSchema

Situation = Literal[
    "not_yet_due",
    "assessment_due",
    "assessment_overdue",
    "not_recommended",
    "to_inform",
    "awaiting_agreements",
    "refused",
    "waiting_for_mentor",
    "proposed",
    "in_mentorship",
    "mentorship_ended",
    "left_care",
]
NextAction = Literal[
    "assess",
    "renew_assessment",
    "inform_and_offer",
    "collect_agreements",
    "propose_mentor",
    "none",
]
DueKind = Literal[
    "assess", "renew_assessment", "inform_and_offer", "collect_agreements", "propose_mentor"
]
SITUATIONS: tuple[str, ...] = get_args(Situation)
NEXT_ACTIONS: tuple[str, ...] = get_args(NextAction)
DUE_KINDS: tuple[str, ...] = get_args(DueKind)

SITUATION = (
    "Where the child stands in the legal duty's chain today (in the département's time zone): "
    "not_yet_due, assessment_due (within 60 days), assessment_overdue, not_recommended, "
    "to_inform, awaiting_agreements, refused, waiting_for_mentor, proposed, in_mentorship, "
    "mentorship_ended, left_care."
)
NEXT_ACTION = (
    "What the département must do next: assess (first assessment), renew_assessment (yearly), "
    "inform_and_offer, collect_agreements, propose_mentor, or none."
)
NEXT_ACTION_DUE_ON = (
    "When the next action is due: the assessment's due date, assessment + 30 days to inform, "
    "offer + 30 days to collect the agreements, decision + 30 days to propose a mentor, "
    "assessment + 1 year to renew; null when there is nothing to do."
)


class DueChild(ReadSchema):
    """The child an action is due for."""

    id: uuid.UUID = Field(description="The child's id.")
    reference: str = Field(description="The département's file reference.")
    first_name: str = Field(description="The child's first name.")


class DueItem(ReadSchema):
    """One thing the educators must do, with its date."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "renew_assessment",
                    "child": {
                        "id": "3f1c9b52-7a0e-4d5b-9a63-2f7e4c1d8b90",
                        "reference": "ASE53-2026-0142",
                        "first_name": "Inès",
                    },
                    "situation": "assessment_overdue",
                    "due_on": "2026-11-20",
                    "days_late": 5,
                    "link": "/v1/children/3f1c9b52-7a0e-4d5b-9a63-2f7e4c1d8b90/assessments",
                }
            ]
        }
    )

    kind: DueKind = Field(
        description="assess (first assessment), renew_assessment (yearly), inform_and_offer, "
        "collect_agreements, or propose_mentor (a child waiting for a mentor more than 30 days "
        "after the offer was accepted)."
    )
    child: DueChild = Field(description="The child.")
    situation: Situation = Field(description="The child's situation on the as-of date.")
    due_on: date = Field(description="When the action is (or was) due.")
    days_late: int = Field(description="Days past the due date on the as-of date; 0 if not late.")
    link: str = Field(description="Where to act: the API path that records the action.")
