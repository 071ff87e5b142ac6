from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Row, Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.principal import Principal, Role
from mentorat.errors import NotFound
from mentorat.kit.repository import live_rows, one_or_404
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


async def get_situated(
    session: AsyncSession, principal: Principal, child_id: uuid.UUID
) -> SituatedChild:
    statement, _ = situated(scoped(principal).where(Child.id == child_id))
    row = (await session.execute(statement)).first()
    if row is None:
        raise NotFound("No such child.")
    return to_situated(row)


async def situation_of(session: AsyncSession, child: Child) -> SituatedChild:
    """The situation of a child just written (in this transaction)."""
    statement, _ = situated(select(Child).where(Child.id == child.id))
    return to_situated((await session.execute(statement)).one())
