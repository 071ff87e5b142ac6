"""What the demo's history holds, as plain data: each child's care facts, assessments, offers
with their consent facts, proposals and mentorships, all dated.

Each child is given the situation they should be in today (in realistic proportions) and a
history that leads there, built from the first due date of the legal duty onwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mentorat.demo.calendar import CareFacts

# The situation each child is in today, per 300 children (see the brief's definitions).
SITUATION_SHARES: tuple[tuple[str, int], ...] = (
    ("waiting_for_mentor", 128),
    ("in_mentorship", 56),
    ("proposed", 14),
    ("mentorship_ended", 12),
    ("refused", 10),
    ("awaiting_agreements", 10),
    ("to_inform", 12),
    ("not_recommended", 12),
    ("assessment_overdue", 14),
    ("assessment_due", 5),
    ("not_yet_due", 15),
    ("left_care", 12),
)
SHARE_BASE = 300
# How many of each group are young adults (18-20): most of those in `not_yet_due` have not
# asked for mentoring; the others asked.
YOUNG_ADULTS: dict[str, int] = {
    "waiting_for_mentor": 4,
    "in_mentorship": 2,
    "to_inform": 1,
    "assessment_overdue": 1,
    "assessment_due": 1,
    "not_yet_due": 10,
    "left_care": 1,
}


def situation_counts(children: int) -> dict[str, int]:
    """The shares scaled to `children`, each situation at least once when there are enough
    children; the rest waits for a mentor."""
    counts = {situation: share * children // SHARE_BASE for situation, share in SITUATION_SHARES}
    if children >= 2 * len(counts):
        counts = {situation: max(count, 1) for situation, count in counts.items()}
    counts["waiting_for_mentor"] += children - sum(counts.values())
    return counts


@dataclass
class AssessmentPlan:
    assessed_on: date
    outcome: str = "mentoring_recommended"
    reason: str | None = None


@dataclass
class ConsentPlan:
    party: str
    kind: str
    given_on: date
    opinion: str | None = None


@dataclass
class OfferPlan:
    offered_on: date
    assessment: AssessmentPlan
    legal_situation: str
    outcome: str
    facts: list[ConsentPlan] = field(default_factory=list)

    @property
    def decided_on(self) -> date | None:
        if self.outcome == "pending":
            return None
        return max(fact.given_on for fact in self.facts if fact.kind != "informed")


@dataclass
class ProposalPlan:
    # final: the child's current mentor (live or ended mentorship, or pending proposal);
    # past: an earlier mentorship that ended; declined: a pair one side turned down.
    role: str
    created_on: date
    status: str
    validated_on: date | None = None
    mentor_accepted_on: date | None = None
    decided_on: date | None = None
    decline_reason: str | None = None
    mentor: int = -1  # index among the demo's mentors, set when pairs are chosen


@dataclass
class ObjectivePlan:
    title: str
    category: str
    target_date: date | None
    # (day, status, progress) after each change; the first is the creation.
    revisions: list[tuple[date, str, int]]


@dataclass
class MentorshipPlan:
    proposal: ProposalPlan
    # (day, from_state, to_state, reason, note), oldest first.
    events: list[tuple[date, str | None, str, str | None, str | None]]
    agreement_signed_on: date | None
    meetings: list[tuple[date, int, str]] = field(default_factory=list)
    objectives: list[ObjectivePlan] = field(default_factory=list)

    @property
    def state(self) -> str:
        return self.events[-1][2]

    @property
    def started_on(self) -> date | None:
        return next((day for day, _, to, _, _ in self.events if to == "active"), None)

    @property
    def ended_on(self) -> date | None:
        return self.events[-1][0] if self.state == "ended" else None

    @property
    def end_reason(self) -> str | None:
        return self.events[-1][3] if self.state == "ended" else None


@dataclass
class ChildPlan:
    number: int
    situation: str  # what the child's situation should be today
    variant: int  # position within that situation's group: picks a kind of history
    young_adult: bool
    facts: CareFacts
    profile: dict[str, Any] = field(default_factory=dict)
    substate: str | None = None  # accepted, active, paused (in_mentorship)
    mentor_slots: dict[str, int] = field(default_factory=dict)  # role -> mentor index
    assessments: list[AssessmentPlan] = field(default_factory=list)
    offers: list[OfferPlan] = field(default_factory=list)
    proposals: list[ProposalPlan] = field(default_factory=list)
    mentorships: list[MentorshipPlan] = field(default_factory=list)

    def needed_mentors(self) -> dict[str, bool]:
        """The mentor slots this child's history needs: role -> does it hold a place today."""
        needs: dict[str, bool] = {}
        if self.situation == "in_mentorship":
            needs["final"] = self.substate != "paused"
        elif self.situation == "proposed":
            needs["final"] = True
            if self.variant % 3 == 1:
                needs["declined"] = False
        elif self.situation == "mentorship_ended":
            needs["final"] = False
        elif self.situation == "waiting_for_mentor":
            if self.variant % 5 == 1:
                needs["past"] = False
            if self.variant % 6 == 2:
                needs["declined"] = False
        elif self.situation == "left_care" and self.variant % 3 == 0:
            needs["past"] = False
        return needs
