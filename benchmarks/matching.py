"""Benchmark of the pure matching core: scoring, components, exact solve. Prints figures.

Synthetic, reproducible instances: children and mentors placed within 15 km of real towns in
13 départements far apart (so the feasible graph splits into independent parts), travel
radii 10-40 km, 1-3 goals per child and 2-6 per mentor, a few evening / Wednesday / weekend
availability blocks, capacities 1-2, some mentors inactive or without a valid honorability
check. Each measurement runs in a fresh process so that its max RSS is its own.

    python benchmarks/matching.py --sizes 1000,2000,5000,10000
    python benchmarks/matching.py --sizes 10000 --remote-share 0.03   # one giant component
    python benchmarks/matching.py --dense-cases --sizes 5000   # almost every pair feasible

`--dense-cases` measures, for each size, two instances where almost every pair is feasible
(every radius 1,000 km; half of the children and half of the mentors accepting remote):
score + solve against the best bare solver on the dense score matrix, and peak memory.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from mentorat import vocabulary
from mentorat.matching.scoring import ChildArrays, FeasiblePairs, MentorArrays, score_pairs
from mentorat.matching.solver import OBJECTIVES, solve

# (département, town, latitude, longitude, population in thousands)
TOWNS: tuple[tuple[str, str, float, float, float], ...] = (
    ("53", "Laval", 48.0706, -0.7734, 50),
    ("53", "Mayenne", 48.3031, -0.6136, 13),
    ("53", "Château-Gontier", 47.8286, -0.7028, 17),
    ("53", "Évron", 48.1564, -0.4022, 7),
    ("53", "Ernée", 48.2975, -0.9317, 6),
    ("53", "Craon", 47.8483, -0.9489, 4.5),
    ("59", "Lille", 50.6292, 3.0573, 235),
    ("59", "Roubaix", 50.6942, 3.1746, 98),
    ("59", "Tourcoing", 50.7239, 3.1612, 98),
    ("59", "Dunkerque", 51.0343, 2.3768, 87),
    ("59", "Valenciennes", 50.3570, 3.5235, 43),
    ("59", "Douai", 50.3714, 3.0800, 40),
    ("59", "Cambrai", 50.1760, 3.2346, 32),
    ("59", "Maubeuge", 50.2775, 3.9734, 29),
    ("33", "Bordeaux", 44.8378, -0.5792, 260),
    ("33", "Mérignac", 44.8386, -0.6436, 72),
    ("33", "Libourne", 44.9153, -0.2436, 25),
    ("33", "Arcachon", 44.6586, -1.1689, 11),
    ("33", "Langon", 44.5531, -0.2494, 7.5),
    ("33", "Lesparre-Médoc", 45.3075, -0.9378, 5.7),
    ("13", "Marseille", 43.2965, 5.3698, 870),
    ("13", "Aix-en-Provence", 43.5297, 5.4474, 145),
    ("13", "Arles", 43.6766, 4.6278, 51),
    ("13", "Martigues", 43.4045, 5.0476, 49),
    ("13", "Aubagne", 43.2927, 5.5707, 47),
    ("13", "Salon-de-Provence", 43.6403, 5.0970, 45),
    ("67", "Strasbourg", 48.5734, 7.7521, 290),
    ("67", "Haguenau", 48.8156, 7.7906, 35),
    ("67", "Sélestat", 48.2594, 7.4542, 19),
    ("67", "Saverne", 48.7414, 7.3623, 12),
    ("67", "Molsheim", 48.5422, 7.4922, 9.8),
    ("31", "Toulouse", 43.6047, 1.4442, 500),
    ("31", "Colomiers", 43.6114, 1.3350, 39),
    ("31", "Muret", 43.4614, 1.3267, 25),
    ("31", "Saint-Gaudens", 43.1081, 0.7233, 11),
    ("29", "Brest", 48.3904, -4.4861, 140),
    ("29", "Quimper", 47.9960, -4.1024, 63),
    ("29", "Morlaix", 48.5775, -3.8278, 15),
    ("29", "Concarneau", 47.8753, -3.9189, 19),
    ("29", "Landerneau", 48.4508, -4.2494, 16),
    ("69", "Lyon", 45.7640, 4.8357, 520),
    ("69", "Villeurbanne", 45.7719, 4.8902, 150),
    ("69", "Vénissieux", 45.6975, 4.8867, 67),
    ("69", "Villefranche-sur-Saône", 45.9897, 4.7194, 36),
    ("974", "Saint-Denis", -20.8823, 55.4504, 153),
    ("974", "Saint-Paul", -21.0096, 55.2707, 105),
    ("974", "Saint-Pierre", -21.3393, 55.4781, 85),
    ("974", "Le Tampon", -21.2779, 55.5177, 80),
    ("2A", "Ajaccio", 41.9192, 8.7386, 73),
    ("2A", "Porto-Vecchio", 41.5911, 9.2794, 12),
    ("2A", "Propriano", 41.6755, 8.9044, 4),
    ("93", "Saint-Denis", 48.9362, 2.3574, 113),
    ("93", "Montreuil", 48.8638, 2.4485, 110),
    ("93", "Aubervilliers", 48.9146, 2.3821, 88),
    ("93", "Bobigny", 48.9086, 2.4397, 55),
    ("23", "Guéret", 46.1716, 1.8717, 13),
    ("23", "La Souterraine", 46.2375, 1.4872, 5.2),
    ("23", "Aubusson", 45.9560, 2.1680, 3.3),
    ("63", "Clermont-Ferrand", 45.7772, 3.0870, 147),
    ("63", "Riom", 45.8936, 3.1128, 19),
    ("63", "Issoire", 45.5442, 3.2489, 15),
    ("63", "Thiers", 45.8564, 3.5478, 11),
)
SPREAD_KM = 15.0
KM_PER_DEGREE = 111.2
SUPPORT_GOALS = sum(goal.kind == "support" for goal in vocabulary.GOALS)
WEDNESDAY, SATURDAY, SUNDAY = 2, 5, 6


# --------------------------------------------------------------------------- instances


def _places(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Points around towns; towns drawn by sqrt(population), people denser near the centre."""
    population = np.array([town[4] for town in TOWNS])
    weight = np.sqrt(population) / np.sqrt(population).sum()
    town = rng.choice(len(TOWNS), size=n, p=weight)
    lat0 = np.array([TOWNS[t][2] for t in town])
    lon0 = np.array([TOWNS[t][3] for t in town])
    distance = SPREAD_KM * rng.random(n)
    bearing = rng.uniform(0, 2 * np.pi, n)
    lat = lat0 + distance * np.cos(bearing) / KM_PER_DEGREE
    lon = lon0 + distance * np.sin(bearing) / (KM_PER_DEGREE * np.cos(np.radians(lat0)))
    return lat, lon


