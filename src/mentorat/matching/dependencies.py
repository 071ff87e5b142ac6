"""A run's scoring parameters taken from a query string (candidates preview a run)."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Query

from mentorat.errors import InvalidInput
from mentorat.kit.schemas import QueryNumber, rounded
from mentorat.matching.candidates import CandidateParameters
from mentorat.matching.schemas import SCORE_DECIMALS, RunWeights
from mentorat.matching.scoring import WEIGHT_SUM_TOLERANCE, Weights

QueryWeight = Annotated[QueryNumber, rounded(SCORE_DECIMALS)]
_DEFAULT_WEIGHTS = RunWeights()


def _weight(name: str) -> object:
    default = getattr(_DEFAULT_WEIGHTS, name)
    return Query(
        alias=f"weights.{name}",
        ge=0,
        le=1,
        description=f"Weight of the {name} component, 0 to 1 (6 decimals), as a run's "
        f"`weights.{name}` (default {default:g}); the three weights must sum to 1.",
    )


def candidate_parameters(
    goals: Annotated[QueryWeight | None, _weight("goals")] = None,
    distance: Annotated[QueryWeight | None, _weight("distance")] = None,
    availability: Annotated[QueryWeight | None, _weight("availability")] = None,
    min_score: Annotated[
        Annotated[QueryNumber, rounded(SCORE_DECIMALS)] | None,
        Query(
            ge=0,
            le=1,
            description="Leave out the mentors scoring below this (0 to 1, 6 decimals), as a "
            "run would not propose them; `below_min_score` says how many. Default: none left "
            "out.",
        ),
    ] = None,
    needed_hours: Annotated[
        Annotated[QueryNumber, rounded(1)],
        Query(
            ge=0.5,
            le=20,
            multiple_of=0.5,
            description="Weekly hours in common that give a full availability component (0.5 "
            "to 20, in half hours), as a run's `needed_hours`.",
        ),
    ] = 2,
) -> CandidateParameters:
    given = {"goals": goals, "distance": distance, "availability": availability}
    values = {
        name: getattr(_DEFAULT_WEIGHTS, name) if value is None else value
        for name, value in given.items()
    }
    total = math.fsum(values.values())
    if abs(total - 1) > WEIGHT_SUM_TOLERANCE:
        raise InvalidInput(
            f"weights must sum to 1 (they sum to {total:g}); a weight left out counts its default.",
            field=("query", "weights"),
        )
    return CandidateParameters(Weights(**values), min_score, needed_hours)
