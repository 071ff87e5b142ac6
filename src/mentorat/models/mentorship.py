from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from mentorat.models.base import Base, TimestampMixin, VersionedMixin, sql_text_list, uuid_pk
from mentorat.models.legal import LEGAL_SITUATIONS
from mentorat.vocabulary import GOAL_CODES

OFFER_OUTCOMES: tuple[str, ...] = ("pending", "accepted", "refused")
MENTORSHIP_STATES: tuple[str, ...] = ("accepted", "active", "paused", "ended")
LIVE_MENTORSHIP_STATES: tuple[str, ...] = ("accepted", "active", "paused")
END_REASONS: tuple[str, ...] = (
    "completed",
    "child_choice",
    "mentor_unavailable",
    "placement_change",
    "age_limit",
    "safeguarding",
    "other",
)
OBJECTIVE_STATUSES: tuple[str, ...] = ("open", "in_progress", "achieved", "abandoned")
MEETING_MODES: tuple[str, ...] = ("in_person", "remote")


class Offer(TimestampMixin, VersionedMixin, Base):
    """The legal offer of a mentor to a child (L.221-2-6, D221-35).

    The answers are facts in `offer_consent`; the outcome is derived from them by PostgreSQL
    (a trigger), from the parties that the legal situation recorded on the offer requires:
    accepted once every one of them agreed, refused as soon as one refuses. An offer rests on
    a recommending assessment less than a year old.
    """

    __tablename__ = "offer"
    __table_args__ = (
        CheckConstraint(f"outcome IN ({sql_text_list(OFFER_OUTCOMES)})", name="outcome_known"),
        CheckConstraint(
            f"legal_situation IN ({sql_text_list(LEGAL_SITUATIONS)})", name="legal_situation"
        ),
        CheckConstraint("(outcome = 'pending') = (decided_at IS NULL)", name="decided"),
        # One open offer per child at a time; a refused child can be offered again later.
        Index(
            "uq_offer_one_pending_per_child",
            "child_id",
            unique=True,
            postgresql_where=text("outcome = 'pending'"),
        ),
        Index("ix_offer_child", "child_id", "offered_on", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    child_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("child.id", ondelete="CASCADE"), nullable=False
    )
    departement_code: Mapped[str] = mapped_column(
        ForeignKey("departement.code", ondelete="RESTRICT"), nullable=False
    )
    offered_on: Mapped[date] = mapped_column(Date, nullable=False)
    offered_by_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    offered_by_name: Mapped[str] = mapped_column(Text, nullable=False)
    # The situation when the offer was made decides whose agreement it needs.
    legal_situation: Mapped[str] = mapped_column(Text, nullable=False)
    assessment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("assessment.id", ondelete="SET NULL")
    )
    outcome: Mapped[str] = mapped_column(Text, nullable=False, server_default="pending")
    note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Mentorship(TimestampMixin, VersionedMixin, Base):
    __tablename__ = "mentorship"
    __table_args__ = (
        CheckConstraint(f"state IN ({sql_text_list(MENTORSHIP_STATES)})", name="state"),
        CheckConstraint(
            f"end_reason IS NULL OR end_reason IN ({sql_text_list(END_REASONS)})",
            name="end_reason_known",
        ),
        CheckConstraint(
            "(state = 'ended') = (end_reason IS NOT NULL AND ended_at IS NOT NULL)",
            name="ended_with_reason",
        ),
        # A child never has two live mentorships.
        Index(
            "uq_mentorship_one_live_per_child",
            "child_id",
            unique=True,
            postgresql_where=text(f"state IN ({sql_text_list(LIVE_MENTORSHIP_STATES)})"),
        ),
        Index("ix_mentorship_mentor_live", "mentor_id", postgresql_where=text("state <> 'ended'")),
        Index("ix_mentorship_departement", "departement_code", "created_at", "id"),
        Index("ix_mentorship_child", "child_id", "ended_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("proposal.id", ondelete="SET NULL"), unique=True
    )
    child_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("child.id", ondelete="CASCADE"), nullable=False
    )
    mentor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mentor.id", ondelete="CASCADE"), nullable=False
    )
    departement_code: Mapped[str] = mapped_column(
        ForeignKey("departement.code", ondelete="RESTRICT"), nullable=False
    )
    state: Mapped[str] = mapped_column(Text, nullable=False)
    end_reason: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The individual agreement (ASE, association, child) of this mentorship, when signed.
    agreement_signed_on: Mapped[date | None] = mapped_column(Date)


