from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Row,
    RowMapping,
    Select,
    Text,
    any_,
    bindparam,
    false,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from mentorat.audit.service import read_event_parameters, with_read_events
from mentorat.auth.principal import Principal, Role
from mentorat.errors import NotFound
from mentorat.kit.cursors import read_cursor, sign_cursor
from mentorat.kit.db import Database
from mentorat.kit.repository import live_rows, one_or_404, refuse_deleted_unless_admin
from mentorat.kit.statements import CompiledStatement
from mentorat.kit.text import LIKE_ESCAPE, like_prefix
from mentorat.models import Child
from mentorat.situation.derivation import SituationColumns, with_situation


def scoped(principal: Principal, *, include_deleted: bool = False) -> Select[tuple[Child]]:
    """The children this principal may see; soft-deleted ones only for an admin who asks."""
    statement = live_rows(select(Child), Child, principal, include_deleted=include_deleted)
    if principal.role is Role.admin:
        return statement
    if principal.in_departement_role:
        return statement.where(Child.departement_code == principal.departement_code)
    return statement.where(false())


async def get_scoped(
    session: AsyncSession,
    principal: Principal,
    child_id: uuid.UUID,
    *,
    for_update: bool = False,
    include_deleted: bool = False,
) -> Child:
    statement = scoped(principal, include_deleted=include_deleted).where(Child.id == child_id)
    return await one_or_404(session, statement, "child", for_update=for_update)


def name_prefix_matches(pattern: ColumnElement[str]) -> ColumnElement[bool]:
    """The reference or the first name starts with `pattern` (a `like_prefix`): the form the
    prefix indexes on lower(reference) and lower(first_name) serve."""
    return or_(
        func.lower(Child.reference).like(pattern, escape=LIKE_ESCAPE),
        func.lower(Child.first_name).like(pattern, escape=LIKE_ESCAPE),
    )


@dataclass(frozen=True, slots=True)
class SituatedChild:
    """A child with the situation PostgreSQL derived for them in the same statement."""

    child: Child
    situation: str
    next_action: str
    next_action_due_on: date | None


def situated(statement: Select[tuple[Child]]) -> tuple[Select[Any], SituationColumns]:
    """`statement` (selecting children) with each child's situation today as extra columns."""
    joined, columns = with_situation(statement)
    return (
        joined.add_columns(columns.situation, columns.next_action, columns.next_action_due_on),
        columns,
    )


def to_situated(row: Row[Any]) -> SituatedChild:
    child, situation, next_action, due_on = row
    return SituatedChild(child, situation, next_action, due_on)


async def situation_of(session: AsyncSession, child: Child) -> SituatedChild:
    """The situation of a child just written (in this transaction)."""
    statement, _ = situated(select(Child).where(Child.id == child.id))
    return to_situated((await session.execute(statement)).one())


# The hot reads (GET /v1/children/{id} and the list) are one statement each, the rows, their
# situations and their audit events together, built once per shape and run with bound
# parameters.
PAGE_ORDER = (Child.created_at, Child.id)
PAGE_SCOPE = "children"


def readable(
    *, departement_scoped: bool, include_deleted: bool
) -> tuple[Select[Any], SituationColumns]:
    """Every column of the children one may read, with each child's situation, next action
    and its due date today (the situation's lateral subqueries joined here, so they are part
    of the same statement); bound parameter `scope_departement` when the reader works in one
    département. Also the situation's columns, to filter on."""
    statement = select(*Child.__table__.columns)
    if not include_deleted:
        statement = statement.where(Child.deleted_at.is_(None))
    if departement_scoped:
        statement = statement.where(Child.departement_code == bindparam("scope_departement"))
    joined, columns = with_situation(statement)
    return (
        joined.add_columns(
            columns.situation.label("situation"),
            columns.next_action.label("next_action"),
            columns.next_action_due_on.label("next_action_due_on"),
        ),
        columns,
    )


def _scope_parameters(
    principal: Principal, include_deleted: bool
) -> tuple[bool, dict[str, Any]] | None:
    """Whether the read is limited to the principal's département, and its parameters; None
    when the principal sees no child."""
    refuse_deleted_unless_admin(principal, include_deleted)
    if principal.is_admin:
        return False, {}
    if principal.in_departement_role:
        return True, {"scope_departement": principal.departement_code}
    return None


@lru_cache
def _one_child(departement_scoped: bool) -> CompiledStatement:
    read, _ = readable(departement_scoped=departement_scoped, include_deleted=False)
    return CompiledStatement(
        with_read_events(
            read.where(Child.id == bindparam("child_id", type_=Child.id.type)), "child", via=None
        )
    )


