"""Columns that children and mentors share: where they are and what they bring to matching."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    LargeBinary,
    Numeric,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from mentorat.models.base import sql_text_list
from mentorat.vocabulary import AVAILABILITY_BYTES, GOAL_CODES, LANGUAGES


class MatchingProfileMixin:
    commune: Mapped[str] = mapped_column(Text, nullable=False)
    postcode: Mapped[str] = mapped_column(Text, nullable=False)
    # Degrees to 6 decimals (about 0.1 m). A fixed scale rounds whatever is written, so no
    # stored value is too small for the `real` that matching reads (1e-300 is stored as 0).
    latitude: Mapped[float] = mapped_column(Numeric(8, 6, asdecimal=False), nullable=False)
    longitude: Mapped[float] = mapped_column(Numeric(9, 6, asdecimal=False), nullable=False)
    goals: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")
    )
    languages: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")
    )
    availability: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    remote_ok: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    # Bitmasks kept by PostgreSQL, so matching loads integers instead of parsing arrays.
    goals_mask: Mapped[int] = mapped_column(
        BigInteger,
        Computed(f"mentorat_code_mask(goals, ARRAY[{sql_text_list(GOAL_CODES)}])", persisted=True),
    )
    languages_mask: Mapped[int] = mapped_column(
        BigInteger,
        Computed(
            f"mentorat_code_mask(languages, ARRAY[{sql_text_list(LANGUAGES)}])", persisted=True
        ),
    )


def matching_profile_checks() -> tuple[CheckConstraint, ...]:
    return (
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
        CheckConstraint("postcode ~ '^[0-9][0-9AB][0-9]{3}$'", name="postcode_format"),
        CheckConstraint("length(btrim(commune)) > 0", name="commune_not_blank"),
        CheckConstraint(f"goals <@ ARRAY[{sql_text_list(GOAL_CODES)}]::text[]", name="goals_known"),
        CheckConstraint(
            f"languages <@ ARRAY[{sql_text_list(LANGUAGES)}]::text[]", name="languages_known"
        ),
        CheckConstraint(
            f"octet_length(availability) = {AVAILABILITY_BYTES}", name="availability_size"
        ),
    )
