"""Children brought to a situation by writing their facts straight to the database (the
offers API is not used: assessments and consents are append-only facts)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.kit.clock import today_in
from mentorat.models import Assessment, Child, Offer, OfferConsent
from mentorat.models.legal import REQUIRED_PARTIES
from tests.factories import create_child

TODAY = today_in("53")


def days(count: int) -> date:
    """Today (in the département) plus `count` days."""
    return TODAY + timedelta(days=count)


def years_before(day: date, years: int, extra_days: int = 0) -> date:
    return day.replace(year=day.year - years) - timedelta(days=extra_days)


async def child_in_care(session: AsyncSession, **overrides: Any) -> Child:
    """A child of 12 who came into care 200 days ago, with no assessment or offer."""
    values: dict[str, Any] = {
        "birth_date": years_before(TODAY, 12, 30),
        "came_into_care_on": days(-200),
        "college_entry_year": TODAY.year - 1,
        **overrides,
    }
    child = await create_child(session, offer=None, **values)
    await session.commit()
    return child


async def assess(
    session: AsyncSession, child: Child, on: date, outcome: str = "mentoring_recommended"
) -> Assessment:
    assessment = Assessment(
        child_id=child.id,
        departement_code=child.departement_code,
        assessed_on=on,
        author_name="Test",
        outcome=outcome,
        reason=None if outcome == "mentoring_recommended" else "Not the right time.",
    )
    session.add(assessment)
    await session.commit()
    return assessment


async def offer(
    session: AsyncSession,
    child: Child,
    assessment: Assessment,
    *,
    offered_on: date,
    informed: tuple[str, ...] | None = None,
    answer: str | None = None,
    answered_on: date | None = None,
) -> Offer:
    """An offer; `informed` lists the parties informed (default: every required one);
    `answer` is every required party's agreement, or the child's refusal (which decides it),
    given on `answered_on`."""
    made = Offer(
        child_id=child.id,
        departement_code=child.departement_code,
        offered_on=offered_on,
        offered_by_name="Test",
        legal_situation=child.legal_situation,
        assessment_id=assessment.id,
    )
    session.add(made)
    await session.flush()
    required = REQUIRED_PARTIES[child.legal_situation]
    facts = [
        OfferConsent(
            offer_id=made.id, party=party, kind="informed", given_on=offered_on,
            recorded_by_name="Test",
        )
        for party in (required if informed is None else informed)
    ]  # fmt: skip
    session.add_all(facts)
    await session.flush()
    if answer is not None:
        session.add_all(
            OfferConsent(
                offer_id=made.id, party=party, kind=answer, given_on=answered_on or offered_on,
                recorded_by_name="Test",
            )
            for party in (required if answer == "agreed" else required[:1])
        )  # fmt: skip
        await session.flush()
    await session.commit()
    await session.refresh(made)
    return made


async def set_child(session: AsyncSession, child: Child, **values: Any) -> None:
    for name, value in values.items():
        setattr(child, name, value)
    await session.commit()


async def situation(
    client: httpx.AsyncClient, headers: dict[str, str], child: Child
) -> tuple[str, str, str | None]:
    response = await client.get(f"/v1/children/{child.id}", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["situation"], body["next_action"], body["next_action_due_on"]


async def set_school_start(session: AsyncSession, code: str, month: int, day: int) -> None:
    await session.execute(
        text(
            "UPDATE departement SET school_start_month = :m, school_start_day = :d WHERE code = :c"
        ),
        {"m": month, "d": day, "c": code},
    )
    await session.commit()
