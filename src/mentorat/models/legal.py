"""The legal duty's records (CASF L.221-2-6, D221-34 to D221-37).

Assessments, consent facts and care revisions are append-only: the duty report can be
reproduced as it stood on any past date (`as_of`) from the rows recorded by then.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

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
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from mentorat.models.base import Base, TimestampMixin, VersionedMixin, sql_text_list, uuid_pk

# Whose written agreement the offer needs follows from the child's legal situation.
LEGAL_SITUATIONS: tuple[str, ...] = (
    "parental_authority",
    "delegated_to_ase",
    "pupille",
    "young_adult",
)
ASSESSMENT_OUTCOMES: tuple[str, ...] = ("mentoring_recommended", "not_now", "not_applicable")
# child: the child's opinion and agreement; parents: the holder(s) of parental authority;
# tutor and family_council: a pupille de l'État's; ase: the ASE under a delegation of
# parental authority; young_adult: a young adult's own agreement.
CONSENT_PARTIES: tuple[str, ...] = (
    "child", "parents", "tutor", "family_council", "ase", "young_adult",
)  # fmt: skip
CONSENT_KINDS: tuple[str, ...] = ("informed", "agreed", "refused")
REQUIRED_PARTIES: dict[str, tuple[str, ...]] = {
    "parental_authority": ("child", "parents"),
    "delegated_to_ase": ("child", "ase"),
    "pupille": ("child", "tutor", "family_council"),
    "young_adult": ("young_adult",),
}


class Assessment(Base):
    """Whether mentoring serves the child (D221-34); renewed every year. Append-only."""

    __tablename__ = "assessment"
    __table_args__ = (
        CheckConstraint(f"outcome IN ({sql_text_list(ASSESSMENT_OUTCOMES)})", name="outcome_known"),
        CheckConstraint(
            "outcome = 'mentoring_recommended' OR length(btrim(coalesce(reason, ''))) > 0",
            name="reason_unless_recommended",
        ),
        CheckConstraint("assessed_on >= DATE '2000-01-01'", name="assessed_on_plausible"),
        Index("ix_assessment_child", "child_id", "assessed_on", "created_at"),
        Index("ix_assessment_departement", "departement_code", "assessed_on"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    child_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("child.id", ondelete="CASCADE"), nullable=False
    )
    departement_code: Mapped[str] = mapped_column(
        ForeignKey("departement.code", ondelete="RESTRICT"), nullable=False
    )
    assessed_on: Mapped[date] = mapped_column(Date, nullable=False)
    author_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    author_name: Mapped[str] = mapped_column(Text, nullable=False)
    outcome: Mapped[str] = mapped_column(Text, nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()
    )


class OfferConsent(Base):
    """One fact of an offer (D221-35): a party informed, agreeing or refusing, on a date.

    Append-only; the offer's outcome is derived from these facts by PostgreSQL (a trigger)
    from the parties the offer's legal situation requires.
    """

    __tablename__ = "offer_consent"
    __table_args__ = (
        CheckConstraint(f"party IN ({sql_text_list(CONSENT_PARTIES)})", name="party_known"),
        CheckConstraint(f"kind IN ({sql_text_list(CONSENT_KINDS)})", name="kind_known"),
        CheckConstraint(
            "opinion IS NULL OR party IN ('child', 'young_adult')", name="opinion_of_child"
        ),
        Index("uq_offer_consent_fact", "offer_id", "party", "kind", unique=True),
        # A party answers once: agreed or refused, never both.
        Index(
            "uq_offer_consent_one_answer",
            "offer_id",
            "party",
            unique=True,
            postgresql_where=text("kind <> 'informed'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    offer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("offer.id", ondelete="CASCADE"), nullable=False
    )
    party: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    given_on: Mapped[date] = mapped_column(Date, nullable=False)
    # The child's opinion (avis), in their words or the educator's summary.
    opinion: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()
    )
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    recorded_by_name: Mapped[str] = mapped_column(Text, nullable=False)


class ChildCareRevision(Base):
    """The care facts of a child after each change; written by a trigger, append-only."""

    __tablename__ = "child_care_revision"
    __table_args__ = (Index("ix_child_care_revision_child", "child_id", "recorded_at", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    child_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("child.id", ondelete="CASCADE"), nullable=False
    )
    departement_code: Mapped[str] = mapped_column(Text, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()
    )
    birth_date: Mapped[date] = mapped_column(Date, nullable=False)
    college_entry_year: Mapped[int] = mapped_column(Integer, nullable=False)
    came_into_care_on: Mapped[date] = mapped_column(Date, nullable=False)
    left_care_on: Mapped[date | None] = mapped_column(Date)
    legal_situation: Mapped[str] = mapped_column(Text, nullable=False)
    mentoring_requested_on: Mapped[date | None] = mapped_column(Date)
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False)


class AssociationAgreement(TimestampMixin, VersionedMixin, Base):
    """The convention under which an association's mentors work in a département (D221-37)."""

    __tablename__ = "association_agreement"
    __table_args__ = (
        CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="valid_period"),
        CheckConstraint("signed_on >= DATE '2000-01-01'", name="signed_on_plausible"),
        CheckConstraint(
            "document_reference IS NULL OR length(btrim(document_reference)) > 0",
            name="document_reference_not_blank",
        ),
        Index(
            "ix_association_agreement_scope",
            "departement_code",
            "association_id",
            "valid_from",
        ),
        Index("ix_association_agreement_association", "association_id", "valid_from"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    association_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("association.id", ondelete="CASCADE"), nullable=False
    )
    departement_code: Mapped[str] = mapped_column(
        ForeignKey("departement.code", ondelete="RESTRICT"), nullable=False
    )
    signed_on: Mapped[date] = mapped_column(Date, nullable=False)
    valid_from: Mapped[date] = mapped_column(Date, nullable=False)
    valid_until: Mapped[date | None] = mapped_column(Date)
    document_reference: Mapped[str | None] = mapped_column(Text)
