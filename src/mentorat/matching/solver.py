"""Exact batch assignment of children to mentors over the feasible pairs. Pure, no I/O.

The feasible graph (pairs with score >= min_score, mentors with capacity left) is split into
connected components, which never compete for anything, and each is solved exactly:
a mentor of capacity k becomes min(k, degree) identical columns and
`scipy.optimize.linear_sum_assignment` maximises the total weight on the dense
children x columns matrix, non-edges weighing 0. With non-negative edge weights, any matching
of real edges extends to a full matching of the dense matrix with the same weight (pad with
non-edges), so the optimum of the dense problem, restricted to its real edges, is an optimal
matching of the graph: dropping the non-edge assignments costs nothing.

Objectives:
- "total_score": edge weight = score.
- "coverage_first": edge weight = M + score with M = c * max_score + 1 (c = children in the
  component). A matching of k edges weighs between k*M and k*M + c*max_score < (k+1)*M, so
  more matches always win and, for as many matches, the higher total score wins.

Each component is solved by one of three exact methods (`method="auto"` picks):
- a star (one child, or one mentor) in closed form, all stars at once with numpy: the child's
  best mentor, or the mentor's k best children (k = its columns). A Python loop over
  thousands of tiny components would otherwise cost ~0.15 ms each.
- dense `linear_sum_assignment` on the float64 children x columns matrix (negated weights,
  built with the short side as rows so that scipy copies nothing);
- `scipy.sparse.csgraph.min_weight_full_bipartite_matching` (LAPJVsp) on the edges plus one
  dummy column per child: costs are BIG - weight on edges and BIG on a child's dummy; every
  child is matched, so the cost is c * BIG - (weight of the real edges): the same optimum,
  exactly. It needs no c x columns matrix.
Between the last two, `auto` takes the one whose estimated time is lower (`estimated_seconds`,
a model fitted on measurements: benchmarks/README.md), dense only within `dense_max_cells`
cells and `dense_min_density` density. `method="dense"` or `"sparse"` forces one solver on
every component (tests prove all equal).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching

Objective = Literal["coverage_first", "total_score"]
Method = Literal["auto", "dense", "sparse"]
OBJECTIVES: tuple[str, ...] = ("coverage_first", "total_score")
# Dense LSA only for components with at most this many cells (children x mentor columns):
# 128M float64 cells are 1 GiB, less than LAPJVsp needs for the same component at the
# densities where dense wins (~30 bytes an edge). And only when at least this share of the
# cells are edges: below it LAPJVsp was faster in every measurement (benchmarks/README.md).
DENSE_MAX_CELLS = 128_000_000
DENSE_MIN_DENSITY = 0.3
# Below this many cells both methods take milliseconds and the time model was not fitted:
# dense LSA whenever the density allows it, as measured on such components.
MODEL_MIN_CELLS = 1_000_000

IntArray = npt.NDArray[np.integer[Any]]
IndexArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.floating[Any]]
# (factor, exponent[s]) of the fitted solve-time models; see `estimated_seconds`.
_DENSE_FIT = (1.19e-8, 1.137)
_FILL_EDGES = 1 << 20
_COMPONENT_EDGES = 1 << 20
# Slices of the sparse fill: its temporaries (~40 bytes an expanded edge) stay a few MiB.
_SPARSE_FILL_EDGES = 1 << 18
_SPARSE_FIT = (5.20e-9, 0.954, 0.658)


class Unmatched(IntEnum):
    """Why a child got no proposal."""

    NO_FEASIBLE_MENTOR = 0
    BELOW_MIN_SCORE = 1
    TAKEN_BY_OTHERS = 2

    @property
    def code(self) -> str:
        return UNMATCHED_CODES[self]


UNMATCHED_CODES: dict[Unmatched, str] = {
    Unmatched.NO_FEASIBLE_MENTOR: "no_feasible_mentor",
    Unmatched.BELOW_MIN_SCORE: "below_min_score",
    Unmatched.TAKEN_BY_OTHERS: "taken_by_others",
}


@dataclass(frozen=True, eq=False)
class Solution:
    """Matches sorted by child, the component of every child, and why the others are unmatched.

    child_component[i] is -1 for a child with no pair >= min_score (to a mentor with capacity);
    components are numbered in order of their smallest child index.
    """

    child_index: npt.NDArray[np.int32]
    mentor_index: npt.NDArray[np.int32]
    score: npt.NDArray[np.float32]
    child_component: npt.NDArray[np.int32]
    n_components: int
    largest_component_children: int
    largest_component_mentors: int
    unmatched_child_index: npt.NDArray[np.int32]
    unmatched_reason: npt.NDArray[np.int8]  # values of Unmatched
    objective: str
    min_score: float
    methods: dict[str, int]  # components solved by each method: star, dense, sparse
    timings: dict[str, float] = field(default_factory=dict)  # seconds: components, solve

    @property
    def n_matched(self) -> int:
        return int(self.child_index.shape[0])

    @property
    def total_score(self) -> float:
        return float(self.score.astype(np.float64).sum())

    def unmatched_reasons(self) -> dict[int, str]:
        return {
            int(child): Unmatched(int(reason)).code
            for child, reason in zip(self.unmatched_child_index, self.unmatched_reason, strict=True)
        }


@dataclass(frozen=True)
class _Graph:
    """Edges (score >= min_score, capacity > 0) grouped by component, sorted (child, mentor)."""

    child: IndexArray
    mentor: IndexArray
    score: FloatArray  # float32 or float64, as given
    component: IndexArray  # of each edge, non-decreasing
    bounds: npt.NDArray[np.int64]  # edges of component k: bounds[k]:bounds[k + 1]
    child_component: npt.NDArray[np.int32]

    @property
    def n_components(self) -> int:
        return len(self.bounds) - 1

    def sizes(self, n_mentors: int) -> tuple[IntArray, IntArray]:
        """Number of children and of mentors in each component."""
        assigned = self.child_component[self.child_component >= 0]
        children = np.bincount(assigned, minlength=self.n_components)
        mentor_component = np.full(n_mentors, -1, dtype=np.int32)
        mentor_component[self.mentor] = self.component
        assigned = mentor_component[mentor_component >= 0]
        return children, np.bincount(assigned, minlength=self.n_components)


def solve(
    n_children: int,
    n_mentors: int,
    child_index: npt.ArrayLike,
    mentor_index: npt.ArrayLike,
    score: npt.ArrayLike,
    capacity: npt.ArrayLike,
    min_score: float = 0.0,
    objective: Objective = "coverage_first",
    *,
    method: Method = "auto",
    dense_max_cells: int = DENSE_MAX_CELLS,
    dense_min_density: float = DENSE_MIN_DENSITY,
    model_min_cells: int = MODEL_MIN_CELLS,
) -> Solution:
    """Exactly optimal assignment for the objective; deterministic for a given input.

    The pairs must be feasible and distinct, scores finite and non-negative; capacity is the
    capacity left per mentor. A child is never proposed a pair under min_score.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    if method not in ("auto", "dense", "sparse"):
        raise ValueError(f"unknown method {method!r}")
    children, mentors, scores, capacities = _validate(
        n_children, n_mentors, child_index, mentor_index, score, capacity, min_score
    )

    started = time.perf_counter()
    good = _at_least(scores, min_score)
    has_pair = _any_per_child(children, n_children)
    has_good_pair = _any_per_child(children[good], n_children)
    keep = good & (capacities[mentors] > 0)
    del good
    if not keep.all():
        children, mentors, scores = children[keep], mentors[keep], scores[keep]
    del keep
    graph = _components(n_children, n_mentors, children, mentors, scores)
    del children, mentors, scores  # the graph holds the edges now, in component order
    components_done = time.perf_counter()

    component_children, component_mentors = graph.sizes(n_mentors)
    edge, methods = _solve_components(
        graph,
        component_children,
        component_mentors,
        capacities,
        objective,
        _MethodChoice(method, dense_max_cells, dense_min_density, model_min_cells),
    )
    solved = time.perf_counter()

    edge = edge[np.argsort(graph.child[edge], kind="stable")]
    match_child = graph.child[edge]
    unmatched, reasons = _unmatched(has_pair, has_good_pair, match_child)
    largest = _largest(component_children, component_mentors)
    return Solution(
        child_index=match_child.astype(np.int32),
        mentor_index=graph.mentor[edge].astype(np.int32),
        score=graph.score[edge].astype(np.float32),
        child_component=graph.child_component,
        n_components=graph.n_components,
        largest_component_children=largest[0],
        largest_component_mentors=largest[1],
        unmatched_child_index=unmatched.astype(np.int32),
        unmatched_reason=reasons,
        objective=objective,
        min_score=float(min_score),
        methods=methods,
        timings={"components": components_done - started, "solve": solved - components_done},
    )


