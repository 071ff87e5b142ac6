"""Where mentors are missing: pure numpy/scipy over the matching's own arrays, no I/O.

The waiting children and the département's mentors go through the matching's scoring
(`score_pairs`) and its exact solver (`solve`, objective `coverage_first`), unchanged:

1. **Baseline.** The optimal run over the waiting children and the mentors with places left.
   Children it matches only wait for a run; the others wait for a mentor.
2. **Constraints, per unmatched child.** A hard constraint counts for a child when lifting it
   alone (and nothing else) gives the child at least one feasible mentor scoring at least
   `min_score`: the scoring is run again on the unmatched children with that constraint lifted
   (radius: everyone accepts remote; hours: the child is free all week; capacity: every
   mentor has a place; gender and language: the child states no preference; ...). A child can
   count under several constraints. `taken_by_others`: the child has feasible mentors but the
   optimal run gives them to other children; `below_min_score`: every feasible pair scores
   under `min_score`; `several_constraints`: no single lift is enough. `goals_not_covered` is
   soft (goals never block a pair): mentors are within reach (hours and places aside) but
   none of them shares a goal with the child.
3. **Groups.** Greedy leader clustering on the haversine distance: the child with the most
   ungrouped children within `cluster_km` leads a group of all of them, and so on until
   everyone is grouped (ties: the first child in id order). Every member is within
   `cluster_km` of its leader, so a group never chains across a département as single
   linkage does. Neighbours come from a k-d tree on unit vectors: a chord of
   2 sin(d / 2R) is exactly a great-circle distance of d.
4. **Profiles and gains.** One candidate mentor per group with unmatched children: placed at
   the medoid of those children, the département's median radius and capacity, the
   half-hour slots most common among them (as many as a median mentor offers), their most
   needed goals, their preferred gender and languages. A profile's gain is the number of
   children the optimal run matches with one more such mentor minus without it, solved on
   the components of the feasible graph the new mentor touches (components never compete,
   so this equals a full re-run). Greedy: the best profile is added to the pool and the
   gains are measured again; a profile may be chosen more than once. The matched count is a
   matroid rank over mentor places, hence submodular: a gain measured earlier bounds the
   gain now, so only the profiles whose bound could still win are measured again (lazy
   greedy), with the same choice as plain greedy, ties to the earliest group.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_array
from scipy.spatial import cKDTree

from mentorat import vocabulary
from mentorat.matching.scoring import (
    EARTH_RADIUS_KM,
    REASON_CODES,
    ChildArrays,
    FeasiblePairs,
    MentorArrays,
    Reason,
    Weights,
    haversine_km,
    score_pairs,
)
from mentorat.matching.solver import Solution, solve

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

TAKEN_BY_OTHERS = "taken_by_others"
BELOW_MIN_SCORE = "below_min_score"
SEVERAL_CONSTRAINTS = "several_constraints"
GOALS_NOT_COVERED = "goals_not_covered"
_MEDOID_ROWS = 512  # rows of distances at a time when looking for a medoid
DEFAULT_RADIUS_KM = 15.0  # a new mentor's default travel radius in the API


@dataclass(frozen=True)
class Parameters:
    """The run the report imagines: the matching's defaults."""

    weights: Weights = field(default_factory=Weights)
    needed_slots: int = 4
    min_score: float = 0.3
    cluster_km: float = 15.0
    limit: int = 5


@dataclass(frozen=True)
class TypicalMentor:
    """What a usual mentor of the département offers: medians over its usable mentors."""

    radius_km: float
    capacity: int
    slots: int
    goals: int
    languages: int


@dataclass(frozen=True)
class Group:
    members: IntArray  # waiting children, in index order
    medoid: int  # the member nearest to all the others (sum of distances)


@dataclass(frozen=True)
class Profile:
    """A synthetic mentor: the matching's arrays for it, and where it came from."""

    group: int
    anchor: int  # child index whose place the profile takes (medoid of the unmatched)
    radius_km: float
    capacity: int
    availability: npt.NDArray[np.uint8]  # [42] packed, like every availability
    goals: int
    languages: int
    gender: int  # 0 unknown, else 1 + index in GENDERS


@dataclass(frozen=True)
class Choice:
    profile: Profile
    gain: int
    matched_after: int
    gained_children: IntArray


@dataclass(frozen=True)
class Analysis:
    matched: BoolArray  # per waiting child, by the baseline run
    constraints: dict[str, BoolArray]  # code -> per waiting child (False when matched)
    groups: list[Group]
    group_of: IntArray  # per waiting child
    choices: list[Choice]
    baseline_matched: int


