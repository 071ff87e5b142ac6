"""Writing a run's results with COPY: the rows are the solution's, the rules on proposals hold
(PostgreSQL's triggers fire for COPY as for INSERT), a refused row leaves nothing, and a real
run's pending proposals are announced by events."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import httpx
import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from mentorat.kit.db import Database, async_url, upgrade
from mentorat.matching.scoring import (
    REASON_CODES,
    ChildArrays,
    FeasiblePairs,
    MentorArrays,
    Reason,
    Weights,
    explanations_json,
    score_pairs,
)
from mentorat.matching.snapshots import matching_version
from mentorat.matching.solver import Solution, solve
from mentorat.matching.writing import driver_connection, write_results
from mentorat.models import (
    Association,
    Event,
    MatchingRun,
    MatchingRunUnmatched,
    Mentor,
    Mentorship,
    Proposal,
)
from tests.conftest import create_database, drop_database, run_queued_jobs
from tests.factories import Actors, create_association, create_child, create_mentor
from tests.matching.test_scoring import random_instance

RUNS = "/v1/matching-runs"
# A random instance (seed, children, mentors) whose solution gives a mentor two children and
# leaves some unmatched.
TWO_FOR_ONE_MENTOR = (0, 10, 8)


class Solved:
    """A random instance scored and solved, with a database row for every child and mentor."""

    def __init__(
        self,
        children: ChildArrays,
        mentors: MentorArrays,
        pairs: FeasiblePairs,
        solution: Solution,
        child_ids: list[uuid.UUID],
        mentor_ids: list[uuid.UUID],
        association: Association,
    ) -> None:
        self.children, self.mentors, self.pairs, self.solution = children, mentors, pairs, solution
        self.child_ids, self.mentor_ids, self.association = child_ids, mentor_ids, association


async def solved_instance(
    session: AsyncSession,
    seed: int,
    n: int,
    m: int,
    *,
    weights: Weights | None = None,
    mentor_capacity: list[int] | None = None,
) -> Solved:
    children, mentors, exclusions = random_instance(seed, n, m)
    weights = weights or Weights()
    pairs = score_pairs(children, mentors, weights, exclusions, needed_slots=3)
    solution = solve(
        n, m, pairs.child_index, pairs.mentor_index, pairs.score, mentors.capacity_left,
        0.3, "coverage_first",
    )  # fmt: skip
    association = await create_association(session)
    child_ids = [(await create_child(session, offer=None)).id for _ in range(n)]
    capacity = mentor_capacity or [max(int(c), 1) for c in mentors.capacity_left]
    mentor_ids = [
        (await create_mentor(session, association=association, capacity=capacity[j])).id
        for j in range(m)
    ]
    return Solved(children, mentors, pairs, solution, child_ids, mentor_ids, association)


async def new_run(session: AsyncSession, *, dry_run: bool, weights: Weights) -> MatchingRun:
    run = MatchingRun(
        departement_code="53", requested_by_id=uuid.uuid4(), requested_by_name="Test",
        status="running", phase="writing", objective="coverage_first", min_score=0.3,
        weights=weights.as_dict(), dry_run=dry_run, run_date=date(2026, 11, 25), figures={},
    )  # fmt: skip
    session.add(run)
    await session.flush()
    return run


async def proposals_of(session: AsyncSession, run_id: uuid.UUID) -> list[Proposal]:
    statement = select(Proposal).where(Proposal.run_id == run_id).order_by(Proposal.child_id)
    return list((await session.scalars(statement)).all())


async def events_of(session: AsyncSession, proposal_ids: list[uuid.UUID]) -> list[Event]:
    statement = select(Event).where(Event.entity_id.in_(proposal_ids)).order_by(Event.seq)
    return list((await session.scalars(statement)).all())


async def version_53(session: AsyncSession) -> int:
    return int(await session.scalar(select(matching_version("53"))))


class TestRowsAreTheSolution:
    @pytest.mark.parametrize(("seed", "dry_run"), [(seed, seed % 2 == 1) for seed in range(6)])
    async def test_proposals_and_unmatched_children(
        self, session: AsyncSession, seed: int, dry_run: bool
    ) -> None:
        rng = np.random.default_rng(seed)
        weights = Weights(0.25, 0.35, 0.4) if seed % 3 else Weights()
        solved = await solved_instance(
            session, seed, int(rng.integers(4, 12)), int(rng.integers(3, 10)), weights=weights
        )
        run = await new_run(session, dry_run=dry_run, weights=weights)
        await write_results(
            session, run, solved.child_ids, solved.mentor_ids, solved.pairs, solved.solution
        )

        pairs, solution = solved.pairs, solved.solution
        positions = [
            pairs.position(int(i), int(j))
            for i, j in zip(solution.child_index, solution.mentor_index, strict=True)
        ]
        explanations = explanations_json(pairs, positions)
        expected = sorted(
            (
                solved.child_ids[int(i)],
                solved.mentor_ids[int(j)],
                float(score),
                explanation,
            )
            for i, j, score, explanation in zip(
                solution.child_index, solution.mentor_index, solution.score, explanations,
                strict=True,
            )
        )  # fmt: skip
        written = await proposals_of(session, run.id)
        assert [(p.child_id, p.mentor_id, p.score, p.explanation) for p in written] == expected
        status = "simulated" if dry_run else "pending"
        for proposal in written:
            assert (proposal.status, proposal.departement_code) == (status, "53")
            assert proposal.created_by_id == run.requested_by_id
            assert proposal.version == 1 and proposal.created_at is not None

        unmatched = (
            await session.scalars(
                select(MatchingRunUnmatched).where(MatchingRunUnmatched.run_id == run.id)
            )
        ).all()
        index = {child_id: i for i, child_id in enumerate(solved.child_ids)}
        assert {index[row.child_id]: row.reason for row in unmatched} == (
            solution.unmatched_reasons()
        )
        assert len(unmatched) + len(written) == len(solved.child_ids)
        for row in unmatched:
            i = index[row.child_id]
            scores = [
                float(s) for c, s in zip(pairs.child_index, pairs.score, strict=True) if c == i
            ]
            assert row.feasible_mentors == len(scores)
            assert row.best_score == (max(scores) if scores else None)
            counts = pairs.primary_reason_counts[i]
            assert row.excluded_by_reason == {
                REASON_CODES[reason]: int(counts[reason]) for reason in Reason if counts[reason]
            }

        # Places held: the pending proposals only (the statement trigger ran over the COPY).
        places = dict(
            (
                await session.execute(
                    select(Mentor.id, Mentor.places_held).where(Mentor.id.in_(solved.mentor_ids))
                )
            ).all()
        )
        held = {mentor_id: 0 for mentor_id in solved.mentor_ids}
        if not dry_run:
            for proposal in written:
                held[proposal.mentor_id] += 1
        assert places == held

    async def test_a_run_without_matches_writes_its_unmatched_children_only(
        self, session: AsyncSession
    ) -> None:
        solved = await solved_instance(session, 1, 5, 4)
        empty = solve(5, 4, *(np.empty(0, dtype=t) for t in (np.int32, np.int32, np.float32)),
                      solved.mentors.capacity_left, 0.3, "coverage_first")  # fmt: skip
        run = await new_run(session, dry_run=False, weights=Weights())
        await write_results(session, run, solved.child_ids, solved.mentor_ids, solved.pairs, empty)
        assert await proposals_of(session, run.id) == []
        count = select(func.count()).where(MatchingRunUnmatched.run_id == run.id)
        assert await session.scalar(count) == 5


class TestEvents:
    async def test_a_real_run_announces_each_pending_proposal(self, session: AsyncSession) -> None:
        solved = await solved_instance(session, 4, 10, 8)
        run = await new_run(session, dry_run=False, weights=Weights())
        version = await version_53(session)
        await write_results(
            session, run, solved.child_ids, solved.mentor_ids, solved.pairs, solved.solution
        )
        written = await proposals_of(session, run.id)
        assert written, "the instance should match someone"
        events = await events_of(session, [p.id for p in written])
        assert sorted(event.entity_id for event in events) == sorted(p.id for p in written)
        by_id = {proposal.id: proposal for proposal in written}
        for event in events:
            proposal = by_id[event.entity_id]
            assert (event.type, event.entity_type) == ("proposal.created", "proposal")
            assert event.departement_code == "53"
            assert event.association_id == solved.association.id
            assert event.data == {
                "proposal_id": str(proposal.id),
                "run_id": str(run.id),
                "child_id": str(proposal.child_id),
                "mentor_id": str(proposal.mentor_id),
                "association_id": str(solved.association.id),
                "departement_code": "53",
                "status": "pending",
                "mentorship_id": None,
            }
        # The places recount rewrote the mentors: their département's matching version moved.
        assert await version_53(session) > version

    async def test_a_dry_run_writes_simulated_proposals_and_no_event(
        self, session: AsyncSession
    ) -> None:
        solved = await solved_instance(session, 4, 10, 8)
        run = await new_run(session, dry_run=True, weights=Weights())
        before = await session.scalar(select(func.count()).select_from(Event))
        await write_results(
            session, run, solved.child_ids, solved.mentor_ids, solved.pairs, solved.solution
        )
        written = await proposals_of(session, run.id)
        assert written and {p.status for p in written} == {"simulated"}
        assert await session.scalar(select(func.count()).select_from(Event)) == before

    async def test_through_the_api(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        children = [await create_child(session) for _ in range(3)]
        mentors = [
            await create_mentor(session, association=actors.association_a, capacity=2)
            for _ in range(2)
        ]
        await session.commit()
        body: dict[str, Any] = {
            "child_ids": [str(child.id) for child in children],
            "mentor_ids": [str(mentor.id) for mentor in mentors],
        }
        for dry_run in (True, False):
            response = await client.post(
                RUNS, json={**body, "dry_run": dry_run}, headers=actors.manager_53
            )
            assert response.status_code == 202, response.text
            await run_queued_jobs(client)
            run_id = uuid.UUID(response.json()["id"])
            run = await session.get(MatchingRun, run_id, populate_existing=True)
            assert run is not None and run.status == "succeeded", run and run.error
            written = await proposals_of(session, run_id)
            assert len(written) == 3
            events = await events_of(session, [p.id for p in written])
            assert len(events) == (0 if dry_run else 3)
            assert {event.association_id for event in events} <= {actors.association_a.id}


class TestRulesHoldUnderCopy:
    async def write_failing(self, session: AsyncSession, solved: Solved, **changes: Any) -> Any:
        run = await new_run(session, dry_run=False, weights=Weights())
        run_id = run.id
        await session.commit()
        arguments: dict[str, Any] = {
            "children_ids": solved.child_ids,
            "mentor_ids": solved.mentor_ids,
            "pairs": solved.pairs,
            "solution": solved.solution,
            **changes,
        }
        with pytest.raises(asyncpg.PostgresError) as raised:
            await write_results(session, run, **arguments)
        await session.rollback()
        assert await proposals_of(session, run_id) == []
        unmatched = select(func.count()).where(MatchingRunUnmatched.run_id == run_id)
        assert await session.scalar(unmatched) == 0
        return raised.value

    async def test_beyond_a_mentors_capacity_nothing_is_written(
        self, session: AsyncSession
    ) -> None:
        # The solver was told 2 places; PostgreSQL knows 1.
        solved = await solved_instance(session, *TWO_FOR_ONE_MENTOR, mentor_capacity=[1] * 8)
        assert np.bincount(solved.solution.mentor_index).max() == 2
        await session.commit()
        version = await version_53(session)
        events = await session.scalar(select(func.count()).select_from(Event))

        error = await self.write_failing(session, solved)
        assert error.constraint_name == "ck_mentor_places_within_capacity"
        places = select(func.sum(Mentor.places_held)).where(Mentor.id.in_(solved.mentor_ids))
        assert await session.scalar(places) == 0
        assert await session.scalar(select(func.count()).select_from(Event)) == events
        assert await version_53(session) == version

    async def test_a_child_held_by_another_pending_proposal(self, session: AsyncSession) -> None:
        solved = await solved_instance(session, *TWO_FOR_ONE_MENTOR)
        held = solved.child_ids[int(solved.solution.child_index[0])]
        other = await create_mentor(session, association=solved.association)
        session.add(
            Proposal(
                child_id=held,
                mentor_id=other.id,
                departement_code="53",
                status="pending",
                score=0.5,
                explanation={},
            )
        )
        error = await self.write_failing(session, solved)
        assert error.constraint_name == "uq_proposal_one_pending_per_child"

    async def test_a_child_already_in_a_mentorship(self, session: AsyncSession) -> None:
        solved = await solved_instance(session, *TWO_FOR_ONE_MENTOR)
        mentored = solved.child_ids[int(solved.solution.child_index[-1])]
        other = await create_mentor(session, association=solved.association)
        session.add(
            Mentorship(
                child_id=mentored,
                mentor_id=other.id,
                departement_code="53",
                state="active",
                started_at=datetime(2026, 10, 1, tzinfo=UTC),
            )
        )
        error = await self.write_failing(session, solved)
        assert error.constraint_name == "proposal_child_mentored"

    async def test_a_failure_after_the_proposals_takes_them_back(
        self, session: AsyncSession
    ) -> None:
        """The proposals' COPY succeeded, the unmatched children's fails (an unknown child):
        the proposals go with it, and their places."""
        solved = await solved_instance(session, *TWO_FOR_ONE_MENTOR)
        unmatched = solved.solution.unmatched_child_index
        assert len(unmatched) and len(solved.solution.child_index)
        child_ids = list(solved.child_ids)
        child_ids[int(unmatched[0])] = uuid.uuid4()
        error = await self.write_failing(session, solved, children_ids=child_ids)
        assert isinstance(error, asyncpg.ForeignKeyViolationError)
        assert error.table_name == "matching_run_unmatched"
        places = select(func.sum(Mentor.places_held)).where(Mentor.id.in_(solved.mentor_ids))
        assert await session.scalar(places) == 0


class TestOnAConnectionOfItsOwn:
    """Outside a test's transaction, as a worker writes: the COPY runs in the session's
    transaction (BEGIN is sent before it), so a refused row leaves nothing committed."""

    async def test_a_refused_copy_commits_nothing(self, server_url: URL) -> None:
        name = f"mentorat_copy_{uuid.uuid4().hex[:12]}"
        url = await create_database(server_url, name)
        engine = create_async_engine(async_url(url), poolclass=NullPool)
        database = Database(engine, async_sessionmaker(engine, expire_on_commit=False))
        try:
            await asyncio.to_thread(upgrade, url)
            async with database.sessionmaker() as session:
                solved = await solved_instance(
                    session, *TWO_FOR_ONE_MENTOR, mentor_capacity=[1] * 8
                )
                run = await new_run(session, dry_run=False, weights=Weights())
                await session.commit()
            async with database.sessionmaker() as session:
                with pytest.raises(asyncpg.CheckViolationError):
                    await write_results(
                        session, run, solved.child_ids, solved.mentor_ids, solved.pairs,
                        solved.solution,
                    )  # fmt: skip
            async with database.sessionmaker() as session:
                assert await session.scalar(select(func.count()).select_from(Proposal)) == 0
                assert await session.scalar(select(func.count()).select_from(Event)) == 0
                count = select(func.count()).select_from(MatchingRunUnmatched)
                assert await session.scalar(count) == 0
            # The same write within capacity commits everything.
            async with database.sessionmaker() as session:
                await session.execute(
                    Mentor.__table__.update()
                    .where(Mentor.id.in_(solved.mentor_ids))
                    .values(capacity=2)
                )
                await session.commit()
            async with database.sessionmaker() as session:
                await write_results(
                    session, run, solved.child_ids, solved.mentor_ids, solved.pairs,
                    solved.solution,
                )  # fmt: skip
                await session.commit()
            async with database.sessionmaker() as session:
                written = await session.scalar(select(func.count()).select_from(Proposal))
                assert written == solved.solution.n_matched > 0
                events = await session.scalar(select(func.count()).select_from(Event))
                assert events == written
        finally:
            await engine.dispose()
            await drop_database(server_url, name)

    async def test_a_session_in_autocommit_is_refused(self, engine: AsyncEngine) -> None:
        """Each statement of such a session commits on its own: a COPY there could leave
        proposals behind a failure."""
        autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        async with AsyncSession(autocommit) as session:
            with pytest.raises(RuntimeError, match="inside a transaction"):
                await driver_connection(session)