def _at_least(scores: FloatArray, min_score: float) -> npt.NDArray[np.bool_]:
    """scores >= min_score compared in float64, whatever the dtype the scores are kept in."""
    return scores >= np.float64(min_score)  # a float64 scalar is not weak: promotes


def _any_per_child(children: IndexArray, n_children: int) -> npt.NDArray[np.bool_]:
    present = np.zeros(n_children, dtype=bool)
    present[children] = True
    return present


def estimated_seconds(rows: int, columns: int, edges: int) -> tuple[float, float]:
    """Estimated (dense, sparse) solve time of a component, from a fit on measurements.

    rows x columns is the problem size (children x mentor capacity columns), edges the
    (child, column) edges. Dense LSA grows with the cells and LAPJVsp with the edges, both
    faster than linearly; see benchmarks/README.md, "Choosing the method per component".
    """
    cells = float(rows) * float(columns)
    dense = _DENSE_FIT[0] * cells ** _DENSE_FIT[1]
    sparse = _SPARSE_FIT[0] * float(max(edges, 1)) ** _SPARSE_FIT[1] * float(rows) ** _SPARSE_FIT[2]
    return dense, sparse


@dataclass(frozen=True)
class _MethodChoice:
    method: Method
    dense_max_cells: int
    dense_min_density: float
    model_min_cells: int

    def sparse(self, problem: _Component) -> bool:
        if self.method != "auto":
            return self.method == "sparse"
        if problem.cells > self.dense_max_cells or problem.density < self.dense_min_density:
            return True
        if problem.cells < self.model_min_cells:
            return False
        dense, sparse = estimated_seconds(len(problem.children), problem.n_columns, problem.edges)
        return sparse < dense