# --------------------------------------------------------------------------- arrays


def take_children(children: ChildArrays, rows: IntArray, **changes: Any) -> ChildArrays:
    values = {
        name: getattr(children, name)[rows]
        for name in (
            "lat", "lon", "goals", "availability", "remote_ok",
            "mentor_gender_preference", "languages", "eligible",
        )
    }  # fmt: skip
    return ChildArrays(**{**values, **changes})


def _remap_exclusions(exclusions: npt.NDArray[Any], rows: IntArray, n: int) -> IntArray:
    if not len(exclusions):
        return np.empty((0, 2), dtype=np.int64)
    position = np.full(n, -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    kept = exclusions[position[exclusions[:, 0]] >= 0].astype(np.int64)
    kept[:, 0] = position[kept[:, 0]]
    return kept


def _has_good_pair(pairs: FeasiblePairs, min_score: float) -> BoolArray:
    good = pairs.child_index[pairs.score >= min_score]
    return np.bincount(good, minlength=pairs.n_children) > 0


# --------------------------------------------------------------------------- constraints

_Lift = Callable[[ChildArrays, MentorArrays, IntArray], tuple[ChildArrays, MentorArrays, IntArray]]


def _lifts(children: ChildArrays, mentors: MentorArrays) -> dict[Reason, _Lift]:
    """How to lift each hard constraint alone; reasons without one are not reported."""
    n, m = len(children), len(mentors)
    return {
        Reason.MENTOR_INACTIVE: lambda c, t, x: (c, replace(t, active=np.ones(m, bool)), x),
        Reason.NO_HONORABILITY: lambda c, t, x: (
            c, replace(t, honorability_ok=np.ones(m, bool)), x
        ),
        Reason.NO_CAPACITY: lambda c, t, x: (
            c, replace(t, capacity_left=np.maximum(t.capacity_left, 1)), x
        ),
        Reason.GENDER: lambda c, t, x: (
            replace(c, mentor_gender_preference=np.zeros(n, np.int8)), t, x
        ),
        Reason.LANGUAGE: lambda c, t, x: (replace(c, languages=np.zeros(n, np.uint64)), t, x),
        Reason.EXCLUDED: lambda c, t, x: (c, t, np.empty((0, 2), dtype=np.int64)),
        Reason.TOO_FAR: lambda c, t, x: (
            replace(c, remote_ok=np.ones(n, bool)), replace(t, remote_ok=np.ones(m, bool)), x
        ),
        Reason.NO_COMMON_AVAILABILITY: lambda c, t, x: (
            replace(c, availability=np.full_like(c.availability, 0xFF)), t, x
        ),
    }  # fmt: skip


def unmatched_constraints(
    children: ChildArrays,
    mentors: MentorArrays,
    exclusions: IntArray,
    pairs: FeasiblePairs,
    matched: BoolArray,
    parameters: Parameters,
) -> dict[str, BoolArray]:
    """Per waiting child, which constraints keep it unmatched (see the module's docstring)."""
    n = len(children)
    unmatched = np.flatnonzero(~matched)
    flags: dict[str, BoolArray] = {}
    has_good = _has_good_pair(pairs, parameters.min_score)
    has_pair = np.bincount(pairs.child_index, minlength=n) > 0

    def per_child(values: BoolArray) -> BoolArray:
        full = np.zeros(n, dtype=bool)
        full[unmatched] = values
        return full

    flags[TAKEN_BY_OTHERS] = per_child(has_good[unmatched])
    flags[BELOW_MIN_SCORE] = per_child(has_pair[unmatched] & ~has_good[unmatched])
    blocked = ~has_pair[unmatched]
    sub_children = take_children(children, unmatched)
    sub_exclusions = _remap_exclusions(exclusions, unmatched, n)
    helped = np.zeros(len(unmatched), dtype=bool)
    for reason, lift in _lifts(sub_children, mentors).items():
        lifted_children, lifted_mentors, lifted_exclusions = lift(
            sub_children, mentors, sub_exclusions
        )
        lifted = score_pairs(
            lifted_children, lifted_mentors, parameters.weights, lifted_exclusions,
            parameters.needed_slots,
        )  # fmt: skip
        lifted_good = _has_good_pair(lifted, parameters.min_score) & blocked
        helped |= lifted_good
        flags[REASON_CODES[reason]] = per_child(lifted_good)
    flags[SEVERAL_CONSTRAINTS] = per_child(blocked & ~helped)
    flags[GOALS_NOT_COVERED] = per_child(
        _goals_not_covered(sub_children, mentors, sub_exclusions, parameters)
    )
    return flags


def _goals_not_covered(
    children: ChildArrays, mentors: MentorArrays, exclusions: IntArray, parameters: Parameters
) -> BoolArray:
    """Mentors within reach once hours and places are set aside, none sharing a goal."""
    free = replace(children, availability=np.full_like(children.availability, 0xFF))
    with_places = replace(mentors, capacity_left=np.maximum(mentors.capacity_left, 1))
    reach = score_pairs(free, with_places, parameters.weights, exclusions, parameters.needed_slots)
    n = len(children)
    within = np.bincount(reach.child_index, minlength=n) > 0
    sharing = np.bincount(reach.child_index[reach.common_goals != 0], minlength=n) > 0
    return within & ~sharing & (children.goals != 0)


# --------------------------------------------------------------------------- groups


def _unit_vectors(lat: npt.ArrayLike, lon: npt.ArrayLike) -> npt.NDArray[np.float64]:
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    lam = np.radians(np.asarray(lon, dtype=np.float64))
    return np.stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)], axis=1)


