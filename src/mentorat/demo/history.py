"""The steps of a child's history: yearly assessments, offers with their consent facts,
proposals, mentorships with their state changes, meetings and objectives."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from mentorat.demo.calendar import Calendar, add_years, between, days
from mentorat.demo.plans import (
    AssessmentPlan,
    ChildPlan,
    ConsentPlan,
    MentorshipPlan,
    ObjectivePlan,
    OfferPlan,
    ProposalPlan,
)
from mentorat.demo.wording import (
    AGREED_OPINIONS,
    DECLINE_REASONS,
    END_NOTES,
    NOT_APPLICABLE_REASONS,
    NOT_NOW_REASONS,
    OBJECTIVE_TITLES,
    PAUSE_NOTES,
    REFUSED_OPINIONS,
)
from mentorat.models.legal import REQUIRED_PARTIES

ONE_DAY = timedelta(days=1)


class History:
    """Builds one child's history into their plan."""

    def __init__(self, rng: np.random.Generator, calendar: Calendar, plan: ChildPlan) -> None:
        self.rng, self.calendar, self.plan = rng, calendar, plan
        self.facts = plan.facts

    # ----------------------------------------------------------------- assessments

    def due(self) -> date | None:
        first = self.facts.first_due(self.calendar)
        return None if first is None else max(first, self.calendar.history_start)

    def assessment_days(self, until: date) -> list[date]:
        """The first assessment on time (a few weeks ahead) or late, renewals about a year
        apart, up to `until`."""
        due = self.due()
        if due is None:
            return []
        if self.rng.random() < 0.7:
            day = due - days(self.rng, 0, 20)
        else:
            day = due + days(self.rng, 10, 110)
        day = max(day, self.facts.came_into_care_on, self.facts.mentoring_requested_on or day)
        found = []
        while day <= until:
            found.append(day)
            day = add_years(day, 1) + days(self.rng, -25, 25)
        return found

    def current_days(self, latest: date, today: date) -> list[date]:
        """Assessment days whose last is less than a year old on `today`, at the latest on
        `latest`: an overdue renewal is done (a little late) before `latest`."""
        found = self.assessment_days(latest)
        due = self.due()
        if not found and due is not None:
            found = [
                between(
                    self.rng, max(due - timedelta(days=10), self.facts.came_into_care_on), latest
                )
            ]
        if found and add_years(found[-1], 1) <= today:
            year_ago = add_years(today, -1) + ONE_DAY
            found.append(
                between(
                    self.rng, max(add_years(found[-1], 1) - timedelta(days=25), year_ago), latest
                )
            )
        return found

    def assess(self, day: date, outcome: str = "mentoring_recommended") -> AssessmentPlan:
        reason = None
        if outcome == "not_now":
            reason = str(self.rng.choice(NOT_NOW_REASONS))
        elif outcome == "not_applicable":
            reason = str(self.rng.choice(NOT_APPLICABLE_REASONS))
        assessment = AssessmentPlan(day, outcome, reason)
        self.plan.assessments.append(assessment)
        return assessment

    def not_recommended(self) -> str:
        return "not_now" if self.rng.random() < 0.7 else "not_applicable"

    # ----------------------------------------------------------------- offers

    def offer(
        self, assessment: AssessmentPlan, offered_on: date, outcome: str, last_day: date
    ) -> OfferPlan:
        """An offer with the information given to each required party and, unless pending,
        their answers: all agreed (accepted), or the last one to answer refused."""
        situation = self.facts.legal_situation_on(offered_on)
        parties = REQUIRED_PARTIES[situation]
        offer = OfferPlan(offered_on, assessment, situation, outcome)
        informed: dict[str, date] = {}
        for party in parties:
            informed[party] = min(offered_on + days(self.rng, 0, 7), last_day)
            offer.facts.append(ConsentPlan(party, "informed", informed[party]))
        if situation == "delegated_to_ase" and self.rng.random() < 0.6:
            offer.facts.append(ConsentPlan("parents", "informed", informed["child"]))
        if outcome != "pending":
            answered = {
                party: min(informed[party] + days(self.rng, 2, 25), last_day) for party in parties
            }
            refuser = None
            if outcome == "refused":
                refuser = parties[0] if self.rng.random() < 0.6 else parties[-1]
                answered[refuser] = max(answered.values())
            for party, day in sorted(answered.items(), key=lambda item: (item[1], item[0])):
                if refuser is not None and party != refuser and day >= answered[refuser]:
                    continue  # the refusal decided the offer first
                kind = "refused" if party == refuser else "agreed"
                offer.facts.append(ConsentPlan(party, kind, day, self.opinion(party, kind)))
        self.plan.offers.append(offer)
        return offer

    def opinion(self, party: str, kind: str) -> str | None:
        if party not in ("child", "young_adult") or self.rng.random() < 0.3:
            return None
        return str(self.rng.choice(AGREED_OPINIONS if kind == "agreed" else REFUSED_OPINIONS))

    def offer_after(self, assessment: AssessmentPlan, outcome: str, last_day: date) -> OfferPlan:
        offered_on = between(
            self.rng,
            assessment.assessed_on + timedelta(days=2),
            min(assessment.assessed_on + timedelta(days=40), last_day - timedelta(days=4)),
        )
        return self.offer(assessment, offered_on, outcome, last_day)

    def earlier_cycle(self, day: date, next_day: date) -> OfferPlan | None:
        """A past year: not recommended then, or an offer refused, or accepted but no mentor
        was found before the next assessment."""
        draw = self.rng.random()
        if draw < 0.25:
            self.assess(day, self.not_recommended())
            return None
        assessment = self.assess(day)
        outcome = "refused" if draw < 0.45 else "accepted"
        return self.offer_after(assessment, outcome, next_day - timedelta(days=3))

    def earlier_cycles(self, found: list[date], until: date) -> None:
        for day, next_day in zip(found, [*found[1:], until], strict=False):
            self.earlier_cycle(day, next_day)

    # ----------------------------------------------------------------- proposals, mentorships

    def proposal(self, role: str, created_on: date, status: str, last_day: date) -> ProposalPlan:
        proposal = ProposalPlan(role, created_on, status, mentor=self.plan.mentor_slots[role])
        rng = self.rng
        if status == "accepted":
            proposal.validated_on = min(created_on + days(rng, 0, 3), last_day)
            proposal.mentor_accepted_on = min(created_on + days(rng, 1, 8), last_day)
            proposal.decided_on = max(proposal.validated_on, proposal.mentor_accepted_on)
        elif status == "declined":
            proposal.validated_on = created_on if rng.random() < 0.5 else None
            proposal.decided_on = min(created_on + days(rng, 2, 10), last_day)
            proposal.decline_reason = str(rng.choice(DECLINE_REASONS))
        else:  # pending: one side has said yes, or neither yet
            draw = rng.random()
            if draw < 0.5:
                proposal.validated_on = created_on
            elif draw < 0.7:
                proposal.mentor_accepted_on = min(created_on + days(rng, 1, 5), last_day)
        self.plan.proposals.append(proposal)
        return proposal

    def mentorship(
        self,
        role: str,
        proposed_on: date,
        *,
        started: bool,
        pauses: tuple[tuple[int, int | None], ...] = (),
        end: tuple[date, str] | None = None,
        attention: bool = False,
    ) -> MentorshipPlan:
        """From an accepted proposal: accepted, then active `started`, `pauses` given as days
        after the start (pause, resume or None), then `end` (day, reason)."""
        rng, yesterday = self.rng, self.calendar.yesterday
        last_day = end[0] if end else yesterday
        proposal = self.proposal(role, proposed_on, "accepted", last_day)
        accepted = proposal.decided_on or proposed_on
        events: list[tuple[date, str | None, str, str | None, str | None]] = [
            (accepted, None, "accepted", None, "both consents given")
        ]
        active: list[tuple[date, date]] = []
        state = "accepted"
        if started:
            start = min(accepted + days(rng, 5, 20), last_day)
            events.append((start, "accepted", "active", None, None))
            state, since = "active", start
            for pause, resume in pauses:
                paused_on = min(start + timedelta(days=pause), last_day)
                if paused_on <= events[-1][0]:
                    break
                events.append((paused_on, "active", "paused", None, str(rng.choice(PAUSE_NOTES))))
                active.append((since, paused_on))
                state = "paused"
                if resume is None:
                    break
                resumed_on = min(start + timedelta(days=resume), last_day)
                events.append((resumed_on, "paused", "active", None, None))
                state, since = "active", resumed_on
            if state == "active":
                active.append((since, last_day))
        if end:
            events.append((max(end[0], events[-1][0]), state, "ended", end[1], END_NOTES[end[1]]))
        signed = events[0][0] + days(rng, 0, 7) if started and rng.random() < 0.8 else None
        mentorship = MentorshipPlan(proposal, events, signed)
        if started:
            self.meetings(mentorship, active, attention)
            self.objectives(mentorship, active, attention)
        self.plan.mentorships.append(mentorship)
        return mentorship

    def meetings(
        self, mentorship: MentorshipPlan, active: list[tuple[date, date]], attention: bool
    ) -> None:
        """Regular check-ins while active; none for the last weeks when it needs attention."""
        rng, today = self.rng, self.calendar.today
        cadence = int(rng.choice([7, 14, 14, 21]))
        quiet_from = today - days(rng, 40, 120) if attention else None
        if attention and rng.random() < 0.5:
            return  # never met since the start
        for since, until in active:
            day = since + days(rng, 3, cadence)
            while day < until and (quiet_from is None or day < quiet_from):
                if rng.random() > 0.12:
                    mode = "in_person" if rng.random() < 0.8 else "remote"
                    minutes = int(rng.choice([45, 60, 60, 90, 120]))
                    mentorship.meetings.append((day, minutes, mode))
                day += timedelta(days=cadence) + days(rng, -2, 2)
        live = mentorship.state == "active"
        recent = today - timedelta(days=25)
        stale = not mentorship.meetings or mentorship.meetings[-1][0] < recent
        if live and not attention and active and stale:
            mentorship.meetings.append((today - days(rng, 2, 12), 60, "in_person"))

    def objectives(
        self, mentorship: MentorshipPlan, active: list[tuple[date, date]], attention: bool
    ) -> None:
        rng, today = self.rng, self.calendar.today
        if not active:
            return
        start, stop = active[0][0], active[-1][1]
        if attention:
            stop = min(stop, today - timedelta(days=40))
        live = mentorship.state in ("active", "paused")
        goals = [goal for goal in self.plan.profile["goals"] if goal in OBJECTIVE_TITLES]
        count = min(len(goals), int(rng.integers(1, 4)))
        for category in rng.choice(goals, size=count, replace=False) if goals else []:
            created = min(start + days(rng, 0, 21), stop)
            target = None
            if rng.random() < 0.6:
                target = created + days(rng, 120, 300)
                if live and not attention:
                    target = max(target, today + days(rng, 30, 150))
            revisions = [(created, "open", 0)]
            day, progress = created + days(rng, 30, 90), 0
            while day <= stop and progress < 100:
                progress = min(100, progress + int(rng.integers(10, 35)))
                revisions.append((day, "achieved" if progress == 100 else "in_progress", progress))
                day += days(rng, 30, 90)
            if mentorship.state == "ended" and revisions[-1][1] != "achieved":
                closing = max(revisions[-1][0], mentorship.events[-1][0] - days(rng, 0, 5))
                final = "achieved" if mentorship.end_reason == "completed" else "abandoned"
                revisions.append((closing, final, 100 if final == "achieved" else progress))
            elif (
                mentorship.state == "active"
                and not attention
                and revisions[-1][0] < today - timedelta(days=25)
                and progress < 100
            ):
                progress = min(95, progress + 10)
                revisions.append((today - days(rng, 1, 20), "in_progress", progress))
            title = OBJECTIVE_TITLES[str(category)]
            mentorship.objectives.append(ObjectivePlan(title, str(category), target, revisions))