def _solve_components(
    graph: _Graph,
    component_children: IntArray,
    component_mentors: IntArray,
    capacities: npt.NDArray[np.int64],
    objective: Objective,
    choice: _MethodChoice,
) -> tuple[npt.NDArray[np.int64], dict[str, int]]:
    """Positions of the matched edges, and how many components each method solved."""
    star = (component_children == 1) | (component_mentors == 1)
    if choice.method != "auto":
        star[:] = False
    matched = [_solve_stars(graph, star, component_children == 1, capacities)]
    methods = {"star": int(star.sum()), "dense": 0, "sparse": 0}
    mentors = _MentorsByComponent.of(graph, len(capacities))
    for k in np.flatnonzero(~star):  # in component order: deterministic
        start, stop = int(graph.bounds[k]), int(graph.bounds[k + 1])
        problem = _Component(
            graph.child[start:stop],
            mentors.local[graph.mentor[start:stop]],
            mentors.of_component(k),
            graph.score[start:stop],
            capacities,
        )
        sparse = choice.sparse(problem)
        methods["sparse" if sparse else "dense"] += 1
        matched.append(start + problem.solve(objective, sparse=sparse))
        del problem
    return np.concatenate(matched), methods


@dataclass(frozen=True)
class _MentorsByComponent:
    """The mentors of every component (ascending) and each mentor's rank within its own."""

    order: IntArray  # mentors grouped by component
    bounds: IntArray  # component k: order[bounds[k]:bounds[k + 1]]
    local: IndexArray  # [n_mentors]: rank of the mentor among its component's mentors

    @classmethod
    def of(cls, graph: _Graph, n_mentors: int) -> _MentorsByComponent:
        component = np.full(n_mentors, graph.n_components, dtype=np.int32)  # last: none
        component[graph.mentor] = graph.component
        order = np.argsort(component, kind="stable")
        bounds = np.searchsorted(component[order], np.arange(graph.n_components + 1))
        local = np.empty(n_mentors, dtype=np.int32)
        local[order] = np.arange(n_mentors) - bounds[component[order]]
        return cls(order, bounds, local)

    def of_component(self, k: int) -> IntArray:
        return self.order[self.bounds[k] : self.bounds[k + 1]]


