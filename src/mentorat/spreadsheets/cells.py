"""The readable cell formats of imports and exports.

Parsers turn a cell's text into what the API schemas take; anything they cannot make sense of
is passed through unchanged, so the schema (the same rules as the API) names the problem.
Formatters write the same formats, so an export imports back unchanged.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date
from functools import lru_cache

from mentorat.profile import WeeklySlot
from mentorat.vocabulary import GOAL_CODES, LANGUAGES


class CellError(ValueError):
    """A cell whose text cannot be read in its column's format."""


DAYS: dict[str, str] = {
    "lundi": "monday",
    "mardi": "tuesday",
    "mercredi": "wednesday",
    "jeudi": "thursday",
    "vendredi": "friday",
    "samedi": "saturday",
    "dimanche": "sunday",
    **{day: day for day in ("monday", "tuesday", "wednesday", "thursday", "friday")},
    "saturday": "saturday",
    "sunday": "sunday",
}
FRENCH_DAY = {english: french for french, english in list(DAYS.items())[:7]}
TRUE_WORDS = frozenset({"oui", "o", "yes", "y", "true", "vrai", "1", "x"})
FALSE_WORDS = frozenset({"non", "n", "no", "false", "faux", "0"})

_LIST_SEPARATORS = re.compile(r"[,|;]")
_SLOT = re.compile(
    r"^(?P<day>[^\W\d_]+)\s+(?P<start>\d{1,2}(?:[:h]\d{2}|h)?)\s*[-–à]\s*(?P<end>\d{1,2}(?:[:h]\d{2}|h)?)$",
    re.IGNORECASE,
)
_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_GOALS = {code.lower(): code for code in GOAL_CODES}
_LANGUAGES = {code.lower(): code for code in LANGUAGES}


def split_list(text: str) -> list[str]:
    return [item.strip() for item in _LIST_SEPARATORS.split(text) if item.strip()]


def goals(text: str) -> list[str]:
    """`orientation, rome-A` or `orientation | rome-A`; codes are matched case-insensitively."""
    return [_GOALS.get(item.lower(), item) for item in split_list(text)]


def languages(text: str) -> list[str]:
    return [_LANGUAGES.get(item.lower(), item) for item in split_list(text)]


def _hhmm(text: str) -> str:
    hours, _, minutes = text.lower().replace("h", ":").partition(":")
    return f"{int(hours):02d}:{minutes or '00'}"


def availability(text: str) -> list[dict[str, str]]:
    """`mercredi 14:00-17:00; samedi 10h-12h` (French or English day names)."""
    slots = []
    for chunk in (part.strip() for part in text.split(";")):
        if not chunk:
            continue
        match = _SLOT.match(chunk)
        day = DAYS.get(match["day"].lower()) if match else None
        if match is None or day is None:
            raise CellError(f"{chunk!r} is not 'day HH:MM-HH:MM' (e.g. 'mercredi 14:00-17:00')")
        slots.append({"day": day, "start": _hhmm(match["start"]), "end": _hhmm(match["end"])})
    return slots


def boolean(text: str) -> bool | str:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return text


def day(text: str) -> str:
    """ISO `2026-09-01` or French `01/09/2026`, to ISO."""
    match = _FRENCH_DATE.match(text.strip())
    if match is None:
        return text.strip()
    day_of_month, month, year = (int(part) for part in match.groups())
    return f"{year:04d}-{month:02d}-{day_of_month:02d}"


def decimal(text: str) -> float:
    """`48,0707` or `48.0707` (spaces, as thousands separators, dropped)."""
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text)
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        number = float(cleaned)
    except ValueError:
        raise CellError(f"{text.strip()!r} is not a number (e.g. 48,0707)") from None
    if not math.isfinite(number):
        raise CellError(f"{text.strip()!r} is not a finite number")
    return number


def integer(text: str) -> int:
    """A whole number, such as a year or a capacity (`2026`, `2`; `2,0` from a spreadsheet)."""
    number = decimal(text)
    if not number.is_integer():
        raise CellError(f"{text.strip()!r} is not a whole number")
    return int(number)


def postcode(text: str) -> str:
    """A spreadsheet that took `01000` for a number shows `1000`: the zero comes back."""
    cleaned = text.strip()
    return cleaned.zfill(5) if cleaned.isdigit() and len(cleaned) == 4 else cleaned


def text(value: str) -> str:
    return value.strip()


def code(value: str) -> str:
    """Codes such as school levels are lower case (`6E` is `6e`)."""
    return value.strip().lower()


GENDERS = {"f": "female", "femme": "female", "h": "male", "homme": "male", "m": "male"}
GENDERS |= {"autre": "other"}


def gender(value: str) -> str:
    """`female`, `male`, `other` or in French `femme`, `homme`, `autre` (`F`, `H`)."""
    word = value.strip().lower()
    return GENDERS.get(word, word)


# Formatting, for exports.


def format_list(codes: Iterable[str]) -> str:
    return ", ".join(codes)


def format_availability(slots: Iterable[WeeklySlot]) -> str:
    return "; ".join(f"{FRENCH_DAY[slot.day.value]} {slot.start}-{slot.end}" for slot in slots)


_BYTE_BITS = [format(byte, "08b") for byte in range(256)]
_RUN = re.compile("1+")
_FRENCH_DAYS = list(FRENCH_DAY.values())


_HALF_HOURS = [f"{slot // 2:02d}:{'30' if slot % 2 else '00'}" for slot in range(49)]


@lru_cache(maxsize=4096)  # weeks repeat a lot from one record to the next
def format_packed_availability(packed: bytes) -> str:
    """The stored 42-byte week as `mercredi 14:00-17:00; ...`: what format_availability writes
    of availability_from_bytes, without building the slots (exports format every row)."""
    bits = "".join(_BYTE_BITS[byte] for byte in packed)
    day_slots = len(bits) // 7
    parts = []
    for day_index, day_name in enumerate(_FRENCH_DAYS):
        day = bits[day_index * day_slots : (day_index + 1) * day_slots]
        for run in _RUN.finditer(day):
            parts.append(f"{day_name} {_HALF_HOURS[run.start()]}-{_HALF_HOURS[run.end()]}")
    return "; ".join(parts)


def format_boolean(value: bool | None) -> str:
    return "" if value is None else ("oui" if value else "non")


def format_date(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def format_number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))
