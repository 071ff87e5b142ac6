from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from mentorat.assessments import service
from mentorat.assessments.schemas import Assessment, AssessmentCreate
from mentorat.auth.dependencies import ChildReader, ChildWriter
from mentorat.kit.idempotency import IdempotencyDep, respond_created
from mentorat.kit.openapi import documented_headers
from mentorat.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from mentorat.kit.problems import problems
from mentorat.kit.session import DbSession

router = APIRouter(tags=["assessments"], responses=problems(401, 403, 404, 422))


@router.post(
    "/v1/children/{child_id}/assessments",
    response_model=Assessment,
    status_code=status.HTTP_201_CREATED,
    responses=documented_headers(201, "Location"),
    summary="Record an assessment of whether mentoring serves the child",
)
async def create_assessment(
    session: DbSession,
    principal: ChildWriter,
    child_id: uuid.UUID,
    body: AssessmentCreate,
    response: Response,
    idempotent: IdempotencyDep,
) -> Assessment | Response:
    """Records the yearly assessment (CASF D221-34) of whether mentoring serves the child:
    administrators, and the managers and educators of the child's département; coordinators
    and mentors never see assessments. A reason is required unless mentoring is recommended.
    Assessments are append-only: there is no PATCH or DELETE, a correction is a new
    assessment (the latest one counts). An offer rests on a recommending assessment less than
    a year old. Send an `Idempotency-Key` to retry safely; audited."""
    if idempotent.replay is not None:
        return idempotent.replay
    created = await service.create_assessment(session, principal, child_id, body.model_dump())
    return await respond_created(
        idempotent,
        response,
        Assessment.model_validate(service.view(created)),
        location=f"/v1/assessments/{created.id}",
    )


@router.get("/v1/children/{child_id}/assessments", response_model=Page[Assessment])
async def list_assessments(
    session: DbSession,
    principal: ChildReader,
    child_id: uuid.UUID,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[Assessment]:
    """Every assessment of the child, the latest first (by date, then by when it was
    recorded). Administrators, and the managers and educators of the child's département; the
    read is audited."""
    rows, next_cursor = await service.list_assessments(
        session, principal, child_id, limit=limit, cursor=cursor
    )
    return Page(
        items=[Assessment.model_validate(service.view(row)) for row in rows],
        next_cursor=next_cursor,
    )


@router.get("/v1/assessments/{assessment_id}", response_model=Assessment)
async def get_assessment(
    session: DbSession, principal: ChildReader, assessment_id: uuid.UUID
) -> Assessment:
    """One assessment, with the date the next one is due. Administrators, and the managers
    and educators of the child's département; the read is audited."""
    return Assessment.model_validate(
        service.view(await service.read_assessment(session, principal, assessment_id))
    )
