from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from mentorat.models.base import Base, TimestampMixin, VersionedMixin, sql_text_list, uuid_pk
from mentorat.models.legal import LEGAL_SITUATIONS
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
        CheckConstraint(
            f"legal_situation IN ({sql_text_list(LEGAL_SITUATIONS)})", name="legal_situation"
        ),
        CheckConstraint(
            "left_care_on IS NULL OR left_care_on >= came_into_care_on", name="care_period"
        ),
        CheckConstraint("came_into_care_on >= DATE '1990-01-01'", name="came_into_care_plausible"),
        # Prefix search by reference or first name within a département.
        Index(
            "ix_child_reference_prefix",
            "departement_code",
            func.lower(literal_column("reference")).label("lower_reference"),
            postgresql_ops={"lower_reference": "text_pattern_ops"},
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index(
            "ix_child_first_name_prefix",
            "departement_code",
            func.lower(literal_column("first_name")).label("lower_first_name"),
            postgresql_ops={"lower_first_name": "text_pattern_ops"},
            postgresql_where=text("deleted_at IS NULL"),
        ),
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
    came_into_care_on: Mapped[date] = mapped_column(
        Date, nullable=False, server_default=func.current_date()
    )
    left_care_on: Mapped[date | None] = mapped_column(Date)
    legal_situation: Mapped[str] = mapped_column(
        Text, nullable=False, server_default="parental_authority"
    )
    # A young adult (18-21, contrat jeune majeur) is in the duty's scope once they ask.
    mentoring_requested_on: Mapped[date | None] = mapped_column(Date)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set by retention: only what statistics need is left (see retention/service.py).
    anonymised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
