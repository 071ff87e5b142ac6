from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mentorat.auth.dependencies import ChildReader
from mentorat.departements.router import CodePath
from mentorat.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from mentorat.kit.problems import problems
from mentorat.kit.schemas import IsoDate
from mentorat.kit.session import DbSession
from mentorat.situation import service
from mentorat.situation.schemas import DueItem

router = APIRouter(
    prefix="/v1/departements", tags=["departements"], responses=problems(401, 403, 404, 422)
)


@router.get(
    "/{code}/due",
    response_model=Page[DueItem],
    summary="What the département's educators must do this week, and what is late",
)
async def list_due(
    session: DbSession,
    principal: ChildReader,
    code: CodePath,
    as_of: Annotated[
        IsoDate | None,
        Query(description="The day the list is drawn up for; default: today in the département."),
    ] = None,
    until: Annotated[
        IsoDate | None,
        Query(
            description="Actions due up to this day (at most 366 days after as_of); default: "
            "the Sunday of as_of's week."
        ),
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[DueItem]:
    """Assessments (first ones and yearly renewals), information to give and agreements to
    collect that are due by `until` or late, and children waiting for a mentor more than 30
    days after their offer was accepted; the earliest due first, paginated. Administrators,
    and the managers and educators of the département; the children listed are audited as
    read."""
    items, next_cursor = await service.due_list(
        session, principal, code, as_of=as_of, until=until, limit=limit, cursor=cursor
    )
    return Page(items=[DueItem.model_validate(item) for item in items], next_cursor=next_cursor)
