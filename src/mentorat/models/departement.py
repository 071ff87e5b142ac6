from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, CheckConstraint, SmallInteger, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from mentorat.models.base import Base, TimestampMixin

# How long a declined proposal may be remembered, in months (five years).
MAX_DECLINE_MEMORY_MONTHS = 60
# 01-19, 2A, 2B, 21-95, 971-976, and codes such as 69M for authorities that run the ASE on
# their own territory.
DEPARTEMENT_CODE_PATTERN = r"^(0[1-9]|1[0-9]|2[AB1-9]|[3-8][0-9]|9[0-5]|97[1-6]|[0-9]{2}M)$"


ATTENTION_THRESHOLDS: tuple[str, ...] = (
    "attention_meeting_days",
    "attention_objective_days",
    "attention_pause_days",
)
MAX_ATTENTION_DAYS = 365


class Departement(TimestampMixin, Base):
    __tablename__ = "departement"
    __table_args__ = (
        CheckConstraint(f"code ~ '{DEPARTEMENT_CODE_PATTERN}'", name="code_format"),
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
        CheckConstraint(
            "school_start_month BETWEEN 1 AND 12 AND school_start_day BETWEEN 1 AND "
            "CASE WHEN school_start_month = 2 THEN 28 "
            "WHEN school_start_month IN (4, 6, 9, 11) THEN 30 ELSE 31 END",
            name="school_start_date",
        ),
        *(
            CheckConstraint(f"{name} BETWEEN 1 AND {MAX_ATTENTION_DAYS}", name=f"{name}_range")
            for name in ATTENTION_THRESHOLDS
        ),
        CheckConstraint(
            f"decline_memory_months BETWEEN 0 AND {MAX_DECLINE_MEMORY_MONTHS}",
            name="decline_memory_months",
        ),
    )

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    # The first school day of a school year (the collège entry deadline of an assessment).
    school_start_month: Mapped[int] = mapped_column(
        SmallInteger, nullable=False, server_default=text("9")
    )
    school_start_day: Mapped[int] = mapped_column(
        SmallInteger, nullable=False, server_default=text("1")
    )
    # When true, a mentorship becomes active only once its individual agreement is signed.
    individual_agreement_required: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    # After how many days a mentorship needs attention: without a meeting (active), with all
    # its live objectives unchanged (or past their target date), paused.
    attention_meeting_days: Mapped[int] = mapped_column(
        SmallInteger, nullable=False, server_default=text("30")
    )
    attention_objective_days: Mapped[int] = mapped_column(
        SmallInteger, nullable=False, server_default=text("30")
    )
    attention_pause_days: Mapped[int] = mapped_column(
        SmallInteger, nullable=False, server_default=text("90")
    )
    # Months after a decline during which runs leave the pair out and candidates list it last;
    # 0: declines are not remembered.
    decline_memory_months: Mapped[int] = mapped_column(
        SmallInteger, nullable=False, server_default=text("6")
    )


class DepartementMatchingVersion(Base):
    """Bumped by PostgreSQL triggers on any change to what the département's mentors'
    matching arrays are made of (migration 0011): a process keeps those arrays while the
    version it loaded them with is the current one. No row: never changed since 0011."""

    __tablename__ = "departement_matching_version"

    departement_code: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)
