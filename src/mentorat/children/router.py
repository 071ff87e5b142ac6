from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy import Row

from mentorat.auth.dependencies import Admin, ChildReader, ChildWriter
from mentorat.children import service, spreadsheet
from mentorat.children.repository import ChildFilters
from mentorat.children.schemas import (
    FIRST_COLLEGE_ENTRY_YEAR,
    LAST_COLLEGE_ENTRY_YEAR,
    Child,
    ChildCreate,
    ChildUpdate,
)
from mentorat.kit.etag import IfMatch, set_etag
from mentorat.kit.idempotency import IdempotencyDep, respond_created
from mentorat.kit.openapi import documented_headers
from mentorat.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from mentorat.kit.problems import problems
from mentorat.kit.schemas import DepartementCode, QueryFlag, column_values
from mentorat.kit.session import DbSession, ReadSession
from mentorat.models import Child as ChildRow
from mentorat.profile import profile_from_row
from mentorat.spreadsheets.schemas import ImportReport
from mentorat.spreadsheets.uploads import IMPORT_REQUEST_BODY
from mentorat.spreadsheets.writing import (
    SPREADSHEET_RESPONSES,
    requested_format,
    spreadsheet_response,
)

router = APIRouter(prefix="/v1/children", tags=["children"], responses=problems(401, 403, 422))


def to_schema(child: ChildRow) -> Child:
    return Child.model_validate({**column_values(child), **profile_from_row(child)})


def row_to_schema(row: Row[Any]) -> Child:
    return Child.model_validate({**row._mapping, **profile_from_row(row)})


@router.get(
    "",
    response_model=Page[Child],
    summary="List children in your scope",
    responses=SPREADSHEET_RESPONSES,
)
async def list_children(
    request: Request,
    session: ReadSession,
    principal: ChildReader,
    departement: Annotated[DepartementCode | None, Query()] = None,
    college_entry_year: Annotated[
        int | None, Query(ge=FIRST_COLLEGE_ENTRY_YEAR, le=LAST_COLLEGE_ENTRY_YEAR)
    ] = None,
    include_deleted: Annotated[QueryFlag, Query(description="Admins only.")] = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[Child] | Response:
    """`Accept: text/csv` (or XLSX) streams every child listed, each audited as read."""
    if (fmt := requested_format(request)) is not None:
        statement = await service.export_children(
            session,
            principal,
            departement=departement,
            college_entry_year=college_entry_year,
            include_deleted=include_deleted,
        )
        return spreadsheet_response(
            request, fmt, statement, spreadsheet.EXPORT_HEADER, spreadsheet.export_cells, "children"
        )
    filters = ChildFilters(departement, college_entry_year, include_deleted)
    rows, next_cursor = await service.list_children(
        session, principal, filters, limit=limit, cursor=cursor
    )
    return Page(items=[row_to_schema(row) for row in rows], next_cursor=next_cursor)


@router.post(
    "",
    response_model=Child,
    status_code=status.HTTP_201_CREATED,
    responses={**documented_headers(201, "ETag", "Location"), **problems(404, 409)},
)
async def create_child(
    session: DbSession,
    principal: ChildWriter,
    body: ChildCreate,
    response: Response,
    idempotent: IdempotencyDep,
) -> Child | Response:
    """Records a child: administrators, or a département's managers and educators in their own
    département. A reference already used in the département is a 409; audited."""
    if idempotent.replay is not None:
        return idempotent.replay
    created = await service.create_child(session, principal, body)
    return await respond_created(
        idempotent,
        response,
        to_schema(created),
        location=f"/v1/children/{created.id}",
        version=created.version,
    )


@router.post(
    "/import",
    response_model=ImportReport,
    responses=problems(404, 409, 413, 415),
    openapi_extra=IMPORT_REQUEST_BODY,
    summary="Import children from a CSV or XLSX file",
)
async def import_children(
    request: Request,
    session: DbSession,
    principal: ChildWriter,
    departement: Annotated[
        DepartementCode | None, Query(description="Defaults to yours; admins must give it.")
    ] = None,
    dry_run: Annotated[bool, Query(description="Validate only; write nothing.")] = False,
) -> ImportReport:
    """Upsert by the département's reference: new references are created, changed rows
    updated (and audited), unchanged rows left alone. Any invalid row: a 422 with every
    problem (row, column, problem) and nothing written; `dry_run=true` answers the same report
    with a 200."""
    return await spreadsheet.import_children(
        session,
        principal,
        request.app.state.settings,
        departement_code=departement,
        data=await request.body(),
        content_type=request.headers.get("content-type"),
        dry_run=dry_run,
    )


@router.get(
    "/{child_id}",
    response_model=Child,
    responses={**documented_headers(200, "ETag"), **problems(404)},
)
async def get_child(
    session: ReadSession, principal: ChildReader, child_id: uuid.UUID, response: Response
) -> Child:
    """One child in your scope, with its `ETag`: administrators, and the managers and
    educators of the child's département. The read is audited."""
    child = await service.get_child(session, principal, child_id)
    set_etag(response, child.version)
    return row_to_schema(child)


@router.patch(
    "/{child_id}",
    response_model=Child,
    responses={**documented_headers(200, "ETag"), **problems(404, 409, 412)},
)
async def update_child(
    session: DbSession,
    principal: ChildWriter,
    child_id: uuid.UUID,
    body: ChildUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> Child:
    """Changes a child's record (administrators, or the département's managers and educators).
    Send the `ETag` in `If-Match` so as not to overwrite a change made meanwhile (412); audited."""
    child = await service.update_child(session, principal, child_id, body, if_match)
    set_etag(response, child.version)
    return to_schema(child)


@router.delete(
    "/{child_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404, 409, 412)
)
async def delete_child(
    session: DbSession,
    principal: ChildWriter,
    child_id: uuid.UUID,
    if_match: IfMatch = None,
) -> Response:
    """Soft delete: the child leaves lists and matching; history stays consistent."""
    await service.delete_child(session, principal, child_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/{child_id}/purge", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404, 409)
)
async def purge_child(session: DbSession, principal: Admin, child_id: uuid.UUID) -> Response:
    """Hard delete of every stored datum of the child (administrators only)."""
    await service.purge_child(session, principal, child_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
