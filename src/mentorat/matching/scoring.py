"""Pure, vectorised scoring of child-mentor pairs: hard constraints, components, score.

No I/O. Every (child, mentor) pair is considered, in chunks of rows so that memory stays
bounded. The only dense per-pair work is a geometric prefilter (one small matrix product);
everything else is computed on the sparse list of pairs that pass it, and the counts of
infeasible pairs by primary reason are derived by set arithmetic (see `score_pairs`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from enum import IntEnum
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from mentorat import vocabulary

EARTH_RADIUS_KM = 6371.0088
# Candidate pairs examined at once: ~60 bytes of temporaries each. 1M was as fast as 4M
# (benchmarks/matching.py --dense-cases) for a quarter of the memory.
DEFAULT_CHUNK_PAIRS = 1_000_000
# The API keeps weights to 6 decimals, so (1/3, 1/3, 1/3) arrives as 0.333333 three times.
WEIGHT_SUM_TOLERANCE = 1e-5
# Bound on the float32 error of the unit-vector dot product used as a prefilter (~3e-7 in the
# worst case), with a safety factor: the prefilter must keep every pair within the radius.
_PREFILTER_MARGIN = 2e-6
_AVAILABILITY_WORDS = 6  # 42 bytes padded to 48 = 6 uint64 words

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.integer[Any]]
BoolArray = npt.NDArray[np.bool_]


class Reason(IntEnum):
    """Why a pair is infeasible, in priority order: the first that applies is the primary one."""

    MENTOR_INACTIVE = 0
    NO_AGREEMENT = 1
    NO_HONORABILITY = 2
    NO_CAPACITY = 3
    CHILD_NOT_ELIGIBLE = 4
    GENDER = 5
    LANGUAGE = 6
    EXCLUDED = 7
    DECLINED_RECENTLY = 8
    TOO_FAR = 9
    NO_COMMON_AVAILABILITY = 10

    @property
    def code(self) -> str:
        return REASON_CODES[self]


REASON_CODES: dict[Reason, str] = {
    Reason.MENTOR_INACTIVE: "mentor_inactive",
    Reason.NO_AGREEMENT: "no_agreement",
    Reason.NO_HONORABILITY: "no_valid_honorability_check",
    Reason.NO_CAPACITY: "no_capacity_left",
    Reason.CHILD_NOT_ELIGIBLE: "child_not_eligible",
    Reason.GENDER: "gender_preference_not_met",
    Reason.LANGUAGE: "language_preference_not_met",
    Reason.EXCLUDED: "pair_excluded",
    Reason.DECLINED_RECENTLY: "declined_recently",
    Reason.TOO_FAR: "too_far",
    Reason.NO_COMMON_AVAILABILITY: "no_common_availability",
}

_GOAL_BITS_MASK = (1 << len(vocabulary.GOAL_CODES)) - 1
_LANGUAGE_BITS_MASK = (1 << len(vocabulary.LANGUAGES)) - 1


# --------------------------------------------------------------------------- inputs


def _coerce_fields(instance: object, specs: dict[str, tuple[type, bool]]) -> int:
    """Cast every array field to its dtype (contiguous) and check a common length.

    specs maps field name -> (dtype, is_availability). Returns the number of rows.
    """
    length: int | None = None
    for name, (dtype, is_availability) in specs.items():
        array = np.ascontiguousarray(getattr(instance, name), dtype=dtype)
        expected_ndim = 2 if is_availability else 1
        if array.ndim != expected_ndim:
            raise ValueError(f"{name} must have {expected_ndim} dimension(s), got {array.shape}")
        if is_availability and array.shape[1] != vocabulary.AVAILABILITY_BYTES:
            raise ValueError(f"{name} must have {vocabulary.AVAILABILITY_BYTES} bytes per row")
        if length is None:
            length = array.shape[0]
        elif array.shape[0] != length:
            raise ValueError(f"{name} has {array.shape[0]} rows, expected {length}")
        object.__setattr__(instance, name, array)
    if length is None:
        raise ValueError("no arrays to check")
    return length


def _check_coordinates(lat: FloatArray, lon: FloatArray) -> None:
    if not (np.all(np.isfinite(lat)) and np.all(np.isfinite(lon))):
        raise ValueError("coordinates must be finite")
    if np.any(np.abs(lat) > 90) or np.any(np.abs(lon) > 180):
        raise ValueError("latitude must be in [-90, 90] and longitude in [-180, 180]")


def _check_masks(goals: IntArray, languages: IntArray) -> None:
    if np.any(goals & np.uint32(~_GOAL_BITS_MASK & 0xFFFFFFFF)):
        raise ValueError("goal mask has a bit outside the goal vocabulary")
    if np.any(languages & np.uint64(~_LANGUAGE_BITS_MASK & 0xFFFFFFFFFFFFFFFF)):
        raise ValueError("language mask has a bit outside the language vocabulary")


def _check_gender_codes(name: str, codes: IntArray) -> None:
    if np.any((codes < 0) | (codes > len(vocabulary.GENDERS))):
        raise ValueError(f"{name} must be 0 or 1 + an index in vocabulary.GENDERS")


@dataclass(frozen=True, eq=False)
class ChildArrays:
    """Children as columns. Arrays are cast to their dtype and checked on construction."""

    lat: FloatArray
    lon: FloatArray
    goals: IntArray  # uint32 goal bitmask
    availability: IntArray  # uint8 [n, 42], packbits order
    remote_ok: BoolArray
    mentor_gender_preference: IntArray  # int8: 0 none, else 1 + index in GENDERS
    languages: IntArray  # uint64: languages wanted from the mentor, 0 = no preference
    eligible: BoolArray

    def __post_init__(self) -> None:
        _coerce_fields(
            self,
            {
                "lat": (np.float32, False),
                "lon": (np.float32, False),
                "goals": (np.uint32, False),
                "availability": (np.uint8, True),
                "remote_ok": (np.bool_, False),
                "mentor_gender_preference": (np.int8, False),
                "languages": (np.uint64, False),
                "eligible": (np.bool_, False),
            },
        )
        _check_coordinates(self.lat, self.lon)
        _check_masks(self.goals, self.languages)
        _check_gender_codes("mentor_gender_preference", self.mentor_gender_preference)

    def __len__(self) -> int:
        return int(self.lat.shape[0])

    def take(self, rows: npt.NDArray[np.intp], **changes: Any) -> ChildArrays:
        """These children's `rows`, in that order, with `changes` (whole columns) applied."""
        values = {column.name: getattr(self, column.name)[rows] for column in fields(self)}
        return ChildArrays(**{**values, **changes})


