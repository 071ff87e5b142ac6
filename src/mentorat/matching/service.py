"""Matching runs: load from PostgreSQL, score and solve off the event loop, write."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import anyio
import numpy as np
import numpy.typing as npt
from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import record, record_child_reads
from mentorat.auth.principal import Principal, Role
from mentorat.errors import InvalidInput, NotFound
from mentorat.events.outbox import NewEvent, emit
from mentorat.jobs.app import MATCHING_QUEUE, RUN_TASK, jobs_app
from mentorat.kit.clock import today_in
from mentorat.kit.db import Database
from mentorat.kit.db_errors import database_error, database_unavailable, query_cancelled
from mentorat.kit.pagination import paginate, paginate_rows
from mentorat.kit.repository import flush, one_or_404
from mentorat.matching.loading import (
    RuledOutPairs,
    id_in,
    load_matching_inputs,
    mentors_serving,
)
from mentorat.matching.schemas import RunCreate
from mentorat.matching.scoring import (
    Weights,
    score_pairs,
)
from mentorat.matching.solver import Solution, solve
from mentorat.matching.writing import write_results
from mentorat.metrics import observe_run_phases
from mentorat.models import (
    Child,
    Departement,
    MatchingRun,
    MatchingRunUnmatched,
    Mentor,
    Proposal,
)
from mentorat.models.matching import ACTIVE_RUN_STATUSES
from mentorat.proposals.service import audit_reads as audit_proposal_reads
from mentorat.proposals.service import readable as readable_proposals
from mentorat.proposals.service import view_of as proposal_view

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, dict[str, Any]], None]
# What a failed run tells its readers, by error code (models.matching.RUN_ERROR_CODES).
RUN_ERROR_SENTENCES: dict[str, str] = {
    "abandoned": "Abandoned: the process running it stopped before it finished.",
    "database_unavailable": "The database could not be reached during the run; "
    "nothing was written. Start the run again.",
    "database_error": "The database refused part of the run's work; nothing was written.",
    "timeout": "The run took longer than the database allows; nothing was written.",
    "internal_error": "The run stopped on an unexpected error; nothing was written.",
}


# --------------------------------------------------------------------------- runs: requests


def scoped_runs(principal: Principal) -> Select[tuple[MatchingRun]]:
    statement = select(MatchingRun)
    if principal.role is Role.admin:
        return statement
    return statement.where(MatchingRun.departement_code == principal.departement_code)


async def get_run(session: AsyncSession, principal: Principal, run_id: uuid.UUID) -> MatchingRun:
    statement = scoped_runs(principal).where(MatchingRun.id == run_id)
    return await one_or_404(session, statement, "matching run")


async def list_runs(
    session: AsyncSession, principal: Principal, *, limit: int, cursor: str | None
) -> tuple[list[MatchingRun], str | None]:
    return await paginate(
        session,
        scoped_runs(principal),
        [MatchingRun.created_at, MatchingRun.id],
        limit=limit,
        cursor=cursor,
        scope="matching-runs",
    )


async def _count_unknown(
    session: AsyncSession, statement: Select[Any], column: Any, ids: list[uuid.UUID]
) -> int:
    found = await session.scalar(
        statement.with_only_columns(func.count(func.distinct(column))).where(id_in(column, ids))
    )
    return len(set(ids)) - int(found or 0)


async def create_run(
    session: AsyncSession, principal: Principal, data: RunCreate, *, queue: str = MATCHING_QUEUE
) -> MatchingRun:
    """The run's row and its job on `queue`, in the caller's transaction: a rolled-back
    request leaves neither."""
    departement_code = data.departement_code or principal.departement_code
    if departement_code is None:
        raise InvalidInput("departement_code is required.", field=("body", "departement_code"))
    if not principal.is_admin and departement_code != principal.departement_code:
        raise NotFound(f"No département {departement_code} in your scope.")
    if await session.get(Departement, departement_code) is None:
        raise InvalidInput(
            f"Unknown département {departement_code}.", field=("body", "departement_code")
        )
    if data.child_ids and await _count_unknown(
        session, _children_of(departement_code), Child.id, data.child_ids
    ):
        raise InvalidInput(
            f"Some children are not in département {departement_code}.",
            field=("body", "child_ids"),
        )
    if data.mentor_ids and await _count_unknown(
        session, mentors_serving(departement_code), Mentor.id, data.mentor_ids
    ):
        raise InvalidInput(
            f"Some mentors do not belong to an association serving {departement_code}.",
            field=("body", "mentor_ids"),
        )
    run = MatchingRun(
        departement_code=departement_code,
        requested_by_id=principal.id,
        requested_by_name=principal.name,
        status="queued",
        phase="queued",
        objective=data.objective,
        min_score=data.min_score,
        weights=data.weights.model_dump(),
        dry_run=data.dry_run,
        run_date=data.run_date or today_in(departement_code),
        needed_hours=data.needed_hours,
        child_ids=sorted(set(data.child_ids)) if data.child_ids else None,
        mentor_ids=sorted(set(data.mentor_ids)) if data.mentor_ids else None,
        figures={},
    )
    session.add(run)
    await flush(session)
    await record(
        session, principal, "create", "matching_run", [run.id], departement_code=departement_code
    )
    await jobs_app.configure_task(RUN_TASK, connection=session, queue=queue).defer_async(
        run_id=str(run.id)
    )
    return run


def _children_of(departement_code: str) -> Select[Any]:
    return select(Child).where(
        Child.departement_code == departement_code, Child.deleted_at.is_(None)
    )


# --------------------------------------------------------------------------- runs: execution


async def _update_run(database: Database, run_id: uuid.UUID, attempt: int, **values: Any) -> None:
    """Progress of an attempt, written only while the run is still at that attempt."""
    async with database.sessionmaker() as session:
        await session.execute(
            update(MatchingRun)
            .where(
                MatchingRun.id == run_id,
                MatchingRun.attempt == attempt,
                MatchingRun.status == "running",
            )
            .values(**values)
        )
        await session.commit()


async def _claim(database: Database, run_id: uuid.UUID) -> MatchingRun | None:
    """A queued run, now running as one more attempt; None when it is not queued."""
    async with database.sessionmaker() as session:
        run = await session.scalar(
            update(MatchingRun)
            .where(MatchingRun.id == run_id, MatchingRun.status == "queued")
            .values(
                status="running",
                phase="loading",
                attempt=MatchingRun.attempt + 1,
                started_at=func.coalesce(MatchingRun.started_at, func.now()),
            )
            .returning(MatchingRun)
        )
        await session.commit()
        return run


async def execute_run(
    database: Database, run_id: uuid.UUID, progress: ProgressCallback | None = None
) -> None:
    """Run a queued run to its end, as its next attempt (a worker runs it as a job).

    Nothing is held for the run's length: an attempt owns the run while `attempt` is its
    number. Its results and final status are written in one transaction that first locks the
    run's row and checks that number, so an attempt superseded meanwhile (its worker was
    thought dead and the run retried elsewhere) writes nothing.
    """
    run = await _claim(database, run_id)
    if run is None:
        return
    await _execute(database, run, progress or (lambda phase, figures: None))


def _finished_event(run: MatchingRun, status: str, error_code: str | None = None) -> NewEvent:
    data: dict[str, Any] = {"status": status, "dry_run": run.dry_run, "attempt": run.attempt}
    if error_code is not None:
        data["error_code"] = error_code
    return NewEvent(
        f"matching_run.{status}", "matching_run", run.id, run.departement_code, data=data
    )


async def _execute(database: Database, run: MatchingRun, progress: ProgressCallback) -> None:
    run_id, attempt = run.id, run.attempt
    figures: dict[str, Any] = {"timings": {}}
    timings: dict[str, float] = figures["timings"]

    async def phase(name: str) -> None:
        progress(name, figures)
        await _update_run(database, run_id, attempt, phase=name, figures=figures)

    try:
        progress("loading", figures)
        started = time.perf_counter()
        async with database.sessionmaker() as session:
            loaded = await _load_run_inputs(session, run)
        children_ids, mentor_ids, children, mentors, ruled_out, ineligible = loaded
        timings["load"] = time.perf_counter() - started
        figures.update(
            children=len(children_ids), children_not_eligible=ineligible, mentors=len(mentor_ids)
        )
        await phase("scoring")

        started = time.perf_counter()
        weights = Weights(**run.weights)
        needed_slots = round(run.needed_hours * 2)
        pairs = await anyio.to_thread.run_sync(
            lambda: score_pairs(
                children,
                mentors,
                weights,
                ruled_out.exclusions,
                needed_slots,
                declines=ruled_out.declines,
            )
        )
        timings["score"] = time.perf_counter() - started
        figures["feasible_pairs"] = len(pairs)
        await phase("solving")

        solution = await anyio.to_thread.run_sync(
            lambda: solve(
                len(children_ids),
                len(mentor_ids),
                pairs.child_index,
                pairs.mentor_index,
                pairs.score,
                mentors.capacity_left,
                run.min_score,
                run.objective,  # type: ignore[arg-type]
            )
        )
        timings["components"] = solution.timings["components"]
        timings["solve"] = solution.timings["solve"]
        figures.update(_solution_figures(solution, len(children_ids)))
        await phase("writing")

        started = time.perf_counter()
        async with database.sessionmaker() as session:
            if not await _still_owned(session, run_id, attempt):
                log.warning(
                    "matching run attempt superseded; its results are dropped",
                    extra={"run_id": str(run_id), "attempt": attempt},
                )
                return
            await write_results(session, run, children_ids, mentor_ids, pairs, solution)
            timings["write"] = time.perf_counter() - started
            await session.execute(
                update(MatchingRun)
                .where(MatchingRun.id == run_id)
                .values(
                    status="succeeded",
                    phase="done",
                    figures=figures,
                    finished_at=datetime.now(UTC),
                )
            )
            await emit(session, [_finished_event(run, "succeeded")])
            await session.commit()
        observe_run_phases(timings)
        progress("done", figures)
        log.info(
            "matching run succeeded",
            extra={"run_id": str(run_id), "attempt": attempt, **_log_figures(figures)},
        )
    except Exception as error:
        code = run_error_code(error)
        # The detail (SQL, parameters, traceback) goes to the log only, under the run id.
        log.exception("matching run failed", extra={"run_id": str(run_id), "error_code": code})
        await fail_run(database, run, code, figures, attempt=attempt)
        progress("failed", figures)


async def _still_owned(session: AsyncSession, run_id: uuid.UUID, attempt: int) -> bool:
    """Locks the run's row for the transaction, and says whether this attempt still owns it."""
    current = await session.scalar(
        select(MatchingRun.attempt)
        .where(MatchingRun.id == run_id, MatchingRun.status == "running")
        .with_for_update()
    )
    return current == attempt