async def read_child(database: Database, principal: Principal, child_id: uuid.UUID) -> RowMapping:
    """One child in scope with its situation, its read audited by the same statement; a 404
    otherwise."""
    scope = _scope_parameters(principal, include_deleted=False)
    if scope is None:
        raise NotFound("No such child.")
    departement_scoped, parameters = scope
    row = await _one_child(departement_scoped).fetchrow(
        database, {**parameters, **read_event_parameters(principal), "child_id": child_id}
    )
    if row is None:
        raise NotFound("No such child.")
    return row


@dataclass(frozen=True, slots=True)
class ChildFilters:
    """What a list of children is narrowed to (each one part of the cursor's signature)."""

    departement: str | None = None
    college_entry_year: int | None = None
    include_deleted: bool = False
    situations: tuple[str, ...] = ()
    due_before: date | None = None
    query: str | None = None

    def signed(self) -> dict[str, Any]:
        return {
            "departement": self.departement,
            "college_entry_year": self.college_entry_year,
            "include_deleted": self.include_deleted,
            "situation": sorted(set(self.situations)),
            "due_before": self.due_before,
            "q": self.query,
        }

    @property
    def on_situation(self) -> bool:
        return bool(self.situations) or self.due_before is not None

    def parameters(self) -> dict[str, Any]:
        """The bound parameters of the filters given, for a statement of `_page`."""
        given: dict[str, Any] = {
            "departement": self.departement,
            "college_entry_year": self.college_entry_year,
            "situations": sorted(set(self.situations)) or None,
            "due_before": self.due_before,
            "name_prefix": None if self.query is None else like_prefix(self.query),
        }
        return {name: value for name, value in given.items() if value is not None}


@dataclass(frozen=True, slots=True)
class _PageShape:
    """Which filters a page's statement has: one compiled statement per shape."""

    departement_scoped: bool
    include_deleted: bool
    by_departement: bool
    by_college_entry_year: bool
    by_situation: bool
    by_due_date: bool
    by_name_prefix: bool
    resumed: bool


@lru_cache
def _page(shape: _PageShape) -> CompiledStatement:
    read, situation = readable(
        departement_scoped=shape.departement_scoped, include_deleted=shape.include_deleted
    )
    if shape.by_departement:
        read = read.where(
            Child.departement_code == bindparam("departement", type_=Child.departement_code.type)
        )
    if shape.by_college_entry_year:
        read = read.where(
            Child.college_entry_year
            == bindparam("college_entry_year", type_=Child.college_entry_year.type)
        )
    if shape.by_name_prefix:
        read = read.where(name_prefix_matches(bindparam("name_prefix", type_=Text)))
    if shape.by_situation:
        read = read.where(situation.situation == any_(bindparam("situations", type_=ARRAY(Text))))
    if shape.by_due_date:
        read = read.where(situation.next_action_due_on < bindparam("due_before", type_=Date))
    if shape.resumed:
        read = read.where(
            tuple_(*PAGE_ORDER)
            > tuple_(
                bindparam("after_created_at", type_=Child.created_at.type),
                bindparam("after_id", type_=Child.id.type),
            )
        )
    read = read.order_by(*PAGE_ORDER).limit(bindparam("fetched", type_=Integer))
    return CompiledStatement(
        with_read_events(
            read,
            "child",
            via="list",
            page_order=[column.key for column in PAGE_ORDER],
            page_size=bindparam("shown", type_=Integer),
        )
    )


async def read_page(
    database: Database,
    principal: Principal,
    filters: ChildFilters,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[RowMapping], str | None]:
    """A page of the children in scope with their situations, in creation order, each shown
    child audited by the same statement; and the cursor of the next page."""
    scope = _scope_parameters(principal, filters.include_deleted)
    if scope is None:
        return [], None
    departement_scoped, parameters = scope
    parameters |= filters.parameters()
    cursor_filters = filters.signed()
    if cursor is not None:
        types = [column.type.python_type for column in PAGE_ORDER]
        async with database.statement_sessionmaker()() as session:
            after = await read_cursor(session, PAGE_SCOPE, cursor_filters, cursor, types)
        parameters["after_created_at"], parameters["after_id"] = after
    statement = _page(
        _PageShape(
            departement_scoped=departement_scoped,
            include_deleted=filters.include_deleted,
            by_departement=filters.departement is not None,
            by_college_entry_year=filters.college_entry_year is not None,
            by_situation=bool(filters.situations),
            by_due_date=filters.due_before is not None,
            by_name_prefix=filters.query is not None,
            resumed=cursor is not None,
        )
    )
    parameters |= read_event_parameters(principal)
    rows = await statement.fetch(database, {**parameters, "fetched": limit + 1, "shown": limit})
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    async with database.statement_sessionmaker()() as session:
        next_cursor = await sign_cursor(
            session, PAGE_SCOPE, cursor_filters, [last["created_at"], last["id"]]
        )
    return rows, next_cursor
