from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from mentorat.auth.dependencies import Admin, AnyRole, MentorWriter
from mentorat.kit.etag import IfMatch, set_etag
from mentorat.kit.idempotency import IdempotencyDep, respond_created
from mentorat.kit.openapi import documented_headers
from mentorat.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from mentorat.kit.problems import problems
from mentorat.kit.schemas import DepartementCode, IsoDate, QueryFlag, column_values
from mentorat.kit.session import DbSession
from mentorat.mentors import repository, service, spreadsheet
from mentorat.mentors.schemas import HonorabilityCheckRead, Mentor, MentorCreate, MentorUpdate
from mentorat.models import Mentor as MentorRow
from mentorat.profile import profile_from_row
from mentorat.spreadsheets.schemas import ImportReport
from mentorat.spreadsheets.uploads import IMPORT_REQUEST_BODY
from mentorat.spreadsheets.writing import (
    SPREADSHEET_RESPONSES,
    requested_format,
    spreadsheet_response,
)

router = APIRouter(prefix="/v1/mentors", tags=["mentors"], responses=problems(401, 403, 422))


def to_schema(mentor: MentorRow) -> Mentor:
    check = None
    if mentor.honorability_checked_on and mentor.honorability_valid_until:
        check = HonorabilityCheckRead(
            checked_on=mentor.honorability_checked_on, valid_until=mentor.honorability_valid_until
        )
    return Mentor.model_validate(
        {**column_values(mentor), **profile_from_row(mentor), "honorability_check": check}
    )


@router.get(
    "",
    response_model=Page[Mentor],
    summary="List mentors in your scope",
    responses=SPREADSHEET_RESPONSES,
)
async def list_mentors(
    request: Request,
    session: DbSession,
    principal: AnyRole,
    association: Annotated[uuid.UUID | None, Query()] = None,
    departement: Annotated[
        DepartementCode | None, Query(description="Mentors of associations serving it.")
    ] = None,
    active: Annotated[QueryFlag | None, Query()] = None,
    honorability_valid_on: Annotated[
        IsoDate | None, Query(description="Only mentors whose check is valid on this date.")
    ] = None,
    include_deleted: Annotated[QueryFlag, Query(description="Admins only.")] = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[Mentor] | Response:
    """`Accept: text/csv` (or XLSX) streams every mentor listed, in the import's columns."""
    filters = {
        "association": association,
        "departement": departement,
        "active": active,
        "honorability_valid_on": honorability_valid_on,
        "include_deleted": include_deleted,
    }
    if (fmt := requested_format(request)) is not None:
        statement = service.listed_mentors(principal, **filters).order_by(
            MentorRow.created_at, MentorRow.id
        )
        return spreadsheet_response(
            request, fmt, statement, spreadsheet.EXPORT_HEADER, spreadsheet.export_cells, "mentors"
        )
    rows, next_cursor = await service.list_mentors(
        session, principal, limit=limit, cursor=cursor, **filters
    )
    return Page(items=[to_schema(row) for row in rows], next_cursor=next_cursor)


@router.post(
    "",
    response_model=Mentor,
    status_code=status.HTTP_201_CREATED,
    responses={**documented_headers(201, "ETag", "Location"), **problems(404, 409)},
)
async def create_mentor(
    session: DbSession,
    principal: MentorWriter,
    body: MentorCreate,
    response: Response,
    idempotent: IdempotencyDep,
) -> Mentor | Response:
    """Records a mentor: administrators, or the coordinator of the mentor's association (in
    their own association). Audited."""
    if idempotent.replay is not None:
        return idempotent.replay
    created = await service.create_mentor(session, principal, body)
    return await respond_created(
        idempotent,
        response,
        to_schema(created),
        location=f"/v1/mentors/{created.id}",
        version=created.version,
    )


@router.post(
    "/import",
    response_model=ImportReport,
    responses=problems(404, 409, 413, 415),
    openapi_extra=IMPORT_REQUEST_BODY,
    summary="Import mentors from a CSV or XLSX file",
)
async def import_mentors(
    request: Request,
    session: DbSession,
    principal: MentorWriter,
    association: Annotated[
        uuid.UUID | None, Query(description="Defaults to yours; admins must give it.")
    ] = None,
    dry_run: Annotated[bool, Query(description="Validate only; write nothing.")] = False,
) -> ImportReport:
    """Upsert by the association's mentor reference, as for children (see the README)."""
    return await spreadsheet.import_mentors(
        session,
        principal,
        request.app.state.settings,
        association_id=association,
        data=await request.body(),
        content_type=request.headers.get("content-type"),
        dry_run=dry_run,
    )


@router.get(
    "/{mentor_id}",
    response_model=Mentor,
    responses={**documented_headers(200, "ETag"), **problems(404)},
)
async def get_mentor(
    session: DbSession, principal: AnyRole, mentor_id: uuid.UUID, response: Response
) -> Mentor:
    """One mentor in your scope, with its `ETag`: any for an administrator, those of
    associations serving your département on the département side, your association's for a
    coordinator, yourself for a mentor."""
    mentor = await repository.get_scoped(session, principal, mentor_id)
    set_etag(response, mentor.version)
    return to_schema(mentor)


@router.patch(
    "/{mentor_id}",
    response_model=Mentor,
    responses={**documented_headers(200, "ETag"), **problems(404, 409, 412)},
)
async def update_mentor(
    session: DbSession,
    principal: MentorWriter,
    mentor_id: uuid.UUID,
    body: MentorUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> Mentor:
    """Changes a mentor's record: administrators, or the mentor's coordinator. The capacity
    cannot go below the places held (409). Send the `ETag` in `If-Match` so as not to overwrite a
    change made meanwhile (412); audited."""
    mentor = await service.update_mentor(session, principal, mentor_id, body, if_match)
    set_etag(response, mentor.version)
    return to_schema(mentor)


@router.delete("/{mentor_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404, 412))
async def delete_mentor(
    session: DbSession, principal: MentorWriter, mentor_id: uuid.UUID, if_match: IfMatch = None
) -> Response:
    """Soft delete: the mentor is deactivated and leaves lists and matching."""
    await service.delete_mentor(session, principal, mentor_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/{mentor_id}/purge", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404, 409)
)
async def purge_mentor(session: DbSession, principal: Admin, mentor_id: uuid.UUID) -> Response:
    """Hard delete (administrators only)."""
    await service.purge_mentor(session, principal, mentor_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
