from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Identity,
    Index,
    PrimaryKeyConstraint,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from mentorat.models.base import Base, sql_text_list

# What clients can be told about. `data` carries ids, statuses and codes, never a name.
EVENT_TYPES: tuple[str, ...] = (
    "proposal.created",
    "proposal.validated",
    "proposal.accepted",
    "proposal.declined",
    "mentorship.started",
    "mentorship.ended",
    "mentorship.needs_attention",
    "matching_run.succeeded",
    "matching_run.failed",
    "assessment.due",
    "honorability.expiring",
    "webhook.test",
)


class Event(Base):
    """The outbox: one row per thing that happened, written in the transaction of the change
    (a rolled-back change leaves none), read in `seq` order by whatever tells clients.

    Append-only in practice; no foreign key, so an event outlives a purged record, like the
    audit trail. The scope columns say who may be told: the département's side
    (`departement_code`) and, where the event concerns a mentor, their association's side.
    """

    __tablename__ = "event"
    __table_args__ = (
        CheckConstraint(f"type IN ({sql_text_list(EVENT_TYPES)})", name="type"),
        Index("ix_event_departement", "departement_code", "seq"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), nullable=False, unique=True)
    type: Mapped[str] = mapped_column(Text, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    departement_code: Mapped[str | None] = mapped_column(Text)
    association_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    entity_type: Mapped[str] = mapped_column(Text, nullable=False)
    entity_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )


REMINDER_KINDS: tuple[str, ...] = (
    "mentorship.needs_attention",
    "honorability.expiring",
    "assessment.due",
)


class ReminderSent(Base):
    """What the daily reminders already told: one row per record and occasion (an expiry
    date, a due date, the reasons a mentorship needs attention), so that a day run twice, or
    the next day while nothing changed, tells nobody again."""

    __tablename__ = "reminder_sent"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_text_list(REMINDER_KINDS)})", name="kind"),
        PrimaryKeyConstraint("kind", "entity_id", "occasion"),
    )

    kind: Mapped[str] = mapped_column(Text, nullable=False)
    entity_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    occasion: Mapped[str] = mapped_column(Text, nullable=False)
    sent_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
