from __future__ import annotations

import uuid

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import record_child_reads
from mentorat.auth.principal import Principal, Role
from mentorat.kit.repository import one_or_404
from mentorat.models import Mentor, Mentorship


def scoped(principal: Principal) -> Select[tuple[Mentorship]]:
    """Educators: their département's children; coordinators: their association's mentors;
    a mentor: their own mentorships."""
    statement = select(Mentorship)
    if principal.role is Role.admin:
        return statement
    if principal.in_departement_role:
        return statement.where(Mentorship.departement_code == principal.departement_code)
    if principal.role is Role.coordinator:
        return statement.where(
            Mentorship.mentor_id.in_(
                select(Mentor.id).where(Mentor.association_id == principal.association_id)
            )
        )
    return statement.where(Mentorship.mentor_id == principal.mentor_id)


async def get_scoped(
    session: AsyncSession,
    principal: Principal,
    mentorship_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> Mentorship:
    statement = scoped(principal).where(Mentorship.id == mentorship_id)
    return await one_or_404(session, statement, "mentorship", for_update=for_update)


async def read_scoped(
    session: AsyncSession, principal: Principal, mentorship_id: uuid.UUID, *, via: str
) -> Mentorship:
    """A mentorship whose child's data is about to be shown: the read is audited."""
    mentorship = await get_scoped(session, principal, mentorship_id)
    await audit_reads(session, principal, [mentorship], via=via)
    return mentorship


async def audit_reads(
    session: AsyncSession, principal: Principal, mentorships: list[Mentorship], *, via: str
) -> None:
    await record_child_reads(
        session, principal, [(m.child_id, m.departement_code) for m in mentorships], via=via
    )
