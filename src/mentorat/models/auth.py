from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, LargeBinary, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mentorat.models.base import Base, TimestampMixin, uuid_pk

ROLES: tuple[str, ...] = ("admin", "departement_manager", "educator", "coordinator", "mentor")


class Principal(TimestampMixin, Base):
    """Someone (or a batch process) with one role and the scope it implies.

    A principal signs in with its API tokens, or, when it has an email, with a JWT from the
    configured OpenID Connect provider whose `email` claim matches (case-insensitively).
    """

    __tablename__ = "principal"
    __table_args__ = (
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
        CheckConstraint(
            "(role = 'admin' AND departement_code IS NULL AND association_id IS NULL"
            "  AND mentor_id IS NULL)"
            " OR (role IN ('departement_manager', 'educator') AND departement_code IS NOT NULL"
            "  AND association_id IS NULL AND mentor_id IS NULL)"
            " OR (role = 'coordinator' AND association_id IS NOT NULL"
            "  AND departement_code IS NULL AND mentor_id IS NULL)"
            " OR (role = 'mentor' AND mentor_id IS NOT NULL"
            "  AND departement_code IS NULL AND association_id IS NULL)",
            name="role_scope",
        ),
        CheckConstraint("email IS NULL OR email ~ '^[^@\\s]+@[^@\\s]+$'", name="email"),
        # One principal per identity: sign-in looks the email up case-insensitively.
        Index("uq_principal_email_lower", text("lower(email)"), unique=True),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str] = mapped_column(Text, nullable=False)
    departement_code: Mapped[str | None] = mapped_column(
        ForeignKey("departement.code", ondelete="RESTRICT"), index=True
    )
    association_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("association.id", ondelete="CASCADE"), index=True
    )
    mentor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("mentor.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str | None] = mapped_column(Text)


class ApiToken(Base):
    """A bearer token. Only its SHA-256 is stored; the token itself is shown once."""

    __tablename__ = "api_token"
    __table_args__ = (
        CheckConstraint("octet_length(token_hash) = 32", name="hash_size"),
        CheckConstraint(
            "expires_at IS NULL OR expires_at > created_at", name="expiry_after_creation"
        ),
        Index("ix_api_token_principal", "principal_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    principal_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("principal.id", ondelete="CASCADE"), nullable=False
    )
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, unique=True)
    prefix: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    principal: Mapped[Principal] = relationship(lazy="raise")
