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
   children the optimal run matches with one more such mentor minus without it. A
   `coverage_first` run matches as many children as the feasible graph (pairs scoring at
   least `min_score`) allows before it compares scores, so that number is the size of a
   largest matching: the solver computes it with every pair weighing 1 (`total_score`),
   5 to 10 times faster than with the scores, and only on the components of the graph the
   new mentor touches (components never compete, so this equals a full re-run); no solve
   at all when the mentor has at least its capacity of unmatched children within reach
   (then the gain is its capacity: it cannot be more, and taking them attains it). Greedy: the
   best profile is added to the pool and the gains are measured again; a profile may be
   chosen more than once. The matched count is a matroid rank over mentor places, hence
   submodular: a gain measured earlier bounds the
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
from scipy.sparse.csgraph import connected_components
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
from mentorat.matching.solver import solve

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


@dataclass(frozen=True)
class Analysis:
    matched: BoolArray  # per waiting child, by the baseline run
    constraints: dict[str, BoolArray]  # code -> per waiting child (False when matched)
    groups: list[Group]
    group_of: IntArray  # per waiting child
    choices: list[Choice]
    baseline_matched: int


# --------------------------------------------------------------------------- arrays


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
    lifts: dict[Reason, _Lift] = {
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
        Reason.NO_AGREEMENT: lambda c, t, x: (c, replace(t, agreement_ok=np.ones(m, bool)), x),
    }  # fmt: skip
    return lifts


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
    # The lifts concern the children with no feasible mentor at all: scored again, alone.
    blocked = unmatched[~has_pair[unmatched]]
    blocked_children = children.take(blocked)
    blocked_exclusions = _remap_exclusions(exclusions, blocked, n)
    helped = np.zeros(n, dtype=bool)
    for reason, lift in _lifts(blocked_children, mentors).items():
        lifted_children, lifted_mentors, lifted_exclusions = lift(
            blocked_children, mentors, blocked_exclusions
        )
        lifted = score_pairs(
            lifted_children, lifted_mentors, parameters.weights, lifted_exclusions,
            parameters.needed_slots,
        )  # fmt: skip
        flag = np.zeros(n, dtype=bool)
        flag[blocked] = _has_good_pair(lifted, parameters.min_score)
        helped |= flag
        flags[REASON_CODES[reason]] = flag
    flags[SEVERAL_CONSTRAINTS] = np.zeros(n, dtype=bool)
    flags[SEVERAL_CONSTRAINTS][blocked] = ~helped[blocked]
    flags[GOALS_NOT_COVERED] = per_child(
        _goals_not_covered(
            children.take(unmatched), mentors,
            _remap_exclusions(exclusions, unmatched, n), parameters,
        )
    )  # fmt: skip
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


def usable_mentors(mentors: MentorArrays) -> BoolArray:
    """Mentors who may be proposed at all: active, checked, under agreement."""
    return mentors.active & mentors.honorability_ok & mentors.agreement_ok  # type: ignore[no-any-return]


def typical_mentor(mentors: MentorArrays, capacity: int) -> TypicalMentor:
    """Radius, slots, goals and languages of a median usable mentor; capacity given (the
    arrays hold the places left, not the capacity). Without mentors: the API's defaults."""
    usable = usable_mentors(mentors)
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
    usable = usable_mentors(mentors)
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
    """The profile as a pool of one mentor, at its anchor child's place, meeting every
    condition on the mentor alone (active, checked, under agreement)."""
    conditions = {name: [True] for name in ("active", "honorability_ok", "agreement_ok")}
    return MentorArrays(
        **conditions,
        lat=children.lat[[profile.anchor]],
        lon=children.lon[[profile.anchor]],
        radius_km=[profile.radius_km],
        goals=[profile.goals],
        availability=profile.availability[None, :],
        remote_ok=[False],
        gender=[profile.gender],
        languages=[profile.languages],
        capacity_left=[profile.capacity],
    )


# --------------------------------------------------------------------------- gains


@dataclass(frozen=True)
class _Gain:
    gain: int
    involved: BoolArray  # the children of the components the new mentor touches
    matched: BoolArray  # which children a largest matching then covers (valid where involved)


_NO_GAIN = _Gain(0, np.zeros(0, dtype=bool), np.zeros(0, dtype=bool))


