"""The range of dates and times the service accepts: wide enough for every real record,
narrow enough that no time zone can push a value out of PostgreSQL's or Python's range."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
OUT_OF_RANGE = "must lie between 1900-01-01 and 2200-12-31 (UTC)"


def datetime_in_range(value: datetime) -> bool:
    """Whether an aware datetime, normalised to UTC, lies within [EARLIEST, LATEST]."""
    if value.tzinfo is None:
        return False
    try:
        return EARLIEST <= value.astimezone(UTC) <= LATEST
    except OverflowError:  # e.g. 0001-01-01T00:00+14:00 has no UTC equivalent
        return False


def date_in_range(value: date) -> bool:
    return EARLIEST.date() <= value <= LATEST.date()


def _bounded(value: datetime) -> datetime:
    if not datetime_in_range(value):
        raise ValueError(OUT_OF_RANGE)
    return value


BoundedDatetime = Annotated[AwareDatetime, AfterValidator(_bounded)]
"""A datetime with a time zone, within the supported range (query parameters, bodies)."""