def _largest(component_children: IntArray, component_mentors: IntArray) -> tuple[int, int]:
    """(children, mentors) of the component with the most vertices, the first one on ties."""
    if len(component_children) == 0:
        return 0, 0
    k = int(np.argmax(component_children + component_mentors))
    return int(component_children[k]), int(component_mentors[k])


def _validate(
    n_children: int,
    n_mentors: int,
    child_index: npt.ArrayLike,
    mentor_index: npt.ArrayLike,
    score: npt.ArrayLike,
    capacity: npt.ArrayLike,
    min_score: float,
) -> tuple[IndexArray, IndexArray, FloatArray, npt.NDArray[np.int64]]:
    """Checked edges sorted by (child, mentor), without copying what is already so.

    Indices are kept as int32 and float32 scores as they are (the pair lists dominate the
    memory of a dense instance); weights are computed in float64 per component.
    """
    children = np.asarray(child_index)
    mentors = np.asarray(mentor_index)
    capacities = np.asarray(capacity)
    for name, array in (("child_index", children), ("mentor_index", mentors)):
        if array.ndim != 1 or (array.size and not np.issubdtype(array.dtype, np.integer)):
            raise ValueError(f"{name} must be a 1-D integer array")
    scores = np.asarray(score)
    if scores.dtype not in (np.float32, np.float64):
        scores = scores.astype(np.float64)
    if not (children.shape == mentors.shape == scores.shape):
        raise ValueError("child_index, mentor_index and score must have the same length")
    if capacities.shape != (n_mentors,) or not np.issubdtype(capacities.dtype, np.integer):
        raise ValueError("capacity must be an integer array with one entry per mentor")
    if max(n_children, n_mentors) >= np.iinfo(np.int32).max:
        raise ValueError("too many children or mentors")
    if children.size and (children.min() < 0 or children.max() >= n_children):
        raise ValueError("child_index out of range")
    if mentors.size and (mentors.min() < 0 or mentors.max() >= n_mentors):
        raise ValueError("mentor_index out of range")
    if not np.isfinite(scores).all() or (scores.size and scores.min() < 0):
        raise ValueError("scores must be finite and non-negative")
    if not np.isfinite(min_score):
        raise ValueError("min_score must be finite")
    children = children.astype(np.int32, copy=False)
    mentors = mentors.astype(np.int32, copy=False)
    same_child = children[1:] == children[:-1]
    if not np.all((children[1:] > children[:-1]) | (same_child & (mentors[1:] > mentors[:-1]))):
        order = np.lexsort((mentors, children))
        children, mentors, scores = children[order], mentors[order], scores[order]
        if np.any((children[1:] == children[:-1]) & (mentors[1:] == mentors[:-1])):
            raise ValueError("a (child, mentor) pair appears twice")
    return children, mentors, scores, capacities.astype(np.int64)


def _compact(values: IndexArray, size: int) -> tuple[IntArray, IndexArray]:
    """The distinct values (sorted) and each value's rank among them, without sorting."""
    present = np.zeros(size, dtype=bool)
    present[values] = True
    rank = np.cumsum(present, dtype=np.int32) - 1
    return np.flatnonzero(present), rank[values]


