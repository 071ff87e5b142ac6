"""Pairs an educator rules out: never scored feasible, never proposed."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import record, record_child_reads
from mentorat.auth.principal import Principal
from mentorat.children import repository as children_repository
from mentorat.errors import NotFound
from mentorat.kit.pagination import paginate
from mentorat.kit.repository import flush
from mentorat.matching.schemas import ExclusionCreate
from mentorat.mentors import repository as mentors_repository
from mentorat.models import PairExclusion


async def list_exclusions(
    session: AsyncSession,
    principal: Principal,
    child_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[PairExclusion], str | None]:
    child = await children_repository.get_scoped(session, principal, child_id)
    await record_child_reads(
        session, principal, [(child.id, child.departement_code)], via="exclusions"
    )
    return await paginate(
        session,
        select(PairExclusion).where(PairExclusion.child_id == child.id),
        [PairExclusion.created_at, PairExclusion.id],
        limit=limit,
        cursor=cursor,
        scope="exclusions",
        filters={"child": child.id},
    )


async def create_exclusion(
    session: AsyncSession, principal: Principal, child_id: uuid.UUID, data: ExclusionCreate
) -> PairExclusion:
    child = await children_repository.get_scoped(session, principal, child_id, for_update=True)
    mentor = await mentors_repository.get_scoped(session, principal, data.mentor_id)
    exclusion = PairExclusion(
        child_id=child.id,
        mentor_id=mentor.id,
        reason=data.reason,
        created_by_id=principal.id,
        created_by_name=principal.name,
    )
    session.add(exclusion)
    await flush(session, conflict="This pair is already excluded.")
    await record(
        session, principal, "create", "pair_exclusion", [exclusion.id],
        departement_code=child.departement_code,
        details={"child_id": str(child.id), "mentor_id": str(mentor.id)},
    )  # fmt: skip
    return exclusion


async def delete_exclusion(
    session: AsyncSession, principal: Principal, child_id: uuid.UUID, exclusion_id: uuid.UUID
) -> None:
    child = await children_repository.get_scoped(session, principal, child_id, for_update=True)
    exclusion = await session.scalar(
        select(PairExclusion).where(
            PairExclusion.id == exclusion_id, PairExclusion.child_id == child.id
        )
    )
    if exclusion is None:
        raise NotFound("No such exclusion.")
    await session.delete(exclusion)
    await flush(session)
    await record(
        session, principal, "delete", "pair_exclusion", [exclusion_id],
        departement_code=child.departement_code,
    )  # fmt: skip
