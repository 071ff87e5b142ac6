"""Writes the planned history with the times it happened: every history row (care revisions,
assessments, consent facts, mentorship events, objective revisions) is inserted with its
past timestamp, in an order the database's triggers and constraints accept."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.demo.calendar import DEMO_DEPARTEMENT, Calendar
from mentorat.demo.pairs import ScoredPairs
from mentorat.demo.plans import ChildPlan, MentorshipPlan, OfferPlan
from mentorat.models import (
    Assessment,
    Child,
    ChildCareRevision,
    Meeting,
    Mentorship,
    MentorshipEvent,
    Objective,
    ObjectiveRevision,
    Offer,
    OfferConsent,
    Proposal,
)

OBJECTIVE_FIELDS = ("title", "category", "description", "target_date", "status", "progress")
ONE_MINUTE = timedelta(minutes=1)


def _educator(plan: ChildPlan) -> str:
    return str(plan.profile["referent_educator"])


class Rows:
    """Rows per table, in insertion order."""

    def __init__(
        self, calendar: Calendar, mentors: list[dict[str, Any]], scored: ScoredPairs
    ) -> None:
        self.calendar, self.mentors, self.scored = calendar, mentors, scored
        self.children: list[dict[str, Any]] = []
        self.revisions: list[dict[str, Any]] = []
        self.assessments: list[dict[str, Any]] = []
        # By rank of the offer among the child's: one pending offer per child at a time.
        self.offers: list[list[dict[str, Any]]] = []
        self.consents: list[list[dict[str, Any]]] = []
        self.final_answers: list[list[dict[str, Any]]] = []
        self.offer_times: list[dict[str, Any]] = []
        self.proposals: list[dict[str, Any]] = []
        self.mentorships: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.meetings: list[dict[str, Any]] = []
        self.objectives: list[dict[str, Any]] = []
        self.objective_revisions: list[dict[str, Any]] = []

    def at(self, day: date, hour: float) -> datetime:
        return self.calendar.moment(day, hour)

    def mentor_name(self, index: int) -> str:
        mentor = self.mentors[index]
        return f"{mentor['first_name']} {mentor['last_name']}"

    # ------------------------------------------------------------------ children

    def add_child(self, plan: ChildPlan) -> uuid.UUID:
        child_id = uuid.uuid4()
        facts, calendar = plan.facts, self.calendar
        revisions: list[tuple[datetime, dict[str, object]]] = []
        for day, values in facts.revisions():
            if day >= calendar.today:
                continue  # today's facts are the row itself (its revision is the trigger's)
            moment = self.at(max(day, calendar.imported_on), 10 + plan.number % 7)
            if revisions and revisions[-1][0] >= moment:
                revisions[-1] = (revisions[-1][0], values)  # facts known at the import
            else:
                revisions.append((moment, values))
        for moment, values in revisions:
            self.revisions.append(
                {"child_id": child_id, "departement_code": DEMO_DEPARTEMENT,
                 "recorded_at": moment, "deleted": False, **values}
            )  # fmt: skip
        created = revisions[0][0] if revisions else None
        self.children.append(
            {
                "id": child_id,
                "departement_code": DEMO_DEPARTEMENT,
                "reference": f"ASE53-{facts.came_into_care_on.year}-{plan.number:04d}",
                **plan.profile,
                "birth_date": facts.birth_date,
                "college_entry_year": facts.college_entry_year,
                "came_into_care_on": facts.came_into_care_on,
                "left_care_on": facts.left_care_on,
                "legal_situation": facts.legal_situation,
                "mentoring_requested_on": facts.mentoring_requested_on,
                "created_at": created,
                "updated_at": revisions[-1][0] if revisions else None,
                "version": max(len(revisions), 1),
            }
        )
        return child_id

    # ------------------------------------------------------------------ duty

    def add_duty(self, plan: ChildPlan, child_id: uuid.UUID) -> None:
        educator = _educator(plan)
        assessment_ids: dict[int, uuid.UUID] = {}
        for index, assessment in enumerate(plan.assessments):
            assessment_ids[id(assessment)] = uuid.uuid4()
            recorded_on = assessment.assessed_on + timedelta(days=(plan.number + index) % 4)
            self.assessments.append(
                {
                    "id": assessment_ids[id(assessment)],
                    "child_id": child_id,
                    "departement_code": DEMO_DEPARTEMENT,
                    "assessed_on": assessment.assessed_on,
                    "author_name": educator,
                    "outcome": assessment.outcome,
                    "reason": assessment.reason,
                    "created_at": self.at(recorded_on, 16 + plan.number % 3),
                }
            )
        for rank, offer in enumerate(plan.offers):
            while len(self.offers) <= rank:
                self.offers.append([])
                self.consents.append([])
                self.final_answers.append([])
            self.add_offer(offer, rank, child_id, assessment_ids[id(offer.assessment)], educator)

    def add_offer(
        self,
        offer: OfferPlan,
        rank: int,
        child_id: uuid.UUID,
        assessment_id: uuid.UUID,
        educator: str,
    ) -> None:
        offer_id = uuid.uuid4()
        created = self.at(offer.offered_on, 11)
        self.offers[rank].append(
            {
                "id": offer_id,
                "child_id": child_id,
                "departement_code": DEMO_DEPARTEMENT,
                "offered_on": offer.offered_on,
                "offered_by_name": educator,
                "legal_situation": offer.legal_situation,
                "assessment_id": assessment_id,
                "created_at": created,
                "updated_at": created,
            }
        )
        facts = sorted(offer.facts, key=lambda fact: (fact.given_on, fact.kind != "informed"))
        last = created
        rows = []
        for fact in facts:
            last = max(self.at(fact.given_on, 14), last + ONE_MINUTE)
            rows.append(
                {"offer_id": offer_id, "party": fact.party, "kind": fact.kind,
                 "given_on": fact.given_on, "opinion": fact.opinion, "recorded_at": last,
                 "recorded_by_name": educator}
            )  # fmt: skip
        # The answer that decides the offer goes in last, on its own: the trigger refuses an
        # answer to an offer the other facts have already decided.
        if offer.outcome != "pending":
            self.final_answers[rank].append(rows.pop())
        self.consents[rank].extend(rows)
        self.offer_times.append(
            {"offer": offer_id, "updated": last,
             "decided": last if offer.outcome != "pending" else None}
        )  # fmt: skip

    # ------------------------------------------------------------------ mentors

    def add_pairs(self, plan: ChildPlan, child_id: uuid.UUID) -> None:
        educator = _educator(plan)
        proposal_ids: dict[int, uuid.UUID] = {}
        for proposal in plan.proposals:
            proposal_ids[id(proposal)] = uuid.uuid4()
            score, explanation = self.scored.scored(plan.number - 1, proposal.mentor)
            mentor_name = self.mentor_name(proposal.mentor)
            created = self.at(proposal.created_on, 10)
            steps = [created]
            row: dict[str, Any] = {
                "id": proposal_ids[id(proposal)],
                "run_id": None,
                "child_id": child_id,
                "mentor_id": self.mentors[proposal.mentor]["id"],
                "departement_code": DEMO_DEPARTEMENT,
                "status": proposal.status,
                "score": score,
                "explanation": explanation,
                "created_at": created,
                "validated_at": None,
                "validated_by_name": None,
                "mentor_accepted_at": None,
                "mentor_accepted_by_name": None,
                "decided_at": None,
                "decline_reason": proposal.decline_reason,
                "declined_by_name": educator if proposal.decline_reason else None,
            }
            if proposal.validated_on:
                row["validated_at"] = self.at(proposal.validated_on, 10.5)
                row["validated_by_name"] = educator
                steps.append(row["validated_at"])
            if proposal.mentor_accepted_on:
                row["mentor_accepted_at"] = self.at(proposal.mentor_accepted_on, 19)
                row["mentor_accepted_by_name"] = mentor_name
                steps.append(row["mentor_accepted_at"])
            if proposal.decided_on:
                row["decided_at"] = max(self.at(proposal.decided_on, 19.5), *steps)
                steps.append(row["decided_at"])
            row["updated_at"], row["version"] = max(steps), len(steps)
            self.proposals.append(row)
        for mentorship in plan.mentorships:
            self.add_mentorship(plan, child_id, mentorship, proposal_ids[id(mentorship.proposal)])

    def add_mentorship(
        self,
        plan: ChildPlan,
        child_id: uuid.UUID,
        mentorship: MentorshipPlan,
        proposal_id: uuid.UUID,
    ) -> None:
        mentorship_id = uuid.uuid4()
        educator, mentor_name = _educator(plan), self.mentor_name(mentorship.proposal.mentor)
        decided = next(p["decided_at"] for p in self.proposals if p["id"] == proposal_id)
        moments: list[datetime] = []
        for index, (day, from_state, to_state, reason, note) in enumerate(mentorship.events):
            floor = moments[-1] + ONE_MINUTE if moments else decided
            moments.append(max(self.at(day, 19.75 if index == 0 else 15), floor))
            self.events.append(
                {"mentorship_id": mentorship_id, "occurred_at": moments[-1],
                 "principal_name": educator if to_state != "paused" else mentor_name,
                 "from_state": from_state, "to_state": to_state, "reason": reason, "note": note}
            )  # fmt: skip
        started = next(
            (
                m
                for m, event in zip(moments, mentorship.events, strict=True)
                if event[2] == "active"
            ),
            None,
        )
        self.mentorships.append(
            {
                "id": mentorship_id,
                "proposal_id": proposal_id,
                "child_id": child_id,
                "mentor_id": self.mentors[mentorship.proposal.mentor]["id"],
                "departement_code": DEMO_DEPARTEMENT,
                "state": mentorship.state,
                "end_reason": mentorship.end_reason,
                "started_at": started,
                "ended_at": moments[-1] if mentorship.state == "ended" else None,
                "agreement_signed_on": mentorship.agreement_signed_on,
                "created_at": moments[0],
                "updated_at": moments[-1],
                "version": len(moments),
            }
        )
        for day, minutes, mode in mentorship.meetings:
            self.meetings.append(
                {"id": uuid.uuid4(), "mentorship_id": mentorship_id, "held_on": day,
                 "duration_minutes": minutes, "mode": mode, "entered_by_name": mentor_name,
                 "created_at": self.at(day + timedelta(days=1), 21)}
            )  # fmt: skip
        for objective in mentorship.objectives:
            objective_id = uuid.uuid4()
            times: list[datetime] = []
            previous: tuple[str, int] | None = None
            for number, (day, status, progress) in enumerate(objective.revisions, start=1):
                floor = times[-1] + ONE_MINUTE if times else moments[0]
                times.append(max(self.at(day, 20), floor))
                values = {
                    "title": objective.title,
                    "category": objective.category,
                    "description": None,
                    "target_date": objective.target_date.isoformat()
                    if objective.target_date
                    else None,
                    "status": status,
                    "progress": progress,
                }
                changed = (
                    list(OBJECTIVE_FIELDS)
                    if previous is None
                    else sorted(
                        name
                        for name, before, after in (
                            ("status", previous[0], status),
                            ("progress", previous[1], progress),
                        )
                        if before != after
                    )
                )
                previous = (status, progress)
                self.objective_revisions.append(
                    {"objective_id": objective_id, "mentorship_id": mentorship_id,
                     "revision": number, "recorded_at": times[-1], "principal_name": mentor_name,
                     "values": values, "changed_fields": changed}
                )  # fmt: skip
            self.objectives.append(
                {
                    "id": objective_id,
                    "mentorship_id": mentorship_id,
                    "title": objective.title,
                    "category": objective.category,
                    "target_date": objective.target_date,
                    "status": objective.revisions[-1][1],
                    "progress": objective.revisions[-1][2],
                    "created_at": times[0],
                    "updated_at": times[-1],
                    "version": len(times),
                }
            )

    # ------------------------------------------------------------------ writing

    async def write(self, session: AsyncSession) -> None:
        """Insert everything; the triggers derive each offer's outcome from its facts and
        count the places mentors hold."""
        now_default = [row for row in self.children if row["created_at"] is None]
        for row in now_default:  # placed today: recorded now, like any new record
            del row["created_at"], row["updated_at"]
        dated = [row for row in self.children if "created_at" in row]
        for rows in (dated, now_default):
            if rows:
                await session.execute(insert(Child.__table__), rows)
        for model, rows in ((ChildCareRevision, self.revisions), (Assessment, self.assessments)):
            if rows:
                await session.execute(insert(model.__table__), rows)
        for offers, consents, final_answers in zip(
            self.offers, self.consents, self.final_answers, strict=True
        ):
            await session.execute(insert(Offer.__table__), offers)
            for rows in (consents, final_answers):
                if rows:
                    await session.execute(insert(OfferConsent.__table__), rows)
        if self.offer_times:
            table = Offer.__table__
            await session.execute(
                update(table)
                .where(table.c.id == bindparam("offer"))
                .values(updated_at=bindparam("updated"), decided_at=bindparam("decided")),
                self.offer_times,
            )
        for model, rows in (
            (Proposal, self.proposals),
            (Mentorship, self.mentorships),
            (MentorshipEvent, self.events),
            (Meeting, self.meetings),
            (Objective, self.objectives),
            (ObjectiveRevision, self.objective_revisions),
        ):
            if rows:
                await session.execute(insert(model.__table__), rows)
