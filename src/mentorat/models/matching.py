from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    REAL,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from mentorat.models.base import Base, TimestampMixin, VersionedMixin, sql_text_list, uuid_pk

RUN_STATUSES: tuple[str, ...] = ("queued", "running", "succeeded", "failed")
ACTIVE_RUN_STATUSES: tuple[str, ...] = ("queued", "running")
OBJECTIVES: tuple[str, ...] = ("coverage_first", "total_score")
# simulated: written by a dry run, holds nothing. pending: holds the child and a mentor place.
PROPOSAL_STATUSES: tuple[str, ...] = ("simulated", "pending", "accepted", "declined", "withdrawn")
UNMATCHED_REASONS: tuple[str, ...] = ("no_feasible_mentor", "taken_by_others", "below_min_score")
# Why a run failed, for its readers; the detail is in the log, under the run id.
RUN_ERROR_CODES: tuple[str, ...] = (
    "abandoned",
    "database_unavailable",
    "database_error",
    "timeout",
    "internal_error",
)


class MatchingRun(TimestampMixin, Base):
    """One batch assignment over a département, with its parameters, progress and figures."""

    __tablename__ = "matching_run"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_text_list(RUN_STATUSES)})", name="status"),
        CheckConstraint(f"objective IN ({sql_text_list(OBJECTIVES)})", name="objective"),
        CheckConstraint("min_score BETWEEN 0 AND 1", name="min_score_range"),
        CheckConstraint(
            "(status IN ('succeeded', 'failed')) = (finished_at IS NOT NULL)", name="finished"
        ),
        CheckConstraint(
            f"error_code IS NULL OR error_code IN ({sql_text_list(RUN_ERROR_CODES)})",
            name="error_code",
        ),
        CheckConstraint("(status = 'failed') = (error_code IS NOT NULL)", name="failed_error_code"),
        CheckConstraint("(published_count > 0) = (published_at IS NOT NULL)", name="published"),
        # At most one run at a time per département: the second is refused by PostgreSQL.
        Index(
            "uq_matching_run_one_active_per_departement",
            "departement_code",
            unique=True,
            postgresql_where=text(f"status IN ({sql_text_list(ACTIVE_RUN_STATUSES)})"),
        ),
        Index("ix_matching_run_page", "departement_code", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    departement_code: Mapped[str] = mapped_column(
        ForeignKey("departement.code", ondelete="RESTRICT"), nullable=False
    )
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    requested_by_name: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default=text("'queued'"))
    phase: Mapped[str | None] = mapped_column(Text)
    objective: Mapped[str] = mapped_column(Text, nullable=False)
    min_score: Mapped[float] = mapped_column(Float, nullable=False)
    weights: Mapped[dict[str, float]] = mapped_column(JSONB, nullable=False)
    dry_run: Mapped[bool] = mapped_column(Boolean, nullable=False)
    run_date: Mapped[date] = mapped_column(Date, nullable=False)
    needed_hours: Mapped[float] = mapped_column(Float, nullable=False, server_default=text("2"))
    child_ids: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(UUID(as_uuid=True)))
    mentor_ids: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(UUID(as_uuid=True)))
    figures: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    error_code: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A dry run's proposals are published (made pending) in one or more steps: the last one's
    # author and time, and how many proposals all of them published.
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_by_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    published_by_name: Mapped[str | None] = mapped_column(Text)
    published_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    # Attempts at running it so far: a worker that claims it adds one, and its results are
    # written only while the run is still at that attempt (a superseded worker writes nothing).
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))


class Proposal(TimestampMixin, VersionedMixin, Base):
    """A concrete child-mentor pair put forward, with the score and reasons behind it."""

    __tablename__ = "proposal"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_text_list(PROPOSAL_STATUSES)})", name="status"),
        CheckConstraint("score BETWEEN 0 AND 1", name="score_range"),
        # A child is held by at most one pending proposal.
        Index(
            "uq_proposal_one_pending_per_child",
            "child_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
        Index(
            "ix_proposal_mentor_pending", "mentor_id", postgresql_where=text("status = 'pending'")
        ),
        Index("ix_proposal_run", "run_id", "child_id"),
        # A département's recent declines, and a pair's real proposals: is a decline still
        # remembered (matching/declines.py)?
        Index(
            "ix_proposal_declined",
            "departement_code",
            "decided_at",
            postgresql_where=text("status = 'declined'"),
        ),
        Index(
            "ix_proposal_pair",
            "child_id",
            "mentor_id",
            postgresql_where=text("status <> 'simulated'"),
        ),
        UniqueConstraint("run_id", "child_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    run_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("matching_run.id", ondelete="CASCADE")
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
    status: Mapped[str] = mapped_column(Text, nullable=False)
    score: Mapped[float] = mapped_column(REAL, nullable=False)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The two consents a pending proposal needs before it becomes a mentorship.
    validated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    validated_by_name: Mapped[str | None] = mapped_column(Text)
    mentor_accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    mentor_accepted_by_name: Mapped[str | None] = mapped_column(Text)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    declined_by_name: Mapped[str | None] = mapped_column(Text)
    # When a dry run's simulated proposal was published (made pending); null otherwise.
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MatchingRunUnmatched(Base):
    """A child a run left unmatched, and why."""

    __tablename__ = "matching_run_unmatched"
    __table_args__ = (
        CheckConstraint(f"reason IN ({sql_text_list(UNMATCHED_REASONS)})", name="reason"),
    )

    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("matching_run.id", ondelete="CASCADE"), primary_key=True
    )
    child_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("child.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    feasible_mentors: Mapped[int] = mapped_column(Integer, nullable=False)
    best_score: Mapped[float | None] = mapped_column(REAL)
    excluded_by_reason: Mapped[dict[str, int]] = mapped_column(JSONB, nullable=False)


class PairExclusion(Base):
    """A child-mentor pair that must never be proposed (an educator's decision)."""

    __tablename__ = "pair_exclusion"
    __table_args__ = (
        UniqueConstraint("child_id", "mentor_id"),
        CheckConstraint("length(btrim(reason)) > 0", name="reason_not_blank"),
        Index("ix_pair_exclusion_mentor", "mentor_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    child_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("child.id", ondelete="CASCADE"), nullable=False
    )
    mentor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mentor.id", ondelete="CASCADE"), nullable=False
    )
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_by_name: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )
