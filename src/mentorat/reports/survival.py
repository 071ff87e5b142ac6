"""How long mentorships last: Kaplan-Meier from each one's start.

A mentorship ending for a reason other than `completed` or `age_limit` is an event (it ended
early); one that ended for those reasons, or is still live on the report date, is censored
then. Durations are whole days between local dates.
"""

from __future__ import annotations

import uuid

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.principal import Principal
from mentorat.kit.clock import time_zone_name, today_in
from mentorat.reports import repository
from mentorat.reports.kaplan_meier import SurvivalCurve, kaplan_meier
from mentorat.reports.schemas import EndingCount, SurvivalHorizon, SurvivalReport, SurvivalStep
from mentorat.reports.scope import association_in_scope, departement_in_scope

NOT_EARLY_ENDS = ("completed", "age_limit")
HORIZONS = ((3, 91), (6, 182), (12, 365))


def _rounded(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 4)


def _steps(curve: SurvivalCurve) -> list[SurvivalStep]:
    return [
        SurvivalStep(
            day=int(curve.days[i]),
            at_risk=int(curve.at_risk[i]),
            events=int(curve.events[i]),
            censored=int(curve.censored[i]),
            survival=round(float(curve.survival[i]), 4),
            lower=_rounded(curve.lower[i]),
            upper=_rounded(curve.upper[i]),
        )
        for i in range(len(curve.days))
    ]


def _horizons(curve: SurvivalCurve) -> list[SurvivalHorizon]:
    horizons = []
    for months, day in HORIZONS:
        survival, lower, upper, at_risk = curve.at(day)
        horizons.append(
            SurvivalHorizon(
                months=months,
                day=day,
                survival=None if survival is None else round(survival, 4),
                lower=None if lower is None else round(lower, 4),
                upper=None if upper is None else round(upper, 4),
                at_risk=at_risk,
            )
        )
    return horizons


def _endings(end_on: np.ndarray, end_reason: np.ndarray) -> list[EndingCount]:
    ended = ~np.isnat(end_on)
    months = end_on[ended].astype("datetime64[M]").astype(np.int64)
    quarters = np.array(
        [f"{1970 + m // 12}-Q{m % 12 // 3 + 1}" for m in months.tolist()], dtype=object
    )
    pairs, counts = (
        np.unique(
            np.stack([quarters, end_reason[ended]], axis=1).astype(str), axis=0, return_counts=True
        )
        if ended.any()
        else (np.empty((0, 2), dtype=str), np.empty(0, dtype=np.int64))
    )
    return [
        EndingCount(quarter=str(quarter), end_reason=str(reason), count=int(count))
        for (quarter, reason), count in zip(pairs.tolist(), counts.tolist(), strict=True)
    ]


async def survival_report(
    session: AsyncSession,
    principal: Principal,
    *,
    departement: str,
    association_id: uuid.UUID | None,
) -> SurvivalReport:
    await departement_in_scope(session, principal, departement)
    association_id = await association_in_scope(session, principal, departement, association_id)
    report_date = today_in(departement)
    spans = await repository.load_spans(
        session,
        departement=departement,
        association_id=association_id,
        time_zone=time_zone_name(departement),
    )
    ended = ~np.isnat(spans.end_on)
    until = np.where(ended, spans.end_on, np.datetime64(report_date, "D"))
    durations = np.maximum((until - spans.start_on).astype(np.int64), 0)
    early = ended & ~np.isin(spans.end_reason, NOT_EARLY_ENDS)
    curve = kaplan_meier(durations, early)
    return SurvivalReport(
        departement=departement,
        association_id=association_id,
        report_date=report_date,
        mentorships=len(durations),
        events=int(early.sum()),
        censored=int((~early).sum()),
        confidence_interval="log-log",
        horizons=_horizons(curve),
        curve=_steps(curve),
        endings=_endings(spans.end_on, spans.end_reason),
    )
