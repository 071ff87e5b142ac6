from __future__ import annotations

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import record
from mentorat.auth.principal import Principal
from mentorat.departements.schemas import DepartementCreate, DepartementUpdate
from mentorat.errors import Conflict, NotFound
from mentorat.kit.pagination import paginate
from mentorat.kit.repository import flush
from mentorat.models import Child, Departement, association_departement
from mentorat.models import Principal as PrincipalRow


async def list_departements(
    session: AsyncSession, *, limit: int, cursor: str | None
) -> tuple[list[Departement], str | None]:
    return await paginate(
        session, select(Departement), [Departement.code], limit=limit, cursor=cursor,
        scope="departements",
    )  # fmt: skip


async def get_departement(session: AsyncSession, code: str) -> Departement:
    departement = await session.get(Departement, code)
    if departement is None:
        raise NotFound(f"No département {code}.")
    return departement


async def create_departement(
    session: AsyncSession, principal: Principal, data: DepartementCreate
) -> Departement:
    departement = Departement(code=data.code, name=data.name)
    session.add(departement)
    await flush(session, conflict=f"The département {data.code} already exists.")
    await record(session, principal, "create", "departement", [data.code])
    return departement


async def update_departement(
    session: AsyncSession, principal: Principal, code: str, data: DepartementUpdate
) -> Departement:
    departement = await get_departement(session, code)
    departement.name = data.name
    await flush(session)
    await record(session, principal, "update", "departement", [code], details={"fields": ["name"]})
    return departement


async def delete_departement(session: AsyncSession, principal: Principal, code: str) -> None:
    await get_departement(session, code)
    in_use = await session.scalar(
        select(
            exists().where(Child.departement_code == code)
            | exists().where(association_departement.c.departement_code == code)
            | exists().where(PrincipalRow.departement_code == code)
        )
    )
    if in_use:
        raise Conflict(f"The département {code} still has children, associations or users.")
    await session.execute(delete(Departement).where(Departement.code == code))
    await record(session, principal, "delete", "departement", [code])
