from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.dependencies import AnyRole, ChildWriter
from mentorat.kit.etag import etag_for
from mentorat.kit.idempotency import IdempotencyDep, respond
from mentorat.kit.openapi import documented_headers
from mentorat.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from mentorat.kit.problems import problems
from mentorat.kit.session import DbSession
from mentorat.proposals import bulk, service
from mentorat.proposals.schemas import (
    BulkActions,
    BulkOutcomes,
    Proposal,
    ProposalCreate,
    ProposalDecline,
    ProposalStatus,
)
from mentorat.spreadsheets.writing import (
    EXPORT_PAGE,
    SPREADSHEET_RESPONSES,
    paged_response,
    requested_format,
)

router = APIRouter(
    prefix="/v1/proposals", tags=["proposals"], responses=problems(401, 403, 404, 422)
)


async def _one(session: DbSession, principal: AnyRole, proposal: object) -> Proposal:
    (view,) = await service.views(session, principal, [proposal])  # type: ignore[list-item]
    return Proposal.model_validate(view)


@router.post(
    "",
    response_model=Proposal,
    status_code=status.HTTP_201_CREATED,
    responses={**documented_headers(201, "ETag", "Location"), **problems(409)},
    summary="Propose a mentor for a child (an educator's choice)",
)
async def create_proposal(
    session: DbSession,
    principal: ChildWriter,
    body: ProposalCreate,
    response: Response,
    idempotent: IdempotencyDep,
) -> Response | Proposal:
    """The pair must be feasible (a 409 says which constraint rules it out). It holds the
    child and one of the mentor's places until it is declined or becomes a mentorship. A pair
    whose last proposal was declined within the département's `decline_memory_months` is a 409
    `recently-declined` (naming the decline's date and reason) unless `repropose` is true;
    the re-proposal is audited."""
    if idempotent.replay is not None:
        return idempotent.replay
    proposal = await service.create_proposal(
        session, principal, body.child_id, body.mentor_id, repropose=body.repropose
    )
    view = await _one(session, principal, proposal)
    headers = {"Location": f"/v1/proposals/{view.id}", "ETag": etag_for(view.version)}
    return await respond(idempotent, response, view, status_code=201, headers=headers)


@router.get("", response_model=Page[Proposal], responses=SPREADSHEET_RESPONSES)
async def list_proposals(
    request: Request,
    session: DbSession,
    principal: AnyRole,
    status_filter: Annotated[ProposalStatus | None, Query(alias="status")] = None,
    child_id: Annotated[
        uuid.UUID | None, Query(description="Only this child's proposals (département side).")
    ] = None,
    run_id: Annotated[
        uuid.UUID | None,
        Query(
            description="Only this matching run's proposals; a dry run's simulated ones are "
            "listed only this way (département side)."
        ),
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[Proposal] | Response:
    """Proposals in your scope, the oldest first, optionally of one `status`, of one child
    (`child_id`) or of one run (`run_id`); a child or run out of your scope lists nothing. A
    dry run's simulated proposals are listed only with its `run_id`. The département side
    reads each child's reference, first name and commune; the association side the first
    name only. `Accept: text/csv` (or XLSX) streams them all. Any role."""
    if (fmt := requested_format(request)) is not None:

        async def page(
            export_session: AsyncSession, after: str | None
        ) -> tuple[list[dict[str, object]], str | None]:
            return await service.list_proposals(
                export_session,
                principal,
                status=status_filter,
                child_id=child_id,
                run_id=run_id,
                limit=EXPORT_PAGE,
                cursor=after,
            )

        return paged_response(request, fmt, Proposal, page, "proposals")
    views, next_cursor = await service.list_proposals(
        session,
        principal,
        status=status_filter,
        child_id=child_id,
        run_id=run_id,
        limit=limit,
        cursor=cursor,
    )
    return Page(items=[Proposal.model_validate(v) for v in views], next_cursor=next_cursor)


@router.post(
    "/bulk",
    response_model=BulkOutcomes,
    status_code=207,
    summary="Validate, accept or decline many proposals, each answered on its own",
)
async def bulk_actions(
    request: Request,
    session: DbSession,
    principal: AnyRole,
    body: BulkActions,
    response: Response,
    idempotent: IdempotencyDep,
) -> Response | BulkOutcomes:
    """Up to 500 actions in one transaction, in order, each exactly as its
    single endpoint (`/v1/proposals/{id}/validate`, `/accept`, `/decline`) would do it: the
    département side validates or declines, the mentor's side (mentor, coordinator) accepts or
    declines; both consents make a mentorship. The answer is a 207 whose items give, for each
    action, an HTTP-like `status` and either the proposal as it now is (200) or the problem
    (403 not your side, 404 out of scope, 409 not pending or already done): a refused action
    changes nothing and does not undo the others. An invalid body (more than
    500 actions, a decline without a reason...) is a 422 and changes nothing.
    Any role."""
    if idempotent.replay is not None:
        return idempotent.replay
    items = await bulk.apply_actions(session, principal, body.actions, instance=request.url.path)
    succeeded = sum(1 for item in items if item["status"] == 200)
    outcomes = BulkOutcomes.model_validate(
        {"items": items, "succeeded": succeeded, "failed": len(items) - succeeded}
    )
    return await respond(idempotent, response, outcomes, status_code=207)


@router.get("/{proposal_id}", response_model=Proposal)
async def get_proposal(session: DbSession, principal: AnyRole, proposal_id: uuid.UUID) -> Proposal:
    """One proposal in your scope. Any role; the association side sees no child id."""
    return await _one(
        session, principal, await service.read_proposal(session, principal, proposal_id)
    )


@router.post(
    "/{proposal_id}/validate",
    response_model=Proposal,
    responses=problems(409),
    summary="The département side validates the proposal",
)
async def validate_proposal(
    session: DbSession,
    principal: AnyRole,
    proposal_id: uuid.UUID,
    response: Response,
    idempotent: IdempotencyDep,
) -> Response | Proposal:
    """Administrators, and the managers and educators of the child's département, validate a
    pending proposal; once the mentor's side has accepted too, it becomes a mentorship."""
    if idempotent.replay is not None:
        return idempotent.replay
    proposal, _ = await service.validate(session, principal, proposal_id)
    return await respond(idempotent, response, await _one(session, principal, proposal))


@router.post(
    "/{proposal_id}/accept",
    response_model=Proposal,
    responses=problems(409),
    summary="The mentor (or their coordinator) accepts the proposal",
)
async def accept_proposal(
    session: DbSession,
    principal: AnyRole,
    proposal_id: uuid.UUID,
    response: Response,
    idempotent: IdempotencyDep,
) -> Response | Proposal:
    """With both consents given, the proposal becomes a mentorship (`mentorship_id`)."""
    if idempotent.replay is not None:
        return idempotent.replay
    proposal, _ = await service.accept(session, principal, proposal_id)
    return await respond(idempotent, response, await _one(session, principal, proposal))


@router.post(
    "/{proposal_id}/decline",
    response_model=Proposal,
    responses=problems(409),
    summary="Either side declines; the child and the mentor's place are free again",
)
async def decline_proposal(
    session: DbSession,
    principal: AnyRole,
    proposal_id: uuid.UUID,
    body: ProposalDecline,
    response: Response,
    idempotent: IdempotencyDep,
) -> Response | Proposal:
    """Either side declines a pending proposal, with a reason: the child and the mentor's
    place are free again."""
    if idempotent.replay is not None:
        return idempotent.replay
    proposal = await service.decline(session, principal, proposal_id, body.reason)
    return await respond(idempotent, response, await _one(session, principal, proposal))
