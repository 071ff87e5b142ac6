"""Assessments: recorded once, never changed (a correction is a new assessment)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import record, record_child_reads
from mentorat.auth.principal import Principal, Role
from mentorat.children import repository as children_repository
from mentorat.errors import InvalidInput
from mentorat.kit.clock import today_in
from mentorat.kit.pagination import paginate
from mentorat.kit.repository import flush, one_or_404
from mentorat.models import Assessment

ENTITY = "assessment"
RECOMMENDED = "mentoring_recommended"


def one_year_after(day: date) -> date:
    """The same day a year later (29 February: 28 February, as PostgreSQL's interval does)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def view(assessment: Assessment) -> dict[str, Any]:
    """The read of an assessment, with the date the next one is due."""
    return {
        "id": assessment.id,
        "child_id": assessment.child_id,
        "departement_code": assessment.departement_code,
        "assessed_on": assessment.assessed_on,
        "outcome": assessment.outcome,
        "reason": assessment.reason,
        "note": assessment.note,
        "author_name": assessment.author_name,
        "next_due_on": one_year_after(assessment.assessed_on),
        "created_at": assessment.created_at,
    }


async def create_assessment(
    session: AsyncSession, principal: Principal, child_id: uuid.UUID, values: dict[str, Any]
) -> Assessment:
    child = await children_repository.get_scoped(session, principal, child_id, for_update=True)
    assessed_on: date = values["assessed_on"]
    if assessed_on > today_in(child.departement_code):
        raise InvalidInput(
            "An assessment cannot be dated in the future.", field=("body", "assessed_on")
        )
    if assessed_on < child.birth_date:
        raise InvalidInput(
            "An assessment cannot be dated before the child's birth.",
            field=("body", "assessed_on"),
        )
    assessment = Assessment(
        child_id=child.id,
        departement_code=child.departement_code,
        assessed_on=assessed_on,
        outcome=values["outcome"],
        reason=values.get("reason"),
        note=values.get("note"),
        author_id=principal.id,
        author_name=principal.name,
    )
    session.add(assessment)
    await flush(session)
    await record(
        session,
        principal,
        "create",
        ENTITY,
        [assessment.id],
        departement_code=child.departement_code,
        details={"child_id": str(child.id), "outcome": assessment.outcome},
    )
    return assessment


async def list_assessments(
    session: AsyncSession,
    principal: Principal,
    child_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Assessment], str | None]:
    """The child's assessments, the latest first (by date, then by when recorded)."""
    child = await children_repository.get_scoped(session, principal, child_id)
    await record_child_reads(
        session, principal, [(child.id, child.departement_code)], via="assessments"
    )
    return await paginate(
        session,
        select(Assessment).where(Assessment.child_id == child.id),
        [Assessment.assessed_on, Assessment.created_at, Assessment.id],
        limit=limit,
        cursor=cursor,
        scope="assessments",
        filters={"child": child.id},
        descending=True,
    )


async def read_assessment(
    session: AsyncSession, principal: Principal, assessment_id: uuid.UUID
) -> Assessment:
    statement = select(Assessment).where(Assessment.id == assessment_id)
    if principal.role is not Role.admin:
        statement = statement.where(Assessment.departement_code == principal.departement_code)
    assessment: Assessment = await one_or_404(session, statement, "assessment")
    await record_child_reads(
        session, principal, [(assessment.child_id, assessment.departement_code)], via="assessment"
    )
    return assessment


async def current_recommendation(
    session: AsyncSession, child_id: uuid.UUID, on: date
) -> Assessment | None:
    """The assessment an offer made on `on` rests on: the latest assessment dated on or before
    `on` and less than a year old then, when it recommends mentoring. A later `not_now` or
    `not_applicable` overrides an earlier recommendation."""
    latest = await session.scalar(
        select(Assessment)
        .where(Assessment.child_id == child_id, Assessment.assessed_on <= on)
        .order_by(Assessment.assessed_on.desc(), Assessment.created_at.desc(), Assessment.id)
        .limit(1)
    )
    if latest is None or latest.outcome != RECOMMENDED or one_year_after(latest.assessed_on) <= on:
        return None
    return latest
