"""Reads of association agreements: what a principal may see, and which are in force."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.principal import Principal, Role
from mentorat.kit.repository import one_or_404
from mentorat.models import AssociationAgreement


def valid_on(on: date) -> Any:
    """The condition of an agreement in force on a date (both bounds included)."""
    return and_(
        AssociationAgreement.valid_from <= on,
        or_(AssociationAgreement.valid_until.is_(None), AssociationAgreement.valid_until >= on),
    )


def associations_under_agreement(departement_code: str, on: date) -> Select[Any]:
    """Ids of the associations whose mentors may work in a département on a date."""
    return select(AssociationAgreement.association_id).where(
        AssociationAgreement.departement_code == departement_code, valid_on(on)
    )


def scoped(principal: Principal) -> Select[tuple[AssociationAgreement]]:
    """Administrators: every agreement; the département side: its département's; a
    coordinator: their association's. Mentors are refused by role before this."""
    statement = select(AssociationAgreement)
    if principal.role is Role.admin:
        return statement
    if principal.in_departement_role:
        return statement.where(AssociationAgreement.departement_code == principal.scope_departement)
    if principal.role is Role.coordinator and principal.association_id is not None:
        return statement.where(AssociationAgreement.association_id == principal.association_id)
    return statement.where(False)


async def get_scoped(
    session: AsyncSession,
    principal: Principal,
    agreement_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> AssociationAgreement:
    statement = scoped(principal).where(AssociationAgreement.id == agreement_id)
    return await one_or_404(session, statement, "association agreement", for_update=for_update)


def any_agreement_with(departement_code: str) -> Any:
    """Whether some agreement names the département."""
    return exists().where(AssociationAgreement.departement_code == departement_code)
