"""Writing a run's results: its proposals and unmatched children, with PostgreSQL COPY on the
session's own connection, inside the session's transaction (a failure leaves nothing).

COPY fires the triggers an INSERT fires, row and statement level alike, so the rules on
proposals hold as they do for any insert: a child held by one pending proposal at most, never
one already in a mentorship, mentors' places recounted once over the whole COPY and refused
beyond capacity (which also bumps the département's matching version).
"""

from __future__ import annotations

import json
import uuid
from itertools import repeat
from typing import Any

import asyncpg
import numpy as np
from sqlalchemy import func, insert, literal, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.matching.explanation_text import explanation_texts
from mentorat.matching.loading import id_in
from mentorat.matching.scoring import FeasiblePairs
from mentorat.matching.solver import Solution
from mentorat.models import Event, MatchingRun, MatchingRunUnmatched, Mentor, Proposal

PROPOSAL_COLUMNS = (
    "run_id",
    "child_id",
    "mentor_id",
    "departement_code",
    "status",
    "score",
    "explanation",
    "created_by_id",
)
UNMATCHED_COLUMNS = (
    "run_id",
    "child_id",
    "reason",
    "feasible_mentors",
    "best_score",
    "excluded_by_reason",
)


async def write_results(
    session: AsyncSession,
    run: MatchingRun,
    children_ids: list[uuid.UUID],
    mentor_ids: list[uuid.UUID],
    pairs: FeasiblePairs,
    solution: Solution,
) -> None:
    """Every proposal and unmatched child of the run, in the caller's single transaction, and
    a `proposal.created` event for each pending proposal (a dry run's are simulated: none)."""
    connection = await driver_connection(session)
    status = "simulated" if run.dry_run else "pending"
    positions = pairs.positions(solution.child_index, solution.mentor_index)
    await connection.copy_records_to_table(
        Proposal.__tablename__,
        columns=PROPOSAL_COLUMNS,
        records=zip(
            repeat(run.id),
            [children_ids[i] for i in solution.child_index.tolist()],
            [mentor_ids[j] for j in solution.mentor_index.tolist()],
            repeat(run.departement_code),
            repeat(status),
            solution.score.tolist(),
            explanation_texts(pairs, positions),
            repeat(run.requested_by_id),
        ),
    )
    await connection.copy_records_to_table(
        MatchingRunUnmatched.__tablename__,
        columns=UNMATCHED_COLUMNS,
        records=unmatched_records(run.id, children_ids, pairs, solution),
    )
    if status == "pending":
        await session.execute(proposals_created(run.id))


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under the session, with the session's transaction begun on it.

    SQLAlchemy's asyncpg adapter sends BEGIN with the first statement it executes, not when
    the session starts, so one statement goes first if none has yet: else what is sent on the
    driver directly would commit on its own.
    """
    connection = await session.connection()
    driver: asyncpg.Connection = (await connection.get_raw_connection()).driver_connection
    if not driver.is_in_transaction():
        await session.execute(select(literal(1)))
    if not driver.is_in_transaction():
        raise RuntimeError("Results are written inside a transaction; this session has none.")
    return driver


def unmatched_records(
    run_id: uuid.UUID, children_ids: list[uuid.UUID], pairs: FeasiblePairs, solution: Solution
) -> list[tuple[Any, ...]]:
    """One row per child the run left unmatched: why, how many mentors were feasible, the best
    score among them and why the other mentors were not."""
    feasible = np.bincount(pairs.child_index, minlength=pairs.n_children)
    best = np.full(pairs.n_children, -1.0, dtype=np.float32)
    np.maximum.at(best, pairs.child_index, pairs.score)
    return [
        (
            run_id,
            children_ids[child],
            reason,
            int(feasible[child]),
            float(best[child]) if feasible[child] else None,
            json.dumps(pairs.excluded_by_reason(child)),
        )
        for child, reason in solution.unmatched_reasons().items()
    ]


def proposals_created(run_id: uuid.UUID, proposal_ids: list[uuid.UUID] | None = None) -> Any:
    """One INSERT ... SELECT: a `proposal.created` event per pending proposal of the run (or
    those of `proposal_ids` only: a publication), in the département's scope and the mentor's
    association's."""
    # The shape of every proposal event (proposals/events.py).
    data = func.jsonb_build_object(
        *("proposal_id", Proposal.id, "run_id", Proposal.run_id, "child_id", Proposal.child_id),
        *("mentor_id", Proposal.mentor_id, "association_id", Mentor.association_id),
        *("departement_code", Proposal.departement_code, "status", Proposal.status),
        *("mentorship_id", null()),
    )
    source = (
        select(
            literal("proposal.created"),
            literal("proposal"),
            Proposal.id,
            Proposal.departement_code,
            Mentor.association_id,
            data,
        )
        .join(Mentor, Mentor.id == Proposal.mentor_id)
        .where(Proposal.run_id == run_id, Proposal.status == "pending")
        .order_by(Proposal.child_id)
    )
    if proposal_ids is not None:
        source = source.where(id_in(Proposal.id, proposal_ids))
    columns = ["type", "entity_type", "entity_id", "departement_code", "association_id", "data"]
    return insert(Event).from_select(columns, source)
