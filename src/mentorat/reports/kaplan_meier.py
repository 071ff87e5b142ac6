"""The Kaplan-Meier estimator with Greenwood's variance and log(-log) confidence intervals.

Pure numpy, no I/O. Durations are whole days; on a day with both, ends count before
censoring (a mentorship censored on day t was at risk on day t).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Z_95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class SurvivalCurve:
    """One entry per distinct day where a mentorship ended or stopped being followed."""

    days: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    censored: np.ndarray
    survival: np.ndarray
    # NaN where the interval is undefined: before any event (S = 1) or once S = 0.
    lower: np.ndarray
    upper: np.ndarray
    durations: np.ndarray

    def at(self, day: int) -> tuple[float | None, float | None, float | None, int]:
        """(survival, lower, upper, at risk) on `day`; no estimate past the longest follow-up."""
        at_risk = int((self.durations >= day).sum())
        steps = int(np.searchsorted(self.days, day, side="right"))
        if steps == 0:
            return (1.0, None, None, at_risk) if len(self.durations) else (None, None, None, 0)
        survival = float(self.survival[steps - 1])
        if at_risk == 0 and survival > 0:
            return None, None, None, 0
        return survival, _or_none(self.lower[steps - 1]), _or_none(self.upper[steps - 1]), at_risk


def _or_none(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def kaplan_meier(durations: np.ndarray, ended_early: np.ndarray, z: float = Z_95) -> SurvivalCurve:
    """S(t) = prod over event days t_i <= t of (1 - d_i / n_i); Var by Greenwood,
    Var(S) = S^2 sum d_i / (n_i (n_i - d_i)); the interval is S^exp(+-z sigma) with
    sigma = sqrt(sum d_i / (n_i (n_i - d_i))) / |log S| (Kalbfleisch and Prentice)."""
    durations = np.asarray(durations, dtype=np.int64)
    ended_early = np.asarray(ended_early, dtype=bool)
    days, inverse = np.unique(durations, return_inverse=True)
    events = np.bincount(inverse, weights=ended_early, minlength=len(days)).astype(np.int64)
    leaving = np.bincount(inverse, minlength=len(days)).astype(np.int64)
    at_risk = len(durations) - np.concatenate(([0], np.cumsum(leaving)[:-1]))
    survival = np.cumprod(1.0 - events / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(events > 0, events / (at_risk * (at_risk - events)), 0.0)
        greenwood = np.cumsum(terms)
        sigma = np.sqrt(greenwood) / np.abs(np.log(survival))
        lower = survival ** np.exp(z * sigma)
        upper = survival ** np.exp(-z * sigma)
    defined = (survival > 0) & (survival < 1)
    return SurvivalCurve(
        days=days,
        at_risk=at_risk,
        events=events,
        censored=leaving - events,
        survival=survival,
        lower=np.where(defined, lower, np.nan),
        upper=np.where(defined, upper, np.nan),
        durations=durations,
    )
