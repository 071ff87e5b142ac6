"""Each child's history, from the legal duty's first due date to today, leading to the
situation the plan gives them."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from mentorat.demo.calendar import Calendar, add_years, between, days
from mentorat.demo.history import ONE_DAY, History
from mentorat.demo.plans import ChildPlan, ConsentPlan
from mentorat.models.legal import REQUIRED_PARTIES

# Why mentorships that did not run their course ended, and how often.
EARLY_END_REASONS = ("child_choice", "mentor_unavailable", "placement_change", "other")
EARLY_END_WEIGHTS = (0.35, 0.3, 0.2, 0.15)


def build_history(rng: np.random.Generator, calendar: Calendar, plan: ChildPlan) -> None:
    """Fill `plan` with a history that leads to `plan.situation` today."""
    history = History(rng, calendar, plan)
    situation, today = plan.situation, calendar.today
    if situation in ("in_mentorship", "proposed", "mentorship_ended"):
        _mentored(history, today)
    elif situation == "waiting_for_mentor":
        _waiting(history, today)
    elif situation in ("refused", "awaiting_agreements", "to_inform", "not_recommended"):
        _answered(history, today)
    elif situation == "assessment_overdue":
        _overdue(history, today)
    elif situation == "assessment_due":
        _due_today(history, today)
    elif situation == "left_care":
        _left(history)


def _mentored(history: History, until: date, *, end_reason: str | None = None) -> None:
    """An accepted offer, then a proposal: a live, ended or still pending mentorship.
    `end_reason`: the mentorship ends on `until` (leaving care)."""
    rng, plan, calendar = history.rng, history.plan, history.calendar
    found = history.assessment_days(until - ONE_DAY)
    earliest = max(found[0] + timedelta(days=25), calendar.first_proposals)
    kind = "ending" if end_reason else plan.substate or plan.situation
    if kind == "accepted":
        proposed_on = between(
            rng, max(earliest, until - timedelta(days=20)), until - timedelta(days=4)
        )
    elif kind == "active":
        proposed_on = between(rng, earliest, until - timedelta(days=60))
    elif kind == "paused":
        proposed_on = between(rng, earliest, until - timedelta(days=150))
    elif kind == "proposed":
        proposed_on = between(rng, max(earliest, until - timedelta(days=25)), until - ONE_DAY)
    elif kind == "mentorship_ended":
        ended_on = between(
            rng,
            max(earliest + timedelta(days=90), until - timedelta(days=300)),
            until - timedelta(days=7),
        )
        proposed_on = between(rng, earliest, ended_on - timedelta(days=60))
    else:
        proposed_on = between(rng, earliest, until - timedelta(days=90))
    anchor = max(i for i, day in enumerate(found) if day <= proposed_on - timedelta(days=15))
    history.earlier_cycles(found[:anchor], found[anchor])
    assessment = history.assess(found[anchor])
    offer = history.offer_after(assessment, "accepted", proposed_on - timedelta(days=3))
    for day in found[anchor + 1 :]:
        history.assess(day)  # renewals while mentored: still recommended, no new offer
    decided = offer.decided_on or proposed_on
    if "declined" in plan.mentor_slots and decided + timedelta(days=3) < proposed_on - timedelta(
        days=8
    ):
        declined_on = between(rng, decided + timedelta(days=3), proposed_on - timedelta(days=8))
        history.proposal("declined", declined_on, "declined", proposed_on - ONE_DAY)
    if kind == "proposed":
        history.proposal("final", proposed_on, "pending", calendar.yesterday)
        return
    if kind == "accepted":
        history.mentorship("final", proposed_on, started=False)
        return
    attention = kind == "active" and plan.variant % 7 == 3
    if kind == "active":
        history.mentorship("final", proposed_on, started=True, attention=attention)
    elif kind == "paused":
        span = (until - proposed_on).days - 30
        pauses: list[tuple[int, int | None]] = []
        if span > 260 and rng.random() < 0.5:
            first = int(rng.integers(60, 100))
            pauses.append((first, first + int(rng.integers(14, 45))))
        pauses.append((int(rng.integers(max(span - 80, 45), max(span - 10, 46))), None))
        history.mentorship("final", proposed_on, started=True, pauses=tuple(pauses))
    elif kind == "mentorship_ended":
        started = rng.random() < 0.9  # some end before they start
        reason = (
            "completed"
            if (ended_on - proposed_on).days > 330 and rng.random() < 0.6
            else str(rng.choice(EARLY_END_REASONS, p=EARLY_END_WEIGHTS))
        )
        history.mentorship("final", proposed_on, started=started, end=(ended_on, reason))
    else:
        history.mentorship("past", proposed_on, started=True, end=(until, end_reason or "other"))


def _waiting(history: History, until: date) -> None:
    """Agreed to the latest offer, resting on a current assessment; no mentor yet. Some had a
    mentorship that ended in an earlier year, some a proposal that was declined."""
    rng, plan, calendar = history.rng, history.plan, history.calendar
    found = history.current_days(until - timedelta(days=8), until)
    past = None
    if "past" in plan.mentor_slots and len(found) >= 2:
        before = found[-2]
        latest = found[-1] - timedelta(days=90)
        earliest = max(before + timedelta(days=25), calendar.first_proposals)
        if earliest + timedelta(days=40) <= latest:
            past = before, between(rng, earliest, latest - timedelta(days=40))
    if past:
        history.earlier_cycles(found[:-2], found[-2])
        assessment = history.assess(past[0])
        history.offer_after(assessment, "accepted", past[1] - timedelta(days=3))
        ended_on = between(rng, past[1] + timedelta(days=40), found[-1] - timedelta(days=10))
        reason = str(rng.choice(EARLY_END_REASONS, p=EARLY_END_WEIGHTS))
        history.mentorship("past", past[1], started=True, end=(ended_on, reason))
    else:
        history.earlier_cycles(found[:-1], found[-1])
    assessment = history.assess(found[-1])
    offer = history.offer_after(assessment, "accepted", until - ONE_DAY)
    decided = offer.decided_on or until
    if "declined" in plan.mentor_slots and decided + timedelta(days=5) <= until - timedelta(days=6):
        declined_on = between(rng, decided + timedelta(days=5), until - timedelta(days=6))
        history.proposal("declined", declined_on, "declined", until - ONE_DAY)


def _answered(history: History, today: date) -> None:
    """A current assessment, then: refused, awaiting agreements, to inform, or not
    recommended."""
    rng, situation = history.rng, history.plan.situation
    latest = {"refused": 20, "awaiting_agreements": 10}.get(situation, 1)
    found = history.current_days(today - timedelta(days=latest), today)
    history.earlier_cycles(found[:-1], found[-1])
    if situation == "not_recommended":
        history.assess(found[-1], history.not_recommended())
        return
    assessment = history.assess(found[-1])
    if situation == "refused":
        history.offer_after(assessment, "refused", today - ONE_DAY)
    elif situation == "awaiting_agreements":
        earliest = max(found[-1] + timedelta(days=2), today - timedelta(days=70))
        offered_on = between(rng, earliest, today - timedelta(days=3))
        offer = history.offer(assessment, offered_on, "pending", today - ONE_DAY)
        parties = REQUIRED_PARTIES[offer.legal_situation]
        agreeing = parties[:-1] if rng.random() < 0.7 else parties[1:]
        for party in agreeing:
            given_on = min(offered_on + days(rng, 3, 20), today - ONE_DAY)
            offer.facts.append(
                ConsentPlan(party, "agreed", given_on, history.opinion(party, "agreed"))
            )
    elif history.plan.variant % 2 == 1:  # to_inform: the offer is made, not everyone informed
        offered_on = between(rng, found[-1] + ONE_DAY, today - ONE_DAY)
        offer = history.offer(assessment, offered_on, "pending", today - ONE_DAY)
        offer.facts = [fact for fact in offer.facts if fact.party == "child"]


def _overdue(history: History, today: date) -> None:
    """Never assessed though due, or the yearly renewal not done."""
    if history.plan.variant % 2 == 0 or history.plan.young_adult:
        return
    found = history.assessment_days(today - ONE_DAY)
    while found and add_years(found[-1], 1) >= today:
        found.pop()
    if not found:
        return
    history.earlier_cycles(found[:-1], found[-1])
    history.earlier_cycle(found[-1], add_years(found[-1], 1))


def _due_today(history: History, today: date) -> None:
    """Placed today, asked today, or assessed exactly a year ago."""
    plan = history.plan
    if plan.young_adult or plan.variant % 2 == 1:
        return
    year_ago = add_years(today, -1)
    found = history.assessment_days(year_ago - timedelta(days=330))
    history.earlier_cycles(found, year_ago)
    if history.rng.random() < 0.5:
        history.assess(year_ago, "not_now")
    else:
        history.offer_after(history.assess(year_ago), "refused", year_ago + timedelta(days=60))


def _left(history: History) -> None:
    """Left care (or reached 21): mentored until then, waiting, or not recommended."""
    plan = history.plan
    left = plan.facts.left_care_on
    if plan.variant % 3 == 0 and "past" in plan.mentor_slots:
        reason = "age_limit" if plan.young_adult else "placement_change"
        _mentored(history, left, end_reason=reason)
    elif plan.variant % 3 == 1:
        _waiting(history, left)
    elif history.rng.random() < 0.7:
        found = history.current_days(left - ONE_DAY, left)
        history.earlier_cycles(found[:-1], found[-1])
        history.assess(found[-1], history.not_recommended())
