from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from mentorat.kit.schemas import Integer, IsoDate, ReadSchema, Schema, UpdateSchema
from mentorat.profile import GoalCode

State = Literal["accepted", "active", "paused", "ended"]
EndReason = Literal[
    "completed",
    "child_choice",
    "mentor_unavailable",
    "placement_change",
    "age_limit",
    "safeguarding",
    "other",
]
ObjectiveStatus = Literal["open", "in_progress", "achieved", "abandoned"]
MeetingMode = Literal["in_person", "remote"]
TimelineEntryKind = Literal["event", "objective_revision", "meeting"]
Title = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=4000)]
Progress = Annotated[Integer, Field(ge=0, le=100)]


class ChildSummary(ReadSchema):
    """What each side sees of the child: the association side gets only what a mentor needs."""

    id: uuid.UUID | None = None
    reference: str | None = None
    first_name: str
    age: int
    commune: str
    goals: list[str]


class MentorSummary(ReadSchema):
    id: uuid.UUID
    first_name: str
    last_name: str
    association_id: uuid.UUID


class Cadence(ReadSchema):
    meetings: int
    last_meeting_on: date | None
    days_since_last_meeting: int | None
    meetings_last_90_days: int
    mean_days_between_meetings: float | None


class Mentorship(ReadSchema):
    id: uuid.UUID
    departement_code: str
    state: State
    end_reason: EndReason | None
    started_at: datetime | None
    ended_at: datetime | None
    proposal_id: uuid.UUID | None
    child: ChildSummary
    mentor: MentorSummary
    cadence: Cadence
    version: int
    created_at: datetime
    updated_at: datetime


class Transition(Schema):
    to: State
    reason: EndReason | None = Field(default=None, description="Required when ending.")
    note: Annotated[str, Field(max_length=2000)] | None = None


class MentorshipEvent(ReadSchema):
    id: int
    occurred_at: datetime
    principal_name: str
    from_state: State | None
    to_state: State
    reason: EndReason | None
    note: str | None


class ObjectiveCreate(Schema):
    title: Title
    category: GoalCode
    description: Description | None = None
    target_date: IsoDate | None = None
    status: ObjectiveStatus = "open"
    progress: Progress = 0


class ObjectiveUpdate(UpdateSchema):
    nullable_fields = frozenset({"description", "target_date"})

    title: Title | None = None
    category: GoalCode | None = None
    description: Description | None = None
    target_date: IsoDate | None = None
    status: ObjectiveStatus | None = None
    progress: Progress | None = None


class Objective(ReadSchema):
    id: uuid.UUID
    mentorship_id: uuid.UUID
    title: str
    category: str
    description: str | None
    target_date: date | None
    status: ObjectiveStatus
    progress: int
    revision: int
    as_of: datetime | None = Field(
        default=None, description="Set when the objective is shown as it stood at that time."
    )


class ObjectiveRevision(ReadSchema):
    revision: int
    recorded_at: datetime
    principal_name: str
    values: dict[str, Any]
    changed_fields: list[str]


class MeetingCreate(Schema):
    held_on: IsoDate
    duration_minutes: Annotated[Integer, Field(ge=1, le=720)]
    mode: MeetingMode
    note: Annotated[str, Field(max_length=1000)] | None = None


class Meeting(ReadSchema):
    id: uuid.UUID
    mentorship_id: uuid.UUID
    held_on: date
    duration_minutes: int
    mode: MeetingMode
    note: str | None
    entered_by_name: str
    created_at: datetime


class TimelineEntry(ReadSchema):
    at: datetime
    kind: TimelineEntryKind
    id: str
    summary: str
    data: dict[str, Any]
