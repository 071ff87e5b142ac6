"""Matching runs: load from PostgreSQL, score and solve off the event loop, write."""

from __future__ import annotations

import logging
import time
import uuid
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import numpy as np
import numpy.typing as npt
from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import record, record_child_reads
from mentorat.auth.principal import Principal, Role
from mentorat.errors import InvalidInput, NotFound
from mentorat.kit.clock import today_in
from mentorat.kit.db import Database
from mentorat.kit.db_errors import database_error, database_unavailable, query_cancelled
from mentorat.kit.pagination import paginate
from mentorat.kit.repository import flush, one_or_404
from mentorat.matching.loading import (
    RuledOutPairs,
    id_in,
    load_children,
    load_mentors,
    load_ruled_out_pairs,
    mentors_serving,
)
from mentorat.matching.schemas import RunCreate
from mentorat.matching.scoring import (
    REASON_CODES,
    FeasiblePairs,
    Reason,
    Weights,
    explanations_json,
    score_pairs,
)
from mentorat.matching.solver import Solution, solve
from mentorat.metrics import observe_run_phases
from mentorat.models import (
    Child,
    Departement,
    MatchingRun,
    MatchingRunUnmatched,
    Mentor,
    Proposal,
)
from mentorat.proposals.service import audit_reads as audit_proposal_reads
from mentorat.proposals.service import views as proposal_views

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, dict[str, Any]], None]
ABANDONED_QUEUED_AFTER = timedelta(minutes=1)
# What a failed run tells its readers, by error code (models.matching.RUN_ERROR_CODES).
RUN_ERROR_SENTENCES: dict[str, str] = {
    "abandoned": "Abandoned: the process running it stopped before it finished.",
    "database_unavailable": "The database could not be reached during the run; "
    "nothing was written. Start the run again.",
    "database_error": "The database refused part of the run's work; nothing was written.",
    "timeout": "The run took longer than the database allows; nothing was written.",
    "internal_error": "The run stopped on an unexpected error; nothing was written.",
}
_LOCK_NAMESPACE = 0x6D6E7472  # "mntr": advisory locks of matching runs


def run_lock_key(run_id: uuid.UUID) -> int:
    """A 64-bit advisory-lock key for a run (namespace in the high half)."""
    return (_LOCK_NAMESPACE << 32) | zlib.crc32(run_id.bytes)


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


async def create_run(session: AsyncSession, principal: Principal, data: RunCreate) -> MatchingRun:
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
    return run


def _children_of(departement_code: str) -> Select[Any]:
    return select(Child).where(
        Child.departement_code == departement_code, Child.deleted_at.is_(None)
    )


# --------------------------------------------------------------------------- runs: execution


async def _update_run(database: Database, run_id: uuid.UUID, **values: Any) -> None:
    async with database.sessionmaker() as session:
        await session.execute(update(MatchingRun).where(MatchingRun.id == run_id).values(**values))
        await session.commit()


async def execute_run(
    database: Database, run_id: uuid.UUID, progress: ProgressCallback | None = None
) -> None:
    """Run a queued run to its end. It holds an advisory lock meanwhile, so that a restarted
    process can tell a run whose worker died (lock free) from one still running elsewhere."""
    async with database.engine.connect() as lock_connection:
        await lock_connection.execute(select(func.pg_advisory_lock(run_lock_key(run_id))))
        try:
            await _execute(database, run_id, progress or (lambda phase, figures: None))
        finally:
            await lock_connection.execute(select(func.pg_advisory_unlock(run_lock_key(run_id))))
            await lock_connection.commit()


async def _execute(database: Database, run_id: uuid.UUID, progress: ProgressCallback) -> None:
    figures: dict[str, Any] = {"timings": {}}
    timings: dict[str, float] = figures["timings"]

    async def phase(name: str) -> None:
        progress(name, figures)
        await _update_run(database, run_id, phase=name, figures=figures)

    try:
        async with database.sessionmaker() as session:
            run = await session.get(MatchingRun, run_id)
            if run is None or run.status != "queued":
                return
            run.status, run.phase, run.started_at = "running", "loading", datetime.now(UTC)
            await session.commit()
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
            await _write_results(session, run, children_ids, mentor_ids, pairs, solution)
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
            await session.commit()
        observe_run_phases(timings)
        progress("done", figures)
        log.info("matching run succeeded", extra={"run_id": str(run_id), **_log_figures(figures)})
    except Exception as error:
        code = run_error_code(error)
        # The detail (SQL, parameters, traceback) goes to the log only, under the run id.
        log.exception("matching run failed", extra={"run_id": str(run_id), "error_code": code})
        await _update_run(
            database,
            run_id,
            status="failed",
            phase="failed",
            figures=figures,
            error_code=code,
            error=RUN_ERROR_SENTENCES[code],
            finished_at=datetime.now(UTC),
        )
        progress("failed", figures)


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
    all_children = await load_children(session, child_statement, run.run_date)
    mentors = await load_mentors(session, mentor_statement, run.run_date, run.departement_code)
    ruled_out = await load_ruled_out_pairs(
        session, all_children, mentors, child_statement, mentor_statement,
        run.departement_code, run.run_date,
    )  # fmt: skip
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


