from __future__ import annotations

import uuid

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.associations.repository import serving
from mentorat.auth.principal import Principal, Role
from mentorat.kit.repository import live_rows, one_or_404
from mentorat.models import Mentor


def scoped(principal: Principal, *, include_deleted: bool = False) -> Select[tuple[Mentor]]:
    """Mentors visible to the principal: a département sees those of associations serving it."""
    statement = live_rows(select(Mentor), Mentor, principal, include_deleted=include_deleted)
    if principal.role is Role.admin:
        return statement
    if principal.in_departement_role:
        return statement.where(Mentor.association_id.in_(serving(principal.scope_departement)))
    if principal.role is Role.coordinator:
        return statement.where(Mentor.association_id == principal.association_id)
    return statement.where(Mentor.id == principal.mentor_id)


async def get_scoped(
    session: AsyncSession,
    principal: Principal,
    mentor_id: uuid.UUID,
    *,
    for_update: bool = False,
    include_deleted: bool = False,
) -> Mentor:
    statement = scoped(principal, include_deleted=include_deleted).where(Mentor.id == mentor_id)
    return await one_or_404(session, statement, "mentor", for_update=for_update)
