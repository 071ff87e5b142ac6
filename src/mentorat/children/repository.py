from __future__ import annotations

import uuid

from sqlalchemy import Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.principal import Principal, Role
from mentorat.errors import NotFound
from mentorat.models import Child


def scoped(principal: Principal, *, include_deleted: bool = False) -> Select[tuple[Child]]:
    """The children this principal may see; soft-deleted ones only for an admin who asks."""
    statement = select(Child)
    if not (include_deleted and principal.role is Role.admin):
        statement = statement.where(Child.deleted_at.is_(None))
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
    if for_update:
        statement = statement.with_for_update()
    child = await session.scalar(statement)
    if child is None:
        raise NotFound("No such child.")
    return child
