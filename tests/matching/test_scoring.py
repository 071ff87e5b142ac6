"""Scoring against a straightforward per-pair Python reference. No database."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import get_args

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mentorat import vocabulary
from mentorat.matching.schemas import InfeasibleReason
from mentorat.matching.scoring import (
    EARTH_RADIUS_KM,
    REASON_CODES,
    WEIGHT_SUM_TOLERANCE,
    ChildArrays,
    FeasiblePairs,
    MentorArrays,
    Reason,
    Weights,
    explain,
    haversine_km,
    prepare_mentors,
    score_pairs,
)

N_REASONS = len(Reason)
UK_RU = vocabulary.languages_to_mask(["uk", "ru"])
UK_AR = vocabulary.languages_to_mask(["uk", "ar"])
BOTH_REMOTE = {"mentor__remote_ok": [True]}
NO_SLOTS = np.zeros((1, vocabulary.AVAILABILITY_BYTES), dtype=np.uint8)


# --------------------------------------------------------------------------- instances


def random_instance(
    seed: int, n: int, m: int, *, spread_deg: float = 0.4
) -> tuple[ChildArrays, MentorArrays, np.ndarray]:
    """Small instance where every constraint is sometimes met and sometimes not."""
    rng = np.random.default_rng(seed)

    def availability(rows: int, density: float) -> np.ndarray:
        bits = rng.random((rows, vocabulary.SLOTS_PER_WEEK)) < density
        return np.packbits(bits, axis=1)

    def goals(rows: int) -> np.ndarray:
        return rng.integers(0, 1 << 5, rows) << rng.integers(0, len(vocabulary.GOALS) - 4, rows)

    def languages(rows: int, p_none: float) -> np.ndarray:
        masks = rng.integers(0, 1 << 4, rows).astype(np.uint64)
        return np.where(rng.random(rows) < p_none, 0, masks).astype(np.uint64)

    children = ChildArrays(
        lat=47.0 + rng.random(n) * spread_deg,
        lon=-0.8 + rng.random(n) * spread_deg,
        goals=np.where(rng.random(n) < 0.2, 0, goals(n)),
        availability=availability(n, rng.choice([0.005, 0.02, 0.1])),
        remote_ok=rng.random(n) < 0.4,
        mentor_gender_preference=np.where(rng.random(n) < 0.6, 0, rng.integers(1, 4, n)),
        languages=languages(n, 0.6),
        eligible=rng.random(n) < 0.85,
    )
    mentors = MentorArrays(
        lat=47.0 + rng.random(m) * spread_deg,
        lon=-0.8 + rng.random(m) * spread_deg,
        radius_km=np.where(rng.random(m) < 0.1, 0.0, rng.random(m) * 40.0),
        goals=goals(m),
        availability=availability(m, rng.choice([0.02, 0.1, 0.3])),
        remote_ok=rng.random(m) < 0.4,
        gender=rng.integers(0, 4, m),
        languages=languages(m, 0.1),
        active=rng.random(m) < 0.9,
        agreement_ok=rng.random(m) < 0.85,
        honorability_ok=rng.random(m) < 0.9,
        capacity_left=rng.integers(1, 3, m) * (rng.random(m) < 0.85),
    )
    k = int(rng.integers(0, 2 * max(n, 1)))
    exclusions = np.stack([rng.integers(0, max(n, 1), k), rng.integers(0, max(m, 1), k)], axis=1)
    if n == 0 or m == 0:
        exclusions = np.empty((0, 2), dtype=np.int32)
    return children, mentors, exclusions.astype(np.int32)


def random_declines(seed: int, n: int, m: int, exclusions: np.ndarray) -> np.ndarray:
    """Pairs declined recently: random ones, some repeated, and some also excluded."""
    if n == 0 or m == 0:
        return np.empty((0, 2), dtype=np.int32)
    rng = np.random.default_rng([seed, 1])
    k = int(rng.integers(0, 2 * n))
    declines = np.stack([rng.integers(0, n, k), rng.integers(0, m, k)], axis=1)
    also_excluded = exclusions[rng.random(len(exclusions)) < 0.5]
    return np.concatenate([declines, declines[: k // 3], also_excluded]).astype(np.int32)


def random_instance_with_declines(
    seed: int, n: int, m: int, *, spread_deg: float = 0.4
) -> tuple[ChildArrays, MentorArrays, np.ndarray, np.ndarray]:
    children, mentors, exclusions = random_instance(seed, n, m, spread_deg=spread_deg)
    return children, mentors, exclusions, random_declines(seed, n, m, exclusions)


# --------------------------------------------------------------------------- reference


@dataclass
class RefPair:
    reasons: list[Reason]
    goals: float = 0.0
    distance: float = 0.0
    availability: float = 0.0
    score: float = 0.0
    distance_km: float = 0.0
    overlap: int = 0
    common_goals: int = 0


def ref_haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlam = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def ref_pair(
    c: ChildArrays,
    mt: MentorArrays,
    i: int,
    j: int,
    excluded: set[tuple[int, int]],
    weights: Weights,
    needed: int,
    declined: frozenset[tuple[int, int]] = frozenset(),
) -> RefPair:
    reasons: list[Reason] = []
    if not mt.active[j]:
        reasons.append(Reason.MENTOR_INACTIVE)
    if not mt.agreement_ok[j]:
        reasons.append(Reason.NO_AGREEMENT)
    if not mt.honorability_ok[j]:
        reasons.append(Reason.NO_HONORABILITY)
    if mt.capacity_left[j] <= 0:
        reasons.append(Reason.NO_CAPACITY)
    if not c.eligible[i]:
        reasons.append(Reason.CHILD_NOT_ELIGIBLE)
    preference = int(c.mentor_gender_preference[i])
    if preference != 0 and int(mt.gender[j]) != preference:
        reasons.append(Reason.GENDER)
    wanted = int(c.languages[i])
    if wanted != 0 and wanted & int(mt.languages[j]) == 0:
        reasons.append(Reason.LANGUAGE)
    if (i, j) in excluded:
        reasons.append(Reason.EXCLUDED)
    if (i, j) in declined:
        reasons.append(Reason.DECLINED_RECENTLY)
    d = ref_haversine(float(c.lat[i]), float(c.lon[i]), float(mt.lat[j]), float(mt.lon[j]))
    radius = float(mt.radius_km[j])
    both_remote = bool(c.remote_ok[i] and mt.remote_ok[j])
    if d > radius and not both_remote:
        reasons.append(Reason.TOO_FAR)
    overlap = sum(
        (int(a) & int(b)).bit_count()
        for a, b in zip(c.availability[i], mt.availability[j], strict=True)
    )
    if overlap == 0:
        reasons.append(Reason.NO_COMMON_AVAILABILITY)
    if reasons:
        return RefPair(reasons)

    child_goals = int(c.goals[i])
    common = child_goals & int(mt.goals[j])
    goals = 1.0 if child_goals == 0 else common.bit_count() / child_goals.bit_count()
    if d > radius:
        distance = 0.0
    elif radius == 0:
        distance = 1.0
    else:
        distance = max(0.0, 1.0 - d / radius)
    availability = min(1.0, overlap / needed)
    w = weights
    score = w.goals * goals + w.distance * distance + w.availability * availability
    return RefPair([], goals, distance, availability, score, d, overlap, common)


def reference(
    c: ChildArrays,
    mt: MentorArrays,
    exclusions: np.ndarray,
    weights: Weights,
    needed: int,
    declines: np.ndarray | None = None,
) -> tuple[dict[tuple[int, int], RefPair], np.ndarray, dict[tuple[int, int], list[Reason]]]:
    excluded = {(int(a), int(b)) for a, b in exclusions}
    declined = frozenset((int(a), int(b)) for a, b in ([] if declines is None else declines))
    feasible: dict[tuple[int, int], RefPair] = {}
    infeasible: dict[tuple[int, int], list[Reason]] = {}
    counts = np.zeros((len(c), N_REASONS), dtype=np.int64)
    for i in range(len(c)):
        for j in range(len(mt)):
            pair = ref_pair(c, mt, i, j, excluded, weights, needed, declined)
            if pair.reasons:
                counts[i, pair.reasons[0]] += 1
                infeasible[(i, j)] = pair.reasons
            else:
                feasible[(i, j)] = pair
    return feasible, counts, infeasible


def assert_matches_reference(
    result: FeasiblePairs, feasible: dict[tuple[int, int], RefPair], counts: np.ndarray
) -> None:
    pairs = list(zip(result.child_index.tolist(), result.mentor_index.tolist(), strict=True))
    assert pairs == sorted(feasible), "feasible pairs differ or are not sorted"
    np.testing.assert_array_equal(result.primary_reason_counts, counts)
    for k, key in enumerate(pairs):
        ref = feasible[key]
        assert result.goals[k] == pytest.approx(ref.goals, abs=1e-6)
        assert result.distance[k] == pytest.approx(ref.distance, abs=1e-5)
        assert result.availability[k] == pytest.approx(ref.availability, abs=1e-6)
        assert result.score[k] == pytest.approx(ref.score, abs=1e-5)
        assert result.distance_km[k] == pytest.approx(ref.distance_km, rel=1e-5, abs=1e-4)
        assert int(result.overlap_slots[k]) == ref.overlap
        assert int(result.common_goals[k]) == ref.common_goals


def assert_same(a: FeasiblePairs, b: FeasiblePairs) -> None:
    for name in (
        "child_index",
        "mentor_index",
        "score",
        "goals",
        "distance",
        "availability",
        "distance_km",
        "overlap_slots",
        "common_goals",
        "primary_reason_counts",
    ):
        left, right = getattr(a, name), getattr(b, name)
        assert left.dtype == right.dtype, name
        np.testing.assert_array_equal(left, right, err_msg=name)


# --------------------------------------------------------------------------- tests


class TestAgainstReference:
    @settings(max_examples=120, deadline=None)
    @given(
        seed=st.integers(0, 2**32 - 1),
        n=st.integers(0, 8),
        m=st.integers(0, 12),
        needed=st.integers(1, 8),
        weights=st.sampled_from([Weights(), Weights(1, 0, 0), Weights(0.2, 0.2, 0.6)]),
    )
    def test_pairs_components_and_reasons(
        self, seed: int, n: int, m: int, needed: int, weights: Weights
    ) -> None:
        children, mentors, exclusions, declines = random_instance_with_declines(seed, n, m)
        result = score_pairs(
            children, mentors, weights, exclusions, needed_slots=needed, declines=declines
        )
        feasible, counts, _ = reference(children, mentors, exclusions, weights, needed, declines)
        assert result.n_children == n and result.n_mentors == m
        assert_matches_reference(result, feasible, counts)
        per_child = np.bincount(result.child_index, minlength=n)
        np.testing.assert_array_equal(result.primary_reason_counts.sum(axis=1) + per_child, m)

    def test_generator_covers_every_reason(self) -> None:
        seen: set[Reason] = set()
        for seed in range(30):
            children, mentors, exclusions, declines = random_instance_with_declines(seed, 8, 12)
            _, counts, _ = reference(children, mentors, exclusions, Weights(), 4, declines)
            seen |= {Reason(r) for r in np.flatnonzero(counts.sum(axis=0))}
        assert seen == set(Reason)

    def test_far_apart_instance_across_france(self) -> None:
        children, mentors, exclusions, declines = random_instance_with_declines(
            7, 8, 12, spread_deg=6.0
        )
        result = score_pairs(children, mentors, Weights(), exclusions, declines=declines)
        feasible, counts, _ = reference(children, mentors, exclusions, Weights(), 4, declines)
        assert_matches_reference(result, feasible, counts)


class TestRules:
    def one_pair(self, **changes: object) -> tuple[ChildArrays, MentorArrays]:
        slots = np.zeros((1, vocabulary.SLOTS_PER_WEEK), dtype=bool)
        slots[0, 40:48] = True  # Monday 20:00-24:00
        child = {
            "lat": [48.0],
            "lon": [-0.77],
            "goals": [vocabulary.goals_to_mask(["orientation", "stage"])],
            "availability": np.packbits(slots, axis=1),
            "remote_ok": [False],
            "mentor_gender_preference": [0],
            "languages": [0],
            "eligible": [True],
        }
        mentor = {
            "lat": [48.0],
            "lon": [-0.77],
            "radius_km": [10.0],
            "goals": [vocabulary.goals_to_mask(["stage", "rome-M"])],
            "availability": np.packbits(slots, axis=1),
            "remote_ok": [False],
            "gender": [1],
            "languages": [vocabulary.languages_to_mask(["fr", "ar"])],
            "active": [True],
            "agreement_ok": [True],
            "honorability_ok": [True],
            "capacity_left": [1],
        }
        for key, value in changes.items():
            target, name = key.split("__")
            (child if target == "child" else mentor)[name] = value
        return ChildArrays(**child), MentorArrays(**mentor)

    def primary(self, **changes: object) -> str | None:
        children, mentors = self.one_pair(**changes)
        result = score_pairs(children, mentors)
        if len(result):
            return None
        return REASON_CODES[Reason(int(np.flatnonzero(result.primary_reason_counts[0])[0]))]

    def test_feasible_pair_explained(self) -> None:
        children, mentors = self.one_pair()
        result = score_pairs(children, mentors)
        details = explain(result, 0)
        assert details["components"] == {"goals": 0.5, "distance": 1.0, "availability": 1.0}
        assert details["common_goals"] == ["stage"]
        assert details["overlap_hours"] == 4.0
        assert details["score"] == pytest.approx(0.5 * 0.5 + 0.3 + 0.2)
        assert details["weighted_sum_matches_score"]

    @pytest.mark.parametrize(
        ("changes", "expected"),
        [
            ({"mentor__active": [False], "child__eligible": [False]}, "mentor_inactive"),
            ({"mentor__agreement_ok": [False]}, "no_agreement"),
            (
                {"mentor__agreement_ok": [False], "mentor__honorability_ok": [False]},
                "no_agreement",
            ),
            ({"mentor__active": [False], "mentor__agreement_ok": [False]}, "mentor_inactive"),
            ({"mentor__honorability_ok": [False]}, "no_valid_honorability_check"),
            ({"mentor__capacity_left": [0], "child__eligible": [False]}, "no_capacity_left"),
            ({"child__eligible": [False], "mentor__gender": [2]}, "child_not_eligible"),
            ({"child__mentor_gender_preference": [2]}, "gender_preference_not_met"),
            ({"child__mentor_gender_preference": [1]}, None),
            (
                {"child__mentor_gender_preference": [1], "mentor__gender": [0]},
                "gender_preference_not_met",
            ),
            ({"child__languages": [UK_RU]}, "language_preference_not_met"),
            ({"child__languages": [UK_AR]}, None),
            ({"mentor__lat": [48.2]}, "too_far"),
            ({"mentor__lat": [48.2], "child__remote_ok": [True]}, "too_far"),
            ({"mentor__lat": [48.2], "child__remote_ok": [True], **BOTH_REMOTE}, None),
            ({"mentor__availability": NO_SLOTS}, "no_common_availability"),
            ({"mentor__lat": [48.2], "mentor__availability": NO_SLOTS}, "too_far"),
            ({"mentor__radius_km": [0.0]}, None),
            ({"mentor__radius_km": [0.0], "mentor__lon": [-0.7701]}, "too_far"),
        ],
    )
    def test_primary_reason(self, changes: dict[str, object], expected: str | None) -> None:
        assert self.primary(**changes) == expected

    def test_exclusion_is_a_reason(self) -> None:
        children, mentors = self.one_pair()
        result = score_pairs(children, mentors, exclusions=np.array([[0, 0], [0, 0]]))
        assert len(result) == 0
        assert result.primary_reason_counts[0, Reason.EXCLUDED] == 1

    @pytest.mark.parametrize(
        ("changes", "excluded", "expected"),
        [
            ({}, False, "declined_recently"),
            ({}, True, "pair_excluded"),
            ({"mentor__lat": [48.2]}, False, "declined_recently"),
            ({"mentor__availability": NO_SLOTS}, False, "declined_recently"),
            ({"child__mentor_gender_preference": [2]}, False, "gender_preference_not_met"),
            ({"mentor__capacity_left": [0]}, False, "no_capacity_left"),
        ],
    )
    def test_a_recent_decline_is_a_reason_after_an_exclusion(
        self, changes: dict[str, object], excluded: bool, expected: str
    ) -> None:
        children, mentors = self.one_pair(**changes)
        pair = np.array([[0, 0]])
        result = score_pairs(
            children, mentors, exclusions=pair if excluded else None, declines=pair
        )
        assert len(result) == 0
        counts = result.primary_reason_counts[0]
        assert counts.sum() == 1
        assert REASON_CODES[Reason(int(np.flatnonzero(counts)[0]))] == expected

    def test_remote_pair_beyond_radius_has_distance_component_zero(self) -> None:
        children, mentors = self.one_pair(
            mentor__lat=[48.5], child__remote_ok=[True], mentor__remote_ok=[True]
        )
        result = score_pairs(children, mentors)
        assert result.distance[0] == 0.0
        assert result.distance_km[0] == pytest.approx(55.6, abs=0.1)

    def test_child_without_goals_has_goals_component_one(self) -> None:
        children, mentors = self.one_pair(child__goals=[0])
        assert score_pairs(children, mentors).goals[0] == 1.0

    def test_availability_saturates_at_needed_slots(self) -> None:
        children, mentors = self.one_pair()  # 8 common slots
        assert score_pairs(children, mentors, needed_slots=16).availability[0] == 0.5
        assert score_pairs(children, mentors, needed_slots=4).availability[0] == 1.0

    def test_pair_exactly_at_the_radius_is_feasible(self) -> None:
        children, mentors = self.one_pair(mentor__lat=[48.1])
        d = float(haversine_km(children.lat, children.lon, mentors.lat, mentors.lon)[0])
        up = np.nextafter(np.float32(d), np.float32(np.inf))
        down = np.nextafter(np.float32(d), np.float32(0))
        assert len(score_pairs(*self.one_pair(mentor__lat=[48.1], mentor__radius_km=[up])))
        assert not len(score_pairs(*self.one_pair(mentor__lat=[48.1], mentor__radius_km=[down])))

    def test_tiny_distances_are_not_lost_by_the_prefilter(self) -> None:
        # About 1 m apart with a 2 m radius: far below float32 resolution of the dot product.
        children, mentors = self.one_pair(mentor__lat=[48.00001], mentor__radius_km=[0.002])
        d = float(haversine_km(children.lat, children.lon, mentors.lat, mentors.lon)[0])
        assert 0.0005 < d < 0.002
        result = score_pairs(children, mentors)
        assert len(result) == 1
        assert result.distance_km[0] == pytest.approx(d, rel=1e-6)


class TestGeometryPrefilter:
    def test_feasible_set_equals_plain_haversine_across_france(self) -> None:
        rng = np.random.default_rng(3)
        n, m = 300, 400
        full = np.full((1, 42), 255, dtype=np.uint8)
        children = ChildArrays(
            lat=rng.uniform(42.5, 51, n),
            lon=rng.uniform(-4.5, 8, n),
            goals=np.zeros(n),
            availability=np.repeat(full, n, axis=0),
            remote_ok=np.zeros(n, bool),
            mentor_gender_preference=np.zeros(n),
            languages=np.zeros(n),
            eligible=np.ones(n, bool),
        )
        mentors = MentorArrays(
            lat=rng.uniform(42.5, 51, m),
            lon=rng.uniform(-4.5, 8, m),
            radius_km=rng.uniform(0, 150, m),
            goals=np.zeros(m),
            availability=np.repeat(full, m, axis=0),
            remote_ok=np.zeros(m, bool),
            gender=np.zeros(m),
            languages=np.zeros(m),
            active=np.ones(m, bool),
            agreement_ok=np.ones(m, bool),
            honorability_ok=np.ones(m, bool),
            capacity_left=np.ones(m),
        )
        d = haversine_km(
            children.lat[:, None], children.lon[:, None], mentors.lat[None, :], mentors.lon[None, :]
        )
        expected = np.argwhere(d <= mentors.radius_km[None, :].astype(np.float64))
        result = score_pairs(children, mentors, chunk_pairs=10_000)
        np.testing.assert_array_equal(result.child_index, expected[:, 0])
        np.testing.assert_array_equal(result.mentor_index, expected[:, 1])
        assert expected.shape[0] > 1000


class TestChunking:
    @settings(max_examples=40, deadline=None)
    @given(
        seed=st.integers(0, 2**32 - 1),
        n=st.integers(0, 10),
        m=st.integers(0, 12),
        chunk=st.integers(1, 40),
    )
    def test_chunks_give_identical_results(self, seed: int, n: int, m: int, chunk: int) -> None:
        children, mentors, exclusions, declines = random_instance_with_declines(seed, n, m)
        one = score_pairs(children, mentors, Weights(), exclusions, declines=declines)
        many = score_pairs(
            children, mentors, Weights(), exclusions, chunk_pairs=chunk, declines=declines
        )
        assert_same(one, many)


class TestPreparedMentors:
    @settings(max_examples=30, deadline=None)
    @given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 6), m=st.integers(0, 12))
    def test_mentors_prepared_once_give_identical_results(self, seed: int, n: int, m: int) -> None:
        children, mentors, exclusions, declines = random_instance_with_declines(seed, n, m)
        prepared = prepare_mentors(mentors)
        fresh = score_pairs(children, mentors, Weights(), exclusions, declines=declines)
        for _ in range(2):  # the prepared side is not changed by being used
            again = score_pairs(
                children, mentors, Weights(), exclusions,
                prepared_mentors=prepared, declines=declines,
            )  # fmt: skip
            assert_same(fresh, again)

    def test_mentors_prepared_for_other_mentors_are_refused(self) -> None:
        children, mentors, _ = random_instance(3, 4, 6)
        _, others, _ = random_instance(4, 4, 6)
        with pytest.raises(ValueError):
            score_pairs(children, mentors, prepared_mentors=prepare_mentors(others))


class TestExplain:
    @settings(max_examples=30, deadline=None)
    @given(seed=st.integers(0, 2**32 - 1))
    def test_weighted_components_equal_the_score(self, seed: int) -> None:
        children, mentors, exclusions = random_instance(seed, 8, 12)
        weights = Weights(0.25, 0.35, 0.4)
        result = score_pairs(children, mentors, weights, exclusions)
        for k in range(len(result)):
            details = explain(result, k)
            assert details["weighted_sum_matches_score"], details
            assert details["weights"] == weights.as_dict()
            assert details["common_goals"] == vocabulary.mask_to_goals(int(result.common_goals[k]))
            assert result.position(details["child_index"], details["mentor_index"]) == k

    def test_position_of_an_infeasible_pair_is_none(self) -> None:
        children, mentors, exclusions = random_instance(11, 8, 12)
        result = score_pairs(children, mentors, Weights(), exclusions)
        feasible = set(zip(result.child_index.tolist(), result.mentor_index.tolist(), strict=True))
        for i in range(8):
            for j in range(12):
                assert (result.position(i, j) is not None) == ((i, j) in feasible)


class TestValidation:
    @pytest.mark.parametrize(
        "values",
        [(0.5, 0.3, 0.3), (1.2, -0.2, 0.0), (math.nan, 0.5, 0.5), (0.0, 0.0, 0.0)],
    )
    def test_bad_weights(self, values: tuple[float, float, float]) -> None:
        with pytest.raises(ValueError):
            Weights(*values)

    @pytest.mark.parametrize(
        "values",
        [
            (0.5, 0.3, 0.2 + WEIGHT_SUM_TOLERANCE / 2),
            (0.5, 0.3, 0.2 - WEIGHT_SUM_TOLERANCE / 2),
            (0.1, 0.2, 0.7),  # 0.1 + 0.2 + 0.7 is not exactly 1 in binary
            (1.0, 0.0, 0.0),
        ],
    )
    def test_weights_summing_to_1_within_the_tolerance_are_kept_as_given(
        self, values: tuple[float, float, float]
    ) -> None:
        weights = Weights(*values)
        assert (weights.goals, weights.distance, weights.availability) == values
        assert list(weights.as_dict().values()) == list(values)

    @pytest.mark.parametrize("excess", [3 * WEIGHT_SUM_TOLERANCE, -3 * WEIGHT_SUM_TOLERANCE])
    def test_weights_just_beyond_the_tolerance_are_refused(self, excess: float) -> None:
        with pytest.raises(ValueError, match="sum to 1"):
            Weights(0.5, 0.3, 0.2 + excess)

    def test_bad_arrays(self) -> None:
        children, mentors = TestRules().one_pair()
        with pytest.raises(ValueError, match="availability"):
            TestRules().one_pair(child__availability=np.zeros((1, 41), np.uint8))
        with pytest.raises(ValueError, match="goal"):
            TestRules().one_pair(mentor__goals=[1 << len(vocabulary.GOALS)])
        with pytest.raises(ValueError, match="language"):
            TestRules().one_pair(mentor__languages=[1 << len(vocabulary.LANGUAGES)])
        with pytest.raises(ValueError, match="gender"):
            TestRules().one_pair(mentor__gender=[4])
        with pytest.raises(ValueError, match="radius"):
            TestRules().one_pair(mentor__radius_km=[-1.0])
        with pytest.raises(ValueError, match="rows"):
            TestRules().one_pair(child__eligible=[True, False])
        with pytest.raises(ValueError, match="exclusions"):
            score_pairs(children, mentors, exclusions=np.array([[0, 1]]))
        with pytest.raises(ValueError, match="declines"):
            score_pairs(children, mentors, declines=np.array([[1, 0]]))
        with pytest.raises(ValueError, match="declines"):
            score_pairs(children, mentors, declines=np.array([0, 0]))
        with pytest.raises(ValueError, match="needed_slots"):
            score_pairs(children, mentors, needed_slots=0)

    def test_empty_sides(self) -> None:
        children, mentors, _ = random_instance(1, 0, 5)
        result = score_pairs(children, mentors)
        assert len(result) == 0 and result.primary_reason_counts.shape == (0, N_REASONS)
        children, mentors, _ = random_instance(1, 3, 0)
        result = score_pairs(children, mentors)
        assert len(result) == 0
        np.testing.assert_array_equal(result.primary_reason_counts, 0)


def test_the_api_names_every_reason_in_priority_order() -> None:
    assert get_args(InfeasibleReason) == tuple(REASON_CODES[reason] for reason in Reason)
    assert REASON_CODES[Reason.NO_AGREEMENT] == "no_agreement"