@dataclass(frozen=True, eq=False)
class MentorArrays:
    """Mentors as columns. Arrays are cast to their dtype and checked on construction."""

    lat: FloatArray
    lon: FloatArray
    radius_km: FloatArray
    goals: IntArray  # uint32 goal bitmask
    availability: IntArray  # uint8 [m, 42], packbits order
    remote_ok: BoolArray
    gender: IntArray  # int8: 0 unknown, else 1 + index in GENDERS
    languages: IntArray  # uint64 spoken languages
    active: BoolArray  # active and not deleted
    # The association has an agreement with the children's département in force on the run date.
    agreement_ok: BoolArray
    honorability_ok: BoolArray  # valid on the run date
    capacity_left: IntArray  # int32, may be 0

    def __post_init__(self) -> None:
        _coerce_fields(
            self,
            {
                "lat": (np.float32, False),
                "lon": (np.float32, False),
                "radius_km": (np.float32, False),
                "goals": (np.uint32, False),
                "availability": (np.uint8, True),
                "remote_ok": (np.bool_, False),
                "gender": (np.int8, False),
                "languages": (np.uint64, False),
                "active": (np.bool_, False),
                "agreement_ok": (np.bool_, False),
                "honorability_ok": (np.bool_, False),
                "capacity_left": (np.int32, False),
            },
        )
        _check_coordinates(self.lat, self.lon)
        if not np.all(np.isfinite(self.radius_km)) or np.any(self.radius_km < 0):
            raise ValueError("radius_km must be finite and non-negative")
        _check_masks(self.goals, self.languages)
        _check_gender_codes("gender", self.gender)

    def __len__(self) -> int:
        return int(self.lat.shape[0])