def _components(
    n_children: int,
    n_mentors: int,
    children: IndexArray,
    mentors: IndexArray,
    scores: FloatArray,
) -> _Graph:
    """Connected components of the bipartite graph, isolated vertices dropped.

    The edges come sorted by (child, mentor) and stay so within each component. With one
    component (the dense case) the edge arrays are kept as they are, not copied.
    """
    child_nodes, child_local = _compact(children, n_children)
    mentor_nodes, mentor_local = _compact(mentors, n_mentors)
    n_child_nodes = len(child_nodes)
    mentor_local += n_child_nodes
    n_nodes = n_child_nodes + len(mentor_nodes)
    labels = _node_labels(child_local, mentor_local, n_nodes, _COMPONENT_EDGES)
    del mentor_local

    # Number components by their smallest child: child_nodes is sorted, so by first appearance.
    child_labels = labels[:n_child_nodes]
    first_labels, first_seen = np.unique(child_labels, return_index=True)
    n_components = len(first_labels)
    rank = np.empty(labels.max(initial=-1) + 1, dtype=np.int32)
    rank[first_labels[np.argsort(first_seen)]] = np.arange(n_components)
    child_component = np.full(n_children, -1, dtype=np.int32)
    child_component[child_nodes] = rank[child_labels]
    if n_components <= 1:
        return _Graph(
            child=children,
            mentor=mentors,
            score=scores,
            component=np.zeros(len(children), dtype=np.int32),
            bounds=np.array([0, len(children)] if n_components else [0], dtype=np.int64),
            child_component=child_component,
        )
    edge_component = rank[child_labels[child_local]]
    del child_local
    order = _stable_order(edge_component, n_components)
    edge_component = edge_component[order]
    bounds = np.searchsorted(edge_component, np.arange(n_components + 1))
    return _Graph(
        child=children[order],
        mentor=mentors[order],
        score=scores[order],
        component=edge_component,
        bounds=bounds.astype(np.int64),
        child_component=child_component,
    )


def _node_labels(first: IndexArray, second: IndexArray, n_nodes: int, slice_edges: int) -> IntArray:
    """A component label per node of the graph whose edges are (first[i], second[i]).

    The edges go to scipy by slices, each slice over the labels found so far: components of
    the union are components of the slices' graphs composed. scipy copies a graph as float64
    in both directions (~24 bytes an edge); by slices that is a few MiB, not the whole
    graph's size on top of the pairs. Once every node shares one label, nothing can change.
    """
    labels = np.arange(n_nodes, dtype=np.int32)
    for start in range(0, len(first), slice_edges):
        u = labels[first[start : start + slice_edges]]
        v = labels[second[start : start + slice_edges]]
        joined = u != v
        if not joined.any():
            continue
        u, v = u[joined], v[joined]
        graph = coo_array((np.ones(len(u), dtype=np.int8), (u, v)), shape=(n_nodes, n_nodes))
        _, relabel = connected_components(graph, directed=True, connection="weak")
        del graph, u, v
        labels = relabel[labels].astype(np.int32, copy=False)
        if labels.max(initial=0) == 0:
            break
    return labels


def _stable_order(keys: IndexArray, n_keys: int) -> IntArray:
    """Stable argsort; numpy radix-sorts 16-bit keys, several times faster than int64 keys."""
    if n_keys <= np.iinfo(np.uint16).max + 1:
        return np.argsort(keys.astype(np.uint16), kind="stable")
    return np.argsort(keys, kind="stable")


