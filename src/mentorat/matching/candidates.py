"""One child's best mentors, explained: an educator's question, under a run's parameters."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import record
from mentorat.auth.principal import Principal
from mentorat.children import repository as children_repository
from mentorat.kit.clock import today_in
from mentorat.matching.declines import child_declines_json, parse_child_declines
from mentorat.matching.loading import load_children_with, mentors_serving
from mentorat.matching.scoring import Weights, explanations_json, score_pairs
from mentorat.matching.snapshots import MentorSnapshots, matching_version
from mentorat.models import Child, PairExclusion


@dataclass(frozen=True)
class CandidateParameters:
    """A run's scoring parameters (RunCreate's names and defaults); `min_score` None: keep
    every feasible mentor."""

    weights: Weights = field(default_factory=Weights)
    min_score: float | None = None
    needed_hours: float = 2.0

    @property
    def needed_slots(self) -> int:
        return round(self.needed_hours * 2)


async def mentor_candidates(
    session: AsyncSession,
    principal: Principal,
    child_id: uuid.UUID,
    *,
    limit: int,
    run_date: date | None = None,
    snapshots: MentorSnapshots | None = None,
    parameters: CandidateParameters | None = None,
) -> dict[str, Any]:
    """The best feasible mentors for one child, explained, and why the others are out.

    The mentors come from the process's snapshot of the département when its version is the
    one read with the child (same statement), else from PostgreSQL. The child's exclusions
    and remembered declines are read in that statement too: they are the child's, not the
    mentors', so no snapshot holds them. Mentors whose pair the child's département still
    remembers as declined come after all the others, each with its decline.
    """
    parameters = parameters or CandidateParameters()
    child = await children_repository.get_scoped(session, principal, child_id)
    code = child.departement_code
    run_date = run_date or today_in(code)
    excluded_ids = (
        select(func.array_agg(PairExclusion.mentor_id))
        .where(PairExclusion.child_id == child.id)
        .scalar_subquery()
    )
    children, (version, excluded, declined) = await load_children_with(
        session,
        select(Child).where(Child.id == child.id),
        run_date,
        [matching_version(code), excluded_ids, child_declines_json(child.id, code, run_date)],
    )
    snapshot = await (snapshots or MentorSnapshots()).get(
        session, code, mentors_serving(code), run_date, int(version)
    )
    mentors = snapshot.mentors
    exclusions = np.empty((0, 2), dtype=np.int32)
    if excluded:
        found = mentors.index_of(excluded)
        found = found[found >= 0]
        exclusions = np.stack([np.zeros(len(found), dtype=np.int64), found], axis=1)
    pairs = score_pairs(
        children.arrays,
        mentors.arrays,
        parameters.weights,
        exclusions,
        parameters.needed_slots,
        prepared_mentors=snapshot.prepared,
    )
    declines = parse_child_declines(declined)
    declined_mentors = mentors.index_of(list(declines))
    is_declined = np.isin(pairs.mentor_index, declined_mentors[declined_mentors >= 0])
    kept = np.ones(len(pairs), dtype=bool)
    if parameters.min_score is not None:
        # In float64, as the solver compares (a float32 score against a 6-decimal threshold).
        kept = pairs.score >= np.float64(parameters.min_score)
    positions = np.flatnonzero(kept)
    # The others before the declined; best score first; equal scores in mentor-id order.
    order = positions[
        np.lexsort((pairs.mentor_index[positions], -pairs.score[positions], is_declined[positions]))
    ][:limit]
    await record(
        session, principal, "read", "child", [child.id],
        departement_code=code, details={"via": "mentor-candidates"},
    )  # fmt: skip
    candidates = []
    explanations = explanations_json(pairs, order)
    for k, explanation in zip(order.tolist(), explanations, strict=True):
        mentor = int(pairs.mentor_index[k])
        details = snapshot.details[mentor]
        mentor_id = mentors.id_at(mentor)
        decline = declines.get(mentor_id) if is_declined[k] else None
        candidates.append(
            {
                "mentor_id": mentor_id,
                "first_name": details.first_name,
                "last_name": details.last_name,
                "association_id": details.association_id,
                "commune": details.commune,
                "score": float(pairs.score[k]),
                "explanation": explanation,
                "declined": None if decline is None else decline.as_dict(),
            }
        )
    return {
        "child_id": child.id,
        "run_date": run_date,
        "mentors_considered": len(mentors),
        "feasible": len(pairs),
        "below_min_score": int(len(pairs) - len(positions)),
        "recently_declined": int(np.count_nonzero(is_declined)),
        "excluded_by_reason": pairs.excluded_by_reason(0),
        "candidates": candidates,
    }
