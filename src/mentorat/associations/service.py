from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.associations import repository
from mentorat.associations.schemas import AssociationCreate, AssociationUpdate
from mentorat.audit.service import record
from mentorat.auth.principal import Principal
from mentorat.errors import Conflict, Forbidden, InvalidInput
from mentorat.kit.etag import check_if_match
from mentorat.kit.pagination import paginate
from mentorat.kit.repository import flush
from mentorat.models import Association, Departement, Mentor


def _name_taken(name: str) -> str:
    return (
        f"An association named {name!r} already exists (names are compared ignoring case, "
        "Unicode form, spacing and invisible characters)."
    )


async def _departements(session: AsyncSession, codes: list[str]) -> list[Departement]:
    found = list(
        (await session.scalars(select(Departement).where(Departement.code.in_(codes)))).all()
    )
    missing = sorted(set(codes) - {departement.code for departement in found})
    if missing:
        raise InvalidInput(
            f"Unknown département(s): {', '.join(missing)}.", field=("body", "departements")
        )
    return found


async def list_associations(
    session: AsyncSession,
    principal: Principal,
    *,
    departement: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Association], str | None]:
    statement = repository.scoped(principal)
    if departement is not None:
        statement = statement.where(Association.id.in_(repository.serving(departement)))
    return await paginate(
        session, statement, [Association.created_at, Association.id], limit=limit, cursor=cursor,
        scope="associations", filters={"departement": departement},
    )  # fmt: skip


async def create_association(
    session: AsyncSession, principal: Principal, data: AssociationCreate
) -> Association:
    association = Association(
        name=data.name,
        contact_name=data.contact_name,
        contact_email=data.contact_email,
        contact_phone=data.contact_phone,
        departements=await _departements(session, data.departements),
    )
    session.add(association)
    await flush(session, conflict=_name_taken(data.name))
    await record(session, principal, "create", "association", [association.id])
    return association


async def update_association(
    session: AsyncSession,
    principal: Principal,
    association_id: uuid.UUID,
    data: AssociationUpdate,
    if_match: str | None,
) -> Association:
    association = await repository.get_scoped(session, principal, association_id, for_update=True)
    check_if_match(if_match, association.version)
    changes = data.model_dump(exclude_unset=True)
    if not changes:
        raise InvalidInput("Nothing to update.", field=("body",))
    if "departements" in changes:
        if not principal.is_admin:
            raise Forbidden("Only an administrator changes the départements an association serves.")
        association.departements = await _departements(session, changes.pop("departements"))
    for field, value in changes.items():
        setattr(association, field, value)
    association.updated_at = datetime.now(UTC)  # bumps the version even for a link-only change
    await flush(session, conflict=_name_taken(association.name))
    await record(
        session,
        principal,
        "update",
        "association",
        [association.id],
        details={"fields": sorted(data.model_fields_set)},
    )
    return association


async def delete_association(
    session: AsyncSession, principal: Principal, association_id: uuid.UUID
) -> None:
    association = await repository.get_scoped(session, principal, association_id, for_update=True)
    if await session.scalar(select(exists().where(Mentor.association_id == association.id))):
        raise Conflict("The association still has mentors; move or purge them first.")
    await session.delete(association)
    await flush(session)
    await record(session, principal, "delete", "association", [association_id])
