"""Care facts of the demo's children: age, coming into care (and leaving), legal situation."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from mentorat.demo.calendar import Calendar, CareFacts, add_years, between, days

MINOR_SITUATIONS = ("parental_authority", "delegated_to_ase", "pupille")
MINOR_SITUATION_WEIGHTS = (0.72, 0.22, 0.06)
# Days a situation's history needs between the first due date and today.
ROOM: dict[str, int] = {
    "waiting_for_mentor": 150,
    "in_mentorship": 250,
    "proposed": 150,
    "mentorship_ended": 300,
    "refused": 90,
    "awaiting_agreements": 60,
    "to_inform": 20,
    "not_recommended": 20,
    "assessment_overdue": 480,  # a renewal left undone
    "assessment_due": 400,  # a renewal due today
    "left_care": 150,  # before leaving
}
ONE_DAY = timedelta(days=1)
ATTEMPTS = 500


def _minor_situation(rng: np.random.Generator) -> str:
    return str(rng.choice(MINOR_SITUATIONS, p=MINOR_SITUATION_WEIGHTS))


def _born(rng: np.random.Generator, on: date, age: int) -> date:
    """A birth date that makes the child exactly `age` on `on`."""
    return add_years(on, -age) - days(rng, 0, 364)


def left_care_on(rng: np.random.Generator, calendar: Calendar) -> date:
    return between(rng, calendar.history_start + timedelta(days=150), calendar.yesterday)


def care_facts(
    rng: np.random.Generator, calendar: Calendar, situation: str, variant: int, young_adult: bool
) -> CareFacts:
    """Care facts that let a history reach `situation` today (`variant`: which kind)."""
    today = calendar.today
    if situation == "left_care":
        if young_adult:
            return _aged_out(rng, calendar)
        left = left_care_on(rng, calendar)
        facts = _minor(rng, calendar, left, ROOM["left_care"])
        facts.left_care_on = left
        return facts
    if young_adult:
        return _young_adult(rng, calendar, situation)
    if situation == "not_yet_due":
        entry = calendar.school_year + 1
        if calendar.school_day(entry) <= today + timedelta(days=60):
            entry += 1
        birth = date(entry - 11, 1, 1) + days(rng, 0, 364)
        came = between(rng, add_years(birth, 3), today - timedelta(days=30))
        return CareFacts(birth, entry, came, _minor_situation(rng))
    if situation == "assessment_due" and variant % 2 == 1:
        birth = _born(rng, today, int(rng.integers(12, 15)))  # placed today
        return CareFacts(birth, birth.year + 11, today, _minor_situation(rng))
    if situation == "assessment_overdue" and variant % 2 == 0:
        return _recently_due(rng, calendar)
    return _minor(rng, calendar, today, ROOM[situation])


def _minor(rng: np.random.Generator, calendar: Calendar, until: date, room: int) -> CareFacts:
    """A child of 11 to 17 on `until`, most in care since before 11, some who came at 11 or
    more; their first due date leaves `room` days before `until`."""
    for _ in range(ATTEMPTS):
        birth = _born(rng, until, int(rng.integers(11, 18)))
        eleven = add_years(birth, 11)
        if rng.random() < 0.25:
            came = between(rng, max(eleven, calendar.history_start - timedelta(days=400)), until)
            if came >= until:
                continue
        else:
            came = between(rng, add_years(birth, 3), min(eleven, until) - ONE_DAY)
        facts = CareFacts(birth, birth.year + 11, came, _minor_situation(rng))
        first_due = facts.first_due(calendar)
        if first_due and max(first_due, calendar.history_start) <= until - timedelta(days=room):
            return facts
    raise RuntimeError("no care facts fit the demo's calendar")  # a bug in the shares


def _recently_due(rng: np.random.Generator, calendar: Calendar) -> CareFacts:
    """Never assessed, due a few weeks ago: entered collège this year, or came at 11+."""
    today = calendar.today
    if rng.random() < 0.5:
        entry = calendar.school_year
        birth = date(entry - 11, 1, 1) + days(rng, 0, 364)
        latest = min(add_years(birth, 11), calendar.school_day(entry)) - ONE_DAY
        came = between(rng, add_years(birth, 4), latest)
        return CareFacts(birth, entry, came, _minor_situation(rng))
    birth = _born(rng, today, int(rng.integers(12, 17)))
    came = today - days(rng, 5, 100)
    return CareFacts(birth, birth.year + 11, came, _minor_situation(rng))


def _young_adult(rng: np.random.Generator, calendar: Calendar, situation: str) -> CareFacts:
    """18 to 20, in care since 15-17 (contrat jeune majeur since 18); asked for mentoring
    unless `situation` is not_yet_due."""
    today = calendar.today
    room = {"assessment_overdue": 10, "to_inform": 20}.get(situation, ROOM.get(situation, 0))
    for _ in range(ATTEMPTS):
        birth = _born(rng, today, int(rng.integers(18, 21)))
        adult = add_years(birth, 18)
        came = between(rng, add_years(birth, 15), adult - ONE_DAY)
        facts = CareFacts(
            birth, birth.year + 11, came, "young_adult", minor_legal_situation=_minor_situation(rng)
        )
        if situation == "not_yet_due":
            return facts
        if situation == "assessment_due":
            facts.mentoring_requested_on = today
            return facts
        earliest = max(adult, calendar.history_start)
        latest = today - timedelta(days=room)
        if situation == "assessment_overdue":
            earliest = max(earliest, today - timedelta(days=200))
        if earliest <= latest:
            facts.mentoring_requested_on = between(rng, earliest, latest)
            return facts
    raise RuntimeError("no care facts fit the demo's calendar")


def _aged_out(rng: np.random.Generator, calendar: Calendar) -> CareFacts:
    """A young adult whose care ended at 21, mentored until then."""
    for _ in range(ATTEMPTS):
        birth = add_years(calendar.today, -21) - days(rng, 30, 300)
        left = add_years(birth, 21)
        requested = max(add_years(birth, 18), calendar.history_start) + days(rng, 0, 60)
        if requested <= left - timedelta(days=ROOM["left_care"]):
            came = between(rng, add_years(birth, 15), add_years(birth, 17))
            return CareFacts(
                birth, birth.year + 11, came, "young_adult", left_care_on=left,
                mentoring_requested_on=requested, minor_legal_situation=_minor_situation(rng),
            )  # fmt: skip
    raise RuntimeError("no care facts fit the demo's calendar")
