from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from mentorat.kit.schemas import Flag, Integer, IsoDate, ReadSchema, Schema, UpdateSchema
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

STATE = "accepted (both sides agreed), active (meetings under way), paused, or ended."
END_REASON = "Why the mentorship ended; null unless it ended."
OBJECTIVE_TITLE = "What the child aims at, in a few words (1 to 200 characters)."
OBJECTIVE_CATEGORY = "The goal code the objective belongs to (GET /v1/vocabulary/goals)."
OBJECTIVE_DESCRIPTION = "Details (4,000 characters at most); null: none."
TARGET_DATE = "When the objective should be reached (ISO date); null: no date set."
OBJECTIVE_STATUS = "open, in_progress, achieved or abandoned."
PROGRESS = "How far along the objective is, in percent (0 to 100)."
AGREEMENT_SIGNED_ON = (
    "When the individual agreement between the ASE, the association and the child was signed "
    "(ISO date, not in the future); null: not yet. A département may require it before the "
    "mentorship becomes active."
)


class ChildSummary(ReadSchema):
    """What each side sees of the child: the association side gets only what a mentor needs."""

    id: uuid.UUID | None = Field(default=None, description="Hidden from the association side.")
    reference: str | None = Field(
        default=None,
        description="The département's file reference. Hidden from the association side.",
    )
    first_name: str = Field(description="The child's first name.")
    age: int = Field(description="Age in whole years today.")
    commune: str = Field(description="The commune the child lives in.")
    goals: list[str] = Field(description="What the child wants help with (goal codes).")


class MentorSummary(ReadSchema):
    """The mentor of a mentorship."""

    id: uuid.UUID = Field(description="The mentor's id.")
    first_name: str = Field(description="The mentor's first name.")
    last_name: str = Field(description="The mentor's last name.")
    association_id: uuid.UUID = Field(description="The mentor's association.")


class Cadence(ReadSchema):
    """How often the pair meets, from the recorded meetings."""

    meetings: int = Field(description="Meetings recorded.")
    last_meeting_on: date | None = Field(description="Date of the latest meeting; null: none.")
    days_since_last_meeting: int | None = Field(
        description="Days from the latest meeting to today; null: no meeting yet."
    )
    meetings_last_90_days: int = Field(description="Meetings held in the last 90 days.")
    mean_days_between_meetings: float | None = Field(
        description="Mean gap between the first and the latest meeting, in days (1 decimal); "
        "null with fewer than two meetings."
    )


class NoMeeting(ReadSchema):
    """Active, and no meeting for more than the département's `attention_meeting_days`."""

    code: Literal["no_meeting"] = Field(description="no_meeting")
    since: date = Field(
        description="The latest meeting; without one, the day the mentorship started (or was "
        "created, when it never started)."
    )
    days: int = Field(description="Days from `since` to today.")
    last_meeting_on: date | None = Field(description="The latest meeting; null: none yet.")
    threshold_days: int = Field(description="The département's attention_meeting_days.")


class ObjectivesStale(ReadSchema):
    """Active, and every live (open or in progress) objective stale: unchanged for more than
    the département's `attention_objective_days`, or past its target date."""

    code: Literal["objectives_stale"] = Field(description="objectives_stale")
    since: date = Field(description="The first day on which every live objective was stale.")
    days: int = Field(description="Days from `since` to today.")
    objectives: int = Field(description="Live objectives, all stale.")
    threshold_days: int = Field(description="The département's attention_objective_days.")


class PausedTooLong(ReadSchema):
    """Paused for more than the département's `attention_pause_days`."""

    code: Literal["paused_too_long"] = Field(description="paused_too_long")
    since: date = Field(description="The day it was paused.")
    days: int = Field(description="Days from `since` to today.")
    threshold_days: int = Field(description="The département's attention_pause_days.")


AttentionReason = Annotated[
    NoMeeting | ObjectivesStale | PausedTooLong, Field(discriminator="code")
]