@dataclass(frozen=True, slots=True)
class Weights:
    """Weights of the score components: non-negative, summing to 1."""

    goals: float = 0.5
    distance: float = 0.3
    availability: float = 0.2

    def __post_init__(self) -> None:
        values = (self.goals, self.distance, self.availability)
        if not all(math.isfinite(value) and value >= 0 for value in values):
            raise ValueError(f"weights must be finite and non-negative, got {values}")
        if abs(math.fsum(values) - 1.0) > WEIGHT_SUM_TOLERANCE:
            raise ValueError(f"weights must sum to 1, got {math.fsum(values)}")

    def as_dict(self) -> dict[str, float]:
        return {"goals": self.goals, "distance": self.distance, "availability": self.availability}


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, eq=False)
class FeasiblePairs:
    """Feasible pairs only, sorted by (child_index, mentor_index), and why the others are not.

    primary_reason_counts[i, r] counts the mentors infeasible for child i whose primary
    reason is Reason(r); for each child it sums with its feasible pairs to n_mentors.

    Only the pair indices and scores are stored (10 bytes a pair): the components and the
    other details of a pair are recomputed, by the same functions, when asked for (`details`
    for a few pairs, or the attributes of the same names for all of them). On an instance
    where almost every pair is feasible this is what keeps memory below a dense matrix's.
    """

    child_index: npt.NDArray[np.int32]
    mentor_index: npt.NDArray[np.int32]
    score: FloatArray
    primary_reason_counts: npt.NDArray[np.int64]
    n_children: int
    n_mentors: int
    weights: Weights
    needed_slots: int
    _prepared: _Prepared | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return int(self.child_index.shape[0])

    def child_slice(self, child: int) -> slice:
        """The positions of one child's feasible pairs."""
        start, stop = np.searchsorted(self.child_index, [child, child + 1])
        return slice(int(start), int(stop))

    def position(self, child: int, mentor: int) -> int | None:
        """Position of a pair, or None when it is not feasible."""
        rows = self.child_slice(child)
        offset = int(np.searchsorted(self.mentor_index[rows], mentor))
        k = rows.start + offset
        if k < rows.stop and int(self.mentor_index[k]) == mentor:
            return k
        return None

    def positions(self, child: npt.ArrayLike, mentor: npt.ArrayLike) -> npt.NDArray[np.intp]:
        """Positions of many pairs at once; -1 for a pair that is not feasible (or whose child
        or mentor index is negative: not loaded)."""
        child = np.asarray(child, dtype=np.int64)
        mentor = np.asarray(mentor, dtype=np.int64)
        keys = self.child_index.astype(np.int64) * self.n_mentors + self.mentor_index
        wanted = child * self.n_mentors + mentor
        found = np.searchsorted(keys, wanted)
        hit = (child >= 0) & (mentor >= 0) & (found < len(keys))
        hit[hit] = keys[found[hit]] == wanted[hit]
        return np.where(hit, found, -1)

    def primary_reason(self, child: int) -> Reason:
        """The reason that rules out most of this child's infeasible mentors (for a single
        pair: why it is infeasible)."""
        return Reason(int(self.primary_reason_counts[child].argmax()))

    def excluded_by_reason(self, child: int) -> dict[str, int]:
        """How many mentors each hard constraint ruled out first for this child."""
        counts = self.primary_reason_counts[child]
        return {REASON_CODES[Reason(r)]: int(c) for r, c in enumerate(counts) if c}

    def details(self, positions: npt.ArrayLike) -> PairDetails:
        """Components and details of the pairs at these positions."""
        at = np.asarray(positions, dtype=np.intp)
        if self._prepared is None:
            raise ValueError("these pairs carry no inputs to recompute their details from")
        return _pair_details(self._prepared, self.child_index[at], self.mentor_index[at])

    @cached_property
    def _all_details(self) -> PairDetails:
        return self.details(np.arange(len(self)))

    @property
    def goals(self) -> FloatArray:
        return self._all_details.goals

    @property
    def distance(self) -> FloatArray:
        return self._all_details.distance

    @property
    def availability(self) -> FloatArray:
        return self._all_details.availability

    @property
    def distance_km(self) -> FloatArray:
        return self._all_details.distance_km

    @property
    def overlap_slots(self) -> npt.NDArray[np.int16]:
        return self._all_details.overlap_slots

    @property
    def common_goals(self) -> npt.NDArray[np.uint32]:
        return self._all_details.common_goals


@dataclass(frozen=True)
class PairDetails:
    """Score components (each in [0, 1]) and details of feasible pairs."""

    goals: FloatArray
    distance: FloatArray
    availability: FloatArray
    distance_km: FloatArray
    overlap_slots: npt.NDArray[np.int16]
    common_goals: npt.NDArray[np.uint32]


def explain(pairs: FeasiblePairs, k: int) -> dict[str, Any]:
    """One feasible pair as plain data, with a check that its components add up to its score."""
    return explain_many(pairs, [k])[0]


def explain_many(pairs: FeasiblePairs, positions: npt.ArrayLike) -> list[dict[str, Any]]:
    """`explain` for several pairs, their details recomputed in one vectorised pass."""
    at = np.asarray(positions, dtype=np.intp).reshape(-1)
    details = pairs.details(at)
    weights = pairs.weights.as_dict()
    explained = []
    for i, k in enumerate(at.tolist()):
        components = {
            "goals": float(details.goals[i]),
            "distance": float(details.distance[i]),
            "availability": float(details.availability[i]),
        }
        contributions = {name: weights[name] * value for name, value in components.items()}
        score = float(pairs.score[k])
        weighted_sum = math.fsum(contributions.values())
        overlap = int(details.overlap_slots[i])
        explained.append(
            {
                "child_index": int(pairs.child_index[k]),
                "mentor_index": int(pairs.mentor_index[k]),
                "score": score,
                "components": components,
                "weights": weights,
                "contributions": contributions,
                "distance_km": float(details.distance_km[i]),
                "overlap_slots": overlap,
                "overlap_hours": overlap / 2,
                "needed_hours": pairs.needed_slots / 2,
                "common_goals": vocabulary.mask_to_goals(int(details.common_goals[i])),
                "weighted_sum": weighted_sum,
                # float32 storage of components and score: agreement to 1e-6 is exact enough.
                "weighted_sum_matches_score": abs(weighted_sum - score) <= 1e-6,
            }
        )
    return explained