def neighbourhood(lat: npt.ArrayLike, lon: npt.ArrayLike, radius_km: float) -> csr_array:
    """Boolean n x n matrix: j within radius_km of i (great circle), the diagonal included."""
    points = _unit_vectors(lat, lon)
    n = len(points)
    chord = 2.0 * np.sin(min(radius_km / EARTH_RADIUS_KM, np.pi) / 2.0)
    close = cKDTree(points).query_pairs(chord * (1 + 1e-12), output_type="ndarray")
    rows = np.concatenate([close[:, 0], close[:, 1], np.arange(n)])
    cols = np.concatenate([close[:, 1], close[:, 0], np.arange(n)])
    return csr_array((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(n, n))


def leader_clusters(lat: npt.ArrayLike, lon: npt.ArrayLike, radius_km: float) -> IntArray:
    """Group label of each point; group k is led by the point with the most ungrouped points
    within radius_km when its turn comes. Labels in order of creation."""
    adjacency = neighbourhood(lat, lon, radius_km)
    n = adjacency.shape[0]
    labels = np.full(n, -1, dtype=np.int64)
    ungrouped = np.ones(n, dtype=np.int32)
    label = 0
    while label < n and ungrouped.any():
        reach = adjacency @ ungrouped
        reach[ungrouped == 0] = -1
        leader = int(np.argmax(reach))
        row = adjacency.indices[adjacency.indptr[leader] : adjacency.indptr[leader + 1]]
        members = row[ungrouped[row] == 1]
        labels[members] = label
        ungrouped[members] = 0
        label += 1
    return labels


def medoid(lat: npt.NDArray[Any], lon: npt.NDArray[Any], members: IntArray) -> int:
    """The member whose summed great-circle distance to the others is least (first on ties)."""
    total = np.zeros(len(members), dtype=np.float64)
    for start in range(0, len(members), _MEDOID_ROWS):
        rows = members[start : start + _MEDOID_ROWS]
        distances = haversine_km(
            lat[rows][:, None], lon[rows][:, None], lat[members][None, :], lon[members][None, :]
        )
        total[start : start + len(rows)] = distances.sum(axis=1)
    return int(members[int(np.argmin(total))])


def group_children(children: ChildArrays, cluster_km: float) -> tuple[list[Group], IntArray]:
    labels = leader_clusters(children.lat, children.lon, cluster_km)
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(labels.max(initial=-1) + 2))
    groups = []
    for k in range(len(bounds) - 1):
        members = order[bounds[k] : bounds[k + 1]]
        groups.append(Group(members=members, medoid=medoid(children.lat, children.lon, members)))
    return groups, labels


# --------------------------------------------------------------------------- profiles


def _top_bits(counts: npt.NDArray[np.int64], k: int) -> npt.NDArray[np.int64]:
    """Indices of the k largest positive counts, the lowest index first on ties."""
    order = np.lexsort((np.arange(len(counts)), -counts))[: max(k, 0)]
    return np.sort(order[counts[order] > 0])


def _bit_counts(masks: npt.NDArray[Any], width: int) -> npt.NDArray[np.int64]:
    bits = (masks.astype(np.uint64)[:, None] >> np.arange(width, dtype=np.uint64)) & np.uint64(1)
    return bits.sum(axis=0).astype(np.int64)


