from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from mentorat.models.base import Base, TimestampMixin, VersionedMixin, sql_text_list, uuid_pk
from mentorat.models.profile import MatchingProfileMixin, matching_profile_checks
from mentorat.vocabulary import AVAILABILITY_BYTES, GENDERS, GOAL_CODES, LANGUAGES

MAX_CAPACITY = 10
MAX_TRAVEL_RADIUS_KM = 200

_GENDER_CODE = " ".join(f"WHEN '{gender}' THEN {i + 1}" for i, gender in enumerate(GENDERS))

# What matching needs of a mentor, packed by PostgreSQL into one fixed-width binary record
# (the values' binary send forms) and stored with the row, so that loading 20,000 mentors is
# one concatenation: (field, SQL expression, numpy dtype). matching/loading.py reads it.
MENTOR_RECORD_FIELDS: tuple[tuple[str, str, object], ...] = (
    ("id", "uuid_send(id)", "V16"),
    ("lat", "float4send(latitude::real)", ">f4"),
    ("lon", "float4send(longitude::real)", ">f4"),
    ("radius_km", "float4send(travel_radius_km::real)", ">f4"),
    ("goals", f"int8send(mentorat_code_mask(goals, ARRAY[{sql_text_list(GOAL_CODES)}]))", ">i8"),
    ("availability", "availability", ("u1", (AVAILABILITY_BYTES,))),
    ("remote_ok", "boolsend(remote_ok)", "?"),
    ("gender", f"int2send((CASE gender {_GENDER_CODE} ELSE 0 END)::smallint)", ">i2"),
    (
        "languages",
        f"int8send(mentorat_code_mask(languages, ARRAY[{sql_text_list(LANGUAGES)}]))",
        ">i8",
    ),
    ("usable", "boolsend(active AND deleted_at IS NULL)", "?"),
    ("checked_on", "date_send(coalesce(honorability_checked_on, 'infinity'::date))", ">i4"),
    ("valid_until", "date_send(coalesce(honorability_valid_until, '-infinity'::date))", ">i4"),
    ("places_left", "int4send(greatest(capacity - places_held, 0))", ">i4"),
)
MENTOR_RECORD_SQL = " || ".join(expression for _, expression, _ in MENTOR_RECORD_FIELDS)


class Mentor(MatchingProfileMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "mentor"
    __table_args__ = (
        *matching_profile_checks(),
        CheckConstraint("length(btrim(first_name)) > 0", name="first_name_not_blank"),
        CheckConstraint("length(btrim(last_name)) > 0", name="last_name_not_blank"),
        # The association's own reference, for spreadsheet upserts; older rows have none.
        UniqueConstraint("association_id", "reference"),
        CheckConstraint(
            "reference IS NULL OR length(btrim(reference)) > 0", name="reference_not_blank"
        ),
        CheckConstraint("email IS NULL OR email ~ '^[^@\\s]+@[^@\\s]+$'", name="email"),
        CheckConstraint(
            f"travel_radius_km > 0 AND travel_radius_km <= {MAX_TRAVEL_RADIUS_KM}",
            name="travel_radius",
        ),
        CheckConstraint(f"capacity BETWEEN 1 AND {MAX_CAPACITY}", name="capacity_range"),
        # Kept by triggers on proposal and mentorship (pending proposals, accepted or active
        # mentorships): the capacity holds even against concurrent writers.
        CheckConstraint("places_held BETWEEN 0 AND capacity", name="places_within_capacity"),
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
        # Room on each page for the recount of places_held to be a HOT update (migration 0015).
        {"postgresql_with": {"fillfactor": 80}},
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    association_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("association.id", ondelete="RESTRICT"), nullable=False
    )
    reference: Mapped[str | None] = mapped_column(Text)
    first_name: Mapped[str] = mapped_column(Text, nullable=False)
    last_name: Mapped[str] = mapped_column(Text, nullable=False)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    travel_radius_km: Mapped[float] = mapped_column(  # to 0.1 km, like coordinates: no underflow
        Numeric(4, 1, asdecimal=False), nullable=False
    )
    capacity: Mapped[int] = mapped_column(nullable=False, server_default=text("1"))
    places_held: Mapped[int] = mapped_column(nullable=False, server_default=text("0"))
    matching_record: Mapped[bytes] = mapped_column(
        LargeBinary, Computed(MENTOR_RECORD_SQL, persisted=True), deferred=True
    )
    gender: Mapped[str | None] = mapped_column(Text)
    honorability_checked_on: Mapped[date | None] = mapped_column(Date)
    honorability_valid_until: Mapped[date | None] = mapped_column(Date)
    training_completed_on: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set by retention: only what statistics need is left (see retention/service.py).
    anonymised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
