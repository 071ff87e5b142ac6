from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.dependencies import ChildReader, ChildWriter, RunManager, RunReader
from mentorat.kit.idempotency import IdempotencyDep, respond, respond_created
from mentorat.kit.openapi import documented_headers
from mentorat.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from mentorat.kit.problems import problems
from mentorat.kit.schemas import IsoDate
from mentorat.kit.session import DbSession
from mentorat.matching import candidates, exclusions, publishing, service
from mentorat.matching.candidates import CandidateParameters
from mentorat.matching.dependencies import candidate_parameters
from mentorat.matching.schemas import (
    CandidateList,
    Exclusion,
    ExclusionCreate,
    ProposalOut,
    Publication,
    PublicationCreate,
    Run,
    RunCreate,
    UnmatchedChild,
)
from mentorat.matching.snapshots import MentorSnapshots, mentor_snapshots
from mentorat.models import MatchingRun
from mentorat.spreadsheets.writing import (
    EXPORT_PAGE,
    SPREADSHEET_RESPONSES,
    paged_response,
    requested_format,
)

runs_router = APIRouter(
    prefix="/v1/matching-runs", tags=["matching"], responses=problems(401, 403, 422)
)
children_router = APIRouter(
    prefix="/v1/children/{child_id}", tags=["matching"], responses=problems(401, 403, 404, 422)
)


@runs_router.post(
    "",
    response_model=Run,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**documented_headers(202, "Location"), **problems(404, 409)},
    summary="Start a batch matching run",
)
async def create_run(
    session: DbSession,
    principal: RunManager,
    body: RunCreate,
    response: Response,
    idempotent: IdempotencyDep,
) -> Run | Response:
    """Queues the run (a job for the workers, written with it) and answers at once; follow
    it with GET /v1/matching-runs/{id}.

    One run at a time per département: while one is queued or running, another is a 409.
    """
    if idempotent.replay is not None:
        return idempotent.replay
    run = await service.create_run(session, principal, body)
    return await respond_created(
        idempotent,
        response,
        Run.model_validate(run),
        location=f"/v1/matching-runs/{run.id}",
        status_code=status.HTTP_202_ACCEPTED,
    )