class MentorshipEvent(Base):
    """One state transition; append-only (a trigger refuses UPDATE and DELETE)."""

    __tablename__ = "mentorship_event"
    __table_args__ = (
        Index("ix_mentorship_event_mentorship", "mentorship_id", "occurred_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    mentorship_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mentorship.id", ondelete="CASCADE"), nullable=False
    )
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()
    )
    principal_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    principal_name: Mapped[str] = mapped_column(Text, nullable=False)
    from_state: Mapped[str | None] = mapped_column(Text)
    to_state: Mapped[str] = mapped_column(Text, nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class Objective(TimestampMixin, VersionedMixin, Base):
    """The current values of an objective; every change is also an ObjectiveRevision."""

    __tablename__ = "objective"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_text_list(OBJECTIVE_STATUSES)})", name="status"),
        CheckConstraint(f"category IN ({sql_text_list(GOAL_CODES)})", name="category_known"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),
        CheckConstraint("length(btrim(title)) > 0", name="title_not_blank"),
        Index("ix_objective_mentorship", "mentorship_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    mentorship_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mentorship.id", ondelete="CASCADE"), nullable=False
    )
    title: Mapped[str] = mapped_column(Text, nullable=False)
    category: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    target_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="open")
    progress: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))


class ObjectiveRevision(Base):
    """The values of an objective after one change; append-only."""

    __tablename__ = "objective_revision"
    __table_args__ = (
        UniqueConstraint("objective_id", "revision"),
        Index("ix_objective_revision_mentorship", "mentorship_id", "recorded_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    objective_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("objective.id", ondelete="CASCADE"), nullable=False
    )
    mentorship_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mentorship.id", ondelete="CASCADE"), nullable=False
    )
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()
    )
    principal_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    principal_name: Mapped[str] = mapped_column(Text, nullable=False)
    values: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    changed_fields: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)


class Meeting(Base):
    """A check-in between mentor and child."""

    __tablename__ = "meeting"
    __table_args__ = (
        CheckConstraint(f"mode IN ({sql_text_list(MEETING_MODES)})", name="mode"),
        CheckConstraint("duration_minutes BETWEEN 1 AND 720", name="duration_range"),
        CheckConstraint("note IS NULL OR length(note) <= 1000", name="note_short"),
        Index("ix_meeting_mentorship", "mentorship_id", "held_on"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    mentorship_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mentorship.id", ondelete="CASCADE"), nullable=False
    )
    held_on: Mapped[date] = mapped_column(Date, nullable=False)
    duration_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    mode: Mapped[str] = mapped_column(Text, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    entered_by_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    entered_by_name: Mapped[str] = mapped_column(Text, nullable=False)
    # Entered after the fact: held before the service knew the mentorship.
    backfill: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()
    )


class IdempotencyRecord(Base):
    """The first answer to a POST sent with an Idempotency-Key, replayed to its retries."""

    __tablename__ = "idempotency_record"
    __table_args__ = (
        PrimaryKeyConstraint("principal_id", "key"),
        Index("ix_idempotency_record_subject_ids", "subject_ids", postgresql_using="gin"),
        Index("ix_idempotency_record_created_at", "created_at"),
    )

    principal_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    key: Mapped[str] = mapped_column(Text, nullable=False)
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[Any | None] = mapped_column(JSONB)
    response_headers: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    # Every id the stored answer mentions: a purge removes the answers naming its subject.
    subject_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), nullable=False, server_default=text("'{}'::uuid[]")
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
