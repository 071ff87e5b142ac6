"""The solver against an exhaustive search on small instances, and its invariants. No database."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mentorat.matching import solver as solver_module
from mentorat.matching.solver import (
    OBJECTIVES,
    Solution,
    Unmatched,
    _node_labels,
    estimated_seconds,
    solve,
)

METHODS = ("auto", "dense", "sparse")


@dataclass(frozen=True)
class Instance:
    n_children: int
    n_mentors: int
    child_index: np.ndarray
    mentor_index: np.ndarray
    score: np.ndarray  # float32, as FeasiblePairs gives them
    capacity: np.ndarray
    min_score: float

    def solve(self, objective: str, method: str = "auto", **kwargs: object) -> Solution:
        return solve(
            self.n_children,
            self.n_mentors,
            self.child_index,
            self.mentor_index,
            self.score,
            self.capacity,
            self.min_score,
            objective,  # type: ignore[arg-type]
            method=method,  # type: ignore[arg-type]
            **kwargs,  # type: ignore[arg-type]
        )

    def pairs(self) -> dict[tuple[int, int], float]:
        return {
            (int(c), int(m)): float(s)
            for c, m, s in zip(self.child_index, self.mentor_index, self.score, strict=True)
        }


TIED_SCORES = (0.0, 0.25, 0.5, 0.5, 0.75, 1.0)
unit_floats = st.floats(0, 1, width=32)


@st.composite
def instances(draw: st.DrawFn, max_children: int = 7, max_mentors: int = 5) -> Instance:
    n = draw(st.integers(0, max_children))
    m = draw(st.integers(0, max_mentors))
    capacity = draw(st.lists(st.integers(1, 3), min_size=m, max_size=m))
    feasible = draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m))
    score_kind = st.one_of(st.sampled_from(TIED_SCORES), unit_floats)
    scores = draw(st.lists(score_kind, min_size=n * m, max_size=n * m))
    min_score = draw(st.one_of(st.sampled_from((0.0, 0.25, 0.5, 0.8)), unit_floats))
    keys = [k for k in range(n * m) if feasible[k]]
    return Instance(
        n_children=n,
        n_mentors=m,
        child_index=np.array([k // max(m, 1) for k in keys], dtype=np.int32),
        mentor_index=np.array([k % max(m, 1) for k in keys], dtype=np.int32),
        score=np.array([scores[k] for k in keys], dtype=np.float32),
        capacity=np.array(capacity, dtype=np.int32),
        min_score=float(min_score),
    )


def brute_force(instance: Instance) -> dict[str, tuple[int, float]]:
    """Best (matched count, total score) per objective, by exhaustive search.

    Tries, for every child in turn, each allowed mentor with capacity left, or no mentor; the
    search is memoised on (child, remaining capacities), which changes nothing to its result.
    """
    allowed: list[list[tuple[int, float]]] = [[] for _ in range(instance.n_children)]
    for (child, mentor), score in sorted(instance.pairs().items()):
        if score >= instance.min_score:
            allowed[child].append((mentor, score))

    @cache
    def best(child: int, left: tuple[int, ...], coverage: bool) -> tuple[float, ...]:
        if child == instance.n_children:
            return (0, 0.0)
        options = [best(child + 1, left, coverage)]
        for mentor, score in allowed[child]:
            if left[mentor] > 0:
                rest = (*left[:mentor], left[mentor] - 1, *left[mentor + 1 :])
                count, total = best(child + 1, rest, coverage)
                options.append((count + 1, total + score))
        key = (lambda o: (o[0], o[1])) if coverage else (lambda o: o[1])
        return max(options, key=key)

    capacity = tuple(int(c) for c in instance.capacity)
    coverage = best(0, capacity, True)
    total = best(0, capacity, False)
    return {
        "coverage_first": (int(coverage[0]), float(coverage[1])),
        "total_score": (int(total[0]), float(total[1])),
    }


def assert_valid(instance: Instance, solution: Solution) -> None:
    pairs = instance.pairs()
    matched = list(zip(solution.child_index.tolist(), solution.mentor_index.tolist(), strict=True))
    for (child, mentor), score in zip(matched, solution.score.tolist(), strict=True):
        assert (child, mentor) in pairs, "proposed pair is not an input pair"
        assert pairs[(child, mentor)] == score
        assert score >= instance.min_score
    children = [child for child, _ in matched]
    assert children == sorted(set(children)), "a child twice, or not sorted by child"
    load = np.bincount(solution.mentor_index, minlength=instance.n_mentors)
    assert np.all(load <= instance.capacity), "mentor over capacity"
    assert solution.child_index.dtype == np.int32 and solution.mentor_index.dtype == np.int32
    assert solution.score.dtype == np.float32


def expected_reasons(instance: Instance, solution: Solution) -> dict[int, str]:
    pairs = instance.pairs()
    matched = set(solution.child_index.tolist())
    reasons = {}
    for child in range(instance.n_children):
        if child in matched:
            continue
        scores = [s for (c, _), s in pairs.items() if c == child]
        if not scores:
            reasons[child] = "no_feasible_mentor"
        elif max(scores) < instance.min_score:
            reasons[child] = "below_min_score"
        else:
            reasons[child] = "taken_by_others"
    return reasons


def assert_components(instance: Instance, solution: Solution) -> None:
    """Children share a component label iff connected by edges >= min_score."""
    component = solution.child_component
    good = [(c, m) for (c, m), s in instance.pairs().items() if s >= instance.min_score]
    with_edge = {c for c, _ in good}
    for child in range(instance.n_children):
        assert (component[child] >= 0) == (child in with_edge)
    by_mentor: dict[int, set[int]] = {}
    for child, mentor in good:
        by_mentor.setdefault(mentor, set()).add(int(component[child]))
    assert all(len(labels) == 1 for labels in by_mentor.values())
    labels = [int(component[c]) for c in range(instance.n_children) if component[c] >= 0]
    first_seen = list(dict.fromkeys(labels))
    assert first_seen == list(range(solution.n_components)), "components not numbered in order"


def assert_identical(a: Solution, b: Solution) -> None:
    for name in (
        "child_index",
        "mentor_index",
        "score",
        "child_component",
        "unmatched_child_index",
        "unmatched_reason",
    ):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.n_components == b.n_components


class TestAgainstBruteForce:
    @settings(max_examples=300, deadline=None)
    @given(instance=instances())
    def test_optimal_valid_and_deterministic(self, instance: Instance) -> None:
        best = brute_force(instance)
        for objective in OBJECTIVES:
            for method in METHODS:
                solution = instance.solve(objective, method)
                assert_valid(instance, solution)
                count, total = best[objective]
                assert solution.total_score == pytest.approx(total, abs=1e-6), (objective, method)
                if objective == "coverage_first":
                    assert solution.n_matched == count, method
                assert solution.unmatched_reasons() == expected_reasons(instance, solution)
                assert_components(instance, solution)
                assert_identical(solution, instance.solve(objective, method))

    @settings(max_examples=100, deadline=None)
    @given(instance=instances(), seed=st.integers(0, 2**32 - 1))
    def test_input_order_does_not_matter(self, instance: Instance, seed: int) -> None:
        order = np.random.default_rng(seed).permutation(len(instance.score))
        shuffled = Instance(
            instance.n_children,
            instance.n_mentors,
            instance.child_index[order],
            instance.mentor_index[order],
            instance.score[order],
            instance.capacity,
            instance.min_score,
        )
        for objective in OBJECTIVES:
            assert_identical(instance.solve(objective), shuffled.solve(objective))


class TestDenseAndSparseAgree:
    @pytest.mark.parametrize("seed", range(6))
    def test_same_optimum_on_larger_instances(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        n, m = 120, 70
        mask = rng.random((n, m)) < 0.08
        child, mentor = np.nonzero(mask)
        instance = Instance(
            n,
            m,
            child.astype(np.int32),
            mentor.astype(np.int32),
            rng.choice(np.array([0.2, 0.5, 0.9, 0.95], np.float32), len(child)),
            rng.integers(1, 4, m).astype(np.int32),
            0.3,
        )
        for objective in OBJECTIVES:
            dense = instance.solve(objective, "dense")
            sparse = instance.solve(objective, "sparse")
            assert dense.methods == {"star": 0, "dense": dense.n_components, "sparse": 0}
            assert sparse.methods == {"star": 0, "dense": 0, "sparse": sparse.n_components}
            assert sparse.n_components > 0
            assert sparse.total_score == pytest.approx(dense.total_score, abs=1e-6)
            if objective == "coverage_first":
                assert sparse.n_matched == dense.n_matched
            assert_valid(instance, dense)
            assert_valid(instance, sparse)

    def test_auto_chooses_by_size_and_density(self) -> None:
        # One component, 3 children x 3 columns, 7 of the 9 cells are edges.
        instance = Instance(
            3, 2, np.array([0, 1, 2, 2]), np.array([0, 0, 0, 1]),
            np.array([0.5, 0.6, 0.7, 0.1], np.float32), np.array([2, 1]), 0.0,
        )  # fmt: skip
        dense = {"star": 0, "dense": 1, "sparse": 0}
        sparse = {"star": 0, "dense": 0, "sparse": 1}
        assert instance.solve("coverage_first").methods == dense
        assert instance.solve("coverage_first", dense_max_cells=8).methods == sparse
        assert instance.solve("coverage_first", dense_min_density=0.8).methods == sparse

    def test_stars_are_solved_in_closed_form(self) -> None:
        # Components: {child 0, mentors 0, 1} one child; {children 1, 2, 3, mentor 2} one
        # mentor of capacity 2; {child 4, mentor 3} both.
        instance = Instance(
            5, 4, np.array([0, 0, 1, 2, 3, 4]), np.array([0, 1, 2, 2, 2, 3]),
            np.array([0.4, 0.9, 0.5, 0.8, 0.8, 0.3], np.float32), np.array([1, 1, 2, 1]), 0.0,
        )  # fmt: skip
        solution = instance.solve("coverage_first")
        assert solution.methods == {"star": 3, "dense": 0, "sparse": 0}
        assert solution.child_index.tolist() == [0, 2, 3, 4]
        assert solution.mentor_index.tolist() == [1, 2, 2, 3]
        assert solution.unmatched_reasons() == {1: "taken_by_others"}
        assert (solution.largest_component_children, solution.largest_component_mentors) == (3, 1)


# Every way a component can be solved, forced on small instances: the time model deciding
# (it is otherwise used on components of a million cells and more), dense LSA with children
# as rows or (more children than capacity columns) transposed, LAPJVsp with and without
# capacity copies, and the closed form of stars.
PATHS: tuple[tuple[str, dict[str, object]], ...] = (
    ("auto", {}),
    ("auto", {"model_min_cells": 0}),
    ("auto", {"model_min_cells": 0, "dense_min_density": 0.0}),
    ("dense", {}),
    ("sparse", {}),
)


class TestEveryPathAgainstBruteForce:
    @settings(max_examples=300, deadline=None)
    @given(instance=instances(max_children=8, max_mentors=5))
    def test_every_path_is_optimal(self, instance: Instance) -> None:
        best = brute_force(instance)
        for objective in OBJECTIVES:
            for method, options in PATHS:
                solution = instance.solve(objective, method, **options)
                assert_valid(instance, solution)
                count, total = best[objective]
                assert solution.total_score == pytest.approx(total, abs=1e-6), (method, options)
                if objective == "coverage_first":
                    assert solution.n_matched == count, (method, options)
                assert solution.unmatched_reasons() == expected_reasons(instance, solution)

    @settings(max_examples=150, deadline=None)
    @given(instance=instances(max_children=8, max_mentors=5), slice_edges=st.integers(1, 4))
    def test_work_by_slices_of_edges_changes_nothing(
        self, instance: Instance, slice_edges: int
    ) -> None:
        """Components, the dense fill and the sparse fill go by slices of edges on large
        instances; with slices of a few edges, every path gives the very same solution."""
        expected = {
            (objective, method, str(options)): instance.solve(objective, method, **options)
            for objective in OBJECTIVES
            for method, options in PATHS
        }
        with pytest.MonkeyPatch.context() as patch:
            for name in ("_COMPONENT_EDGES", "_FILL_EDGES", "_SPARSE_FILL_EDGES"):
                patch.setattr(solver_module, name, slice_edges)
            for objective in OBJECTIVES:
                for method, options in PATHS:
                    assert_identical(
                        instance.solve(objective, method, **options),
                        expected[(objective, method, str(options))],
                    )

    @pytest.mark.parametrize("shape", [(6, 2), (2, 6), (5, 5)])
    def test_dense_with_more_or_fewer_children_than_columns(self, shape: tuple[int, int]) -> None:
        # One component where every pair is an edge: (children, mentors of capacity 1).
        n, m = shape
        rng = np.random.default_rng(n * 10 + m)
        child, mentor = np.divmod(np.arange(n * m), m)
        instance = Instance(
            n, m, child.astype(np.int32), mentor.astype(np.int32),
            rng.choice(np.array([0.1, 0.4, 0.4, 0.9], np.float32), n * m),
            np.ones(m, np.int32), 0.0,
        )  # fmt: skip
        best = brute_force(instance)
        for objective in OBJECTIVES:
            solution = instance.solve(objective, "dense")
            assert solution.methods == {"star": 0, "dense": 1, "sparse": 0}
            assert solution.n_matched == min(n, m)
            assert solution.total_score == pytest.approx(best[objective][1], abs=1e-6)
            assert_valid(instance, solution)


class TestTimeModel:
    def test_dense_estimated_faster_when_dense_sparse_when_sparse(self) -> None:
        dense, sparse = estimated_seconds(4000, 4500, int(0.9 * 4000 * 4500))
        assert dense < sparse
        dense, sparse = estimated_seconds(4000, 4500, int(0.02 * 4000 * 4500))
        assert sparse < dense

    @pytest.mark.parametrize(("density", "expected"), [(0.9, "dense"), (0.02, "sparse")])
    def test_auto_follows_the_model_on_a_large_component(
        self, density: float, expected: str
    ) -> None:
        rng = np.random.default_rng(11)
        n, m = 1200, 1000
        mask = rng.random((n, m)) < density
        mask[np.arange(n), rng.integers(0, 40, n)] = True  # one component: mentors 0-39
        mask[rng.integers(0, n, m), np.arange(m)] = True
        child, mentor = np.nonzero(mask)
        instance = Instance(
            n, m, child.astype(np.int32), mentor.astype(np.int32),
            rng.random(len(child)).astype(np.float32), rng.integers(1, 3, m).astype(np.int32),
            0.0,
        )  # fmt: skip
        for objective in OBJECTIVES:
            auto = instance.solve(objective)
            assert auto.n_components == 1
            assert auto.methods[expected] == 1, auto.methods
            other = instance.solve(objective, "sparse" if expected == "dense" else "dense")
            assert auto.total_score == pytest.approx(other.total_score, abs=1e-6)
            assert auto.n_matched == other.n_matched
            assert_valid(instance, auto)


class TestRules:
    def test_coverage_first_trades_score_for_coverage(self) -> None:
        # Child 0 is the best pair for mentor 0, but child 1 has no one else.
        instance = Instance(
            2, 2, np.array([0, 0, 1]), np.array([0, 1, 0]),
            np.array([1.0, 0.1, 0.9], np.float32), np.array([1, 1]), 0.0,
        )  # fmt: skip
        coverage = instance.solve("coverage_first")
        assert coverage.child_index.tolist() == [0, 1]
        assert coverage.mentor_index.tolist() == [1, 0]
        total = instance.solve("total_score")
        assert total.total_score == pytest.approx(1.0)

    def test_coverage_first_prefers_more_children_to_more_score(self) -> None:
        instance = Instance(
            2, 2, np.array([0, 0, 1]), np.array([0, 1, 0]),
            np.array([1.0, 0.01, 0.01], np.float32), np.array([1, 1]), 0.0,
        )  # fmt: skip
        coverage = instance.solve("coverage_first")
        assert coverage.n_matched == 2
        assert coverage.total_score == pytest.approx(0.02, abs=1e-6)
        total = instance.solve("total_score")
        assert total.n_matched == 1
        assert total.total_score == pytest.approx(1.0)

    def test_capacity_and_min_score(self) -> None:
        instance = Instance(
            4, 1, np.array([0, 1, 2, 3]), np.array([0, 0, 0, 0]),
            np.array([0.9, 0.8, 0.7, 0.2], np.float32), np.array([5]), 0.5,
        )  # fmt: skip
        solution = instance.solve("coverage_first")
        assert solution.child_index.tolist() == [0, 1, 2]
        assert solution.unmatched_reasons() == {3: "below_min_score"}
        assert solution.largest_component_children == 3
        assert solution.largest_component_mentors == 1

    def test_zero_capacity_mentor_is_never_used(self) -> None:
        instance = Instance(
            2, 2, np.array([0, 1]), np.array([0, 1]),
            np.array([0.9, 0.8], np.float32), np.array([0, 1]), 0.0,
        )  # fmt: skip
        solution = instance.solve("coverage_first")
        assert solution.child_index.tolist() == [1]
        assert solution.unmatched_reasons() == {0: "taken_by_others"}
        assert solution.child_component.tolist() == [-1, 0]

    def test_reasons_and_components(self) -> None:
        instance = Instance(
            5, 3, np.array([0, 1, 2, 3]), np.array([0, 0, 1, 2]),
            np.array([0.9, 0.8, 0.1, 0.6], np.float32), np.array([1, 1, 1]), 0.5,
        )  # fmt: skip
        solution = instance.solve("coverage_first")
        assert solution.child_index.tolist() == [0, 3]
        assert solution.unmatched_reasons() == {
            1: "taken_by_others",
            2: "below_min_score",
            4: "no_feasible_mentor",
        }
        assert [Unmatched(int(r)).code for r in solution.unmatched_reason] == [
            "taken_by_others",
            "below_min_score",
            "no_feasible_mentor",
        ]
        assert solution.child_component.tolist() == [0, 0, -1, 1, -1]
        assert solution.n_components == 2
        assert set(solution.timings) == {"components", "solve"}

    def test_empty(self) -> None:
        empty = np.empty(0, dtype=np.int32)
        solution = solve(3, 0, empty, empty, np.empty(0, np.float32), empty, 0.0)
        assert solution.n_matched == 0 and solution.n_components == 0
        assert solution.unmatched_reasons() == dict.fromkeys(range(3), "no_feasible_mentor")


class TestValidation:
    def base(self) -> dict[str, object]:
        return {
            "n_children": 2,
            "n_mentors": 2,
            "child_index": np.array([0, 1]),
            "mentor_index": np.array([0, 1]),
            "score": np.array([0.5, 0.5]),
            "capacity": np.array([1, 1]),
            "min_score": 0.0,
        }

    @pytest.mark.parametrize(
        "changes",
        [
            {"objective": "fastest"},
            {"child_index": np.array([0, 2])},
            {"mentor_index": np.array([0, -1])},
            {"child_index": np.array([0, 0]), "mentor_index": np.array([1, 1])},
            {"score": np.array([0.5, np.nan])},
            {"score": np.array([0.5, -0.1])},
            {"capacity": np.array([1])},
            {"score": np.array([0.5])},
            {"min_score": float("nan")},
        ],
    )
    def test_rejects(self, changes: dict[str, object]) -> None:
        with pytest.raises(ValueError):
            solve(**{**self.base(), **changes})  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    n_nodes=st.integers(1, 12),
    edges=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), max_size=30),
    slice_edges=st.integers(1, 7),
)
def test_components_found_by_slices_are_those_of_the_whole_graph(
    n_nodes: int, edges: list[tuple[int, int]], slice_edges: int
) -> None:
    """Labels composed slice after slice group the nodes exactly as one pass over all edges
    does (a union-find written here, independent of scipy)."""
    edges = [(u % n_nodes, v % n_nodes) for u, v in edges]
    parent = list(range(n_nodes))

    def root(node: int) -> int:
        while parent[node] != node:
            node = parent[node]
        return node

    for u, v in edges:
        parent[root(u)] = root(v)
    first = np.array([u for u, _ in edges], dtype=np.int32)
    second = np.array([v for _, v in edges], dtype=np.int32)
    labels = _node_labels(first, second, n_nodes, slice_edges)
    for a in range(n_nodes):
        for b in range(n_nodes):
            assert (labels[a] == labels[b]) == (root(a) == root(b))
