from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from mentorat.associations import repository, service
from mentorat.associations.schemas import Association, AssociationCreate, AssociationUpdate
from mentorat.auth.dependencies import Admin, AnyRole, AssociationEditor
from mentorat.kit.etag import IfMatch, set_etag
from mentorat.kit.idempotency import IdempotencyDep, respond_created
from mentorat.kit.openapi import documented_headers
from mentorat.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from mentorat.kit.problems import problems
from mentorat.kit.schemas import DepartementCode, column_values
from mentorat.kit.session import DbSession
from mentorat.models import Association as AssociationRow

router = APIRouter(
    prefix="/v1/associations", tags=["associations"], responses=problems(401, 403, 422)
)


def to_schema(association: AssociationRow) -> Association:
    return Association.model_validate(
        {
            **column_values(association),
            "departements": [departement.code for departement in association.departements],
        }
    )


@router.get("", response_model=Page[Association], summary="List associations in your scope")
async def list_associations(
    session: DbSession,
    principal: AnyRole,
    departement: Annotated[DepartementCode | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[Association]:
    """Associations in your scope: every one for an administrator, those serving your
    département on the département side, your own association for a coordinator or a mentor;
    `departement` keeps those serving it."""
    rows, next_cursor = await service.list_associations(
        session, principal, departement=departement, limit=limit, cursor=cursor
    )
    return Page(items=[to_schema(row) for row in rows], next_cursor=next_cursor)


@router.post(
    "",
    response_model=Association,
    status_code=status.HTTP_201_CREATED,
    responses={**documented_headers(201, "ETag", "Location"), **problems(409)},
)
async def create_association(
    session: DbSession,
    principal: Admin,
    body: AssociationCreate,
    response: Response,
    idempotent: IdempotencyDep,
) -> Association | Response:
    """Creates an association and the départements it serves; administrators only. A name
    already taken (compared ignoring case, Unicode form, spacing and invisible characters) is
    a 409."""
    if idempotent.replay is not None:
        return idempotent.replay
    association = await service.create_association(session, principal, body)
    return await respond_created(
        idempotent,
        response,
        to_schema(association),
        location=f"/v1/associations/{association.id}",
        version=association.version,
    )


@router.get(
    "/{association_id}",
    response_model=Association,
    responses={**documented_headers(200, "ETag"), **problems(404)},
)
async def get_association(
    session: DbSession, principal: AnyRole, association_id: uuid.UUID, response: Response
) -> Association:
    """One association in your scope, with its `ETag`. Any role."""
    association = await repository.get_scoped(session, principal, association_id)
    set_etag(response, association.version)
    return to_schema(association)


@router.patch(
    "/{association_id}",
    response_model=Association,
    responses={**documented_headers(200, "ETag"), **problems(404, 409, 412)},
)
async def update_association(
    session: DbSession,
    principal: AssociationEditor,
    association_id: uuid.UUID,
    body: AssociationUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> Association:
    """Changes an association: administrators, or its own coordinator (who may not change the
    départements it serves). Send the `ETag` in `If-Match` so as not to overwrite a change made
    meanwhile (412)."""
    association = await service.update_association(
        session, principal, association_id, body, if_match
    )
    set_etag(response, association.version)
    return to_schema(association)


@router.delete(
    "/{association_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404, 409)
)
async def delete_association(
    session: DbSession, principal: Admin, association_id: uuid.UUID
) -> Response:
    """Deletes an association; administrators only. One that still has mentors is a 409."""
    await service.delete_association(session, principal, association_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
