from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mentorat.models.base import Base, TimestampMixin, VersionedMixin, sql_text_list, uuid_pk
from mentorat.models.profile import MatchingProfileMixin, matching_profile_checks

SCHOOL_LEVELS: tuple[str, ...] = (
    "cm1", "cm2", "6e", "5e", "4e", "3e", "2nde", "1re", "terminale", "cap", "autre",
)  # fmt: skip
PREFERRED_MENTOR_GENDERS: tuple[str, ...] = ("female", "male")


class Child(MatchingProfileMixin, TimestampMixin, VersionedMixin, Base):
    """A child in ASE care: only what matching and follow-up need."""

    __tablename__ = "child"
    __table_args__ = (
        *matching_profile_checks(),
        UniqueConstraint("departement_code", "reference"),
        CheckConstraint("length(btrim(reference)) > 0", name="reference_not_blank"),
        CheckConstraint("length(btrim(first_name)) > 0", name="first_name_not_blank"),
        CheckConstraint("birth_date >= DATE '1990-01-01'", name="birth_date_plausible"),
        CheckConstraint(f"school_level IN ({sql_text_list(SCHOOL_LEVELS)})", name="school_level"),
        CheckConstraint("college_entry_year BETWEEN 2000 AND 2100", name="college_entry_year"),
        CheckConstraint(
            "mentor_gender_preference IS NULL OR mentor_gender_preference IN "
            f"({sql_text_list(PREFERRED_MENTOR_GENDERS)})",
            name="mentor_gender_preference",
        ),
        Index(
            "ix_child_scope_page",
            "departement_code",
            "created_at",
            "id",
            postgresql_where="deleted_at IS NULL",
        ),
        Index("ix_child_page", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    departement_code: Mapped[str] = mapped_column(
        ForeignKey("departement.code", ondelete="RESTRICT"), nullable=False
    )
    reference: Mapped[str] = mapped_column(Text, nullable=False)
    first_name: Mapped[str] = mapped_column(Text, nullable=False)
    birth_date: Mapped[date] = mapped_column(Date, nullable=False)
    school_level: Mapped[str] = mapped_column(Text, nullable=False)
    college_entry_year: Mapped[int] = mapped_column(nullable=False)
    mentor_gender_preference: Mapped[str | None] = mapped_column(Text)
    referent_educator: Mapped[str | None] = mapped_column(Text)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set by retention: only what statistics need is left (see retention/service.py).
    anonymised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