async def fail_run(
    database: Database,
    run: MatchingRun,
    code: str,
    figures: dict[str, Any] | None = None,
    *,
    attempt: int | None = None,
    session: AsyncSession | None = None,
) -> bool:
    """Mark the run failed with `code` and emit `matching_run.failed`, in one transaction
    (the caller's `session` when given). With `attempt`, only while that attempt owns it."""
    conditions = [MatchingRun.id == run.id, MatchingRun.status.in_(ACTIVE_RUN_STATUSES)]
    if attempt is not None:
        conditions += [MatchingRun.attempt == attempt, MatchingRun.status == "running"]
    values: dict[str, Any] = {
        "status": "failed",
        "phase": "failed",
        "error_code": code,
        "error": RUN_ERROR_SENTENCES[code],
        "finished_at": datetime.now(UTC),
    }
    if figures is not None:
        values["figures"] = figures

    async def write(session: AsyncSession) -> bool:
        failed = await session.scalar(
            update(MatchingRun).where(*conditions).values(**values).returning(MatchingRun.id)
        )
        if failed is not None:
            await emit(session, [_finished_event(run, "failed", code)])
        return failed is not None

    if session is not None:
        return await write(session)
    async with database.sessionmaker() as own:
        done = await write(own)
        await own.commit()
        return done


