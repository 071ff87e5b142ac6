from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mentorat.kit.clock import local_date, time_zone_name


@pytest.mark.parametrize(
    ("departement", "zone"),
    [("53", "Europe/Paris"), ("2A", "Europe/Paris"), ("69M", "Europe/Paris"),
     ("971", "America/Guadeloupe"), ("973", "America/Cayenne"), ("974", "Indian/Reunion"),
     ("976", "Indian/Mayotte"), (None, "Europe/Paris")],
)  # fmt: skip
def test_each_departement_has_its_time_zone(departement: str | None, zone: str) -> None:
    assert time_zone_name(departement) == zone


def test_a_late_utc_evening_is_already_tomorrow_in_la_reunion_but_not_in_guadeloupe() -> None:
    moment = datetime(2026, 11, 25, 22, 30, tzinfo=UTC)
    assert local_date(moment, "974").day == 26
    assert local_date(moment, "971").day == 25
    assert local_date(moment, "53").day == 25