def _solve_stars(
    graph: _Graph,
    star: npt.NDArray[np.bool_],
    one_child: npt.NDArray[np.bool_],
    capacities: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Positions of the matched edges of every star component, in closed form.

    A one-child star matches the child to its best mentor; a one-mentor star gives the mentor
    its min(capacity, degree) best children. Both are optimal for both objectives since scores
    are non-negative. Ties go to the lowest child, then mentor, index.
    """
    edges = np.flatnonzero(star[graph.component])
    component = graph.component[edges]
    child, mentor = graph.child[edges], graph.mentor[edges]
    order = np.lexsort((mentor, child, -graph.score[edges], component))
    edges, component, child, mentor = edges[order], component[order], child[order], mentor[order]
    first = np.searchsorted(component, component)  # component is sorted again
    rank = np.arange(len(edges)) - first
    degree = np.bincount(first, minlength=len(edges))[first]  # edges in the component
    taken = np.where(one_child[component], 1, np.minimum(capacities[mentor], degree))
    return np.sort(edges[rank < taken]).astype(np.int64)


class _Component:
    """One connected component: children as rows, mentor capacity copies as columns."""

    def __init__(
        self,
        child: IndexArray,
        mentor_local: IndexArray,
        mentors: IntArray,
        score: FloatArray,
        capacities: npt.NDArray[np.int64],
    ) -> None:
        self.score = score
        self.mentors, self.mentor_local = mentors, mentor_local
        new_child = np.empty(len(child), dtype=bool)  # child is sorted
        new_child[:1] = True
        np.not_equal(child[1:], child[:-1], out=new_child[1:])
        self.children = child[new_child]
        self.row = np.cumsum(new_child, dtype=np.int32) - 1
        del new_child
        degree = np.bincount(self.mentor_local, minlength=len(self.mentors))
        self.columns = np.minimum(capacities[self.mentors], degree)
        self.column_start = np.concatenate([[0], np.cumsum(self.columns)[:-1]])
        self.n_columns = int(self.columns.sum())
        self.cells = len(self.children) * self.n_columns
        self.edges = int(np.dot(self.columns, degree))  # (child, column) edges
        self.density = self.edges / max(1, self.cells)

    def solve(self, objective: Objective, *, sparse: bool) -> npt.NDArray[np.int64]:
        """Positions, among this component's edges, of an optimal matching."""
        offset = 0.0
        if objective == "coverage_first":
            offset = len(self.children) * float(self.score.max()) + 1.0
        if sparse:
            row, column = self._solve_sparse(offset)
        else:
            row, column = self._solve_dense(offset)
        # Edges are sorted by (child, mentor), hence by this key: find each matched edge.
        owner = np.repeat(np.arange(len(self.mentors), dtype=np.int64), self.columns)
        edge_keys = self.row.astype(np.int64) * len(self.mentors) + self.mentor_local
        matched_keys = row.astype(np.int64) * len(self.mentors) + owner[column]
        position = np.searchsorted(edge_keys, matched_keys)
        is_edge = edge_keys[np.minimum(position, len(edge_keys) - 1)] == matched_keys
        return position[is_edge].astype(np.int64)

    def _weights(self, offset: float, edges: slice = slice(None)) -> npt.NDArray[np.float64]:
        weight = self.score[edges].astype(np.float64)
        if offset:
            weight += offset
        return weight

    def _solve_dense(self, offset: float) -> tuple[IntArray, IntArray]:
        """LSA on the negated weights, non-edges 0: the same optimum as maximising.

        The matrix is built with the short side as rows and minimised, so that scipy works on
        it in place (it copies a matrix to transpose or to negate it).
        """
        n_rows = len(self.children)
        transposed = n_rows > self.n_columns
        shape = (self.n_columns, n_rows) if transposed else (n_rows, self.n_columns)
        matrix = np.zeros(shape, dtype=np.float64)
        column_start = self.column_start.astype(np.int32)
        # By slices of edges: no float64 or int64 copy of all the edges next to the matrix.
        for start in range(0, len(self.score), _FILL_EDGES):
            edges = slice(start, start + _FILL_EDGES)
            weight = -self._weights(offset, edges)
            column = column_start[self.mentor_local[edges]]
            if transposed:
                matrix[column, self.row[edges]] = weight
            else:
                matrix[self.row[edges], column] = weight
        for copy in range(1, int(self.columns.max(initial=1))):
            source = self.column_start[self.columns > copy]
            if transposed:
                matrix[source + copy, :] = matrix[source, :]
            else:
                matrix[:, source + copy] = matrix[:, source]
        # Assignments on non-edges (weight 0) are dropped by the caller.
        first, second = linear_sum_assignment(matrix)
        del matrix
        return (second, first) if transposed else (first, second)

    def _column_edges(
        self, offset: float, edges: slice
    ) -> tuple[IndexArray, IntArray, npt.NDArray[np.float64]]:
        """Row, column and weight of these edges, each repeated once per capacity column of
        its mentor."""
        weight = self._weights(offset, edges)
        copies = self.columns[self.mentor_local[edges]]
        column = self.column_start[self.mentor_local[edges]]
        row = self.row[edges]
        if np.all(copies == 1):
            return row, column, weight
        edge = np.repeat(np.arange(len(weight)), copies)
        first_copy = np.cumsum(copies) - copies
        column = column[edge] + (np.arange(len(edge)) - first_copy[edge])
        return row[edge], column, weight[edge]

    def _solve_sparse(self, offset: float) -> tuple[IntArray, IntArray]:
        """LAPJVsp on costs `big - weight` (every cost > 0, as it needs non-zero weights), each
        row with a dummy column of cost `big` so that a full matching always exists.

        The CSR arrays are filled directly by slices of edges (edges come sorted by row, so
        expanded edge k of row r sits at k + r): no COO arrays, no concatenation, no format
        conversion next to the pairs; scipy makes its one float64 copy of what it is given.
        """
        n_rows = len(self.children)
        copies = self.columns[self.mentor_local]
        per_row = np.bincount(self.row, weights=copies, minlength=n_rows).astype(np.int64) + 1
        del copies
        # int32 indices where they fit, as scipy wants them: it converts int64 ones.
        index_type = np.int32 if per_row.sum() < np.iinfo(np.int32).max else np.int64
        indptr = np.zeros(n_rows + 1, dtype=index_type)
        np.cumsum(per_row, out=indptr[1:])
        del per_row
        size = int(indptr[-1])
        data = np.empty(size, dtype=np.float64)
        indices = np.empty(size, dtype=index_type)
        big = float(self.score.max()) + offset + 1.0
        expanded = 0  # expanded edges before the slice
        for start in range(0, len(self.score), _SPARSE_FILL_EDGES):
            edges = slice(start, start + _SPARSE_FILL_EDGES)
            row, column, weight = self._column_edges(offset, edges)
            position = np.arange(expanded, expanded + len(weight), dtype=np.int64) + row
            data[position] = big - weight
            indices[position] = column
            expanded += len(weight)
            del row, column, weight, position  # before the solve, not with it
        dummy = indptr[1:] - 1
        data[dummy] = big
        indices[dummy] = self.n_columns + np.arange(n_rows)
        matrix = csr_array((data, indices, indptr), shape=(n_rows, self.n_columns + n_rows))
        del data, indices, indptr
        row, column = min_weight_full_bipartite_matching(matrix)
        real = column < self.n_columns
        return row[real], column[real]


def _unmatched(
    has_pair: npt.NDArray[np.bool_],
    has_good_pair: npt.NDArray[np.bool_],
    match_child: IndexArray,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]:
    is_matched = np.zeros(len(has_pair), dtype=bool)
    is_matched[match_child] = True
    unmatched = np.flatnonzero(~is_matched)
    reason = np.full(len(unmatched), Unmatched.TAKEN_BY_OTHERS, dtype=np.int8)
    reason[~has_good_pair[unmatched]] = Unmatched.BELOW_MIN_SCORE
    reason[~has_pair[unmatched]] = Unmatched.NO_FEASIBLE_MENTOR
    return unmatched, reason


__all__ = [
    "DENSE_MAX_CELLS",
    "OBJECTIVES",
    "UNMATCHED_CODES",
    "Method",
    "Objective",
    "Solution",
    "Unmatched",
    "estimated_seconds",
    "solve",
]