class Mentorship(ReadSchema):
    """A mentoring relationship between a child and a mentor, from acceptance to its end."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "a7c3e1f0-2b4d-4e6f-8a0b-1c2d3e4f5a6b",
                    "departement_code": "53",
                    "state": "active",
                    "end_reason": None,
                    "started_at": "2026-10-07T15:00:00Z",
                    "ended_at": None,
                    "proposal_id": "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b",
                    "agreement_signed_on": "2026-10-05",
                    "child": {
                        "id": "3f1c9b52-7a0e-4d5b-9a63-2f7e4c1d8b90",
                        "reference": "ASE53-2026-0142",
                        "first_name": "Inès",
                        "age": 12,
                        "commune": "Laval",
                        "goals": ["scolarite", "confiance"],
                    },
                    "mentor": {
                        "id": "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a",
                        "first_name": "Julien",
                        "last_name": "Bouvier",
                        "association_id": "8b4f2d1e-5c3a-4e7b-9f60-1a2b3c4d5e6f",
                    },
                    "cadence": {
                        "meetings": 5,
                        "last_meeting_on": "2026-11-18",
                        "days_since_last_meeting": 7,
                        "meetings_last_90_days": 5,
                        "mean_days_between_meetings": 10.5,
                    },
                    "attention": [
                        {
                            "code": "objectives_stale",
                            "since": "2026-11-02",
                            "days": 23,
                            "objectives": 2,
                            "threshold_days": 30,
                        }
                    ],
                    "version": 2,
                    "created_at": "2026-10-01T10:12:00Z",
                    "updated_at": "2026-10-07T15:00:00Z",
                }
            ]
        }
    )

    id: uuid.UUID = Field(description="The mentorship's id.")
    departement_code: str = Field(description="The child's département.")
    state: State = Field(description=STATE)
    end_reason: EndReason | None = Field(description=END_REASON)
    started_at: datetime | None = Field(
        description="When it first became active (UTC); null until then."
    )
    ended_at: datetime | None = Field(description="When it ended (UTC); null until then.")
    proposal_id: uuid.UUID | None = Field(
        description="The proposal it came from; null when none is on record."
    )
    agreement_signed_on: date | None = Field(description=AGREEMENT_SIGNED_ON)
    child: ChildSummary = Field(description="The child, as far as the caller may see them.")
    mentor: MentorSummary = Field(description="The mentor.")
    cadence: Cadence = Field(description="Meeting figures.")
    attention: list[AttentionReason] = Field(
        description="Why the mentorship needs attention today, with the facts of each reason "
        "(no_meeting, objectives_stale, paused_too_long); empty when it does not. "
        "`needs_attention=true` lists exactly those with at least one."
    )
    version: int = Field(
        description="Incremented on every change; the ETag to send back in If-Match."
    )
    created_at: datetime = Field(description="When the mentorship was created (UTC).")
    updated_at: datetime = Field(description="When it last changed (UTC).")


class Transition(Schema):
    """A move of the mentorship to another state."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"to": "paused", "note": "Summer holidays; meetings resume in September."},
                {"to": "ended", "reason": "completed", "note": "The child started a CAP."},
            ]
        }
    )

    to: State = Field(description="The state to move to.")
    reason: EndReason | None = Field(default=None, description="Required when ending.")
    note: Annotated[str, Field(max_length=2000)] | None = Field(
        default=None, description="Free note on the move (2,000 characters at most)."
    )


class MentorshipUpdate(UpdateSchema):
    """The fields to change; those left out stay as they are."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"agreement_signed_on": "2026-10-05"}]}
    )
    nullable_fields = frozenset({"agreement_signed_on"})

    agreement_signed_on: Annotated[IsoDate, Field(ge=date(2000, 1, 1))] | None = Field(
        default=None, description=AGREEMENT_SIGNED_ON
    )


class MentorshipEvent(ReadSchema):
    """A change of state of a mentorship (append-only)."""

    id: int = Field(description="The event's number, increasing over time.")
    occurred_at: datetime = Field(description="When it happened (UTC).")
    principal_name: str = Field(description="Name of whoever made the change.")
    from_state: State | None = Field(description="The state before; null at creation.")
    to_state: State = Field(description="The state after.")
    reason: EndReason | None = Field(description=END_REASON)
    note: str | None = Field(description="Free note on the move; null: none.")


class ObjectiveCreate(Schema):
    """An objective of the mentorship, followed over time."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "Find a work placement for the 3e internship",
                    "category": "stage",
                    "description": "A one-week stage in a garage around Évron.",
                    "target_date": "2027-01-29",
                    "status": "open",
                    "progress": 0,
                }
            ]
        }
    )

    title: Title = Field(description=OBJECTIVE_TITLE)
    category: GoalCode = Field(description=OBJECTIVE_CATEGORY)
    description: Description | None = Field(default=None, description=OBJECTIVE_DESCRIPTION)
    target_date: IsoDate | None = Field(default=None, description=TARGET_DATE)
    status: ObjectiveStatus = Field(default="open", description=OBJECTIVE_STATUS)
    progress: Progress = Field(default=0, description=PROGRESS)


