"""Reproducible demo data for département 53 (Mayenne): three school years of the legal duty.

Associations with their agreements (conventions), mentors, and children who came into care
over the years, entered collège, were assessed (on time or late, renewed yearly), were offered
a mentor with the information and agreements their legal situation requires, were proposed
mentors and lived mentorships with meetings, objectives, pauses and endings. Today most
children accepted the offer and wait for a mentor, so a matching run has work to do; every
situation of the duty occurs. The same seed and day give the same rows (ids aside).

History rows carry the time they happened. Care revisions are the exception the database
imposes: the row a child's INSERT writes is dated now; the demo adds the earlier ones (coming
into care, turning 18, asking for mentoring, leaving care) with their past times, so the
care facts as of a past date are those of the latest revision recorded by then.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.demo.calendar import DEMO_DEPARTEMENT, Calendar, add_years
from mentorat.demo.care import care_facts
from mentorat.demo.pairs import choose_mentors, score_demo_pairs
from mentorat.demo.people import ASSOCIATIONS, child_profile, demo_mentors
from mentorat.demo.plans import YOUNG_ADULTS, ChildPlan, situation_counts
from mentorat.demo.stories import build_history
from mentorat.demo.writing import Rows
from mentorat.kit.clock import today_in
from mentorat.models import Association, AssociationAgreement, Departement, Mentor

__all__ = [
    "ASSOCIATIONS", "DEMO_DEPARTEMENT", "DEMO_MARKER_ASSOCIATION", "load_demo", "plan_children",
]  # fmt: skip

DEMO_MARKER_ASSOCIATION = ASSOCIATIONS[0][0]


def plan_children(rng: np.random.Generator, calendar: Calendar, count: int) -> list[ChildPlan]:
    """Who the children are: the situation each should be in today, care facts, profile."""
    situations = [s for s, n in situation_counts(count).items() for _ in range(n)]
    order = rng.permutation(len(situations))
    seen: Counter[str] = Counter()
    plans = []
    for number, position in enumerate(order, start=1):
        situation = situations[int(position)]
        variant = seen[situation]
        seen[situation] += 1
        young_adult = variant < YOUNG_ADULTS.get(situation, 0)
        facts = care_facts(rng, calendar, situation, variant, young_adult)
        plan = ChildPlan(number, situation, variant, young_adult, facts)
        if situation == "in_mentorship":
            kind = variant % 11
            plan.substate = "accepted" if kind == 0 else "paused" if kind in (1, 6) else "active"
        plan.profile = child_profile(rng, plan.facts.birth_date, calendar.today)
        plans.append(plan)
    return plans


def _agreements(calendar: Calendar, associations: list[Association]) -> list[dict[str, object]]:
    """Every association works under an agreement in force today. The first one's expired at
    the end of the school year before last and was renewed for three years from the next day;
    the second's is open-ended; the third signed this school year."""
    start = calendar.school_day(calendar.school_year)
    first, second, third = associations

    def years(count: int) -> date:
        return add_years(start, count)

    terms = (
        (first, years(-3) - timedelta(days=60), years(-3), years(-1) - timedelta(days=1)),
        (first, years(-1) - timedelta(days=45), years(-1), years(2) - timedelta(days=1)),
        (second, years(-2) - timedelta(days=30), years(-2), None),
        (third, start - timedelta(days=20), start, years(3) - timedelta(days=1)),
    )
    rows = []
    for number, (association, signed_on, valid_from, valid_until) in enumerate(terms, 1):
        moment = calendar.moment(signed_on, 15)
        rows.append(
            {"association_id": association.id, "departement_code": DEMO_DEPARTEMENT,
             "signed_on": signed_on, "valid_from": valid_from, "valid_until": valid_until,
             "document_reference": f"CD53-PAR-{valid_from.year}-{number:03d}",
             "created_at": moment, "updated_at": moment}
        )  # fmt: skip
    return rows


async def load_demo(
    session: AsyncSession,
    *,
    seed: int = 53,
    children: int = 300,
    mentors: int = 240,
    today: date | None = None,
) -> bool:
    """Load the demo set once (False if it is already there). The caller commits."""
    exists = await session.scalar(
        select(Association.id).where(Association.name == DEMO_MARKER_ASSOCIATION)
    )
    if exists is not None:
        return False
    departement = await session.get(Departement, DEMO_DEPARTEMENT)
    if departement is None:
        raise LookupError(f"département {DEMO_DEPARTEMENT} is missing")  # seeded by migrations
    calendar = Calendar(
        today or today_in(DEMO_DEPARTEMENT),
        departement.school_start_month,
        departement.school_start_day,
    )
    rng = np.random.default_rng(seed)
    plans = plan_children(rng, calendar, children)

    joined = calendar.moment(calendar.imported_on - timedelta(days=30), 9)
    associations = [
        Association(
            name=name, contact_name=contact, contact_email=email, departements=[departement],
            created_at=joined, updated_at=joined,
        )
        for name, contact, email in ASSOCIATIONS
    ]  # fmt: skip
    session.add_all(associations)
    await session.flush()
    await session.execute(
        insert(AssociationAgreement.__table__), _agreements(calendar, associations)
    )
    demo_mentor_rows = demo_mentors(rng, mentors, associations, calendar.today)
    for mentor in demo_mentor_rows:
        mentor["created_at"] = mentor["updated_at"] = joined
    await session.execute(insert(Mentor.__table__), demo_mentor_rows)

    # The third association works in 53 since this school year only: its mentors have no past.
    with_past = {associations[0].id, associations[1].id}
    scored = score_demo_pairs(plans, demo_mentor_rows, calendar.today, with_past)
    choose_mentors(rng, plans, demo_mentor_rows, scored)
    rows = Rows(calendar, demo_mentor_rows, scored)
    for plan in plans:
        build_history(rng, calendar, plan)
        child_id = rows.add_child(plan)
        rows.add_duty(plan, child_id)
        rows.add_pairs(plan, child_id)
    await rows.write(session)
    return True
