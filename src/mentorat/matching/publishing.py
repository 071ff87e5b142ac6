"""Publishing a dry run: its simulated proposals, re-checked as of today, become pending.

A dry run is a draft that people review. Between the run and its publication the world moves
on: mentors take other children, checks and agreements expire, children are matched
elsewhere. Every pair to publish is checked again by the matching engine itself (the same
loaders and the same scoring as a run), on today's data, and the publication is all or
nothing: one pair no longer possible refuses it, naming every such pair and why.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import anyio
import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import record
from mentorat.auth.principal import Principal
from mentorat.errors import Conflict, InvalidInput
from mentorat.kit.clock import today_in
from mentorat.kit.repository import caller_conflict, flush, one_or_404
from mentorat.matching.loading import (
    LoadedChildren,
    LoadedMentors,
    RuledOutPairs,
    id_in,
    load_matching_inputs,
    mentors_serving,
)
from mentorat.matching.scoring import (
    REASON_CODES,
    FeasiblePairs,
    MentorArrays,
    Reason,
    Weights,
    explanations_json,
    score_pairs,
)
from mentorat.matching.writing import proposals_created
from mentorat.models import Child, MatchingRun, Mentor, Mentorship, Proposal
from mentorat.models.mentorship import LIVE_MENTORSHIP_STATES

# Why a pair can no longer be published: the hard constraints of matching (scoring's
# REASON_CODES, in their priority order), with child_not_eligible told apart when the child
# is now held by a pending proposal or a live mentorship, and the run's own minimum score.
CHILD_HELD_ELSEWHERE = "child_held_elsewhere"
BELOW_MIN_SCORE = "below_min_score"
REFUSAL_REASONS: tuple[str, ...] = (
    *REASON_CODES.values(),
    CHILD_HELD_ELSEWHERE,
    BELOW_MIN_SCORE,
)


class PairsNoLongerPossible(Conflict):
    slug = "pairs-no-longer-possible"
    title = "Some pairs can no longer be published"


@dataclass(frozen=True, slots=True)
class Refusal:
    proposal_id: uuid.UUID
    child_id: uuid.UUID
    mentor_id: uuid.UUID
    reason: str

    def as_json(self) -> dict[str, str]:
        return {
            "proposal_id": str(self.proposal_id),
            "child_id": str(self.child_id),
            "mentor_id": str(self.mentor_id),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Rescored:
    """A pair still possible today, with today's score and explanation."""

    score: float
    explanation: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Publication:
    run: MatchingRun
    published_at: datetime
    proposal_ids: list[uuid.UUID]
    still_simulated: int


async def publish(
    session: AsyncSession,
    principal: Principal,
    run_statement: Any,
    proposal_ids: list[uuid.UUID] | None,
) -> Publication:
    """Publish `proposal_ids` of the run (`run_statement`: the run, scoped to the caller), or
    every proposal of it still simulated; in the caller's transaction."""
    run = await one_or_404(session, run_statement, "matching run", for_update=True)
    if not run.dry_run or run.status != "succeeded":
        raise Conflict(
            "Only a dry run that succeeded can be published; this run is "
            f"{'a dry run' if run.dry_run else 'not a dry run'} and {run.status}."
        )
    proposals = await _chosen(session, run, proposal_ids)
    rescored, refusals = await recheck(session, run, proposals)
    if refusals:
        raise PairsNoLongerPossible(
            f"{len(refusals)} of the {len(proposals)} pairs can no longer be published; "
            "nothing was published. Publish the others by their proposal_ids.",
            refused=[refusal.as_json() for refusal in refusals],
        )
    now = datetime.now(UTC)
    await _make_pending(session, proposals, rescored, now)
    run.published_at, run.published_by_id, run.published_by_name = now, principal.id, principal.name
    run.published_count += len(proposals)
    await flush(session)
    ids = [proposal.id for proposal in proposals]
    await record(
        session, principal, "update", "matching_run", [run.id],
        departement_code=run.departement_code,
        details={"step": "published", "proposals": len(ids)},
    )  # fmt: skip
    await record(
        session, principal, "update", "proposal", ids,
        departement_code=run.departement_code, details={"step": "published", "run_id": str(run.id)},
    )  # fmt: skip
    await session.execute(proposals_created(run.id, ids))
    still_simulated = await session.scalar(
        select(func.count())
        .select_from(Proposal)
        .where(Proposal.run_id == run.id, Proposal.status == "simulated")
    )
    return Publication(run, now, ids, int(still_simulated or 0))


