"""The mentors of the demo's history: pairs chosen with the real scoring, so that every
proposal carries a true score and explanation, and no mentor holds more places than they have."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from mentorat.demo.plans import ChildPlan
from mentorat.matching.scoring import (
    ChildArrays,
    FeasiblePairs,
    MentorArrays,
    explanation_json,
    score_pairs,
)
from mentorat.vocabulary import GENDERS, goals_to_mask, languages_to_mask

TOP_CHOICES = 3  # a pair is drawn among the child's best few, not always the very best


@dataclass(frozen=True)
class ScoredPairs:
    pairs: FeasiblePairs

    def mentors_of(self, child: int) -> tuple[np.ndarray, np.ndarray]:
        """Feasible mentors of a child and their scores, best first."""
        rows = self.pairs.child_slice(child)
        mentors, scores = self.pairs.mentor_index[rows], self.pairs.score[rows]
        order = np.argsort(-scores, kind="stable")
        return mentors[order], scores[order]

    def scored(self, child: int, mentor: int) -> tuple[float, dict[str, Any]]:
        position = self.pairs.position(child, mentor)
        if position is None:
            raise ValueError("the pair is not feasible")  # chosen among feasible ones
        return float(self.pairs.score[position]), explanation_json(self.pairs, position)


def _gender_code(value: str | None) -> int:
    return GENDERS.index(value) + 1 if value in GENDERS else 0


def score_demo_pairs(
    plans: list[ChildPlan],
    mentors: list[dict[str, Any]],
    today: date,
    associations: set[uuid.UUID],
) -> ScoredPairs:
    """Every child against every mentor usable today (active, honorable) whose association
    is one of `associations` (under an agreement for the whole history)."""
    availability = np.frombuffer(b"".join(p.profile["availability"] for p in plans), np.uint8)
    children = ChildArrays(
        lat=np.array([p.profile["latitude"] for p in plans]),
        lon=np.array([p.profile["longitude"] for p in plans]),
        goals=np.array([goals_to_mask(p.profile["goals"]) for p in plans]),
        availability=availability.reshape(len(plans), -1),
        remote_ok=np.array([p.profile["remote_ok"] for p in plans]),
        mentor_gender_preference=np.array(
            [_gender_code(p.profile["mentor_gender_preference"]) for p in plans]
        ),
        languages=np.array([languages_to_mask(p.profile["languages"]) for p in plans]),
        eligible=np.ones(len(plans), dtype=bool),
    )
    mentor_availability = np.frombuffer(b"".join(m["availability"] for m in mentors), np.uint8)
    honorable = [
        m["honorability_checked_on"] is not None
        and m["honorability_checked_on"] <= today
        and (m["honorability_valid_until"] or today) >= today
        for m in mentors
    ]
    mentor_arrays = MentorArrays(
        lat=np.array([m["latitude"] for m in mentors]),
        lon=np.array([m["longitude"] for m in mentors]),
        radius_km=np.array([m["travel_radius_km"] for m in mentors]),
        goals=np.array([goals_to_mask(m["goals"]) for m in mentors]),
        availability=mentor_availability.reshape(len(mentors), -1),
        remote_ok=np.array([m["remote_ok"] for m in mentors]),
        gender=np.array([_gender_code(m["gender"]) for m in mentors]),
        languages=np.array([languages_to_mask(m["languages"]) for m in mentors]),
        active=np.array([m["active"] for m in mentors]),
        agreement_ok=np.array([m["association_id"] in associations for m in mentors]),
        honorability_ok=np.array(honorable),
        capacity_left=np.array([m["capacity"] for m in mentors]),
    )
    return ScoredPairs(score_pairs(children, mentor_arrays))


def choose_mentors(
    rng: np.random.Generator,
    plans: list[ChildPlan],
    mentors: list[dict[str, Any]],
    scored: ScoredPairs,
) -> None:
    """Fill each plan's mentor slots. Places held today (pending proposals, accepted and
    active mentorships) stay within capacity; a child whose mentor cannot be found goes to
    the waiting list instead."""
    places = np.array([m["capacity"] for m in mentors])
    holders = [p for p in plans if any(p.needed_mentors().values())]
    others = [p for p in plans if not any(p.needed_mentors().values())]
    for plan in [*holders, *others]:
        taken: set[int] = set()
        for role, holds in plan.needed_mentors().items():
            candidates, _ = scored.mentors_of(plan.number - 1)
            free = [int(m) for m in candidates if int(m) not in taken]
            if holds:
                free = [m for m in free if places[m] > 0]
            if not free:
                if role == "final":
                    plan.situation, plan.substate = "waiting_for_mentor", None
                continue
            chosen = free[int(rng.integers(0, min(TOP_CHOICES, len(free))))]
            plan.mentor_slots[role] = chosen
            taken.add(chosen)
            if holds:
                places[chosen] -= 1
