from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from mentorat.auth.dependencies import Admin, AnyRole, MentorWriter
from mentorat.kit.etag import IfMatch, set_etag
from mentorat.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from mentorat.kit.problems import problems
from mentorat.kit.schemas import DepartementCode, IsoDate, QueryFlag, column_values
from mentorat.kit.session import DbSession
from mentorat.mentors import repository, service
from mentorat.mentors.schemas import HonorabilityCheckRead, Mentor, MentorCreate, MentorUpdate
from mentorat.models import Mentor as MentorRow
from mentorat.profile import profile_from_row

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


@router.get("", response_model=Page[Mentor], summary="List mentors in your scope")
async def list_mentors(
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
) -> Page[Mentor]:
    rows, next_cursor = await service.list_mentors(
        session,
        principal,
        association=association,
        departement=departement,
        active=active,
        honorability_valid_on=honorability_valid_on,
        include_deleted=include_deleted,
        limit=limit,
        cursor=cursor,
    )
    return Page(items=[to_schema(row) for row in rows], next_cursor=next_cursor)


@router.post(
    "", response_model=Mentor, status_code=status.HTTP_201_CREATED, responses=problems(404)
)
async def create_mentor(
    session: DbSession, principal: MentorWriter, body: MentorCreate, response: Response
) -> Mentor:
    mentor = await service.create_mentor(session, principal, body)
    set_etag(response, mentor.version)
    response.headers["Location"] = f"/v1/mentors/{mentor.id}"
    return to_schema(mentor)


@router.get("/{mentor_id}", response_model=Mentor, responses=problems(404))
async def get_mentor(
    session: DbSession, principal: AnyRole, mentor_id: uuid.UUID, response: Response
) -> Mentor:
    mentor = await repository.get_scoped(session, principal, mentor_id)
    set_etag(response, mentor.version)
    return to_schema(mentor)


@router.patch("/{mentor_id}", response_model=Mentor, responses=problems(404, 412))
async def update_mentor(
    session: DbSession,
    principal: MentorWriter,
    mentor_id: uuid.UUID,
    body: MentorUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> Mentor:
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
