from __future__ import annotations

import uuid

from sqlalchemy import Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.principal import Principal, Role
from mentorat.kit.repository import live_rows, one_or_404
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
