from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from mentorat.auth.principal import Principal, Role
from mentorat.kit.repository import one_or_404
from mentorat.models import Association, Mentor, association_departement


def serving(departement_code: str) -> Any:
    """Associations serving a département, as a subquery of their ids."""
    return select(association_departement.c.association_id).where(
        association_departement.c.departement_code == departement_code
    )


def scoped(principal: Principal) -> Select[tuple[Association]]:
    statement = select(Association).options(selectinload(Association.departements))
    if principal.role is Role.admin:
        return statement
    if principal.in_departement_role:
        return statement.where(Association.id.in_(serving(principal.scope_departement)))
    if principal.role is Role.coordinator:
        return statement.where(Association.id == principal.association_id)
    return statement.where(
        Association.id.in_(select(Mentor.association_id).where(Mentor.id == principal.mentor_id))
    )


async def get_scoped(
    session: AsyncSession,
    principal: Principal,
    association_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> Association:
    statement = scoped(principal).where(Association.id == association_id)
    return await one_or_404(session, statement, "association", for_update=for_update)