@runs_router.get("", response_model=Page[Run], summary="List matching runs in your scope")
async def list_runs(
    session: DbSession, principal: RunReader, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[Run]:
    """Matching runs in your scope, the oldest first: every département's for an
    administrator, your département's for its managers and educators."""
    rows, next_cursor = await service.list_runs(session, principal, limit=limit, cursor=cursor)
    return Page(items=[Run.model_validate(row) for row in rows], next_cursor=next_cursor)


@runs_router.get("/{run_id}", response_model=Run, responses=problems(404))
async def get_run(session: DbSession, principal: RunReader, run_id: uuid.UUID) -> Run:
    """Status, current phase and figures (counts, scores, time per phase)."""
    return Run.model_validate(await service.get_run(session, principal, run_id))


@runs_router.post(
    "/{run_id}/publish",
    response_model=Publication,
    responses=problems(404, 409),
    summary="Publish a dry run's proposals: they become pending",
)
async def publish_run(
    session: DbSession,
    principal: RunManager,
    run_id: uuid.UUID,
    response: Response,
    idempotent: IdempotencyDep,
    body: Annotated[PublicationCreate | None, Body()] = None,
) -> Publication | Response:
    """Turns a succeeded dry run's simulated proposals (`proposal_ids`, or every one still
    simulated) into pending proposals, awaiting both sides' consent as a real run's do, in one
    transaction. Each pair is first checked again as of today by the matching engine, under
    the run's weights, needed hours and minimum score, counting the places this publication
    takes (a mentor's pairs in score order): when any is no longer possible (capacity taken,
    child matched or held elsewhere, no longer eligible, honorability check or association
    agreement expired, pair excluded...), the answer is a 409 `pairs-no-longer-possible`
    whose `refused` lists every such pair (`proposal_id`, `child_id`, `mentor_id`, `reason`),
    and nothing changes; publish the others by their ids. A `reason` is the first hard
    constraint that rules the pair out today, named as in `InfeasibleReason`
    (`no_capacity_left` counts the places this publication takes), or
    `child_held_elsewhere` (a pending proposal or a live mentorship holds the child now), or
    `below_min_score` (today's score is under the run's `min_score`). The published
    proposals take today's score and explanation. Proposal ids not of this run are a 422;
    ids already published, a 409 whose `published` lists them. Administrators and the run's
    département's managers; audited, and a `proposal.created` event per proposal."""
    if idempotent.replay is not None:
        return idempotent.replay
    publication = await publishing.publish(
        session,
        principal,
        service.scoped_runs(principal).where(MatchingRun.id == run_id),
        body.proposal_ids if body is not None else None,
    )
    view = Publication(
        run_id=publication.run.id,
        published_at=publication.published_at,
        published_by_name=principal.name,
        published=len(publication.proposal_ids),
        proposal_ids=publication.proposal_ids,
        still_simulated=publication.still_simulated,
    )
    return await respond(idempotent, response, view)


@runs_router.get(
    "/{run_id}/proposals",
    response_model=Page[ProposalOut],
    responses={**problems(404), **SPREADSHEET_RESPONSES},
)
async def list_run_proposals(
    request: Request,
    session: DbSession,
    principal: RunReader,
    run_id: uuid.UUID,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[ProposalOut] | Response:
    """The proposals a run made (simulated ones for a dry run), in child order, each with its
    explained score; `Accept: text/csv` (or XLSX) streams them all. Administrators, and the
    managers and educators of the run's département; audited."""
    run = await service.get_run(session, principal, run_id)
    if (fmt := requested_format(request)) is not None:

        async def page(
            export_session: AsyncSession, after: str | None
        ) -> tuple[list[dict[str, Any]], str | None]:
            return await service.list_proposals(
                export_session, principal, run, limit=EXPORT_PAGE, cursor=after
            )

        return paged_response(request, fmt, ProposalOut, page, f"run-{run.id}-proposals")
    items, next_cursor = await service.list_proposals(
        session, principal, run, limit=limit, cursor=cursor
    )
    return Page(items=[ProposalOut.model_validate(item) for item in items], next_cursor=next_cursor)


@runs_router.get(
    "/{run_id}/unmatched",
    response_model=Page[UnmatchedChild],
    responses={**problems(404), **SPREADSHEET_RESPONSES},
)
async def list_run_unmatched(
    request: Request,
    session: DbSession,
    principal: RunReader,
    run_id: uuid.UUID,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[UnmatchedChild] | Response:
    """Children the run left unmatched, each with why."""
    run = await service.get_run(session, principal, run_id)
    if (fmt := requested_format(request)) is not None:

        async def page(
            export_session: AsyncSession, after: str | None
        ) -> tuple[list[dict[str, Any]], str | None]:
            return await service.list_unmatched(
                export_session, principal, run, limit=EXPORT_PAGE, cursor=after
            )

        return paged_response(request, fmt, UnmatchedChild, page, f"run-{run.id}-unmatched")
    items, next_cursor = await service.list_unmatched(
        session, principal, run, limit=limit, cursor=cursor
    )
    return Page(
        items=[UnmatchedChild.model_validate(item) for item in items], next_cursor=next_cursor
    )


@children_router.get(
    "/mentor-candidates", response_model=CandidateList, summary="Best mentors for one child"
)
async def mentor_candidates(
    session: DbSession,
    principal: ChildReader,
    child_id: uuid.UUID,
    snapshots: Annotated[MentorSnapshots, Depends(mentor_snapshots)],
    parameters: Annotated[CandidateParameters, Depends(candidate_parameters)],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    run_date: Annotated[
        IsoDate | None,
        Query(
            description="Honorability checks and association agreements valid on this date "
            "(default: today in the child's département)."
        ),
    ] = None,
) -> CandidateList:
    """Ranked feasible mentors with their explained scores, and how many mentors each hard
    constraint ruled out. `weights.goals`, `weights.distance`, `weights.availability`,
    `min_score` and `needed_hours` preview the child's options under a run's parameters
    (same names, bounds and defaults as `POST /v1/matching-runs`). Mentors whose pair the
    child's département still remembers as declined come last, each with its decline.
    Administrators, and the managers and educators of the child's département; audited."""
    result = await candidates.mentor_candidates(
        session, principal, child_id, limit=limit, run_date=run_date, snapshots=snapshots,
        parameters=parameters,
    )  # fmt: skip
    return CandidateList.model_validate(result)


@children_router.get("/exclusions", response_model=Page[Exclusion])
async def list_exclusions(
    session: DbSession,
    principal: ChildReader,
    child_id: uuid.UUID,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[Exclusion]:
    """The mentors this child must not be paired with, the oldest exclusion first."""
    rows, next_cursor = await exclusions.list_exclusions(
        session, principal, child_id, limit=limit, cursor=cursor
    )
    return Page(items=[Exclusion.model_validate(row) for row in rows], next_cursor=next_cursor)


@children_router.post(
    "/exclusions",
    response_model=Exclusion,
    status_code=status.HTTP_201_CREATED,
    responses=problems(409),
    summary="Rule out a mentor for this child",
)
async def create_exclusion(
    session: DbSession,
    principal: ChildWriter,
    child_id: uuid.UUID,
    body: ExclusionCreate,
    response: Response,
    idempotent: IdempotencyDep,
) -> Exclusion | Response:
    """Rules a mentor out for this child: no run, candidate list or proposal pairs them again.
    Administrators, and the managers and educators of the child's département; the same pair
    twice is a 409."""
    if idempotent.replay is not None:
        return idempotent.replay
    exclusion = Exclusion.model_validate(
        await exclusions.create_exclusion(session, principal, child_id, body)
    )
    return await respond(idempotent, response, exclusion, status_code=status.HTTP_201_CREATED)


@children_router.delete("/exclusions/{exclusion_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_exclusion(
    session: DbSession, principal: ChildWriter, child_id: uuid.UUID, exclusion_id: uuid.UUID
) -> Response:
    """Removes an exclusion, so that the pair may be proposed again. Administrators, and the
    managers and educators of the child's département; audited."""
    await exclusions.delete_exclusion(session, principal, child_id, exclusion_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