class ObjectiveUpdate(UpdateSchema):
    """The fields to change; those left out stay as they are. Each change is a revision."""

    nullable_fields = frozenset({"description", "target_date"})

    title: Title | None = Field(default=None, description=OBJECTIVE_TITLE)
    category: GoalCode | None = Field(default=None, description=OBJECTIVE_CATEGORY)
    description: Description | None = Field(default=None, description=OBJECTIVE_DESCRIPTION)
    target_date: IsoDate | None = Field(default=None, description=TARGET_DATE)
    status: ObjectiveStatus | None = Field(default=None, description=OBJECTIVE_STATUS)
    progress: Progress | None = Field(default=None, description=PROGRESS)


class Objective(ReadSchema):
    """An objective of a mentorship, now or as it stood at `as_of`."""

    id: uuid.UUID = Field(description="The objective's id.")
    mentorship_id: uuid.UUID = Field(description="The mentorship it belongs to.")
    title: str = Field(description=OBJECTIVE_TITLE)
    category: str = Field(description=OBJECTIVE_CATEGORY)
    description: str | None = Field(description=OBJECTIVE_DESCRIPTION)
    target_date: date | None = Field(description=TARGET_DATE)
    status: ObjectiveStatus = Field(description=OBJECTIVE_STATUS)
    progress: int = Field(description=PROGRESS)
    revision: int = Field(description="Number of the revision shown (1 at creation).")
    as_of: datetime | None = Field(
        default=None, description="Set when the objective is shown as it stood at that time."
    )


class ObjectiveRevision(ReadSchema):
    """One change of an objective."""

    revision: int = Field(description="The revision's number (1 at creation).")
    recorded_at: datetime = Field(description="When it was recorded (UTC).")
    principal_name: str = Field(description="Name of whoever made the change.")
    values: dict[str, Any] = Field(
        description="The objective's fields after the change (title, category, description, "
        "target_date, status, progress)."
    )
    changed_fields: list[str] = Field(description="The fields this revision changed.")


class MeetingCreate(Schema):
    """A meeting held by the mentor and the child."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "held_on": "2026-11-18",
                    "duration_minutes": 90,
                    "mode": "in_person",
                    "note": "Homework at the Laval médiathèque, then a walk to the castle.",
                }
            ]
        }
    )

    held_on: IsoDate = Field(description="Date of the meeting (ISO date).")
    duration_minutes: Annotated[Integer, Field(ge=1, le=720)] = Field(
        description="Length of the meeting, in minutes (1 to 720)."
    )
    mode: MeetingMode = Field(description="in_person or remote.")
    note: Annotated[str, Field(max_length=1000)] | None = Field(
        default=None, description="Free note (1,000 characters at most); null: none."
    )
    backfill: Flag = Field(
        default=False,
        description="True for a meeting held before the mentorship was recorded here (a "
        "mentorship entered after the fact): only such a meeting may predate it, and only with "
        "this flag. Default false.",
    )


class Meeting(ReadSchema):
    """A recorded meeting."""

    id: uuid.UUID = Field(description="The meeting's id.")
    mentorship_id: uuid.UUID = Field(description="The mentorship it belongs to.")
    held_on: date = Field(description="Date of the meeting.")
    duration_minutes: int = Field(description="Length of the meeting, in minutes.")
    mode: MeetingMode = Field(description="in_person or remote.")
    note: str | None = Field(description="Free note; null: none.")
    entered_by_name: str = Field(description="Name of whoever recorded it.")
    backfill: bool = Field(
        description="Entered after the fact: held before the mentorship was recorded here."
    )
    created_at: datetime = Field(description="When it was recorded (UTC).")


class TimelineEntry(ReadSchema):
    """One entry of a mentorship's timeline: a state change, an objective revision or a
    meeting."""

    at: datetime = Field(
        description="When it happened (UTC); a meeting, which has a date only, sits at noon in "
        "the département's time zone."
    )
    kind: TimelineEntryKind = Field(description="What it is.")
    id: str = Field(description="The id of the event, revision or meeting.")
    summary: str = Field(description="One line for people to read.")
    data: dict[str, Any] = Field(
        description="The entry's fields: from_state, to_state, reason, note for an event; "
        "objective_id, revision, values, changed_fields for a revision; held_on, "
        "duration_minutes, mode, note, backfill for a meeting; and `by`, the name of whoever "
        "made it."
    )
