"""Who may read which report lines: a département's people their département, a coordinator
their association's lines in the départements it serves; out of scope is a 404."""

from __future__ import annotations

import uuid

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.principal import Principal, Role
from mentorat.errors import NotFound
from mentorat.models import Association, Departement
from mentorat.models.association import association_departement


async def departement_in_scope(
    session: AsyncSession, principal: Principal, code: str
) -> Departement:
    """The département, if the principal may read its reports (a coordinator: if their
    association serves it)."""
    if principal.in_departement_role and principal.departement_code != code:
        raise NotFound("No such département.")
    if principal.role is Role.coordinator and not await _serves(
        session, principal.association_id, code
    ):
        raise NotFound("No such département.")
    departement = await session.get(Departement, code)
    if departement is None:
        raise NotFound("No such département.")
    return departement


async def association_in_scope(
    session: AsyncSession, principal: Principal, code: str, association_id: uuid.UUID | None
) -> uuid.UUID | None:
    """The association a report is limited to: a coordinator's own (asked or not), or the one
    asked for, which must serve the département."""
    if principal.role is Role.coordinator:
        if association_id is not None and association_id != principal.association_id:
            raise NotFound("No such association.")
        return principal.association_id
    if association_id is not None and not await _serves(session, association_id, code):
        raise NotFound("No such association.")
    return association_id


async def _serves(session: AsyncSession, association_id: uuid.UUID | None, code: str) -> bool:
    if association_id is None:
        return False
    link = association_departement.c
    return bool(
        await session.scalar(
            select(
                exists().where(
                    link.association_id == association_id,
                    link.departement_code == code,
                    link.association_id.in_(select(Association.id)),
                )
            )
        )
    )
