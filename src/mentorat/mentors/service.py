from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.associations import repository as associations
from mentorat.associations.repository import serving
from mentorat.audit.service import record
from mentorat.auth.principal import Principal
from mentorat.errors import Conflict, InvalidInput, NotFound
from mentorat.kit.etag import check_if_match
from mentorat.kit.pagination import paginate
from mentorat.kit.repository import flush
from mentorat.mentors import repository
from mentorat.mentors.schemas import MentorCreate, MentorUpdate
from mentorat.models import Mentor
from mentorat.models import Principal as PrincipalRow
from mentorat.privacy.subjects import (
    forget_events,
    forget_run_inputs,
    forget_stored_answers,
    mentor_subject_ids,
    pseudonymise_principals,
)
from mentorat.profile import profile_to_columns

ENTITY = "mentor"
REFERENCE_TAKEN = "That reference is already used in this association."


def to_columns(values: dict[str, Any]) -> dict[str, Any]:
    columns = profile_to_columns(values)
    if "honorability_check" in columns:
        check = columns.pop("honorability_check")
        columns["honorability_checked_on"] = check["checked_on"] if check else None
        columns["honorability_valid_until"] = check["valid_until"] if check else None
    return columns


def listed_mentors(
    principal: Principal,
    *,
    association: uuid.UUID | None,
    departement: str | None,
    active: bool | None,
    honorability_valid_on: date | None,
    include_deleted: bool,
) -> Select[tuple[Mentor]]:
    """The mentors listed (scoped and filtered), unordered and unpaged."""
    statement = repository.scoped(principal, include_deleted=include_deleted)
    if association is not None:
        statement = statement.where(Mentor.association_id == association)
    if departement is not None:
        statement = statement.where(Mentor.association_id.in_(serving(departement)))
    if active is not None:
        statement = statement.where(Mentor.active.is_(active))
    if honorability_valid_on is not None:
        statement = statement.where(
            Mentor.honorability_checked_on <= honorability_valid_on,
            Mentor.honorability_valid_until >= honorability_valid_on,
        )
    return statement


async def list_mentors(
    session: AsyncSession,
    principal: Principal,
    *,
    limit: int,
    cursor: str | None,
    **filters: Any,
) -> tuple[list[Mentor], str | None]:
    statement = listed_mentors(principal, **filters)
    return await paginate(
        session, statement, [Mentor.created_at, Mentor.id], limit=limit, cursor=cursor,
        scope="mentors", filters=filters,
    )  # fmt: skip


async def create_mentor(session: AsyncSession, principal: Principal, data: MentorCreate) -> Mentor:
    association_id = data.association_id or principal.association_id
    if association_id is None:
        raise InvalidInput("association_id is required.", field=("body", "association_id"))
    try:
        await associations.get_scoped(session, principal, association_id)
    except NotFound:
        raise NotFound("No such association in your scope.") from None
    mentor = Mentor(
        association_id=association_id, **to_columns(data.model_dump(exclude={"association_id"}))
    )
    session.add(mentor)
    await flush(session, conflict=REFERENCE_TAKEN)
    await record(session, principal, "create", ENTITY, [mentor.id])
    return mentor


async def update_mentor(
    session: AsyncSession,
    principal: Principal,
    mentor_id: uuid.UUID,
    data: MentorUpdate,
    if_match: str | None,
) -> Mentor:
    mentor = await repository.get_scoped(session, principal, mentor_id, for_update=True)
    check_if_match(if_match, mentor.version)
    changes = data.model_dump(exclude_unset=True)
    if not changes:
        raise InvalidInput("Nothing to update.", field=("body",))
    columns = to_columns(changes)
    if columns.get("capacity", mentor.capacity) < mentor.places_held:
        raise Conflict(
            f"The mentor holds {mentor.places_held} places (pending proposals and "
            "accepted or active mentorships); the capacity cannot go below that."
        )
    for field, value in columns.items():
        setattr(mentor, field, value)
    await flush(session, conflict=REFERENCE_TAKEN)
    await record(
        session, principal, "update", ENTITY, [mentor.id], details={"fields": sorted(changes)}
    )
    return mentor


async def delete_mentor(
    session: AsyncSession, principal: Principal, mentor_id: uuid.UUID, if_match: str | None
) -> None:
    mentor = await repository.get_scoped(session, principal, mentor_id, for_update=True)
    check_if_match(if_match, mentor.version)
    mentor.deleted_at = datetime.now(UTC)
    mentor.active = False
    await flush(session)
    await record(session, principal, "delete", ENTITY, [mentor.id])


async def purge_mentor(session: AsyncSession, principal: Principal, mentor_id: uuid.UUID) -> None:
    """Hard delete (admins): the mentor, their principals and tokens, proposals, exclusions,
    mentorships with everything in them, stored idempotent answers naming them or given to
    them, the events told about them. The audit trail stays, with bare ids: the name copied
    into the events of the mentor's own principals is replaced."""
    mentor = await repository.get_scoped(
        session, principal, mentor_id, for_update=True, include_deleted=True
    )
    principal_ids = list(
        await session.scalars(select(PrincipalRow.id).where(PrincipalRow.mentor_id == mentor.id))
    )
    subject_ids = await mentor_subject_ids(session, mentor.id)
    await forget_stored_answers(session, subject_ids, principal_ids)
    await forget_events(session, subject_ids)
    await forget_run_inputs(session, mentor_id=mentor.id)
    await pseudonymise_principals(session, principal_ids)
    await session.delete(mentor)  # the rest goes by ON DELETE CASCADE
    await flush(session)
    await record(session, principal, "purge", ENTITY, [mentor_id])
