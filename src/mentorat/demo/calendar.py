"""The dates the demo's history is built around, and the legal duty's first due date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from mentorat.kit.clock import time_zone

DEMO_DEPARTEMENT = "53"


def add_years(day: date, years: int) -> date:
    """The same day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def days(rng: np.random.Generator, low: int, high: int) -> timedelta:
    """A random whole number of days in [low, high] (low when the range is empty)."""
    return timedelta(days=int(rng.integers(low, high + 1)) if high > low else low)


def between(rng: np.random.Generator, first: date, last: date) -> date:
    """A random day in [first, last]; `first` when the range is empty."""
    if last <= first:
        return first
    return first + timedelta(days=int(rng.integers(0, (last - first).days + 1)))


@dataclass(frozen=True)
class Calendar:
    """Today, the département's first school day and the three school years of history."""

    today: date
    school_start_month: int = 9
    school_start_day: int = 1

    def school_day(self, year: int) -> date:
        return date(year, self.school_start_month, self.school_start_day)

    @property
    def school_year(self) -> int:
        """The year the current school year started."""
        this_year = self.school_day(self.today.year)
        return self.today.year if self.today >= this_year else self.today.year - 1

    @property
    def history_start(self) -> date:
        """The first school day two years before this one: the duty's records start then."""
        return self.school_day(self.school_year - 2)

    @property
    def imported_on(self) -> date:
        """The children already in care were recorded a fortnight before the history starts."""
        return self.history_start - timedelta(days=14)

    @property
    def first_proposals(self) -> date:
        """Mentors are proposed once the first assessments and offers are through."""
        return self.history_start + timedelta(days=75)

    @property
    def yesterday(self) -> date:
        return self.today - timedelta(days=1)

    def moment(self, day: date, hour: float) -> datetime:
        """`day` at `hour` (local time of the département), never later than yesterday: the
        history is in the past, so that two loads on the same day write the same rows."""
        day = min(day, self.yesterday)
        minutes = round(hour * 60)
        local = datetime.combine(day, time(minutes // 60, minutes % 60))
        return local.replace(tzinfo=time_zone(DEMO_DEPARTEMENT)).astimezone(UTC)


@dataclass
class CareFacts:
    """A child's care facts now, and the revisions that led to them (day, facts then)."""

    birth_date: date
    college_entry_year: int
    came_into_care_on: date
    legal_situation: str
    left_care_on: date | None = None
    mentoring_requested_on: date | None = None
    # The legal situation before the 18th birthday, for a young adult.
    minor_legal_situation: str | None = None

    def legal_situation_on(self, day: date) -> str:
        if self.minor_legal_situation and day < add_years(self.birth_date, 18):
            return self.minor_legal_situation
        return self.legal_situation

    def revisions(self) -> list[tuple[date, dict[str, object]]]:
        """Each change of the care facts, on the day it happened, oldest first."""
        state: dict[str, object] = {
            "birth_date": self.birth_date,
            "college_entry_year": self.college_entry_year,
            "came_into_care_on": self.came_into_care_on,
            "left_care_on": None,
            "legal_situation": self.legal_situation_on(self.came_into_care_on),
            "mentoring_requested_on": None,
        }
        changes: list[tuple[date, dict[str, object]]] = [(self.came_into_care_on, dict(state))]
        if self.minor_legal_situation:
            adult = add_years(self.birth_date, 18)
            if adult > self.came_into_care_on:
                state["legal_situation"] = self.legal_situation
                changes.append((adult, dict(state)))
        if self.mentoring_requested_on:
            state["mentoring_requested_on"] = self.mentoring_requested_on
            changes.append((self.mentoring_requested_on, dict(state)))
        if self.left_care_on:
            state["left_care_on"] = self.left_care_on
            changes.append((self.left_care_on, dict(state)))
        return changes

    def first_due(self, calendar: Calendar) -> date | None:
        """The brief's F: the request of a young adult; else coming into care at 11 or more
        (or after collège entry), else the first school day of the year of collège entry."""
        if self.legal_situation == "young_adult":
            return self.mentoring_requested_on
        entry = calendar.school_day(self.college_entry_year)
        if age_on(self.birth_date, self.came_into_care_on) >= 11 or self.came_into_care_on >= entry:
            return self.came_into_care_on
        return entry
