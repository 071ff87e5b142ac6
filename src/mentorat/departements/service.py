from __future__ import annotations

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.agreements.repository import any_agreement_with
from mentorat.audit.service import record
from mentorat.auth.principal import Principal
from mentorat.departements.schemas import (
    DepartementCreate,
    DepartementUpdate,
    school_start_problem,
)
from mentorat.errors import Conflict, Forbidden, InvalidInput, NotFound
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
    if not principal.is_admin and principal.departement_code != code:
        raise Forbidden(f"Only an administrator or a manager of {code} changes it.")
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes and not principal.is_admin:
        raise Forbidden("Only an administrator renames a département.")
    departement = await get_departement(session, code)
    month = changes.get("school_start_month", departement.school_start_month)
    day = changes.get("school_start_day", departement.school_start_day)
    if problem := school_start_problem(month, day):
        field = "school_start_day" if "school_start_day" in changes else "school_start_month"
        raise InvalidInput(f"The first school day {problem}.", field=("body", field))
    for name, value in changes.items():
        setattr(departement, name, value)
    await flush(session)
    await record(
        session, principal, "update", "departement", [code], departement_code=code,
        details={"fields": sorted(changes)},
    )  # fmt: skip
    return departement


async def delete_departement(session: AsyncSession, principal: Principal, code: str) -> None:
    await get_departement(session, code)
    in_use = await session.scalar(
        select(
            exists().where(Child.departement_code == code)
            | exists().where(association_departement.c.departement_code == code)
            | exists().where(PrincipalRow.departement_code == code)
            | any_agreement_with(code)
        )
    )
    if in_use:
        raise Conflict(
            f"The département {code} still has children, associations, agreements or users."
        )
    await session.execute(delete(Departement).where(Departement.code == code))
    await record(session, principal, "delete", "departement", [code])
