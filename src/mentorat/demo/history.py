"""Each child's history, from the legal duty's first due date to today, leading to the
situation the plan gives them: yearly assessments, offers with their consent facts,
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
from mentorat.models.legal import REQUIRED_PARTIES

NOT_NOW_REASONS = (
    "Placement récent : l'enfant a d'abord besoin de stabilité ; à revoir l'an prochain.",
    "Suivi thérapeutique en cours, un mentorat ferait trop d'adultes autour de l'enfant.",
    "L'enfant ne se sent pas prêt ; on en reparle à la prochaine évaluation.",
    "Préparation d'un retour en famille : le projet sera revu après.",
)
NOT_APPLICABLE_REASONS = (
    "L'enfant est déjà accompagné par un parrain bénévole de longue date.",
    "Accompagnement éducatif renforcé déjà en place, qui répond aux mêmes besoins.",
)
AGREED_OPINIONS = (
    "Contente d'avoir quelqu'un pour l'aider à trouver un stage.",
    "D'accord, surtout pour l'aide aux devoirs.",
    "Veut bien essayer, si c'est le mercredi.",
    "Partant pour découvrir des métiers.",
)
REFUSED_OPINIONS = (
    "Ne souhaite pas de nouvel adulte dans sa vie pour l'instant.",
    "Préfère garder ses mercredis pour le foot.",
    "Pas intéressé pour le moment.",
)
DECLINE_REASONS = (
    "Horaires incompatibles avec l'internat.",
    "Le jeune préfère être accompagné par une femme.",
    "Le mentor ne se sent pas à l'aise avec cet objectif.",
    "Trop loin sans voiture.",
)
PAUSE_NOTES = (
    "Période d'examens.",
    "Hospitalisation du mentor.",
    "Changement de foyer, reprise après installation.",
    "Vacances d'été.",
)
END_NOTES = {
    "completed": "Objectifs atteints : fin d'un commun accord.",
    "child_choice": "Le jeune a souhaité arrêter.",
    "mentor_unavailable": "Le mentor a déménagé.",
    "placement_change": "Changement de lieu de placement.",
    "age_limit": "Fin de la prise en charge à 21 ans.",
    "other": "Fin décidée en synthèse.",
}
EARLY_END_REASONS = ("child_choice", "mentor_unavailable", "placement_change", "other")
EARLY_END_WEIGHTS = (0.35, 0.3, 0.2, 0.15)
OBJECTIVE_TITLES = {
    "orientation": "Choisir une orientation après la 3e",
    "stage": "Trouver un stage d'observation",
    "alternance": "Trouver une entreprise pour l'alternance",
    "apprentissage": "Décrocher un contrat d'apprentissage",
    "emploi": "Préparer un CV et un entretien",
    "numerique": "Faire ses démarches en ligne seul",
    "scolarite": "Reprendre confiance en maths",
    "confiance": "Oser prendre la parole en classe",
}
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
        pauses: list[tuple[int, int | None]] = (),  # type: ignore[assignment]
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
        history.mentorship("final", proposed_on, started=True, pauses=pauses)
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
