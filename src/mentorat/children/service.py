from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import RowMapping, Select, Text, literal
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import record
from mentorat.auth.principal import Principal
from mentorat.children import repository
from mentorat.children.care import CARE_FIELDS, CareFacts, care_problems
from mentorat.children.repository import ChildFilters
from mentorat.children.schemas import ChildCreate, ChildUpdate
from mentorat.errors import InvalidInput, NotFound
from mentorat.kit.clock import today_in
from mentorat.kit.db import Database
from mentorat.kit.etag import check_if_match
from mentorat.kit.repository import flush
from mentorat.kit.text import like_prefix
from mentorat.models import Child, Departement
from mentorat.privacy.subjects import (
    child_subject_ids,
    forget_events,
    forget_run_inputs,
    forget_stored_answers,
)
from mentorat.profile import profile_to_columns
from mentorat.situation.derivation import SituationColumns, with_situation
from mentorat.spreadsheets.audit import record_reads_of

ENTITY = "child"


def _check_care_facts(child: Child, changed: set[str] | None = None) -> None:
    """The care facts as they will stand, against the département's day (a 422 naming the
    first field at fault, preferring a field of the request)."""
    facts = CareFacts(
        birth_date=child.birth_date,
        came_into_care_on=child.came_into_care_on,
        left_care_on=child.left_care_on,
        legal_situation=child.legal_situation,
        mentoring_requested_on=child.mentoring_requested_on,
    )
    problems = care_problems(facts, today_in(child.departement_code))
    if not problems:
        return
    named = [field for field in problems if changed is None or field in changed]
    field = (named or list(problems))[0]
    raise InvalidInput(problems[field], field=("body", field))


def _listed(principal: Principal, filters: ChildFilters) -> Select[tuple[Child]]:
    statement = repository.scoped(principal, include_deleted=filters.include_deleted)
    if filters.departement is not None:
        statement = statement.where(Child.departement_code == filters.departement)
    if filters.college_entry_year is not None:
        statement = statement.where(Child.college_entry_year == filters.college_entry_year)
    if filters.query is not None:
        statement = statement.where(
            repository.name_prefix_matches(literal(like_prefix(filters.query), Text))
        )
    return statement


def _on_situation(
    statement: Select[Any], columns: SituationColumns, filters: ChildFilters
) -> Select[Any]:
    if filters.situations:
        statement = statement.where(columns.situation.in_(filters.situations))
    if filters.due_before is not None:
        statement = statement.where(columns.next_action_due_on < filters.due_before)
    return statement


async def list_children(
    database: Database,
    principal: Principal,
    filters: ChildFilters,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[RowMapping], str | None]:
    """A page of children in scope with their situations; each child shown is audited by
    the same statement."""
    return await repository.read_page(database, principal, filters, limit=limit, cursor=cursor)


async def export_children(
    session: AsyncSession, principal: Principal, filters: ChildFilters
) -> Select[tuple[Child]]:
    """The ordered statement of every listed child, each audited as read (one INSERT)."""
    statement = _listed(principal, filters)
    if filters.on_situation:
        joined, columns = with_situation(statement)
        statement = _on_situation(joined, columns, filters)
    await record_reads_of(session, principal, statement.subquery(), via="export")
    return statement.order_by(Child.created_at, Child.id)


async def get_child(database: Database, principal: Principal, child_id: uuid.UUID) -> RowMapping:
    """One child in scope with its situation, audited as read by the same statement."""
    return await repository.read_child(database, principal, child_id)


async def create_child(session: AsyncSession, principal: Principal, data: ChildCreate) -> Child:
    departement_code = data.departement_code or principal.departement_code
    if departement_code is None:
        raise InvalidInput("departement_code is required.", field=("body", "departement_code"))
    if not principal.is_admin and departement_code != principal.departement_code:
        raise NotFound(f"No département {departement_code} in your scope.")
    if await session.get(Departement, departement_code) is None:
        raise InvalidInput(
            f"Unknown département {departement_code}.", field=("body", "departement_code")
        )
    values = profile_to_columns(data.model_dump(exclude={"departement_code"}))
    values["came_into_care_on"] = values.get("came_into_care_on") or today_in(departement_code)
    child = Child(departement_code=departement_code, **values)
    _check_care_facts(child)
    session.add(child)
    await flush(
        session, conflict=f"The reference {data.reference!r} is already used in {departement_code}."
    )
    await record(
        session, principal, "create", ENTITY, [child.id], departement_code=departement_code
    )
    return child


async def update_child(
    session: AsyncSession,
    principal: Principal,
    child_id: uuid.UUID,
    data: ChildUpdate,
    if_match: str | None,
) -> Child:
    child = await repository.get_scoped(session, principal, child_id, for_update=True)
    check_if_match(if_match, child.version)
    changes = data.model_dump(exclude_unset=True)
    if not changes:
        raise InvalidInput("Nothing to update.", field=("body",))
    for field, value in profile_to_columns(changes).items():
        setattr(child, field, value)
    if set(changes) & {*CARE_FIELDS, "birth_date"}:
        _check_care_facts(child, set(changes))
    await flush(session, conflict="That reference is already used in this département.")
    await record(
        session,
        principal,
        "update",
        ENTITY,
        [child.id],
        departement_code=child.departement_code,
        details={"fields": sorted(changes)},
    )
    return child


async def delete_child(
    session: AsyncSession, principal: Principal, child_id: uuid.UUID, if_match: str | None
) -> None:
    """Soft delete: the record leaves every list and matching, its history stays whole."""
    child = await repository.get_scoped(session, principal, child_id, for_update=True)
    check_if_match(if_match, child.version)
    child.deleted_at = datetime.now(UTC)
    await flush(session)
    await record(
        session, principal, "delete", ENTITY, [child.id], departement_code=child.departement_code
    )


async def purge_child(session: AsyncSession, principal: Principal, child_id: uuid.UUID) -> None:
    """Hard delete, e.g. on a data-protection request (admins): the child and everything about
    them (offers, proposals and run results, exclusions, mentorships with their events,
    objectives, revisions and meetings, stored idempotent answers, the events told about
    them). The audit trail stays, with bare ids."""
    child = await repository.get_scoped(
        session, principal, child_id, for_update=True, include_deleted=True
    )
    departement_code = child.departement_code
    subject_ids = await child_subject_ids(session, child.id)
    await forget_stored_answers(session, subject_ids)
    await forget_events(session, subject_ids)
    await forget_run_inputs(session, child_id=child.id)
    await session.delete(child)  # the rest goes by ON DELETE CASCADE
    await flush(session)
    await record(session, principal, "purge", ENTITY, [child_id], departement_code=departement_code)


async def situated(session: AsyncSession, child: Child) -> repository.SituatedChild:
    """A child just written, with its situation as it now stands."""
    return await repository.situation_of(session, child)