# One statement for the whole publication: the places triggers of `proposal` run once per
# statement, and the rows need no round trip each.
_MAKE_PENDING = text(
    """
    UPDATE proposal AS p
    SET status = 'pending', published_at = :now, updated_at = now(), version = p.version + 1,
        score = today.score, explanation = CAST(today.explanation AS jsonb)
    FROM unnest(CAST(:ids AS uuid[]), CAST(:scores AS real[]), CAST(:explanations AS text[]))
        AS today(id, score, explanation)
    WHERE p.id = today.id AND p.status = 'simulated'
    """
)


async def _make_pending(
    session: AsyncSession,
    proposals: list[Proposal],
    rescored: dict[uuid.UUID, Rescored],
    now: datetime,
) -> None:
    """The proposals become pending with today's score and explanation. A pair taken
    meanwhile by a concurrent writer (the child or the mentor's last place) is a 409 here,
    from PostgreSQL's own checks."""
    ids = [proposal.id for proposal in proposals]
    parameters = {
        "now": now,
        "ids": ids,
        "scores": [rescored[i].score for i in ids],
        "explanations": [json.dumps(rescored[i].explanation) for i in ids],
    }
    try:
        result = await session.execute(_MAKE_PENDING, parameters)
    except IntegrityError as error:
        known = caller_conflict(error)
        if known is None:
            raise
        raise Conflict(f"{known} Nothing was published.") from error
    if result.rowcount != len(ids):  # type: ignore[attr-defined]
        raise Conflict("The run's proposals changed meanwhile; nothing was published.")
    for proposal in proposals:  # what the session holds is no longer what is stored
        session.expunge(proposal)


async def _chosen(
    session: AsyncSession, run: MatchingRun, proposal_ids: list[uuid.UUID] | None
) -> list[Proposal]:
    """The proposals to publish, locked, in id order (so that concurrent publications lock
    in the same order)."""
    statement = select(Proposal).where(Proposal.run_id == run.id).order_by(Proposal.id)
    if proposal_ids is None:
        proposals = list(
            (
                await session.scalars(
                    statement.where(Proposal.status == "simulated").with_for_update()
                )
            ).all()
        )
        if not proposals:
            raise Conflict("Every proposal of this run is already published.")
        return proposals
    wanted = sorted(set(proposal_ids))
    proposals = list(
        (await session.scalars(statement.where(id_in(Proposal.id, wanted)).with_for_update())).all()
    )
    unknown = set(wanted) - {proposal.id for proposal in proposals}
    if unknown:
        raise InvalidInput(
            f"{len(unknown)} of the proposal_ids are not proposals of this run: "
            + ", ".join(str(i) for i in sorted(unknown)[:20]),
            field=("body", "proposal_ids"),
        )
    published = [proposal for proposal in proposals if proposal.status != "simulated"]
    if published:
        raise Conflict(
            f"{len(published)} of these proposals are already published.",
            published=[str(proposal.id) for proposal in published],
        )
    return proposals


