"""The care facts of a child (CASF L.222-5, D221-34) and the rules that keep them together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

ADULT_AGE = 18
CARE_FIELDS = ("came_into_care_on", "left_care_on", "legal_situation", "mentoring_requested_on")


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


@dataclass(frozen=True, slots=True)
class CareFacts:
    birth_date: date | None
    came_into_care_on: date
    left_care_on: date | None
    legal_situation: str
    mentoring_requested_on: date | None


def care_problems(facts: CareFacts, today: date) -> dict[str, str]:
    """Every rule the facts break, by field (empty when they hold).

    - came_into_care_on: not in the future, not before birth;
    - left_care_on: not before came_into_care_on (a planned date ahead is allowed);
    - legal_situation young_adult: 18 or more today (a contrat jeune majeur; the person may
      have come into care as a minor);
    - mentoring_requested_on: a young adult's request only, not in the future.
    """
    problems: dict[str, str] = {}
    if facts.came_into_care_on > today:
        problems["came_into_care_on"] = "came_into_care_on cannot be in the future"
    elif facts.birth_date is not None and facts.came_into_care_on < facts.birth_date:
        problems["came_into_care_on"] = "came_into_care_on cannot be before the birth date"
    if facts.left_care_on is not None and facts.left_care_on < facts.came_into_care_on:
        problems["left_care_on"] = "left_care_on cannot be before came_into_care_on"
    if (
        facts.legal_situation == "young_adult"
        and facts.birth_date is not None
        and age_on(facts.birth_date, today) < ADULT_AGE
    ):
        problems["legal_situation"] = "young_adult is for a person of 18 or more today"
    if facts.mentoring_requested_on is not None:
        if facts.legal_situation != "young_adult":
            problems["mentoring_requested_on"] = (
                "mentoring_requested_on is a young adult's request: only with legal_situation "
                "young_adult"
            )
        elif facts.mentoring_requested_on > today:
            problems["mentoring_requested_on"] = "mentoring_requested_on cannot be in the future"
    return problems


def problem_of_field(field: str, value: object, data: dict[str, object], today: date) -> str | None:
    """For a create schema's field validator: the problem of `field` given the fields
    validated before it (`data`), with the defaults of a creation."""
    given = {**data, field: value}

    def day(name: str) -> date | None:
        found = given.get(name)
        return found if isinstance(found, date) else None

    facts = CareFacts(
        birth_date=day("birth_date"),
        came_into_care_on=day("came_into_care_on") or today,
        left_care_on=day("left_care_on"),
        legal_situation=str(given.get("legal_situation") or "parental_authority"),
        mentoring_requested_on=day("mentoring_requested_on"),
    )
    return care_problems(facts, today).get(field)
