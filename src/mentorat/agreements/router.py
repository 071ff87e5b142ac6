"""Association agreements (CASF D221-37): signed, read, ended."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from mentorat.agreements import repository, service
from mentorat.agreements.schemas import (
    AgreementCreate,
    AgreementUpdate,
    AssociationAgreement,
)
from mentorat.auth.dependencies import Admin, require
from mentorat.auth.principal import Principal, Role
from mentorat.kit.etag import IfMatch, set_etag
from mentorat.kit.idempotency import IdempotencyDep, respond_created
from mentorat.kit.openapi import documented_headers
from mentorat.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from mentorat.kit.problems import problems
from mentorat.kit.schemas import DepartementCode, IsoDate, column_values
from mentorat.kit.session import DbSession
from mentorat.models import AssociationAgreement as AgreementRow

router = APIRouter(
    prefix="/v1/association-agreements",
    tags=["association-agreements"],
    responses=problems(401, 403, 422),
)

AgreementReader = Annotated[
    Principal,
    Depends(require(Role.admin, Role.departement_manager, Role.educator, Role.coordinator)),
]
AgreementSigner = Annotated[Principal, Depends(require(Role.admin, Role.departement_manager))]


def to_schema(agreement: AgreementRow) -> AssociationAgreement:
    return AssociationAgreement.model_validate(
        {**column_values(agreement), "in_force_today": service.in_force_today(agreement)}
    )


@router.get("", response_model=Page[AssociationAgreement], summary="List association agreements")
async def list_agreements(
    session: DbSession,
    principal: AgreementReader,
    departement: Annotated[
        DepartementCode | None, Query(description="Only this département's agreements.")
    ] = None,
    association_id: Annotated[
        uuid.UUID | None, Query(description="Only this association's agreements.")
    ] = None,
    valid_on: Annotated[
        IsoDate | None, Query(description="Only the agreements in force on this date.")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[AssociationAgreement]:
    """Agreements in your scope, the oldest recorded first: every one for an administrator,
    your département's for its managers and educators, your association's for a coordinator.
    Mentors may not list them."""
    rows, next_cursor = await service.list_agreements(
        session, principal, departement=departement, association_id=association_id,
        valid_on=valid_on, limit=limit, cursor=cursor,
    )  # fmt: skip
    return Page(items=[to_schema(row) for row in rows], next_cursor=next_cursor)


@router.post(
    "",
    response_model=AssociationAgreement,
    status_code=status.HTTP_201_CREATED,
    responses={**documented_headers(201, "ETag", "Location"), **problems(404)},
)
async def create_agreement(
    session: DbSession,
    principal: AgreementSigner,
    body: AgreementCreate,
    response: Response,
    idempotent: IdempotencyDep,
) -> AssociationAgreement | Response:
    """Records an agreement signed by an association and a département: administrators, or
    the manager of that département (another département is a 404). The association must be
    in your scope (for a manager: already serving the département). The association is linked
    to the département if it was not yet. Send an `Idempotency-Key` to retry safely."""
    if idempotent.replay is not None:
        return idempotent.replay
    agreement = await service.create_agreement(session, principal, body)
    return await respond_created(
        idempotent,
        response,
        to_schema(agreement),
        location=f"/v1/association-agreements/{agreement.id}",
        version=agreement.version,
    )


@router.get(
    "/{agreement_id}",
    response_model=AssociationAgreement,
    responses={**documented_headers(200, "ETag"), **problems(404)},
)
async def get_agreement(
    session: DbSession, principal: AgreementReader, agreement_id: uuid.UUID, response: Response
) -> AssociationAgreement:
    """One agreement in your scope, with its `ETag`. Administrators, the département's
    managers and educators, the association's coordinators."""
    agreement = await repository.get_scoped(session, principal, agreement_id)
    set_etag(response, agreement.version)
    return to_schema(agreement)


@router.patch(
    "/{agreement_id}",
    response_model=AssociationAgreement,
    responses={**documented_headers(200, "ETag"), **problems(404, 412)},
)
async def update_agreement(
    session: DbSession,
    principal: AgreementSigner,
    agreement_id: uuid.UUID,
    body: AgreementUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> AssociationAgreement:
    """Changes an agreement: set `valid_until` to end it, correct its dates or document
    reference. Administrators, or the manager of its département. Send the `ETag` in
    `If-Match` so as not to overwrite a change made meanwhile (412)."""
    agreement = await service.update_agreement(session, principal, agreement_id, body, if_match)
    set_etag(response, agreement.version)
    return to_schema(agreement)


@router.delete("/{agreement_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404))
async def delete_agreement(
    session: DbSession, principal: Admin, agreement_id: uuid.UUID
) -> Response:
    """Deletes an agreement recorded by mistake; administrators only. An agreement that
    ended is ended with `valid_until`, not deleted, so its history stays."""
    await service.delete_agreement(session, principal, agreement_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
