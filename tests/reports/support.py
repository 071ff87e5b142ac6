"""A département's history written with the dates it happened on: every recorded-at time is
set (noon in Paris on the day), so a report as of any day sees exactly what was known."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.models import (
    Assessment,
    Child,
    ChildCareRevision,
    Meeting,
    Mentor,
    Mentorship,
    MentorshipEvent,
    Offer,
    OfferConsent,
    Proposal,
)
from mentorat.models.legal import REQUIRED_PARTIES
from tests.factories import create_child

PARIS = ZoneInfo("Europe/Paris")


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), PARIS)


async def child_in_care(
    session: AsyncSession,
    *,
    born: date,
    entry: int,
    care_from: date,
    situation: str = "parental_authority",
    left: date | None = None,
    requested: date | None = None,
    departement: str = "53",
    known_since: date | None = None,
) -> Child:
    """A child whose care facts were recorded on `known_since` (default: the day they came
    into care, or 2025-06-01 if earlier): a revision dated then is added to the one the
    trigger writes now."""
    child = await create_child(
        session,
        departement=departement,
        offer=None,
        birth_date=born,
        college_entry_year=entry,
        came_into_care_on=care_from,
        left_care_on=left,
        legal_situation=situation,
        mentoring_requested_on=requested,
    )
    session.add(
        ChildCareRevision(
            child_id=child.id,
            departement_code=departement,
            recorded_at=noon(known_since or max(care_from, date(2025, 6, 1))),
            birth_date=born,
            college_entry_year=entry,
            came_into_care_on=care_from,
            left_care_on=left,
            legal_situation=situation,
            mentoring_requested_on=requested,
            deleted=False,
        )
    )
    await session.flush()
    return child


async def assess(
    session: AsyncSession, child: Child, on: date, *, recommended: bool = True,
    recorded: date | None = None,
) -> Assessment:  # fmt: skip
    assessment = Assessment(
        child_id=child.id,
        departement_code=child.departement_code,
        assessed_on=on,
        author_name="Educator",
        outcome="mentoring_recommended" if recommended else "not_now",
        reason=None if recommended else "Not the right time",
        created_at=noon(recorded or on),
    )
    session.add(assessment)
    await session.flush()
    return assessment


async def offer(
    session: AsyncSession,
    child: Child,
    assessment: Assessment,
    on: date,
    *,
    informed: tuple[str, ...] | None = None,
    answers: dict[str, tuple[str, date]] | None = None,
    recorded: date | None = None,
) -> Offer:
    """An offer made on `on`; `informed` parties (default: every required one) informed that
    day; `answers`: party -> (agreed|refused, day)."""
    made = Offer(
        child_id=child.id,
        departement_code=child.departement_code,
        offered_on=on,
        offered_by_name="Educator",
        legal_situation=child.legal_situation,
        assessment_id=assessment.id,
        created_at=noon(recorded or on),
        updated_at=noon(recorded or on),
    )
    session.add(made)
    await session.flush()
    parties = REQUIRED_PARTIES[child.legal_situation] if informed is None else informed
    for party in parties:
        await consent(session, made, party, "informed", on)
    for party, (kind, day) in (answers or {}).items():
        await consent(session, made, party, kind, day)
    return made


async def consent(
    session: AsyncSession, made: Offer, party: str, kind: str, on: date,
    recorded: date | None = None,
) -> None:  # fmt: skip
    session.add(
        OfferConsent(
            offer_id=made.id, party=party, kind=kind, given_on=on,
            recorded_at=noon(recorded or on), recorded_by_name="Educator",
        )
    )  # fmt: skip
    await session.flush()


async def propose(
    session: AsyncSession, child: Child, mentor: Mentor, on: date, *, status: str = "accepted"
) -> Proposal:
    proposal = Proposal(
        child_id=child.id,
        mentor_id=mentor.id,
        departement_code=child.departement_code,
        status=status,
        score=0.8,
        explanation={},
        created_at=noon(on),
        updated_at=noon(on),
        decided_at=noon(on),
    )
    session.add(proposal)
    await session.flush()
    return proposal


async def mentorship(
    session: AsyncSession,
    child: Child,
    mentor: Mentor,
    *,
    proposal: Proposal | None = None,
    accepted: date,
    started: date | None,
    ended: tuple[date, str] | None = None,
    meetings: tuple[date, ...] = (),
) -> Mentorship:
    """A mentorship with its events: accepted, then active on `started`, then ended."""
    state = "ended" if ended else ("active" if started else "accepted")
    values: dict[str, Any] = {
        "proposal_id": None if proposal is None else proposal.id,
        "child_id": child.id,
        "mentor_id": mentor.id,
        "departement_code": child.departement_code,
        "state": state,
        "started_at": None if started is None else noon(started),
        "created_at": noon(accepted),
    }
    if ended:
        values |= {"ended_at": noon(ended[0]), "end_reason": ended[1]}
    made = Mentorship(**values)
    session.add(made)
    await session.flush()
    events = [(accepted, None, "accepted", None)]
    if started is not None:
        events.append((started, "accepted", "active", None))
    if ended:
        events.append((ended[0], "active" if started else "accepted", "ended", ended[1]))
    for day, source, target, reason in events:
        session.add(
            MentorshipEvent(
                mentorship_id=made.id, occurred_at=noon(day), principal_name="Educator",
                from_state=source, to_state=target, reason=reason,
            )
        )  # fmt: skip
    for day in meetings:
        session.add(
            Meeting(
                mentorship_id=made.id, held_on=day, duration_minutes=60, mode="in_person",
                entered_by_name="Mentor", created_at=noon(day),
            )
        )  # fmt: skip
    await session.flush()
    return made


def funnel(line: dict[str, Any]) -> dict[str, int]:
    return {stage["stage"]: stage["count"] for stage in line["funnel"]}


def stage(line: dict[str, Any], name: str) -> dict[str, Any]:
    return next(item for item in line["funnel"] if item["stage"] == name)


def delays(line: dict[str, Any]) -> dict[str, tuple[int, float | None, float | None]]:
    return {
        item["delay"]: (item["count"], item["median_days"], item["p90_days"])
        for item in line["delays"]
    }


def line_of(lines: list[dict[str, Any]], key: str | None) -> dict[str, Any]:
    return next(line for line in lines if line["key"] == key)


def as_key(value: uuid.UUID) -> str:
    return str(value)
