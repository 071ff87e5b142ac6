"""Objectives of a mentorship. Every change is a revision; nothing is overwritten."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import record
from mentorat.auth.principal import Principal
from mentorat.errors import Conflict, InvalidInput, NotFound
from mentorat.kit.etag import check_if_match
from mentorat.kit.pagination import paginate, paginate_computed
from mentorat.kit.repository import flush
from mentorat.mentorships import repository
from mentorat.models import Mentorship, Objective, ObjectiveRevision

ENTITY = "objective"
FIELDS = ("title", "category", "description", "target_date", "status", "progress")


def _values(objective: Objective) -> dict[str, Any]:
    values = {field: getattr(objective, field) for field in FIELDS}
    if isinstance(values["target_date"], date):
        values["target_date"] = values["target_date"].isoformat()
    return values


def current_view(objective: Objective) -> dict[str, Any]:
    return {
        "id": objective.id,
        "mentorship_id": objective.mentorship_id,
        "revision": objective.version,
        **_values(objective),
    }


async def _revise(
    session: AsyncSession,
    principal: Principal,
    objective: Objective,
    revision: int,
    changed: list[str],
) -> None:
    session.add(
        ObjectiveRevision(
            objective_id=objective.id,
            mentorship_id=objective.mentorship_id,
            revision=revision,
            principal_id=principal.id,
            principal_name=principal.name,
            values=_values(objective),
            changed_fields=changed,
        )
    )
    await flush(session)


async def create_objective(
    session: AsyncSession, principal: Principal, mentorship_id: uuid.UUID, values: dict[str, Any]
) -> Objective:
    mentorship = await repository.get_scoped(session, principal, mentorship_id, for_update=True)
    if mentorship.state == "ended":
        raise Conflict("The mentorship has ended; its objectives are closed.")
    objective = Objective(mentorship_id=mentorship.id, **values)
    session.add(objective)
    await flush(session)
    await _revise(session, principal, objective, 1, list(FIELDS))
    await record(
        session, principal, "create", ENTITY, [objective.id],
        departement_code=mentorship.departement_code,
    )  # fmt: skip
    return objective


async def get_objective(
    session: AsyncSession,
    principal: Principal,
    objective_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> tuple[Objective, Mentorship]:
    visible = repository.scoped(principal).with_only_columns(Mentorship.id)
    statement = select(Objective).where(
        Objective.id == objective_id, Objective.mentorship_id.in_(visible)
    )
    if for_update:
        statement = statement.with_for_update(of=Objective)
    objective = await session.scalar(statement)
    if objective is None:
        raise NotFound("No such objective.")
    mentorship = await session.get(Mentorship, objective.mentorship_id)
    if mentorship is None:  # the foreign key forbids it; never answer from a half row
        raise NotFound("No such objective.")
    return objective, mentorship


async def update_objective(
    session: AsyncSession,
    principal: Principal,
    objective_id: uuid.UUID,
    changes: dict[str, Any],
    if_match: str | None,
) -> Objective:
    objective, mentorship = await get_objective(session, principal, objective_id, for_update=True)
    check_if_match(if_match, objective.version)
    if not changes:
        raise InvalidInput("Nothing to update.", field=("body",))
    if mentorship.state == "ended":
        raise Conflict("The mentorship has ended; its objectives are closed.")
    changed = sorted(
        field for field, value in changes.items() if getattr(objective, field) != value
    )
    if not changed:
        return objective
    for field in changed:
        setattr(objective, field, changes[field])
    await flush(session)
    await _revise(session, principal, objective, objective.version, changed)
    await record(
        session, principal, "update", ENTITY, [objective.id],
        departement_code=mentorship.departement_code, details={"fields": changed},
    )  # fmt: skip
    return objective


async def list_objectives(
    session: AsyncSession,
    principal: Principal,
    mentorship_id: uuid.UUID,
    as_of: datetime | None,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """The objectives now, or exactly as they stood at `as_of` (from their revisions), in the
    order they were set."""
    mentorship = await repository.read_scoped(session, principal, mentorship_id, via="objectives")
    filters = {"mentorship": mentorship.id, "as_of": as_of}
    if as_of is None:
        objectives, next_cursor = await paginate(
            session,
            select(Objective).where(Objective.mentorship_id == mentorship.id),
            [Objective.created_at, Objective.id],
            limit=limit,
            cursor=cursor,
            scope="objectives",
            filters=filters,
        )
        return [current_view(objective) for objective in objectives], next_cursor
    latest = (
        select(ObjectiveRevision)
        .where(
            ObjectiveRevision.mentorship_id == mentorship.id,
            ObjectiveRevision.recorded_at <= as_of,
        )
        .order_by(ObjectiveRevision.objective_id, ObjectiveRevision.revision.desc())
        .ext(distinct_on(ObjectiveRevision.objective_id))
    )
    first_recorded = (
        select(ObjectiveRevision.objective_id, func.min(ObjectiveRevision.recorded_at))
        .where(ObjectiveRevision.mentorship_id == mentorship.id)
        .group_by(ObjectiveRevision.objective_id)
    )
    order = {
        objective_id: started for objective_id, started in await session.execute(first_recorded)
    }
    revisions, next_cursor = await paginate_computed(
        session,
        list(await session.scalars(latest)),
        lambda revision: (order[revision.objective_id], str(revision.objective_id)),
        [datetime, str],
        limit=limit,
        cursor=cursor,
        scope="objectives",
        filters=filters,
    )
    views = [
        {
            "id": revision.objective_id,
            "mentorship_id": revision.mentorship_id,
            "revision": revision.revision,
            "as_of": as_of,
            **revision.values,
        }
        for revision in revisions
    ]
    return views, next_cursor


async def history(
    session: AsyncSession,
    principal: Principal,
    objective_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[ObjectiveRevision], str | None]:
    objective, mentorship = await get_objective(session, principal, objective_id)
    await repository.audit_reads(session, principal, [mentorship], via="objective-history")
    return await paginate(
        session,
        select(ObjectiveRevision).where(ObjectiveRevision.objective_id == objective.id),
        [ObjectiveRevision.revision],
        limit=limit,
        cursor=cursor,
        scope="objective-history",
        filters={"objective": objective.id},
    )