def run_error_code(error: BaseException) -> str:
    if database_unavailable(error):
        return "database_unavailable"
    if query_cancelled(error):
        return "timeout"
    if database_error(error):
        return "database_error"
    return "internal_error"


def _log_figures(figures: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in figures.items() if isinstance(value, int | float)}


async def _load_run_inputs(session: AsyncSession, run: MatchingRun) -> tuple[Any, ...]:
    child_statement = _children_of(run.departement_code)
    if run.child_ids:
        child_statement = child_statement.where(id_in(Child.id, run.child_ids))
    mentor_statement = mentors_serving(run.departement_code)
    if run.mentor_ids:
        mentor_statement = mentor_statement.where(id_in(Mentor.id, run.mentor_ids))
    inputs = await load_matching_inputs(
        session, child_statement, mentor_statement, run.departement_code, run.run_date
    )
    all_children, mentors, ruled_out = inputs.children, inputs.mentors, inputs.ruled_out
    # The waiting list is the eligible children; the others are counted, not matched.
    eligible = np.flatnonzero(all_children.arrays.eligible)
    children = all_children.arrays.take(eligible)
    position = np.full(len(all_children), -1, dtype=np.int64)
    position[eligible] = np.arange(len(eligible))
    ruled_out = RuledOutPairs(
        exclusions=_among_waiting(ruled_out.exclusions, position),
        declines=_among_waiting(ruled_out.declines, position),
    )
    children_ids = [all_children.ids[i] for i in eligible]
    ineligible = len(all_children) - len(children_ids)
    return children_ids, mentors.ids, children, mentors.arrays, ruled_out, ineligible