PUBLIC_EXPLANATION_KEYS = (
    "score",
    "components",
    "weights",
    "contributions",
    "distance_km",
    "overlap_hours",
    "needed_hours",
    "common_goals",
)


def explanation_json(pairs: FeasiblePairs, k: int) -> dict[str, Any]:
    """The part of `explain` shown to people and stored with proposals."""
    return explanations_json(pairs, [k])[0]


def explanations_json(pairs: FeasiblePairs, positions: npt.ArrayLike) -> list[dict[str, Any]]:
    """`explanation_json` for several pairs at once."""
    return [
        {key: full[key] for key in PUBLIC_EXPLANATION_KEYS}
        for full in explain_many(pairs, positions)
    ]


# --------------------------------------------------------------------------- geometry


def haversine_km(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Great-circle distance in km (float64), element-wise with broadcasting."""
    first, second = _Sphere.of(lat1, lon1), _Sphere.of(lat2, lon2)
    return _haversine(first.phi, first.lam, first.cos_phi, second.phi, second.lam, second.cos_phi)


def _haversine(
    phi1: npt.NDArray[np.float64],
    lam1: npt.NDArray[np.float64],
    cos_phi1: npt.NDArray[np.float64],
    phi2: npt.NDArray[np.float64],
    lam2: npt.NDArray[np.float64],
    cos_phi2: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    a = np.sin((phi2 - phi1) / 2) ** 2 + cos_phi1 * cos_phi2 * np.sin((lam2 - lam1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@dataclass(frozen=True)
class _Sphere:
    """Radians and cos(latitude) of points, computed once per call rather than once per pair."""

    phi: npt.NDArray[np.float64]
    lam: npt.NDArray[np.float64]
    cos_phi: npt.NDArray[np.float64]

    @classmethod
    def of(cls, lat: npt.ArrayLike, lon: npt.ArrayLike) -> _Sphere:
        phi = np.radians(np.asarray(lat, dtype=np.float64))
        return cls(phi, np.radians(np.asarray(lon, dtype=np.float64)), np.cos(phi))

    def distance_km(
        self, index: IntArray, other: _Sphere, other_index: IntArray
    ) -> npt.NDArray[np.float64]:
        return _haversine(
            self.phi[index],
            self.lam[index],
            self.cos_phi[index],
            other.phi[other_index],
            other.lam[other_index],
            other.cos_phi[other_index],
        )

    def unit_vectors(self, index: IntArray) -> FloatArray:
        """Points on the unit sphere, [k, 3] float32: cos(angle between two) is their dot."""
        cos_phi, lam = self.cos_phi[index], self.lam[index]
        xyz = np.empty((len(cos_phi), 3), dtype=np.float32)
        xyz[:, 0] = cos_phi * np.cos(lam)
        xyz[:, 1] = cos_phi * np.sin(lam)
        xyz[:, 2] = np.sin(self.phi[index])
        return xyz


def _dot_thresholds(radius_km: FloatArray) -> FloatArray:
    """Lowest dot product of unit vectors a pair within the radius can have, minus a margin.

    haversine d <= r  <=>  cos(d / R) >= cos(r / R)  <=>  u . v >= cos(r / R).
    """
    angle = np.minimum(radius_km.astype(np.float64) / EARTH_RADIUS_KM, np.pi)
    return (np.cos(angle) - _PREFILTER_MARGIN).astype(np.float32)


def _availability_words(availability: IntArray) -> npt.NDArray[np.uint64]:
    """[42]-byte rows padded to 48 bytes, as [6, n] uint64 words (one contiguous row per word)."""
    padded = np.zeros((availability.shape[0], 8 * _AVAILABILITY_WORDS), dtype=np.uint8)
    padded[:, : availability.shape[1]] = availability
    return np.ascontiguousarray(padded.view(np.uint64).T)


# --------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class _Prepared:
    """Per-call precomputation shared by every chunk."""

    children: ChildArrays
    mentors: MentorArrays
    weights: Weights
    needed_slots: int
    chunk_pairs: int
    exclusion_keys: npt.NDArray[np.int64]  # sorted unique child * n_mentors + mentor
    decline_keys: npt.NDArray[np.int64]  # the same, for pairs declined recently
    child_rows: npt.NDArray[np.intp]  # eligible children
    child_position: npt.NDArray[np.intp]  # [n_children]: index in child_rows (if eligible)
    mentor_cols: npt.NDArray[np.intp]  # usable (active, agreement, honorable, places left)
    child_unit: FloatArray  # [len(child_rows), 3]
    mentor_unit_t: FloatArray  # [3, len(mentor_cols)]
    mentor_threshold: FloatArray  # [len(mentor_cols)]
    remote_child_rows: npt.NDArray[np.intp]  # positions in child_rows
    remote_mentor_cols: npt.NDArray[np.intp]  # positions in mentor_cols
    child_words: npt.NDArray[np.uint64]
    mentor_words: npt.NDArray[np.uint64]
    child_sphere: _Sphere
    mentor_sphere: _Sphere


@dataclass(frozen=True)
class _ChunkResult:
    child_index: npt.NDArray[np.int32]
    mentor_index: npt.NDArray[np.int32]
    score: FloatArray
    reachable_per_row: npt.NDArray[np.int64]  # per child of the chunk: pass all but availability


def score_pairs(
    children: ChildArrays,
    mentors: MentorArrays,
    weights: Weights | None = None,
    exclusions: npt.ArrayLike | None = None,
    needed_slots: int = 4,
    chunk_pairs: int = DEFAULT_CHUNK_PAIRS,
    prepared_mentors: PreparedMentors | None = None,
    declines: npt.ArrayLike | None = None,
) -> FeasiblePairs:
    """Score every (child, mentor) pair; return the feasible ones and reason counts.

    `prepared_mentors`: `prepare_mentors(mentors)` computed once for many calls (optional).
    `exclusions` and `declines`: [k, 2] (child, mentor) index pairs ruled out by an educator,
    and declined recently (a pair may be in both; the exclusion then comes first).

    Hard constraints, in priority order, are the members of `Reason`. For each eligible child
    i and the usable mentors U (active, under agreement, honorable, capacity left), with G_i
    the mentors meeting the gender preference, GL_i those also meeting the language
    preference, X_i the excluded mentors in GL_i, D_i the mentors of GL_i declined recently
    and not excluded, and R_i the mentors of GL_i neither excluded nor declined and within
    reach (radius, or both remote): the primary reason counts are |U|-|G_i|, |G_i|-|GL_i|,
    |X_i|, |D_i|, |GL_i|-|X_i|-|D_i|-|R_i| and |R_i| - feasible_i. |G_i|, |GL_i|, |X_i| and
    |D_i| need no pair enumeration; R_i is a subset of the geometric prefilter's candidates,
    so only those are examined pair by pair.
    """
    weights = weights if weights is not None else Weights()
    if isinstance(needed_slots, bool) or not isinstance(needed_slots, int | np.integer):
        raise ValueError("needed_slots must be an integer")
    if needed_slots < 1:
        raise ValueError("needed_slots must be at least 1")
    if chunk_pairs < 1:
        raise ValueError("chunk_pairs must be at least 1")
    n, m = len(children), len(mentors)
    prepared = _prepare(
        children, mentors, weights, int(needed_slots), exclusions, declines, chunk_pairs,
        prepared_mentors,
    )  # fmt: skip
    counts, not_excluded = _reason_counts_without_pairs(prepared)

    chunks = _row_chunks(len(prepared.child_rows), len(prepared.mentor_cols), chunk_pairs)
    parts: dict[str, list[npt.NDArray[Any]]] = {name: [] for name in _RESULT_DTYPES}
    reachable = np.zeros(n, dtype=np.int64)
    for rows in chunks:
        result = _score_chunk(prepared, rows)
        reachable[prepared.child_rows[rows]] = result.reachable_per_row
        for name, values in parts.items():
            values.append(getattr(result, name))
        del result
    # One field at a time, its parts dropped once joined: the peak is the pairs plus one field.
    merged = {}
    for name, dtype in _RESULT_DTYPES.items():
        merged[name] = np.concatenate(parts.pop(name)) if chunks else np.empty(0, dtype=dtype)
    feasible = np.bincount(merged["child_index"], minlength=n).astype(np.int64)

    rows = prepared.child_rows
    counts[rows, Reason.TOO_FAR] = not_excluded - reachable[rows]
    counts[rows, Reason.NO_COMMON_AVAILABILITY] = reachable[rows] - feasible[rows]
    return FeasiblePairs(
        **merged,
        primary_reason_counts=counts,
        n_children=n,
        n_mentors=m,
        weights=weights,
        needed_slots=int(needed_slots),
        _prepared=prepared,
    )


_RESULT_DTYPES: dict[str, type] = {
    "child_index": np.int32,
    "mentor_index": np.int32,
    "score": np.float32,
}


def _pair_keys(
    pairs_like: npt.ArrayLike | None, n: int, m: int, name: str
) -> npt.NDArray[np.int64]:
    """[k, 2] (child, mentor) index pairs as sorted unique keys child * m + mentor."""
    if pairs_like is None:
        return np.empty(0, dtype=np.int64)
    pairs = np.asarray(pairs_like)
    if pairs.size == 0:
        return np.empty(0, dtype=np.int64)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or not np.issubdtype(pairs.dtype, np.integer):
        raise ValueError(f"{name} must be an integer array of shape [k, 2]")
    pairs = pairs.astype(np.int64)
    if np.any(pairs < 0) or np.any(pairs[:, 0] >= n) or np.any(pairs[:, 1] >= m):
        raise ValueError(f"{name} refer to a child or mentor index out of range")
    return np.unique(pairs[:, 0] * m + pairs[:, 1])


@dataclass(frozen=True, eq=False)
class PreparedMentors:
    """What scoring computes from the mentors alone, whatever the children: keep it with the
    mentors (`prepare_mentors`) to score many children against them (candidates)."""

    mentors: MentorArrays
    cols: npt.NDArray[np.intp]  # usable: active, under agreement, honorable, capacity left
    unit_t: FloatArray  # [3, len(cols)]
    threshold: FloatArray  # [len(cols)]
    remote_cols: npt.NDArray[np.intp]  # positions in cols
    words: npt.NDArray[np.uint64]
    sphere: _Sphere


def prepare_mentors(mentors: MentorArrays) -> PreparedMentors:
    usable = (
        mentors.active
        & mentors.agreement_ok
        & mentors.honorability_ok
        & (mentors.capacity_left > 0)
    )
    cols = np.flatnonzero(usable)
    sphere = _Sphere.of(mentors.lat, mentors.lon)
    return PreparedMentors(
        mentors=mentors,
        cols=cols,
        unit_t=np.ascontiguousarray(sphere.unit_vectors(cols).T),
        threshold=_dot_thresholds(mentors.radius_km[cols]),
        remote_cols=np.flatnonzero(mentors.remote_ok[cols]),
        words=_availability_words(mentors.availability),
        sphere=sphere,
    )


def _prepare(
    children: ChildArrays,
    mentors: MentorArrays,
    weights: Weights,
    needed_slots: int,
    exclusions: npt.ArrayLike | None,
    declines: npt.ArrayLike | None,
    chunk_pairs: int,
    prepared_mentors: PreparedMentors | None = None,
) -> _Prepared:
    if prepared_mentors is None:
        prepared_mentors = prepare_mentors(mentors)
    elif prepared_mentors.mentors is not mentors:
        raise ValueError("prepared_mentors were prepared for other mentors")
    side = prepared_mentors
    child_rows = np.flatnonzero(children.eligible)
    child_sphere = _Sphere.of(children.lat, children.lon)
    n, m = len(children), len(mentors)
    exclusion_keys = _pair_keys(exclusions, n, m, "exclusions")
    decline_keys = _pair_keys(declines, n, m, "declines")
    return _Prepared(
        children=children,
        mentors=mentors,
        weights=weights,
        needed_slots=needed_slots,
        chunk_pairs=chunk_pairs,
        exclusion_keys=exclusion_keys,
        # An excluded pair counts as excluded only: the declines keep the others.
        decline_keys=np.setdiff1d(decline_keys, exclusion_keys, assume_unique=True),
        child_rows=child_rows,
        child_position=np.cumsum(children.eligible) - 1,
        mentor_cols=side.cols,
        child_unit=child_sphere.unit_vectors(child_rows),
        mentor_unit_t=side.unit_t,
        mentor_threshold=side.threshold,
        remote_child_rows=np.flatnonzero(children.remote_ok[child_rows]),
        remote_mentor_cols=side.remote_cols,
        child_words=_availability_words(children.availability),
        mentor_words=side.words,
        child_sphere=child_sphere,
        mentor_sphere=side.sphere,
    )


def _reason_counts_without_pairs(
    prepared: _Prepared,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Reason counts that need no pair enumeration, and |GL_i| - |X_i| for eligible children.

    TOO_FAR and NO_COMMON_AVAILABILITY are left at 0 for the caller to fill in.
    """
    mentors, children = prepared.mentors, prepared.children
    counts = np.zeros((len(children), len(Reason)), dtype=np.int64)
    inactive = ~mentors.active
    no_agreement = mentors.active & ~mentors.agreement_ok
    no_honorability = mentors.active & mentors.agreement_ok & ~mentors.honorability_ok
    no_capacity = (
        mentors.active
        & mentors.agreement_ok
        & mentors.honorability_ok
        & (mentors.capacity_left <= 0)
    )
    counts[:, Reason.MENTOR_INACTIVE] = np.count_nonzero(inactive)
    counts[:, Reason.NO_AGREEMENT] = np.count_nonzero(no_agreement)
    counts[:, Reason.NO_HONORABILITY] = np.count_nonzero(no_honorability)
    counts[:, Reason.NO_CAPACITY] = np.count_nonzero(no_capacity)
    n_usable = len(prepared.mentor_cols)
    counts[~children.eligible, Reason.CHILD_NOT_ELIGIBLE] = n_usable

    rows = prepared.child_rows
    gender_ok, gender_language_ok = _preference_counts(prepared)
    excluded = _ruled_out_counts(prepared, prepared.exclusion_keys)[rows]
    declined = _ruled_out_counts(prepared, prepared.decline_keys)[rows]
    counts[rows, Reason.GENDER] = n_usable - gender_ok
    counts[rows, Reason.LANGUAGE] = gender_ok - gender_language_ok
    counts[rows, Reason.EXCLUDED] = excluded
    counts[rows, Reason.DECLINED_RECENTLY] = declined
    return counts, gender_language_ok - excluded - declined


def _gender_ok(preference: IntArray, gender: IntArray) -> BoolArray:
    return (preference == 0) | (gender == preference)


def _language_ok(wanted: IntArray, spoken: IntArray) -> BoolArray:
    return (wanted == 0) | ((wanted & spoken) != 0)


def _preference_counts(prepared: _Prepared) -> tuple[IntArray, IntArray]:
    """|G_i| and |GL_i| for the eligible children, one computation per distinct preference."""
    children, mentors = prepared.children, prepared.mentors
    rows, cols = prepared.child_rows, prepared.mentor_cols
    preference = children.mentor_gender_preference[rows]
    wanted = children.languages[rows]
    mentor_gender = mentors.gender[cols]
    spoken = mentors.languages[cols]

    by_gender = np.bincount(mentor_gender, minlength=len(vocabulary.GENDERS) + 1)
    by_gender[0] = len(cols)  # preference 0: every usable mentor
    gender_ok = by_gender[preference].astype(np.int64)

    keys = np.stack([preference.astype(np.uint64), wanted], axis=1)
    distinct, inverse = np.unique(keys, axis=0, return_inverse=True)
    distinct_count = np.zeros(len(distinct), dtype=np.int64)
    step = max(1, prepared.chunk_pairs // max(1, len(cols)))
    for start in range(0, len(distinct), step):
        block = distinct[start : start + step]
        ok = _gender_ok(block[:, :1].astype(np.int8), mentor_gender[None, :])
        ok &= _language_ok(block[:, 1:], spoken[None, :])
        distinct_count[start : start + step] = np.count_nonzero(ok, axis=1)
    return gender_ok, distinct_count[inverse.reshape(-1)]


def _ruled_out_counts(prepared: _Prepared, keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """|X_i| (or |D_i|): pairs of `keys` on eligible children and usable mentors meeting
    both preferences."""
    children, mentors = prepared.children, prepared.mentors
    m = len(mentors)
    child = keys // m
    mentor = keys % m
    usable = np.zeros(m, dtype=bool)
    usable[prepared.mentor_cols] = True
    keep = children.eligible[child] & usable[mentor]
    keep &= _gender_ok(children.mentor_gender_preference[child], mentors.gender[mentor])
    keep &= _language_ok(children.languages[child], mentors.languages[mentor])
    return np.bincount(child[keep], minlength=len(children)).astype(np.int64)


def _row_chunks(n_rows: int, n_cols: int, chunk_pairs: int) -> list[slice]:
    if n_rows == 0 or n_cols == 0:
        return []
    step = max(1, chunk_pairs // n_cols)
    return [slice(start, min(start + step, n_rows)) for start in range(0, n_rows, step)]


def _candidates(prepared: _Prepared, rows: slice) -> tuple[IntArray, IntArray]:
    """Global (child, mentor) indices of the chunk's pairs that may be within reach."""
    # einsum rather than BLAS: as fast for an inner dimension of 3, single-threaded, so it
    # does not fight other work for cores (OpenBLAS threads spin after each call).
    near = np.einsum("ik,kj->ij", prepared.child_unit[rows], prepared.mentor_unit_t)
    near = near >= prepared.mentor_threshold[None, :]
    remote_rows = prepared.remote_child_rows
    remote_rows = remote_rows[(remote_rows >= rows.start) & (remote_rows < rows.stop)]
    if len(remote_rows) and len(prepared.remote_mentor_cols):
        near[np.ix_(remote_rows - rows.start, prepared.remote_mentor_cols)] = True
    flat = np.flatnonzero(near)  # row-major: sorted by (child, mentor); faster than nonzero()
    local_row, local_col = np.divmod(flat, near.shape[1])
    return prepared.child_rows[rows][local_row], prepared.mentor_cols[local_col]


def _is_in(keys: npt.NDArray[np.int64], members: npt.NDArray[np.int64]) -> BoolArray:
    """Whether each key is among `members` (sorted)."""
    if len(members) == 0:
        return np.zeros(len(keys), dtype=bool)
    position = np.minimum(np.searchsorted(members, keys), len(members) - 1)
    return members[position] == keys


def _overlap_slots(prepared: _Prepared, child: IntArray, mentor: IntArray) -> IntArray:
    overlap = np.zeros(len(child), dtype=np.int16)
    for word in range(_AVAILABILITY_WORDS):
        common = prepared.child_words[word][child] & prepared.mentor_words[word][mentor]
        overlap += np.bitwise_count(common)
    return overlap


def _allowed(prepared: _Prepared, child: IntArray, mentor: IntArray) -> tuple[IntArray, IntArray]:
    """The pairs meeting the gender and language preferences, neither excluded nor declined."""
    children, mentors = prepared.children, prepared.mentors
    keep = _gender_ok(children.mentor_gender_preference[child], mentors.gender[mentor])
    keep &= _language_ok(children.languages[child], mentors.languages[mentor])
    keys = child.astype(np.int64) * len(mentors) + mentor
    keep &= ~_is_in(keys, prepared.exclusion_keys)
    keep &= ~_is_in(keys, prepared.decline_keys)
    return child[keep], mentor[keep]


def _score_chunk(prepared: _Prepared, rows: slice) -> _ChunkResult:
    children, mentors = prepared.children, prepared.mentors
    child, mentor = _allowed(prepared, *_candidates(prepared, rows))

    distance_km = prepared.child_sphere.distance_km(child, prepared.mentor_sphere, mentor)
    within = distance_km <= mentors.radius_km[mentor].astype(np.float64)
    reachable = within | (children.remote_ok[child] & mentors.remote_ok[mentor])
    child, mentor, distance_km, within = (
        a[reachable] for a in (child, mentor, distance_km, within)
    )
    reachable_per_row = np.bincount(
        prepared.child_position[child] - rows.start, minlength=rows.stop - rows.start
    )

    overlap = _overlap_slots(prepared, child, mentor)
    feasible = overlap > 0
    child, mentor, distance_km, within, overlap = (
        a[feasible] for a in (child, mentor, distance_km, within, overlap)
    )
    details = _details_of(prepared, child, mentor, distance_km, within, overlap)
    return _ChunkResult(
        child_index=child.astype(np.int32),
        mentor_index=mentor.astype(np.int32),
        score=_score(prepared.weights, details),
        reachable_per_row=reachable_per_row.astype(np.int64),
    )


def _score(weights: Weights, details: PairDetails) -> FloatArray:
    # Score from the stored float32 components, so explain() re-adds exactly what is stored.
    score = (
        weights.goals * details.goals.astype(np.float64)
        + weights.distance * details.distance.astype(np.float64)
        + weights.availability * details.availability.astype(np.float64)
    )
    return np.clip(score, 0.0, 1.0).astype(np.float32)


def _pair_details(prepared: _Prepared, child: IntArray, mentor: IntArray) -> PairDetails:
    """Details of feasible pairs, recomputed exactly as `_score_chunk` computed them."""
    distance_km = prepared.child_sphere.distance_km(child, prepared.mentor_sphere, mentor)
    within = distance_km <= prepared.mentors.radius_km[mentor].astype(np.float64)
    overlap = _overlap_slots(prepared, child, mentor)
    return _details_of(prepared, child, mentor, distance_km, within, overlap)


def _details_of(
    prepared: _Prepared,
    child: IntArray,
    mentor: IntArray,
    distance_km: npt.NDArray[np.float64],
    within: BoolArray,
    overlap: IntArray,
) -> PairDetails:
    children, mentors = prepared.children, prepared.mentors
    common_goals = children.goals[child] & mentors.goals[mentor]
    goals, distance, availability = _component_values(
        prepared, children.goals[child], common_goals, distance_km,
        mentors.radius_km[mentor].astype(np.float64), within, overlap,
    )  # fmt: skip
    return PairDetails(
        goals=goals,
        distance=distance,
        availability=availability,
        distance_km=distance_km.astype(np.float32),
        overlap_slots=overlap.astype(np.int16),
        common_goals=common_goals.astype(np.uint32),
    )


def _component_values(
    prepared: _Prepared,
    child_goals: IntArray,
    common_goals: IntArray,
    distance_km: npt.NDArray[np.float64],
    radius_km: npt.NDArray[np.float64],
    within: BoolArray,
    overlap: IntArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Goals, distance and availability components (float32) of feasible pairs."""
    n_child_goals = np.bitwise_count(child_goals)
    goals = np.where(
        n_child_goals == 0, 1.0, np.bitwise_count(common_goals) / np.maximum(n_child_goals, 1)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        closeness = np.where(radius_km > 0, 1.0 - distance_km / radius_km, 1.0)
    # Beyond the radius (both remote) the component is 0; radius 0 at distance 0 gives 1.
    distance = np.where(within, np.clip(closeness, 0.0, 1.0), 0.0)
    availability = np.minimum(1.0, overlap / prepared.needed_slots)
    return goals.astype(np.float32), distance.astype(np.float32), availability.astype(np.float32)


__all__ = [
    "DEFAULT_CHUNK_PAIRS",
    "EARTH_RADIUS_KM",
    "REASON_CODES",
    "ChildArrays",
    "FeasiblePairs",
    "MentorArrays",
    "PairDetails",
    "PreparedMentors",
    "Reason",
    "Weights",
    "explain",
    "explain_many",
    "explanation_json",
    "explanations_json",
    "haversine_km",
    "prepare_mentors",
    "score_pairs",
]
