from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.dependencies import AnyRole, MeetingWriter, require
from mentorat.auth.principal import Principal, Role
from mentorat.kit.etag import IfMatch, etag_for, set_etag
from mentorat.kit.idempotency import IdempotencyDep, respond
from mentorat.kit.openapi import documented_headers
from mentorat.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from mentorat.kit.problems import problems
from mentorat.kit.schemas import IsoAwareDatetime, QueryFlag
from mentorat.kit.session import DbSession
from mentorat.mentorships import meetings, objectives, service, timeline
from mentorat.mentorships.schemas import (
    Meeting,
    MeetingCreate,
    Mentorship,
    MentorshipEvent,
    MentorshipUpdate,
    Objective,
    ObjectiveCreate,
    ObjectiveRevision,
    ObjectiveUpdate,
    State,
    TimelineEntry,
    Transition,
)
from mentorat.models import Objective as ObjectiveRow
from mentorat.spreadsheets.writing import (
    EXPORT_PAGE,
    SPREADSHEET_RESPONSES,
    paged_response,
    requested_format,
)

router = APIRouter(tags=["mentorships"], responses=problems(401, 403, 404, 422))


async def _view(session: DbSession, principal: AnyRole, mentorship: object) -> Mentorship:
    (view,) = await service.views(session, principal, [mentorship])  # type: ignore[list-item]
    return Mentorship.model_validate(view)