def _among_waiting(pairs: npt.NDArray[np.int32], position: npt.NDArray[np.int64]) -> Any:
    """Pairs of the eligible children, renumbered by `position` (-1: not eligible)."""
    if not len(pairs):
        return pairs
    kept = pairs[position[pairs[:, 0]] >= 0]
    kept[:, 0] = position[kept[:, 0]]
    return kept


def _solution_figures(solution: Solution, n_children: int) -> dict[str, Any]:
    matched = solution.n_matched
    reasons = solution.unmatched_reasons().values()
    return {
        "components": solution.n_components,
        "components_by_method": solution.methods,
        "largest_component_children": solution.largest_component_children,
        "largest_component_mentors": solution.largest_component_mentors,
        "matched": matched,
        "unmatched": n_children - matched,
        "unmatched_by_reason": {code: list(reasons).count(code) for code in sorted(set(reasons))},
        "total_score": round(solution.total_score, 6),
        "mean_score": round(solution.total_score / matched, 6) if matched else None,
    }


# --------------------------------------------------------------------------- results


async def list_proposals(
    session: AsyncSession,
    principal: Principal,
    run: MatchingRun,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the run's proposals with their children's and mentors' names, one statement."""
    statement = readable_proposals(select(Proposal).where(Proposal.run_id == run.id))
    rows, next_cursor = await paginate_rows(
        session, statement, [Proposal.child_id], lambda row: (row[0].child_id,),
        limit=limit, cursor=cursor, scope="matching-run-proposals", filters={"run": run.id},
    )  # fmt: skip
    await audit_proposal_reads(session, principal, [row[0] for row in rows], via="run-proposals")
    return [proposal_view(principal, row) for row in rows], next_cursor


async def list_unmatched(
    session: AsyncSession,
    principal: Principal,
    run: MatchingRun,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the children the run left unmatched, with their names, one statement."""
    statement = (
        select(
            MatchingRunUnmatched,
            Child.first_name.label("child_first_name"),
            Child.reference.label("child_reference"),
            Child.commune.label("child_commune"),
        )
        .join(Child, Child.id == MatchingRunUnmatched.child_id)
        .where(MatchingRunUnmatched.run_id == run.id)
    )
    rows, next_cursor = await paginate_rows(
        session, statement, [MatchingRunUnmatched.child_id], lambda row: (row[0].child_id,),
        limit=limit, cursor=cursor, scope="matching-run-unmatched", filters={"run": run.id},
    )  # fmt: skip
    await record_child_reads(
        session, principal, [(row[0].child_id, run.departement_code) for row in rows],
        via="run-unmatched",
    )  # fmt: skip
    return [
        {
            "child_id": row[0].child_id,
            "child_reference": row.child_reference,
            "child_first_name": row.child_first_name,
            "child_commune": row.child_commune,
            "reason": row[0].reason,
            "feasible_mentors": row[0].feasible_mentors,
            "best_score": row[0].best_score,
            "excluded_by_reason": row[0].excluded_by_reason,
        }
        for row in rows
    ], next_cursor
