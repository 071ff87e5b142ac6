"""Local dates: a département's day, not the server's (overseas départements included)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

METROPOLE = "Europe/Paris"
OVERSEAS_TIME_ZONES: dict[str, str] = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "976": "Indian/Mayotte",
}


def time_zone_name(departement_code: str | None) -> str:
    return OVERSEAS_TIME_ZONES.get(departement_code or "", METROPOLE)


def time_zone(departement_code: str | None) -> ZoneInfo:
    return ZoneInfo(time_zone_name(departement_code))


def today_in(departement_code: str | None) -> date:
    return datetime.now(time_zone(departement_code)).date()


def local_date(moment: datetime, departement_code: str | None) -> date:
    return moment.astimezone(time_zone(departement_code)).date()
