"""Association agreements: the rules, and every write to association_agreement.

Nothing else writes that table (the demo and the test factories call `add_agreement`), so a
cache of what matching may use per département has one place to hear about changes. An
association's deletion removes its agreements by cascade in PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.agreements import repository
from mentorat.agreements.schemas import AgreementCreate, AgreementUpdate
from mentorat.associations import repository as associations_repository
from mentorat.audit.service import record
from mentorat.auth.principal import Principal
from mentorat.errors import InvalidInput, NotFound
from mentorat.kit.clock import today_in
from mentorat.kit.etag import check_if_match
from mentorat.kit.pagination import paginate
from mentorat.kit.repository import flush
from mentorat.models import AssociationAgreement, Departement, association_departement

ENTITY = "association_agreement"


def in_force_today(agreement: AssociationAgreement) -> bool:
    today = today_in(agreement.departement_code)
    return agreement.valid_from <= today and (
        agreement.valid_until is None or agreement.valid_until >= today
    )


async def list_agreements(
    session: AsyncSession,
    principal: Principal,
    *,
    departement: str | None,
    association_id: uuid.UUID | None,
    valid_on: date | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[AssociationAgreement], str | None]:
    statement: Select[tuple[AssociationAgreement]] = repository.scoped(principal)
    if departement is not None:
        statement = statement.where(AssociationAgreement.departement_code == departement)
    if association_id is not None:
        statement = statement.where(AssociationAgreement.association_id == association_id)
    if valid_on is not None:
        statement = statement.where(repository.valid_on(valid_on))
    return await paginate(
        session, statement, [AssociationAgreement.created_at, AssociationAgreement.id],
        limit=limit, cursor=cursor, scope="association-agreements",
        filters={"departement": departement, "association": association_id, "valid_on": valid_on},
    )  # fmt: skip


async def add_agreement(
    session: AsyncSession,
    *,
    association_id: uuid.UUID,
    departement_code: str,
    signed_on: date,
    valid_from: date,
    valid_until: date | None = None,
    document_reference: str | None = None,
) -> AssociationAgreement:
    """Writes an agreement, linking the association to the département if it was not yet.
    The caller has checked who may, and that both exist."""
    agreement = AssociationAgreement(
        association_id=association_id,
        departement_code=departement_code,
        signed_on=signed_on,
        valid_from=valid_from,
        valid_until=valid_until,
        document_reference=document_reference,
    )
    session.add(agreement)
    await session.execute(
        insert(association_departement)
        .values(association_id=association_id, departement_code=departement_code)
        .on_conflict_do_nothing()
    )
    await flush(session)
    return agreement


def _may_sign_for(principal: Principal, departement_code: str) -> bool:
    return principal.is_admin or principal.departement_code == departement_code


async def create_agreement(
    session: AsyncSession, principal: Principal, data: AgreementCreate
) -> AssociationAgreement:
    if not _may_sign_for(principal, data.departement_code):
        raise NotFound(f"No département {data.departement_code} in your scope.")
    if await session.get(Departement, data.departement_code) is None:
        raise InvalidInput(
            f"Unknown département {data.departement_code}.", field=("body", "departement_code")
        )
    try:
        association = await associations_repository.get_scoped(
            session, principal, data.association_id
        )
    except NotFound:
        raise InvalidInput(
            "No such association in your scope.", field=("body", "association_id")
        ) from None
    agreement = await add_agreement(
        session,
        association_id=association.id,
        departement_code=data.departement_code,
        signed_on=data.signed_on,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        document_reference=data.document_reference,
    )
    await record(
        session, principal, "create", ENTITY, [agreement.id],
        departement_code=agreement.departement_code,
        details={"association_id": str(association.id)},
    )  # fmt: skip
    return agreement


async def _writable(
    session: AsyncSession, principal: Principal, agreement_id: uuid.UUID
) -> AssociationAgreement:
    """An agreement the caller may change (administrators, or its département's manager);
    any other is a 404."""
    agreement = await repository.get_scoped(session, principal, agreement_id, for_update=True)
    if not _may_sign_for(principal, agreement.departement_code):
        raise NotFound("No such association agreement.")
    return agreement


async def update_agreement(
    session: AsyncSession,
    principal: Principal,
    agreement_id: uuid.UUID,
    data: AgreementUpdate,
    if_match: str | None,
) -> AssociationAgreement:
    agreement = await _writable(session, principal, agreement_id)
    check_if_match(if_match, agreement.version)
    changes = data.model_dump(exclude_unset=True)
    valid_from = changes.get("valid_from", agreement.valid_from)
    valid_until = changes.get("valid_until", agreement.valid_until)
    if valid_until is not None and valid_until < valid_from:
        field = "valid_until" if "valid_until" in changes else "valid_from"
        raise InvalidInput(
            f"valid_until ({valid_until}) must be on or after valid_from ({valid_from}).",
            field=("body", field),
        )
    for name, value in changes.items():
        setattr(agreement, name, value)
    await flush(session)
    await record(
        session, principal, "update", ENTITY, [agreement.id],
        departement_code=agreement.departement_code, details={"fields": sorted(changes)},
    )  # fmt: skip
    return agreement


async def delete_agreement(
    session: AsyncSession, principal: Principal, agreement_id: uuid.UUID
) -> None:
    agreement = await _writable(session, principal, agreement_id)
    await session.delete(agreement)
    await flush(session)
    await record(
        session, principal, "delete", ENTITY, [agreement_id],
        departement_code=agreement.departement_code,
    )  # fmt: skip