@router.get("/v1/mentorships", response_model=Page[Mentorship], responses=SPREADSHEET_RESPONSES)
async def list_mentorships(
    request: Request,
    session: DbSession,
    principal: AnyRole,
    state: Annotated[State | None, Query()] = None,
    needs_attention: Annotated[
        QueryFlag | None,
        Query(
            description="Only mentorships with (true) or without (false) a reason to need "
            "attention (`attention`): active with no meeting for more than the département's "
            "`attention_meeting_days` (default 30), active with every live objective stale "
            "(unchanged for more than `attention_objective_days`, default 30, or past its "
            "target date), paused for more than `attention_pause_days` (default 90)."
        ),
    ] = None,
    child_id: Annotated[
        uuid.UUID | None,
        Query(description="Only this child's mentorships; a child out of scope lists nothing."),
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[Mentorship] | Response:
    """Mentorships in your scope, the oldest first, optionally of one `state`, of one child
    (`child_id`) or needing attention; each says why it needs attention (`attention`, empty
    when it does not). The association side sees of the child only what a mentor needs.
    `Accept: text/csv` (or XLSX) streams them all. Any role."""
    if (fmt := requested_format(request)) is not None:

        async def page(
            export_session: AsyncSession, after: str | None
        ) -> tuple[list[dict[str, Any]], str | None]:
            rows, attention, next_cursor = await service.list_mentorships(
                export_session,
                principal,
                state=state,
                needs_attention=needs_attention,
                child_id=child_id,
                limit=EXPORT_PAGE,
                cursor=after,
            )
            return await service.views(export_session, principal, rows, attention), next_cursor

        return paged_response(request, fmt, Mentorship, page, "mentorships")
    rows, attention, next_cursor = await service.list_mentorships(
        session,
        principal,
        state=state,
        needs_attention=needs_attention,
        child_id=child_id,
        limit=limit,
        cursor=cursor,
    )
    views = await service.views(session, principal, rows, attention)
    return Page(items=[Mentorship.model_validate(v) for v in views], next_cursor=next_cursor)


@router.get(
    "/v1/mentorships/{mentorship_id}",
    response_model=Mentorship,
    responses=documented_headers(200, "ETag"),
)
async def get_mentorship(
    session: DbSession, principal: AnyRole, mentorship_id: uuid.UUID, response: Response
) -> Mentorship:
    """One mentorship in your scope, with its meeting cadence and `ETag`. Any role; the
    association side sees of the child only what a mentor needs."""
    mentorship, attention = await service.read_mentorship(session, principal, mentorship_id)
    (view,) = await service.views(session, principal, [mentorship], attention)
    set_etag(response, view["version"])
    return Mentorship.model_validate(view)


MentorshipEditor = Annotated[
    Principal,
    Depends(require(Role.admin, Role.departement_manager, Role.educator, Role.coordinator)),
]


@router.patch(
    "/v1/mentorships/{mentorship_id}",
    response_model=Mentorship,
    responses={**documented_headers(200, "ETag"), **problems(412)},
)
async def update_mentorship(
    session: DbSession,
    principal: MentorshipEditor,
    mentorship_id: uuid.UUID,
    body: MentorshipUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> Mentorship:
    """Records the date the individual agreement (ASE, association, child) was signed, or
    corrects it (null: not signed). Administrators, the département's managers and educators,
    the association's coordinators. Send the `ETag` in `If-Match` so as not to overwrite a
    change made meanwhile (412)."""
    mentorship = await service.update_mentorship(
        session, principal, mentorship_id, body.model_dump(exclude_unset=True), if_match
    )
    view = await _view(session, principal, mentorship)
    set_etag(response, view.version)
    return view


@router.post(
    "/v1/mentorships/{mentorship_id}/transitions",
    response_model=Mentorship,
    responses={**documented_headers(200, "ETag"), **problems(409, 412)},
    summary="Move the mentorship to another state",
)
async def transition(
    session: DbSession,
    principal: AnyRole,
    mentorship_id: uuid.UUID,
    body: Transition,
    response: Response,
    idempotent: IdempotencyDep,
    if_match: IfMatch = None,
) -> Response | Mentorship:
    """accepted -> active | ended; active -> paused | ended; paused -> active | ended.
    Any other move is a 409. Ending needs a reason; `safeguarding` rules the pair out for good.
    Where the département requires the individual agreement, becoming active without its
    signature date is a 409 of type `urn:mentorat:problem:individual-agreement-required`."""
    if idempotent.replay is not None:
        return idempotent.replay
    mentorship = await service.transition(
        session, principal, mentorship_id, body.to, reason=body.reason, note=body.note,
        if_match=if_match,
    )  # fmt: skip
    view = await _view(session, principal, mentorship)
    return await respond(idempotent, response, view, headers={"ETag": etag_for(view.version)})


@router.get("/v1/mentorships/{mentorship_id}/events", response_model=Page[MentorshipEvent])
async def list_events(
    session: DbSession,
    principal: AnyRole,
    mentorship_id: uuid.UUID,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[MentorshipEvent]:
    """The mentorship's state changes, in the order they happened."""
    rows, next_cursor = await service.list_events(
        session, principal, mentorship_id, limit=limit, cursor=cursor
    )
    return Page(
        items=[MentorshipEvent.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.get("/v1/mentorships/{mentorship_id}/objectives", response_model=Page[Objective])
async def list_objectives(
    session: DbSession,
    principal: AnyRole,
    mentorship_id: uuid.UUID,
    as_of: Annotated[
        IsoAwareDatetime | None, Query(description="Show the objectives as they stood then.")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[Objective]:
    """The mentorship's objectives in the order they were set, now or as they stood then."""
    rows, next_cursor = await objectives.list_objectives(
        session, principal, mentorship_id, as_of, limit=limit, cursor=cursor
    )
    return Page(items=[Objective.model_validate(row) for row in rows], next_cursor=next_cursor)


@router.post(
    "/v1/mentorships/{mentorship_id}/objectives",
    response_model=Objective,
    status_code=status.HTTP_201_CREATED,
    responses={**documented_headers(201, "ETag", "Location"), **problems(409)},
)
async def create_objective(
    session: DbSession,
    principal: AnyRole,
    mentorship_id: uuid.UUID,
    body: ObjectiveCreate,
    response: Response,
    idempotent: IdempotencyDep,
) -> Response | Objective:
    """Sets an objective for the mentorship; its first revision is kept. Any role with the
    mentorship in scope; send an `Idempotency-Key` to retry safely."""
    if idempotent.replay is not None:
        return idempotent.replay
    objective = await objectives.create_objective(
        session, principal, mentorship_id, body.model_dump()
    )
    view = _objective_view(objective)
    headers = {"ETag": etag_for(objective.version), "Location": f"/v1/objectives/{objective.id}"}
    return await respond(idempotent, response, view, status_code=201, headers=headers)


def _objective_view(objective: ObjectiveRow) -> Objective:
    return Objective.model_validate(objectives.current_view(objective))


@router.patch(
    "/v1/objectives/{objective_id}",
    response_model=Objective,
    responses={**documented_headers(200, "ETag"), **problems(409, 412)},
)
async def update_objective(
    session: DbSession,
    principal: AnyRole,
    objective_id: uuid.UUID,
    body: ObjectiveUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> Objective:
    """Every change is kept as a revision (who, when, values after, fields changed)."""
    objective = await objectives.update_objective(
        session, principal, objective_id, body.model_dump(exclude_unset=True), if_match
    )
    set_etag(response, objective.version)
    return _objective_view(objective)


@router.get("/v1/objectives/{objective_id}/history", response_model=Page[ObjectiveRevision])
async def objective_history(
    session: DbSession,
    principal: AnyRole,
    objective_id: uuid.UUID,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[ObjectiveRevision]:
    """Every revision of the objective, the first first."""
    rows, next_cursor = await objectives.history(
        session, principal, objective_id, limit=limit, cursor=cursor
    )
    return Page(
        items=[ObjectiveRevision.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.get("/v1/mentorships/{mentorship_id}/meetings", response_model=Page[Meeting])
async def list_meetings(
    session: DbSession,
    principal: AnyRole,
    mentorship_id: uuid.UUID,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[Meeting]:
    """The mentorship's meetings, the earliest first. Any role with the mentorship in scope."""
    rows, next_cursor = await meetings.list_meetings(
        session, principal, mentorship_id, limit=limit, cursor=cursor
    )
    return Page(items=[Meeting.model_validate(row) for row in rows], next_cursor=next_cursor)


@router.post(
    "/v1/mentorships/{mentorship_id}/meetings",
    response_model=Meeting,
    status_code=status.HTTP_201_CREATED,
    responses=problems(409),
    summary="Record a meeting (mentor or coordinator)",
)
async def create_meeting(
    session: DbSession,
    principal: MeetingWriter,
    mentorship_id: uuid.UUID,
    body: MeetingCreate,
    response: Response,
    idempotent: IdempotencyDep,
) -> Response | Meeting:
    """The first meeting makes an accepted mentorship active (so, where the département
    requires the individual agreement and it is not signed, it is a 409 of type
    `urn:mentorat:problem:individual-agreement-required` and nothing is recorded)."""
    if idempotent.replay is not None:
        return idempotent.replay
    meeting = await meetings.create_meeting(session, principal, mentorship_id, body.model_dump())
    return await respond(idempotent, response, Meeting.model_validate(meeting), status_code=201)


@router.get("/v1/mentorships/{mentorship_id}/timeline", response_model=Page[TimelineEntry])
async def get_timeline(
    session: DbSession,
    principal: AnyRole,
    mentorship_id: uuid.UUID,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[TimelineEntry]:
    """Events, objective revisions and meetings, merged in time order."""
    entries, next_cursor = await timeline.timeline(
        session, principal, mentorship_id, limit=limit, cursor=cursor
    )
    return Page(items=[TimelineEntry.model_validate(e) for e in entries], next_cursor=next_cursor)