def _goals(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """Support kinds three times as likely as professional fields."""
    p = np.where(np.arange(len(vocabulary.GOALS)) < SUPPORT_GOALS, 3.0, 1.0)
    p /= p.sum()
    masks = np.zeros(n, dtype=np.uint32)
    counts = rng.integers(low, high + 1, n)
    for k in range(high):  # rank k of each person's goals; no loop over people
        picks = rng.choice(len(p), size=n, p=p)
        masks |= np.where(counts > k, np.uint32(1) << picks.astype(np.uint32), 0).astype(np.uint32)
    return masks


def _block(
    slots: np.ndarray, who: np.ndarray, day: int, start_hour: float, end_hour: float
) -> None:
    first = day * vocabulary.SLOTS_PER_DAY + int(start_hour * 2)
    last = day * vocabulary.SLOTS_PER_DAY + int(end_hour * 2)
    slots[who, first:last] = True


def _availability(rng: np.random.Generator, n: int, mentor: bool) -> np.ndarray:
    """A few weekly blocks: weekday evenings, Wednesday afternoon, weekend."""
    slots = np.zeros((n, vocabulary.SLOTS_PER_WEEK), dtype=bool)
    evening_start = 18.0 if mentor else 17.0
    for day in range(5):
        who = rng.random(n) < (0.25 if mentor else 0.35)
        start = evening_start + rng.integers(0, 3) * 0.5
        _block(slots, who, day, start, start + 2.5)
    _block(slots, rng.random(n) < (0.15 if mentor else 0.6), WEDNESDAY, 13.5, 17.5)
    _block(slots, rng.random(n) < 0.4, SATURDAY, 9.5, 12.0)
    _block(slots, rng.random(n) < (0.35 if mentor else 0.5), SATURDAY, 14.0, 18.0)
    _block(slots, rng.random(n) < (0.2 if mentor else 0.25), SUNDAY, 14.0, 17.0)
    return np.packbits(slots, axis=1)


def _languages(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    common = [vocabulary.LANGUAGE_BIT[code] for code in ("en", "ar", "es", "pt", "tr", "ro")]
    extra = np.uint64(1) << rng.choice(common, n).astype(np.uint64)
    return np.where(rng.random(n) < share, extra, np.uint64(0)).astype(np.uint64)


def make_instance(
    n_children: int,
    n_mentors: int,
    seed: int,
    remote_share: float = 0.0,
    *,
    radius_km: float | None = None,
    mentor_remote_share: float | None = None,
) -> tuple[ChildArrays, MentorArrays, np.ndarray]:
    """radius_km: every mentor's radius (default 10-40 km); mentors accept remote with
    probability mentor_remote_share (default twice remote_share)."""
    rng = np.random.default_rng(seed)
    child_lat, child_lon = _places(rng, n_children)
    children = ChildArrays(
        lat=child_lat,
        lon=child_lon,
        goals=_goals(rng, n_children, 1, 3),
        availability=_availability(rng, n_children, mentor=False),
        remote_ok=rng.random(n_children) < remote_share,
        mentor_gender_preference=np.where(
            rng.random(n_children) < 0.1, rng.integers(1, 3, n_children), 0
        ),
        languages=_languages(rng, n_children, 0.05),
        eligible=rng.random(n_children) < 0.95,
    )
    mentor_lat, mentor_lon = _places(rng, n_mentors)
    french = np.uint64(1) << np.uint64(vocabulary.LANGUAGE_BIT["fr"])
    mentors = MentorArrays(
        lat=mentor_lat,
        lon=mentor_lon,
        radius_km=_radius(rng.uniform(10, 40, n_mentors), radius_km),
        goals=_goals(rng, n_mentors, 2, 6),
        availability=_availability(rng, n_mentors, mentor=True),
        remote_ok=rng.random(n_mentors)
        < (2 * remote_share if mentor_remote_share is None else mentor_remote_share),
        gender=rng.choice([0, 1, 2, 3], n_mentors, p=[0.05, 0.6, 0.33, 0.02]),
        languages=french | _languages(rng, n_mentors, 0.3),
        active=rng.random(n_mentors) < 0.95,
        agreement_ok=rng.random(n_mentors) < 0.95,
        honorability_ok=rng.random(n_mentors) < 0.93,
        capacity_left=np.where(rng.random(n_mentors) < 0.3, 2, 1),
    )
    k = n_children // 100
    exclusions = np.stack([rng.integers(0, n_children, k), rng.integers(0, n_mentors, k)], axis=1)
    return children, mentors, exclusions


def _radius(drawn: np.ndarray, radius_km: float | None) -> np.ndarray:
    """The drawn radii, or one radius for all (drawn all the same: the same instance else)."""
    return drawn if radius_km is None else np.full_like(drawn, radius_km)


# --------------------------------------------------------------------------- measurements


def _timed(function: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def _traced_peak(function: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def _solve(pairs: FeasiblePairs, mentors: MentorArrays, objective: str, min_score: float) -> Any:
    return solve(
        pairs.n_children,
        pairs.n_mentors,
        pairs.child_index,
        pairs.mentor_index,
        pairs.score,
        mentors.capacity_left,
        min_score,
        objective,  # type: ignore[arg-type]
    )


def measure_ours(
    size: int, seed: int, remote_share: float, min_score: float, repeats: int
) -> dict[str, Any]:
    """Score + solve (both objectives), median of `repeats` runs; then peaks under tracemalloc."""
    children, mentors, exclusions = make_instance(size, size, seed, remote_share)
    rss_before = _max_rss_bytes()
    runs: list[dict[str, float]] = []
    for _ in range(repeats):
        pairs, score_seconds = _timed(score_pairs, children, mentors, None, exclusions)
        coverage, coverage_seconds = _timed(_solve, pairs, mentors, "coverage_first", min_score)
        total, total_seconds = _timed(_solve, pairs, mentors, "total_score", min_score)
        runs.append(
            {
                "score_s": score_seconds,
                "components_s": coverage.timings["components"],
                "solve_s": coverage.timings["solve"],
                "coverage_total_s": coverage_seconds,
                "total_score_total_s": total_seconds,
                "ours_s": score_seconds + coverage_seconds,
            }
        )
    rss_after = _max_rss_bytes()
    score_peak = _traced_peak(lambda: score_pairs(children, mentors, None, exclusions))
    solve_peak = _traced_peak(lambda: _solve(pairs, mentors, "coverage_first", min_score))
    return {
        "size": size,
        "repeats": repeats,
        **{key: statistics.median(run[key] for run in runs) for key in runs[0]},
        "first_ours_s": runs[0]["ours_s"],
        "pairs": len(pairs),
        "n_components": coverage.n_components,
        "largest": (coverage.largest_component_children, coverage.largest_component_mentors),
        "methods": coverage.methods,
        "matched": coverage.n_matched,
        "eligible": int(children.eligible.sum()),
        "coverage_score": coverage.total_score,
        "total_score_matched": total.n_matched,
        "total_score_score": total.total_score,
        "trace_peak_score": score_peak,
        "trace_peak_solve": solve_peak,
        "rss_before": rss_before,
        "rss_after": rss_after,
    }


def measure_bare(size: int, seed: int, remote_share: float) -> dict[str, Any]:
    """One dense LSA on the full n x m score matrix (infeasible = 0), and a cross-check.

    The bare problem has one column per mentor (capacity ignored) and no min_score: it is a
    timing reference. With every capacity set to 1, our total_score optimum must equal it.
    """
    children, mentors, exclusions = make_instance(size, size, seed, remote_share)
    pairs = score_pairs(children, mentors, None, exclusions)
    matrix = np.zeros((size, size), dtype=np.float64)
    matrix[pairs.child_index, pairs.mentor_index] = pairs.score
    started = time.perf_counter()
    rows, cols = linear_sum_assignment(matrix, maximize=True)
    bare_seconds = time.perf_counter() - started
    bare_total = float(matrix[rows, cols].sum())
    del matrix
    ones = np.minimum(mentors.capacity_left, 1)
    check = solve(size, size, pairs.child_index, pairs.mentor_index, pairs.score, ones, 0.0,
                  "total_score")  # fmt: skip
    return {
        "bare_s": bare_seconds,
        "bare_total": bare_total,
        "check_total": check.total_score,
        "rss_bare": _max_rss_bytes(),
    }


def measure_single_child(n_mentors: int, seed: int, repeats: int = 50) -> dict[str, float]:
    children, mentors, _ = make_instance(1, n_mentors, seed)
    score_pairs(children, mentors)  # warm-up
    times = [_timed(score_pairs, children, mentors)[1] for _ in range(repeats)]
    return {"median_ms": 1e3 * statistics.median(times), "max_ms": 1e3 * max(times)}


def in_fresh_process(function: Callable[..., Any], *args: Any) -> Any:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, *args).result()


# --------------------------------------------------------------------------- dense cases

DENSE_CASES: dict[str, dict[str, float]] = {
    "radius 1,000 km": {"radius_km": 1000.0},
    "half remote": {"remote_share": 0.5, "mentor_remote_share": 0.5},
}


def _dense_instance(size: int, seed: int, case: str) -> tuple[ChildArrays, MentorArrays, Any]:
    options = dict(DENSE_CASES[case])
    remote_share = options.pop("remote_share", 0.0)
    return make_instance(size, size, seed, remote_share, **options)  # type: ignore[arg-type]


def _rss_bytes(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak_rss() -> None:
    """Start VmHWM (the process's peak RSS) again from the current RSS (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


class _Peak:
    """RSS at entry and peak RSS until exit: numpy and the solvers' C/C++ buffers alike.

    Exact only if freed memory goes back to the system at once: `run_dense_cases` sets
    glibc's fixed mmap and trim thresholds for the processes that measure memory.
    """

    def __enter__(self) -> _Peak:
        gc.collect()
        _reset_peak_rss()
        self.base = _rss_bytes("VmRSS")
        return self

    def __exit__(self, *exc: object) -> None:
        self.high = _rss_bytes("VmHWM")

    @property
    def bytes(self) -> int:
        return self.high - self.base


def _whole(first: _Peak, *then: _Peak) -> int:
    """Peak above the RSS at the start of `first` over consecutive phases."""
    return max(phase.high for phase in (first, *then)) - first.base


def measure_dense_ours(size: int, seed: int, case: str, objective: str) -> dict[str, Any]:
    """Score + solve in a fresh process: time, peak RSS above the inputs, solve phase alone."""
    children, mentors, exclusions = _dense_instance(size, seed, case)
    with _Peak() as score_phase:
        pairs, score_seconds = _timed(score_pairs, children, mentors, None, exclusions)
    with _Peak() as solve_phase:
        solution, solve_seconds = _timed(_solve, pairs, mentors, objective, 0.0)
    return {
        "seconds": score_seconds + solve_seconds,
        "score_s": score_seconds,
        "solve_s": solve_seconds,
        "peak": _whole(score_phase, solve_phase),
        "solve_peak": solve_phase.bytes,
        "pairs": len(pairs),
        "largest": (solution.largest_component_children, solution.largest_component_mentors),
        "methods": solution.methods,
        "matched": solution.n_matched,
        "total": solution.total_score,
    }


def measure_dense_bare(size: int, seed: int, case: str, solver: str) -> dict[str, Any]:
    """The bare solver on the n x m score matrix (infeasible 0), in a fresh process.

    Time: the solver call only. Memory: peak RSS above the inputs of scoring, building the
    matrix (the pairs freed once it is built) and solving, so as the same work as ours; and
    the solve phase alone (matrix and solver) for comparison with our solve phase.
    """
    children, mentors, exclusions = _dense_instance(size, seed, case)
    with _Peak() as whole:
        pairs = score_pairs(children, mentors, None, exclusions)
        with _Peak() as solve_phase:
            matrix = np.zeros((size, size), dtype=np.float64)
            matrix[pairs.child_index, pairs.mentor_index] = pairs.score
            del pairs
            gc.collect()
            if solver == "scipy":
                (rows, cols), seconds = _timed(lambda: linear_sum_assignment(matrix, maximize=True))
            else:
                import lap  # type: ignore[import-not-found]  # optional: pip install lapx

                np.subtract(1.0, matrix, out=matrix)  # costs; every row is assigned
                (rows, cols), seconds = _timed(lambda: lap.lapjvh(matrix, return_cost=False))
                np.subtract(1.0, matrix, out=matrix)
            total = float(matrix[rows, cols].sum())
    return {"seconds": seconds, "peak": whole.bytes, "solve_peak": solve_phase.bytes,
            "total": total}  # fmt: skip


def _lap_available() -> bool:
    try:
        import lap

        return hasattr(lap, "lapjvh")
    except ImportError:
        return False


def run_dense_cases(sizes: list[int], seed: int, repeats: int, objective: str) -> None:
    """Ours and the bare solvers in turn, `repeats` rounds, each run in a fresh process."""
    bare_solvers = ["scipy"] + (["lapjvh"] if _lap_available() else [])
    print(f"bare solvers: {', '.join(bare_solvers)}; objective {objective};"
          f" {repeats} interleaved rounds, medians")  # fmt: skip
    for size in sizes:
        for case in DENSE_CASES:
            ours: list[dict[str, Any]] = []
            bare: dict[str, list[dict[str, Any]]] = {name: [] for name in bare_solvers}
            for _ in range(repeats):
                ours.append(in_fresh_process(measure_dense_ours, size, seed, case, objective))
                for name in bare_solvers:
                    bare[name].append(in_fresh_process(measure_dense_bare, size, seed, case, name))
            # Memory in runs of their own, freed memory going back to the system at once
            # (glibc's fixed thresholds), so that RSS is live memory; that slows the many
            # short-lived arrays down, so these runs are not timed.
            with _malloc_returning_memory():
                memory = in_fresh_process(measure_dense_ours, size, seed, case, objective)
                _keep_memory(ours, memory)
                for name in bare_solvers:
                    memory = in_fresh_process(measure_dense_bare, size, seed, case, name)
                    _keep_memory(bare[name], memory)
            report_dense(size, case, ours, bare)


@contextmanager
def _malloc_returning_memory() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in _MALLOC_THRESHOLDS}
    os.environ.update(_MALLOC_THRESHOLDS)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_MALLOC_THRESHOLDS = {"MALLOC_MMAP_THRESHOLD_": "131072", "MALLOC_TRIM_THRESHOLD_": "131072"}


def _keep_memory(runs: list[dict[str, Any]], memory: dict[str, Any]) -> None:
    for run in runs:
        run["peak"], run["solve_peak"] = memory["peak"], memory["solve_peak"]


def _runs(runs: list[dict[str, Any]]) -> str:
    return ", ".join(f"{run['seconds']:.2f}" for run in runs)


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def report_dense(
    size: int, case: str, ours: list[dict[str, Any]], bare: dict[str, list[dict[str, Any]]]
) -> None:
    first = ours[0]
    c, m = first["largest"]
    print(f"\n== {case}: {size:,} children x {size:,} mentors ==")
    print(f"feasible pairs        {first['pairs']:,} ({first['pairs'] / size**2:.0%} of all)")
    print(f"largest component     {c:,} children x {m:,} mentors; solved {first['methods']}")
    print(f"ours: score + solve   {_median(ours, 'seconds'):.2f} s (score"
          f" {_median(ours, 'score_s'):.2f} s, solve {_median(ours, 'solve_s'):.2f} s);"
          f" runs {_runs(ours)}")  # fmt: skip
    print(f"ours: peak RSS        {_mib(int(_median(ours, 'peak')))} (solve phase"
          f" {_mib(int(_median(ours, 'solve_peak')))})")  # fmt: skip
    best_name = min(bare, key=lambda name: _median(bare[name], "seconds"))
    for name, runs in bare.items():
        print(f"bare {name:<16} {_median(runs, 'seconds'):.2f} s;"
              f" runs {_runs(runs)};"
              f" peak RSS {_mib(int(_median(runs, 'peak')))} (solve phase"
              f" {_mib(int(_median(runs, 'solve_peak')))})")  # fmt: skip
    best = bare[best_name]
    print(f"ratio ours / best bare ({best_name}): time"
          f" {_median(ours, 'seconds') / _median(best, 'seconds'):.3f},"
          f" peak RSS {_median(ours, 'peak') / _median(best, 'peak'):.3f}"
          f" (solve phases"
          f" {_median(ours, 'solve_peak') / _median(best, 'solve_peak'):.3f})")  # fmt: skip
    # With capacities and min_score the problems differ; the matched counts tell the scale.
    print(
        f"matched (ours)        {first['matched']:,}, total score {first['total']:,.2f};"
        f" bare total {best[0]['total']:,.2f} (one column per mentor, capacity ignored)"
    )


# --------------------------------------------------------------------------- report


def _mib(value: int) -> str:
    return f"{value / 2**20:,.0f} MiB"


def report(ours: dict[str, Any], bare: dict[str, Any] | None) -> None:
    size = ours["size"]
    c, m = ours["largest"]
    print(f"\n== {size:,} children x {size:,} mentors ==")
    print(f"feasible pairs        {ours['pairs']:,}")
    print(f"score                 {ours['score_s']:.3f} s")
    print(f"components            {ours['components_s']:.3f} s")
    print(f"solve (coverage)      {ours['solve_s']:.3f} s")
    print(f"score + solve         {ours['ours_s']:.3f} s (median of {ours['repeats']};"
          f" first, cold: {ours['first_ours_s']:.3f} s)")  # fmt: skip
    print(f"solve (total_score)   {ours['total_score_total_s']:.3f} s, whole call")
    methods = ", ".join(f"{count} {name}" for name, count in ours["methods"].items())
    print(f"components            {ours['n_components']:,} (largest {c:,} children x {m:,} mentors;"
          f" solved: {methods})")  # fmt: skip
    print(f"matched (coverage)    {ours['matched']:,} of {ours['eligible']:,} eligible children,"
          f" total score {ours['coverage_score']:,.2f}")  # fmt: skip
    print(f"matched (total_score) {ours['total_score_matched']:,},"
          f" total score {ours['total_score_score']:,.2f}")  # fmt: skip
    print(f"tracemalloc peak      score {_mib(ours['trace_peak_score'])},"
          f" solve {_mib(ours['trace_peak_solve'])}")  # fmt: skip
    print(f"max RSS               {_mib(ours['rss_after'])}"
          f" (process baseline {_mib(ours['rss_before'])})")  # fmt: skip
    if bare is None:
        print("bare dense LSA        skipped (size above --bare-max)")
        return
    ratio = ours["ours_s"] / bare["bare_s"]
    print(f"bare dense LSA        {bare['bare_s']:.3f} s (max RSS {_mib(bare['rss_bare'])})")
    print(f"ratio ours / bare     {ratio:.3f}  (solve phase alone:"
          f" {ours['solve_s'] / bare['bare_s']:.3f})")  # fmt: skip
    agree = abs(bare["bare_total"] - bare["check_total"]) <= 1e-6 * max(1.0, bare["bare_total"])
    print(f"cross-check           bare total {bare['bare_total']:,.4f} vs ours with capacity 1"
          f" {bare['check_total']:,.4f}: {'equal' if agree else 'DIFFERENT'}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,2000,5000,10000")
    parser.add_argument("--seed", type=int, default=20260207)
    parser.add_argument("--min-score", type=float, default=0.0)
    parser.add_argument(
        "--remote-share",
        type=float,
        default=0.0,
        help="share of children accepting remote mentoring (of mentors: twice as much)",
    )
    parser.add_argument(
        "--bare-max", type=int, default=10_000, help="skip the bare dense LSA above this size"
    )
    parser.add_argument("--single-child-mentors", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs of ours per size")
    parser.add_argument(
        "--dense-cases",
        action="store_true",
        help="only the two cases where almost every pair is feasible, against bare solvers",
    )
    parser.add_argument("--objective", default="coverage_first", choices=OBJECTIVES)
    args = parser.parse_args()
    if args.dense_cases:
        sizes = [int(text) for text in args.sizes.split(",")]
        run_dense_cases(sizes, args.seed, args.repeats, args.objective)
        return

    single = in_fresh_process(measure_single_child, args.single_child_mentors, args.seed)
    print(f"single child x {args.single_child_mentors:,} mentors: score_pairs median "
          f"{single['median_ms']:.2f} ms, max {single['max_ms']:.2f} ms")  # fmt: skip
    for size in (int(text) for text in args.sizes.split(",")):
        ours = in_fresh_process(
            measure_ours, size, args.seed, args.remote_share, args.min_score, args.repeats
        )
        bare = None
        if size <= args.bare_max:
            bare = in_fresh_process(measure_bare, size, args.seed, args.remote_share)
        report(ours, bare)


if __name__ == "__main__":
    main()
