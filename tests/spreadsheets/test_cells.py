"""Cell formats: what the import reads is what the export writes."""

from __future__ import annotations

import numpy as np
import pytest

from mentorat.profile import WeeklySlot, availability_from_bytes, availability_to_bytes
from mentorat.spreadsheets import cells


def test_availability_round_trips_through_its_cell_format() -> None:
    rng = np.random.default_rng(53)
    for _ in range(500):
        packed = np.packbits(rng.integers(0, 2, 336).astype(np.uint8)).tobytes()
        text = cells.format_packed_availability(packed)
        assert text == cells.format_availability(availability_from_bytes(packed))
        slots = [WeeklySlot(**slot) for slot in cells.availability(text)]
        assert availability_to_bytes(slots) == packed


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("mercredi 14:00-17:00", [("wednesday", "14:00", "17:00")]),
        ("Samedi 9h-12h30 ; sunday 14:30–16:00", [
            ("saturday", "09:00", "12:30"), ("sunday", "14:30", "16:00")]),
        ("", []),
    ],
)  # fmt: skip
def test_availability_cells(text: str, slots: list[tuple[str, str, str]]) -> None:
    assert [(s["day"], s["start"], s["end"]) for s in cells.availability(text)] == slots


@pytest.mark.parametrize("text", ["mercredi", "jour 14:00-15:00", "14:00-15:00"])
def test_unreadable_availability(text: str) -> None:
    with pytest.raises(cells.CellError):
        cells.availability(text)


def test_codes_dates_numbers_and_booleans() -> None:
    assert cells.goals("Orientation | ROME-a, stage") == ["orientation", "rome-A", "stage"]
    assert cells.languages("FR; ar") == ["fr", "ar"]
    assert cells.day("01/09/2026") == "2026-09-01"
    assert cells.day("2026-09-01") == "2026-09-01"
    assert cells.decimal("-0,7734") == -0.7734
    assert cells.decimal("1 234,5") == 1234.5
    assert cells.postcode("1000") == "01000"
    assert [cells.boolean(word) for word in ("Oui", "no", "1", "FAUX")] == [
        True, False, True, False]  # fmt: skip
    assert cells.boolean("peut-être") == "peut-être"  # left for the schema to refuse
    assert cells.gender("Femme") == "female"
    assert cells.format_number(48.0) == "48"
    assert cells.format_number(-0.7734) == "-0.7734"
