"""Explanations as JSON text, built over arrays: what `explanations_json` gives as dicts, for
the many pairs a run writes at once (PostgreSQL parses the text into the JSONB column).

Every number is the float64 that `explanations_json` holds, written as the shortest text that
reads back to it, so that the stored explanation is the same whichever way it was built.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import numpy.typing as npt

from mentorat import vocabulary
from mentorat.matching.scoring import FeasiblePairs

_COMPONENTS = ("goals", "distance", "availability")


def explanation_texts(pairs: FeasiblePairs, positions: npt.ArrayLike) -> list[str]:
    """The JSON text of `explanation_json(pairs, k)` for every k in positions, in order."""
    at = np.asarray(positions, dtype=np.intp).reshape(-1)
    if len(at) == 0:
        return []
    details = pairs.details(at)
    weights = pairs.weights.as_dict()
    components = {name: getattr(details, name).astype(np.float64) for name in _COMPONENTS}
    contributions = {name: weights[name] * components[name] for name in _COMPONENTS}
    # The parts that vary, in the order of the template's fields.
    columns: list[Any] = [
        _numbers(pairs.score[at]),
        *(_numbers(components[name]) for name in _COMPONENTS),
        *(_numbers(contributions[name]) for name in _COMPONENTS),
        _numbers(details.distance_km),
        _numbers(details.overlap_slots / 2),
        _goal_lists(details.common_goals),
    ]
    template = (
        '{{"score": {}, "components": {{"goals": {}, "distance": {}, "availability": {}}}, '
        f'"weights": {_escape(json.dumps(weights))}, '
        '"contributions": {{"goals": {}, "distance": {}, "availability": {}}}, '
        '"distance_km": {}, "overlap_hours": {}, '
        f'"needed_hours": {_escape(json.dumps(pairs.needed_slots / 2))}, '
        '"common_goals": {}}}'
    )
    return [template.format(*row) for row in zip(*columns, strict=True)]


def _numbers(values: npt.NDArray[Any]) -> list[str]:
    """Each value as a float64 in the shortest text that reads back to it (as `repr` writes
    it, hence as `json.dumps` does). Formatting is the cost, so each distinct value is
    formatted once: most components take few values (shares of goals, hours)."""
    distinct, inverse = np.unique(np.asarray(values, dtype=np.float64), return_inverse=True)
    return distinct.astype(str)[inverse.reshape(-1)].tolist()  # type: ignore[no-any-return]


def _goal_lists(masks: npt.NDArray[np.uint32]) -> list[str]:
    """Each goal mask as the JSON list of its goal codes, one `json.dumps` per distinct mask."""
    distinct, inverse = np.unique(masks, return_inverse=True)
    texts = np.array([json.dumps(vocabulary.mask_to_goals(int(mask))) for mask in distinct])
    return texts[inverse.reshape(-1)].tolist()  # type: ignore[no-any-return]


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")
