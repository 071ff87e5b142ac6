from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Identity, Index, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from mentorat.models.base import Base, sql_text_list

AUDIT_ACTIONS: tuple[str, ...] = ("read", "create", "update", "delete", "purge", "revoke")


class AuditEvent(Base):
    """Append-only: a trigger refuses UPDATE and DELETE (see the first migration), except in
    a transaction of the retention service or a purge (`mentorat.retention = on`, migration
    0006), which may delete expired rows and replace the copied name of a purged principal."""

    __tablename__ = "audit_event"
    __table_args__ = (
        CheckConstraint(f"action IN ({sql_text_list(AUDIT_ACTIONS)})", name="action"),
        Index("ix_audit_event_entity", "entity_type", "entity_id", "occurred_at"),
        Index("ix_audit_event_principal", "principal_id", "occurred_at"),
        Index("ix_audit_event_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    # No foreign key: the trail must outlive a purged principal or record.
    principal_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    principal_name: Mapped[str] = mapped_column(Text, nullable=False)
    principal_role: Mapped[str] = mapped_column(Text, nullable=False)
    action: Mapped[str] = mapped_column(Text, nullable=False)
    entity_type: Mapped[str] = mapped_column(Text, nullable=False)
    entity_id: Mapped[str] = mapped_column(Text, nullable=False)
    departement_code: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