def _pair_positions(pairs: FeasiblePairs, child: npt.NDArray[Any], mentor: npt.NDArray[Any]) -> Any:
    keys = pairs.child_index.astype(np.int64) * pairs.n_mentors + pairs.mentor_index
    return np.searchsorted(keys, child.astype(np.int64) * pairs.n_mentors + mentor)


async def _write_results(
    session: AsyncSession,
    run: MatchingRun,
    children_ids: list[uuid.UUID],
    mentor_ids: list[uuid.UUID],
    pairs: FeasiblePairs,
    solution: Solution,
) -> None:
    """Every proposal and unmatched child of the run, in the caller's single transaction."""
    status = "simulated" if run.dry_run else "pending"
    positions = _pair_positions(pairs, solution.child_index, solution.mentor_index)
    explanations = explanations_json(pairs, positions)
    proposals = [
        {
            "run_id": run.id,
            "child_id": children_ids[int(child)],
            "mentor_id": mentor_ids[int(mentor)],
            "departement_code": run.departement_code,
            "status": status,
            "score": float(score),
            "explanation": explanation,
            "created_by_id": run.requested_by_id,
        }
        for child, mentor, score, explanation in zip(
            solution.child_index, solution.mentor_index, solution.score, explanations, strict=True
        )
    ]
    await _insert_rows(session, Proposal, proposals)

    feasible = np.bincount(pairs.child_index, minlength=pairs.n_children)
    best = np.full(pairs.n_children, -1.0, dtype=np.float32)
    np.maximum.at(best, pairs.child_index, pairs.score)
    unmatched = [
        {
            "run_id": run.id,
            "child_id": children_ids[int(child)],
            "reason": reason,
            "feasible_mentors": int(feasible[child]),
            "best_score": float(best[child]) if feasible[child] else None,
            "excluded_by_reason": reason_counts(pairs.primary_reason_counts[child]),
        }
        for child, reason in solution.unmatched_reasons().items()
    ]
    await _insert_rows(session, MatchingRunUnmatched, unmatched)
    await session.flush()


INSERT_CHUNK_ROWS = 1000


async def _insert_rows(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    """Multi-row INSERT statements (not one statement per row), so the statement-level
    capacity check runs once per chunk and the round trips stay few."""
    for start in range(0, len(rows), INSERT_CHUNK_ROWS):
        await session.execute(insert(model).values(rows[start : start + INSERT_CHUNK_ROWS]))


def reason_counts(counts: npt.NDArray[np.int64]) -> dict[str, int]:
    return {REASON_CODES[Reason(r)]: int(c) for r, c in enumerate(counts) if c}


async def recover_abandoned_runs(database: Database) -> int:
    """Mark failed the runs whose worker is gone (its advisory lock is free). On start-up."""
    failed = 0
    async with database.sessionmaker() as session:
        runs = (
            await session.scalars(
                select(MatchingRun).where(MatchingRun.status.in_(("queued", "running")))
            )
        ).all()
        now = datetime.now(UTC)
        for run in runs:
            key = run_lock_key(run.id)
            if not await session.scalar(select(func.pg_try_advisory_lock(key))):
                continue  # its worker is alive, in this or another process
            await session.scalar(select(func.pg_advisory_unlock(key)))
            if run.status == "queued" and now - run.created_at < ABANDONED_QUEUED_AFTER:
                continue  # just created; its worker may not have started yet
            run.status, run.phase, run.finished_at = "failed", "failed", now
            run.error_code, run.error = "abandoned", RUN_ERROR_SENTENCES["abandoned"]
            failed += 1
        await session.commit()
    if failed:
        log.warning("abandoned matching runs marked failed", extra={"count": failed})
    return failed


# --------------------------------------------------------------------------- results


async def list_proposals(
    session: AsyncSession,
    principal: Principal,
    run: MatchingRun,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    statement = select(Proposal).where(Proposal.run_id == run.id)
    proposals, next_cursor = await paginate(
        session, statement, [Proposal.child_id], limit=limit, cursor=cursor,
        scope="matching-run-proposals", filters={"run": run.id},
    )  # fmt: skip
    await audit_proposal_reads(session, principal, proposals, via="run-proposals")
    return await proposal_views(session, principal, proposals), next_cursor


async def list_unmatched(
    session: AsyncSession,
    principal: Principal,
    run: MatchingRun,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    statement = select(MatchingRunUnmatched).where(MatchingRunUnmatched.run_id == run.id)
    rows, next_cursor = await paginate(
        session, statement, [MatchingRunUnmatched.child_id], limit=limit, cursor=cursor,
        scope="matching-run-unmatched", filters={"run": run.id},
    )  # fmt: skip
    names = dict(
        (
            await session.execute(
                select(Child.id, Child.first_name).where(
                    id_in(Child.id, [row.child_id for row in rows])
                )
            )
        ).all()
    )
    await record_child_reads(
        session, principal, [(row.child_id, run.departement_code) for row in rows],
        via="run-unmatched",
    )  # fmt: skip
    return [
        {
            "child_id": row.child_id,
            "child_first_name": names[row.child_id],
            "reason": row.reason,
            "feasible_mentors": row.feasible_mentors,
            "best_score": row.best_score,
            "excluded_by_reason": row.excluded_by_reason,
        }
        for row in rows
    ], next_cursor
