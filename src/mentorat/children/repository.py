from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, Select, bindparam, false, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import read_event_parameters, with_read_events
from mentorat.auth.principal import Principal, Role
from mentorat.errors import NotFound
from mentorat.kit.cursors import read_cursor, sign_cursor
from mentorat.kit.repository import live_rows, one_or_404, refuse_deleted_unless_admin
from mentorat.models import Child


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


# The hot reads (GET /v1/children/{id} and the list) are one statement each, the rows and
# their audit events together, built once per shape and run with bound parameters.
PAGE_ORDER = (Child.created_at, Child.id)


def readable(*, departement_scoped: bool, include_deleted: bool) -> Select[Any]:
    """Every column of the children one may read; bound parameter `scope_departement` when
    the reader works in one département. To show more per child (e.g. a derived situation),
    join a lateral subquery here and add its columns: they reach the row, audited alike."""
    statement = select(*Child.__table__.columns)
    if not include_deleted:
        statement = statement.where(Child.deleted_at.is_(None))
    if departement_scoped:
        statement = statement.where(Child.departement_code == bindparam("scope_departement"))
    return statement


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
def _one_child(departement_scoped: bool) -> Select[Any]:
    read = readable(departement_scoped=departement_scoped, include_deleted=False)
    return with_read_events(read.where(Child.id == bindparam("child_id")), "child", via=None)


async def read_child(session: AsyncSession, principal: Principal, child_id: uuid.UUID) -> Row[Any]:
    """One child in scope, its read audited by the same statement; a 404 otherwise."""
    scope = _scope_parameters(principal, include_deleted=False)
    if scope is None:
        raise NotFound("No such child.")
    departement_scoped, parameters = scope
    row = (
        await session.execute(
            _one_child(departement_scoped),
            {**parameters, **read_event_parameters(principal), "child_id": child_id},
        )
    ).first()
    if row is None:
        raise NotFound("No such child.")
    return row


@dataclass(frozen=True, slots=True)
class ChildFilters:
    departement: str | None
    college_entry_year: int | None
    include_deleted: bool

    def as_cursor_filters(self) -> dict[str, Any]:
        return {
            "departement": self.departement,
            "college_entry_year": self.college_entry_year,
            "include_deleted": self.include_deleted,
        }


@lru_cache
def _page(
    departement_scoped: bool,
    include_deleted: bool,
    by_departement: bool,
    by_college_entry_year: bool,
    resumed: bool,
) -> Select[Any]:
    read = readable(departement_scoped=departement_scoped, include_deleted=include_deleted)
    if by_departement:
        read = read.where(Child.departement_code == bindparam("departement"))
    if by_college_entry_year:
        read = read.where(Child.college_entry_year == bindparam("college_entry_year"))
    if resumed:
        read = read.where(
            tuple_(*PAGE_ORDER)
            > tuple_(
                bindparam("after_created_at", type_=Child.created_at.type),
                bindparam("after_id", type_=Child.id.type),
            )
        )
    read = read.order_by(*PAGE_ORDER).limit(bindparam("fetched"))
    return with_read_events(
        read,
        "child",
        via="list",
        page_order=[column.key for column in PAGE_ORDER],
        page_size=bindparam("shown"),
    )


async def read_page(
    session: AsyncSession,
    principal: Principal,
    filters: ChildFilters,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Row[Any]], str | None]:
    """A page of the children in scope, in creation order, each shown child audited by the
    same statement; and the cursor of the next page."""
    scope = _scope_parameters(principal, filters.include_deleted)
    if scope is None:
        return [], None
    departement_scoped, parameters = scope
    if filters.departement is not None:
        parameters["departement"] = filters.departement
    if filters.college_entry_year is not None:
        parameters["college_entry_year"] = filters.college_entry_year
    cursor_filters = filters.as_cursor_filters()
    if cursor is not None:
        types = [column.type.python_type for column in PAGE_ORDER]
        after = await read_cursor(session, PAGE_SCOPE, cursor_filters, cursor, types)
        parameters["after_created_at"], parameters["after_id"] = after
    statement = _page(
        departement_scoped,
        filters.include_deleted,
        filters.departement is not None,
        filters.college_entry_year is not None,
        cursor is not None,
    )
    parameters |= read_event_parameters(principal)
    rows = list(
        await session.execute(statement, {**parameters, "fetched": limit + 1, "shown": limit})
    )
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, await sign_cursor(session, PAGE_SCOPE, cursor_filters, [last.created_at, last.id])


PAGE_SCOPE = "children"