async def recheck(
    session: AsyncSession, run: MatchingRun, proposals: list[Proposal]
) -> tuple[dict[uuid.UUID, Rescored], list[Refusal]]:
    """Each pair as of today, by the matching engine, under the run's weights, hours and
    minimum score: today's score of those still possible, and why the others are not.

    The places this publication takes count too: a mentor's pairs take the places left in
    score order (the best first), and those left without one are refused.
    """
    code = run.departement_code
    today = today_in(code)
    child_ids = sorted({proposal.child_id for proposal in proposals})
    mentor_ids = sorted({proposal.mentor_id for proposal in proposals})
    child_statement = select(Child).where(
        Child.departement_code == code, id_in(Child.id, child_ids)
    )
    mentor_statement = mentors_serving(code).where(id_in(Mentor.id, mentor_ids))
    inputs = await load_matching_inputs(session, child_statement, mentor_statement, code, today)
    children, mentors, ruled_out = inputs.children, inputs.mentors, inputs.ruled_out
    weights = Weights(**run.weights)
    needed_slots = round(run.needed_hours * 2)
    pairs = await anyio.to_thread.run_sync(
        lambda: score_pairs(
            children.arrays,
            mentors.arrays,
            weights,
            ruled_out.exclusions,
            needed_slots,
            declines=ruled_out.declines,
        )
    )
    held = await _children_held(session, child_ids)

    child_index = children.index_of([proposal.child_id for proposal in proposals])
    mentor_index = mentors.index_of([proposal.mentor_id for proposal in proposals])
    positions = pairs.positions(child_index, mentor_index).tolist()
    refusals: list[Refusal] = []
    possible: list[tuple[float, uuid.UUID, Proposal, int]] = []
    mentor_at: dict[uuid.UUID, int] = {}
    for k, proposal in enumerate(proposals):
        child, mentor = int(child_index[k]), int(mentor_index[k])
        mentor_at[proposal.mentor_id] = mentor
        position: int | None = positions[k] if positions[k] >= 0 else None
        reason: str | None
        if mentor < 0:  # deleted, or its association no longer serves the département
            reason = REASON_CODES[Reason.MENTOR_INACTIVE]
        elif child < 0:
            reason = REASON_CODES[Reason.CHILD_NOT_ELIGIBLE]
        elif position is None:
            reason = _why_not(children, mentors, ruled_out, weights, needed_slots, child, mentor)
            if reason == REASON_CODES[Reason.CHILD_NOT_ELIGIBLE] and proposal.child_id in held:
                reason = CHILD_HELD_ELSEWHERE
        elif float(pairs.score[position]) < run.min_score:
            reason = BELOW_MIN_SCORE
        else:
            reason = None
            possible.append((float(pairs.score[position]), proposal.id, proposal, position))
        if reason is not None:
            refusals.append(_refusal(proposal, reason))

    kept: list[tuple[Proposal, float, int]] = []
    places_left = mentors.arrays.capacity_left.astype(np.int64)
    for score, _, proposal, position in sorted(possible, key=lambda item: (-item[0], item[1])):
        mentor = mentor_at[proposal.mentor_id]
        if places_left[mentor] <= 0:
            refusals.append(_refusal(proposal, REASON_CODES[Reason.NO_CAPACITY]))
            continue
        places_left[mentor] -= 1
        kept.append((proposal, score, position))
    positions = np.array([position for _, _, position in kept], dtype=np.intp)
    explanations = explanations_json(pairs, positions)
    rescored = {
        proposal.id: Rescored(score, explanation)
        for (proposal, score, _), explanation in zip(kept, explanations, strict=True)
    }
    refusals.sort(key=lambda refusal: refusal.proposal_id)
    return rescored, refusals


def _refusal(proposal: Proposal, reason: str) -> Refusal:
    return Refusal(proposal.id, proposal.child_id, proposal.mentor_id, reason)


def _among(pairs: npt.NDArray[np.int32], child: int, mentor: int) -> bool:
    return bool(len(pairs)) and bool(np.any((pairs[:, 0] == child) & (pairs[:, 1] == mentor)))


def _why_not(
    children: LoadedChildren,
    mentors: LoadedMentors,
    ruled_out: RuledOutPairs,
    weights: Weights,
    needed_slots: int,
    child: int,
    mentor: int,
) -> str:
    """The primary reason one infeasible pair is infeasible: the pair scored on its own."""
    columns = fields(MentorArrays)
    one_mentor = MentorArrays(
        **{column.name: getattr(mentors.arrays, column.name)[[mentor]] for column in columns}
    )
    pair: FeasiblePairs = score_pairs(
        children.arrays.take(np.array([child])),
        one_mentor,
        weights,
        np.array([[0, 0]]) if _among(ruled_out.exclusions, child, mentor) else None,
        needed_slots,
        declines=np.array([[0, 0]]) if _among(ruled_out.declines, child, mentor) else None,
    )
    return pair.primary_reason(0).code


async def _children_held(session: AsyncSession, child_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Those of the children a pending proposal or a live mentorship holds now."""
    pending = select(Proposal.child_id).where(
        id_in(Proposal.child_id, child_ids), Proposal.status == "pending"
    )
    mentored = select(Mentorship.child_id).where(
        id_in(Mentorship.child_id, child_ids), Mentorship.state.in_(LIVE_MENTORSHIP_STATES)
    )
    return set((await session.scalars(pending.union(mentored))).all())
