"""API shapes shared by children and mentors: location, goals, languages, weekly availability."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from mentorat.kit.schemas import Number, rounded
from mentorat.vocabulary import (
    AVAILABILITY_BYTES,
    GOAL_BIT,
    GOAL_CODES,
    LANGUAGE_BIT,
    LANGUAGES,
    SLOTS_PER_DAY,
    SLOTS_PER_WEEK,
)

GoalCode = Literal[GOAL_CODES]  # type: ignore[valid-type]
LanguageCode = Literal[LANGUAGES]  # type: ignore[valid-type]


class Weekday(StrEnum):
    monday = "monday"
    tuesday = "tuesday"
    wednesday = "wednesday"
    thursday = "thursday"
    friday = "friday"
    saturday = "saturday"
    sunday = "sunday"


WEEKDAYS = list(Weekday)

HalfHour = Annotated[
    str,
    StringConstraints(pattern=r"^(([01][0-9]|2[0-3]):(00|30)|24:00)$"),
    Field(description="HH:MM on a half hour, 00:00 to 24:00."),
]


def _sorted_unique(order: dict[str, int]) -> AfterValidator:
    return AfterValidator(lambda codes: sorted(set(codes), key=order.__getitem__))


Goals = Annotated[
    list[GoalCode],
    Field(
        max_length=len(GOAL_CODES) * 2,
        description="Goal codes from GET /v1/vocabulary/goals; stored once each, in vocabulary "
        "order.",
    ),
    _sorted_unique(GOAL_BIT),
]
Languages = Annotated[
    list[LanguageCode],
    Field(
        max_length=len(LANGUAGES) * 2,
        description="Language codes (ISO 639-1 mostly) from GET /v1/vocabulary/languages; "
        "stored once each, in vocabulary order.",
    ),
    _sorted_unique(LANGUAGE_BIT),
]


class WeeklySlot(BaseModel):
    """A weekly interval of availability, on half hours."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"day": "wednesday", "start": "14:00", "end": "17:30"},
                {"day": "saturday", "start": "10:00", "end": "12:00"},
            ]
        },
    )

    day: Weekday = Field(description="Day of the week.")
    start: HalfHour = Field(
        description="Start, HH:MM on a half hour (00:00 to 23:30).", examples=["14:00"]
    )
    end: HalfHour = Field(
        description="End, HH:MM on a half hour. After start, on the same day (24:00 at most).",
        examples=["17:30"],
    )

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, end: str, info: ValidationInfo) -> str:
        start = info.data.get("start")
        if start is not None and _slot_index(end) <= _slot_index(start):
            raise ValueError(f"end must be after start ({start})")
        return end


Availability = Annotated[
    list[WeeklySlot],
    Field(
        max_length=7 * SLOTS_PER_DAY,
        description="Weekly availability; overlapping or touching slots are merged when stored.",
    ),
]


def _slot_index(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 2 + (1 if minutes == "30" else 0)


def _hhmm(slot: int) -> str:
    return f"{slot // 2:02d}:{'30' if slot % 2 else '00'}"


def availability_to_bytes(slots: list[WeeklySlot]) -> bytes:
    bits = np.zeros(SLOTS_PER_WEEK, dtype=np.uint8)
    for slot in slots:
        offset = WEEKDAYS.index(slot.day) * SLOTS_PER_DAY
        bits[offset + _slot_index(slot.start) : offset + _slot_index(slot.end)] = 1
    packed = np.packbits(bits).tobytes()
    if len(packed) != AVAILABILITY_BYTES:
        raise ValueError(f"availability packs into {len(packed)} bytes, not {AVAILABILITY_BYTES}")
    return packed


def availability_from_bytes(packed: bytes) -> list[WeeklySlot]:
    """Merged, ordered intervals; an interval never crosses midnight."""
    return list(_weekly_slots(bytes(packed)))


_BYTE_BITS = [format(byte, "08b") for byte in range(256)]
_RUN_OF_ONES = re.compile("1+")


@lru_cache(maxsize=4096)  # weeks repeat a lot from one record to the next (lists read many)
def _weekly_slots(packed: bytes) -> tuple[WeeklySlot, ...]:
    bits = "".join(_BYTE_BITS[byte] for byte in packed)
    slots = []
    for day_index, day in enumerate(WEEKDAYS):
        day_bits = bits[day_index * SLOTS_PER_DAY : (day_index + 1) * SLOTS_PER_DAY]
        for run in _RUN_OF_ONES.finditer(day_bits):
            slots.append(WeeklySlot(day=day, start=_hhmm(run.start()), end=_hhmm(run.end())))
    return tuple(slots)


def availability_hours(packed: bytes) -> float:
    return int(np.unpackbits(np.frombuffer(packed, dtype=np.uint8)).sum()) / 2


Postcode = Annotated[str, StringConstraints(pattern=r"^[0-9][0-9AB][0-9]{3}$")]


COORDINATE_DECIMALS = 6  # about 0.1 m; the columns are numeric(8, 6) and numeric(9, 6)
Latitude = Annotated[
    Number,
    Field(ge=-90, le=90, description="Degrees, kept to 6 decimals."),
    rounded(COORDINATE_DECIMALS),
]
Longitude = Annotated[
    Number,
    Field(ge=-180, le=180, description="Degrees, kept to 6 decimals."),
    rounded(COORDINATE_DECIMALS),
]


class Location(BaseModel):
    """Where someone lives, as the matching uses it: distances are great-circle kilometres
    between these coordinates."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {"commune": "Laval", "postcode": "53000", "latitude": 48.0707, "longitude": -0.7734}
            ]
        },
    )

    commune: Annotated[str, StringConstraints(min_length=1, max_length=120)] = Field(
        description="Name of the commune (town)."
    )
    postcode: Postcode = Field(description="French postcode, 5 characters (2A/2B for Corsica).")
    latitude: Latitude = Field(description="WGS 84 latitude in degrees, kept to 6 decimals.")
    longitude: Longitude = Field(description="WGS 84 longitude in degrees, kept to 6 decimals.")


PROFILE_FIELDS = ("location", "goals", "languages", "availability", "remote_ok")


def profile_to_columns(values: dict[str, object]) -> dict[str, object]:
    """API profile fields (as dumped by model_dump) to model columns; others pass through."""
    columns = dict(values)
    location = columns.pop("location", None)
    if isinstance(location, dict):
        columns.update(location)
    availability = columns.get("availability")
    if isinstance(availability, list):
        columns["availability"] = availability_to_bytes(
            [WeeklySlot.model_validate(slot) for slot in availability]
        )
    return columns


def profile_from_row(row: object) -> dict[str, object]:
    return {
        "location": Location.model_validate(row),
        "availability": availability_from_bytes(row.availability),  # type: ignore[attr-defined]
    }