def _mask(bits: npt.NDArray[np.int64]) -> int:
    return int(np.bitwise_or.reduce(np.left_shift(1, bits), initial=0))


def typical_mentor(mentors: MentorArrays, capacity: int) -> TypicalMentor:
    """Radius, slots, goals and languages of a median usable mentor; capacity given (the
    arrays hold the places left, not the capacity). Without mentors: the API's defaults."""
    usable = mentors.active & mentors.honorability_ok
    if not usable.any():
        return TypicalMentor(DEFAULT_RADIUS_KM, capacity, slots=8, goals=3, languages=1)
    slots = np.unpackbits(mentors.availability[usable], axis=1).sum(axis=1)
    return TypicalMentor(
        radius_km=float(np.median(mentors.radius_km[usable])),
        capacity=capacity,
        slots=max(1, int(np.median(slots))),
        goals=max(1, int(np.median(np.bitwise_count(mentors.goals[usable])))),
        languages=max(1, int(np.median(np.bitwise_count(mentors.languages[usable])))),
    )


def build_profile(
    children: ChildArrays,
    mentors: MentorArrays,
    group: int,
    unmatched_members: IntArray,
    typical: TypicalMentor,
) -> Profile:
    """The mentor the group's unmatched children would most want (module docstring, 4)."""
    rows = unmatched_members
    slot_counts = np.unpackbits(children.availability[rows], axis=1).sum(axis=0).astype(np.int64)
    slot_bits = np.zeros(vocabulary.SLOTS_PER_WEEK, dtype=np.uint8)
    slot_bits[_top_bits(slot_counts, typical.slots)] = 1

    goal_counts = _bit_counts(children.goals[rows], len(vocabulary.GOAL_CODES))
    goals = _mask(_top_bits(goal_counts, typical.goals))

    n_languages = len(vocabulary.LANGUAGES)
    wanted = _bit_counts(children.languages[rows], n_languages)
    usable = mentors.active & mentors.honorability_ok
    spoken = _bit_counts(mentors.languages[usable], n_languages)
    # Most wanted first, then the languages the département's mentors speak most.
    order = np.lexsort((np.arange(n_languages), -spoken, -wanted))
    keep = order[(wanted[order] + spoken[order]) > 0][: typical.languages]
    languages = _mask(np.sort(keep))

    preferred = np.bincount(
        children.mentor_gender_preference[rows].astype(np.int64),
        minlength=len(vocabulary.GENDERS) + 1,
    )[1:]
    if preferred.any():
        gender = int(np.argmax(preferred)) + 1
    else:
        present = np.bincount(
            mentors.gender[usable].astype(np.int64), minlength=len(vocabulary.GENDERS) + 1
        )[1:]
        gender = int(np.argmax(present)) + 1 if present.any() else 0
    return Profile(
        group=group,
        anchor=medoid(children.lat, children.lon, rows),
        radius_km=typical.radius_km,
        capacity=typical.capacity,
        availability=np.packbits(slot_bits),
        goals=goals,
        languages=languages,
        gender=gender,
    )


def profile_arrays(children: ChildArrays, profile: Profile) -> MentorArrays:
    """The profile as a pool of one mentor, at its anchor child's place."""
    return MentorArrays(
        lat=children.lat[[profile.anchor]],
        lon=children.lon[[profile.anchor]],
        radius_km=[profile.radius_km],
        goals=[profile.goals],
        availability=profile.availability[None, :],
        remote_ok=[False],
        gender=[profile.gender],
        languages=[profile.languages],
        active=[True],
        honorability_ok=[True],
        capacity_left=[profile.capacity],
    )


# --------------------------------------------------------------------------- gains


