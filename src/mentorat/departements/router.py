from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from mentorat.auth.dependencies import Admin, AnyRole, require
from mentorat.auth.principal import Principal, Role
from mentorat.departements import service
from mentorat.departements.schemas import Departement, DepartementCreate, DepartementUpdate
from mentorat.kit.idempotency import IdempotencyDep, respond_created
from mentorat.kit.openapi import documented_headers
from mentorat.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from mentorat.kit.problems import problems
from mentorat.kit.schemas import DepartementCode
from mentorat.kit.session import DbSession

router = APIRouter(prefix="/v1/departements", tags=["departements"], responses=problems(401, 422))

CodePath = Annotated[DepartementCode, Path(description="Code such as 53, 2A, 974 or 69M.")]


@router.get("", response_model=Page[Departement], summary="List départements")
async def list_departements(
    session: DbSession, principal: AnyRole, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[Departement]:
    """Every département using the service, by code. Any role."""
    rows, next_cursor = await service.list_departements(session, limit=limit, cursor=cursor)
    return Page(items=[Departement.model_validate(row) for row in rows], next_cursor=next_cursor)


@router.get("/{code}", response_model=Departement, responses=problems(404))
async def get_departement(session: DbSession, principal: AnyRole, code: CodePath) -> Departement:
    """One département, by its code. Any role."""
    return Departement.model_validate(await service.get_departement(session, code))


@router.post(
    "",
    response_model=Departement,
    status_code=status.HTTP_201_CREATED,
    responses={**documented_headers(201, "Location"), **problems(403, 409)},
)
async def create_departement(
    session: DbSession,
    principal: Admin,
    body: DepartementCreate,
    response: Response,
    idempotent: IdempotencyDep,
) -> Departement | Response:
    """Registers a département; administrators only. A code already registered is a 409."""
    if idempotent.replay is not None:
        return idempotent.replay
    departement = await service.create_departement(session, principal, body)
    return await respond_created(
        idempotent,
        response,
        Departement.model_validate(departement),
        location=f"/v1/departements/{departement.code}",
    )


DepartementEditor = Annotated[Principal, Depends(require(Role.admin, Role.departement_manager))]


@router.patch("/{code}", response_model=Departement, responses=problems(403, 404))
async def update_departement(
    session: DbSession, principal: DepartementEditor, code: CodePath, body: DepartementUpdate
) -> Departement:
    """Changes a département's name (administrators) or its settings: the first school day
    (`school_start_month`, `school_start_day`, a real date of every year), whether the
    individual agreement must be signed before a mentorship becomes active, after how many
    days a mentorship needs attention (`attention_meeting_days`, `attention_objective_days`,
    `attention_pause_days`) and how many months a declined proposal is remembered
    (`decline_memory_months`) (administrators, or the département's managers; another
    département is a 403)."""
    return Departement.model_validate(
        await service.update_departement(session, principal, code, body)
    )


@router.delete("/{code}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(403, 404, 409))
async def delete_departement(session: DbSession, principal: Admin, code: CodePath) -> Response:
    """Removes a département; administrators only. One that still has children,
    associations or principals is a 409."""
    await service.delete_departement(session, principal, code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