@dataclass
class _Pool:
    """The feasible graph of the current run (pairs scoring at least min_score): the real
    mentors, then the profiles added; which children a largest matching covers, and the
    connected components (a child without pairs is a component of its own)."""

    child: IntArray
    mentor: IntArray
    capacity: IntArray
    matched: BoolArray
    component: IntArray = field(init=False)

    def __post_init__(self) -> None:
        self.component = self._components()

    def _components(self) -> IntArray:
        n, m = len(self.matched), len(self.capacity)
        usable = self.capacity[self.mentor] > 0
        graph = csr_array(
            (np.ones(int(usable.sum()), dtype=np.int8),
             (self.child[usable], n + self.mentor[usable])),
            shape=(n + m, n + m),
        )  # fmt: skip
        return connected_components(graph, directed=False)[1][:n].astype(np.int64)

    def gain(self, near: IntArray, capacity: int) -> _Gain:
        """Children gained by one more mentor of this capacity whose feasible children are
        `near`, solved on the components it touches only."""
        if not len(near):
            return _NO_GAIN
        n, new_mentor = len(self.matched), len(self.capacity)
        free = near[~self.matched[near]][:capacity]
        if len(free) == capacity:
            # It cannot gain more than its capacity, and taking free children attains it.
            taken = np.zeros(n, dtype=bool)
            taken[free] = True
            return _Gain(capacity, taken, taken)
        involved = np.isin(self.component, self.component[near])
        keep = involved[self.child]
        child = np.concatenate([self.child[keep], near])
        mentor = np.concatenate([self.mentor[keep], np.full(len(near), new_mentor)])
        solution = solve(
            n, new_mentor + 1, child, mentor, np.ones(len(child)),
            np.append(self.capacity, capacity), 0.0, "total_score",
        )  # fmt: skip
        matched = np.zeros(n, dtype=bool)
        matched[solution.child_index] = True
        gain = int(matched.sum()) - int((self.matched & involved).sum())
        return _Gain(gain, involved, matched)

    def add(self, near: IntArray, capacity: int, measured: _Gain) -> None:
        self.matched = np.where(measured.involved, measured.matched, self.matched)
        self.child = np.concatenate([self.child, near])
        self.mentor = np.concatenate([self.mentor, np.full(len(near), len(self.capacity))])
        self.capacity = np.append(self.capacity, capacity)
        self.component = self._components()


def choose_profiles(
    pool: _Pool,
    children: ChildArrays,
    profiles: list[Profile],
    parameters: Parameters,
) -> list[Choice]:
    """Lazy greedy over the candidate profiles (module docstring, 4)."""
    near = []
    for profile in profiles:
        pairs = score_pairs(
            children, profile_arrays(children, profile), parameters.weights,
            needed_slots=parameters.needed_slots,
        )  # fmt: skip
        near.append(pairs.child_index[pairs.score >= parameters.min_score].astype(np.int64))
    # Heap of (-gain bound, candidate, step at which it was measured, the measure); candidates
    # are distinct, so the comparison never reaches the last item.
    heap: list[tuple[int, int, int, _Gain]] = [
        (-len(children) - 1, k, -1, _NO_GAIN) for k in range(len(profiles))
    ]
    heapq.heapify(heap)
    choices: list[Choice] = []
    while heap and len(choices) < parameters.limit:
        bound, k, measured_at, measured = heapq.heappop(heap)
        step = len(choices)
        if measured_at != step:
            measured = pool.gain(near[k], profiles[k].capacity)
            if measured.gain > 0:
                heapq.heappush(heap, (-measured.gain, k, step, measured))
            continue
        pool.add(near[k], profiles[k].capacity, measured)
        choices.append(Choice(profiles[k], measured.gain, int(pool.matched.sum())))
        heapq.heappush(heap, (bound, k, -1, _NO_GAIN))  # the same profile again, bound kept
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
    baseline = solve(
        len(children), len(mentors), pairs.child_index, pairs.mentor_index, pairs.score,
        mentors.capacity_left, parameters.min_score, "coverage_first",
    )  # fmt: skip
    matched = np.zeros(len(children), dtype=bool)
    matched[baseline.child_index] = True
    baseline_matched = baseline.n_matched
    good = pairs.score >= parameters.min_score
    pool = _Pool(
        child=pairs.child_index[good].astype(np.int64),
        mentor=pairs.mentor_index[good].astype(np.int64),
        capacity=mentors.capacity_left.astype(np.int64),
        matched=matched,
    )
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
