from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from mentorat.models.base import Base, TimestampMixin, VersionedMixin, sql_text_list, uuid_pk
from mentorat.models.profile import MatchingProfileMixin, matching_profile_checks
from mentorat.vocabulary import GENDERS

MAX_CAPACITY = 10
MAX_TRAVEL_RADIUS_KM = 200


class Mentor(MatchingProfileMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "mentor"
    __table_args__ = (
        *matching_profile_checks(),
        CheckConstraint("length(btrim(first_name)) > 0", name="first_name_not_blank"),
        CheckConstraint("length(btrim(last_name)) > 0", name="last_name_not_blank"),
        CheckConstraint("email IS NULL OR email ~ '^[^@\\s]+@[^@\\s]+$'", name="email"),
        CheckConstraint(
            f"travel_radius_km > 0 AND travel_radius_km <= {MAX_TRAVEL_RADIUS_KM}",
            name="travel_radius",
        ),
        CheckConstraint(f"capacity BETWEEN 1 AND {MAX_CAPACITY}", name="capacity_range"),
        CheckConstraint(f"gender IS NULL OR gender IN ({sql_text_list(GENDERS)})", name="gender"),
        CheckConstraint(
            "(honorability_checked_on IS NULL) = (honorability_valid_until IS NULL)"
            " AND (honorability_valid_until IS NULL"
            " OR honorability_valid_until >= honorability_checked_on)",
            name="honorability_dates",
        ),
        Index(
            "ix_mentor_scope_page",
            "association_id",
            "created_at",
            "id",
            postgresql_where="deleted_at IS NULL",
        ),
        Index("ix_mentor_page", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    association_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("association.id", ondelete="RESTRICT"), nullable=False
    )
    first_name: Mapped[str] = mapped_column(Text, nullable=False)
    last_name: Mapped[str] = mapped_column(Text, nullable=False)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    travel_radius_km: Mapped[float] = mapped_column(nullable=False)
    capacity: Mapped[int] = mapped_column(nullable=False, server_default=text("1"))
    gender: Mapped[str | None] = mapped_column(Text)
    honorability_checked_on: Mapped[date | None] = mapped_column(Date)
    honorability_valid_until: Mapped[date | None] = mapped_column(Date)
    training_completed_on: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