@dataclass
class _Pool:
    """The feasible graph of the current run: real mentors, then the profiles added."""

    n_children: int
    child: IntArray
    mentor: IntArray
    score: npt.NDArray[np.float64]
    capacity: IntArray
    min_score: float
    solution: Solution = field(init=False)

    def __post_init__(self) -> None:
        self.solution = self._solve(self.child, self.mentor, self.score, self.capacity)

    def _solve(
        self,
        child: IntArray,
        mentor: IntArray,
        score: npt.NDArray[np.float64],
        capacity: IntArray,
    ) -> Solution:
        return solve(
            self.n_children, len(capacity), child, mentor, score, capacity, self.min_score,
            "coverage_first",
        )  # fmt: skip

    @property
    def matched(self) -> BoolArray:
        matched = np.zeros(self.n_children, dtype=bool)
        matched[self.solution.child_index] = True
        return matched

    def gain(self, edges: FeasiblePairs, capacity: int) -> tuple[int, IntArray]:
        """Children gained by one more mentor with these edges, and which children the new run
        matches that the current one does not (among the components it touches)."""
        near = edges.child_index[edges.score >= self.min_score].astype(np.int64)
        if not len(near):
            return 0, np.empty(0, dtype=np.int64)
        components = self.solution.child_component
        touched = np.unique(components[near])
        involved = np.isin(components, touched[touched >= 0])
        involved[near] = True
        keep = involved[self.child]
        new_mentor = len(self.capacity)
        child = np.concatenate([self.child[keep], edges.child_index.astype(np.int64)])
        mentor = np.concatenate(
            [self.mentor[keep], np.full(len(edges), new_mentor, dtype=np.int64)]
        )
        score = np.concatenate([self.score[keep], edges.score.astype(np.float64)])
        sub = self._solve(child, mentor, score, np.append(self.capacity, capacity))
        before = self.matched & involved
        after = np.zeros(self.n_children, dtype=bool)
        after[sub.child_index] = True
        return int(after.sum() - before.sum()), np.flatnonzero(after & ~before)

    def add(self, edges: FeasiblePairs, capacity: int) -> None:
        new_mentor = len(self.capacity)
        self.child = np.concatenate([self.child, edges.child_index.astype(np.int64)])
        self.mentor = np.concatenate([self.mentor, np.full(len(edges), new_mentor, dtype=np.int64)])
        self.score = np.concatenate([self.score, edges.score.astype(np.float64)])
        self.capacity = np.append(self.capacity, capacity)
        self.solution = self._solve(self.child, self.mentor, self.score, self.capacity)


def choose_profiles(
    pool: _Pool,
    children: ChildArrays,
    profiles: list[Profile],
    parameters: Parameters,
) -> list[Choice]:
    """Lazy greedy over the candidate profiles (module docstring, 4)."""
    edges = [
        score_pairs(
            children, profile_arrays(children, profile), parameters.weights,
            needed_slots=parameters.needed_slots,
        )
        for profile in profiles
    ]  # fmt: skip
    # Heap of (-gain bound, candidate, step at which it was measured, children it gains);
    # candidates are distinct, so the comparison never reaches the last item.
    heap: list[tuple[int, int, int, IntArray]] = [
        (-len(children) - 1, k, -1, np.empty(0, dtype=np.int64)) for k in range(len(profiles))
    ]
    heapq.heapify(heap)
    choices: list[Choice] = []
    while heap and len(choices) < parameters.limit:
        bound, k, measured, gained = heapq.heappop(heap)
        step = len(choices)
        if measured != step:
            gain, gained = pool.gain(edges[k], profiles[k].capacity)
            if gain > 0:
                heapq.heappush(heap, (-gain, k, step, gained))
            continue
        pool.add(edges[k], profiles[k].capacity)
        choices.append(Choice(profiles[k], -bound, pool.solution.n_matched, gained))
        heapq.heappush(heap, (bound, k, -1, gained))  # the same profile again, bound kept
    return choices


# --------------------------------------------------------------------------- all together


def analyse(
    children: ChildArrays,
    mentors: MentorArrays,
    exclusions: npt.NDArray[Any],
    typical: TypicalMentor,
    parameters: Parameters,
) -> Analysis:
    """The whole report's figures for the waiting children and the département's mentors."""
    exclusions = np.asarray(exclusions, dtype=np.int64).reshape(-1, 2)
    pairs = score_pairs(children, mentors, parameters.weights, exclusions, parameters.needed_slots)
    pool = _Pool(
        n_children=len(children),
        child=pairs.child_index.astype(np.int64),
        mentor=pairs.mentor_index.astype(np.int64),
        score=pairs.score.astype(np.float64),
        capacity=mentors.capacity_left.astype(np.int64),
        min_score=parameters.min_score,
    )
    matched = pool.matched
    baseline_matched = int(matched.sum())
    constraints = unmatched_constraints(children, mentors, exclusions, pairs, matched, parameters)
    groups, group_of = group_children(children, parameters.cluster_km)
    profiles = [
        build_profile(children, mentors, k, group.members[~matched[group.members]], typical)
        for k, group in enumerate(groups)
        if not matched[group.members].all()
    ]
    choices = choose_profiles(pool, children, profiles, parameters)
    return Analysis(
        matched=matched,
        constraints=constraints,
        groups=groups,
        group_of=group_of,
        choices=choices,
        baseline_matched=baseline_matched,
    )
