"""The duty report: for the children in scope of a school year, the chain from eligibility to
a mentorship still going a year on, with the delays between steps.

Definitions (dates in the département's time zone; R is the report date, the year runs from
its first school day S to L, the day before the next one):
- eligible: in care on some day of [S, L] while under 21, and 11 or more by L or entering
  collège that year; a young adult only once they asked (on or before L).
- The year's duty: in the sequence of due dates (F, the first due date, then a year after
  each assessment), the first one not settled before S: due on or after S, or answered on
  or after S, or not answered. The next assessment recorded answers it.
- assessment_due: the duty falls on or before L, and on or before R unless already answered.
- assessed: answered (`on_time`: on or before the duty's date).
- recommended: from the answer on (and until L), an assessment recommends mentoring; the
  chain follows the first one. `in_mentorship`: of them, those already in a mentorship that
  day with no offer since (a renewal during a mentorship needs no new offer); the later
  stages do not count them.
- informed: the first offer made on or after that assessment, every party its legal
  situation requires informed (or answered).
- agreed: every required party agreed (and none refused).
- proposed: a mentor proposed (not a dry run's) on or after the day of the last agreement.
- started: a mentorship of the child became active on or after that proposal.
- active_N_months: still live (active or paused) on the day N months after its start;
  counted among the started ones whose N months had passed by R (`observable`).
- waiting: agreed, no proposal yet.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import get_args

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.principal import Principal, Role
from mentorat.errors import InvalidInput
from mentorat.kit.clock import time_zone, time_zone_name, today_in
from mentorat.models.legal import LEGAL_SITUATIONS
from mentorat.reports import repository
from mentorat.reports.repository import ChainColumns
from mentorat.reports.schemas import (
    ComplianceLine,
    ComplianceReport,
    DelayFigure,
    DelayName,
    FunnelStage,
    StageCount,
)
from mentorat.reports.scope import departement_in_scope

STAGES: tuple[FunnelStage, ...] = get_args(FunnelStage)
DELAYS: tuple[DelayName, ...] = get_args(DelayName)
LEGAL_SITUATION_LABELS = {
    "parental_authority": "Parental authority",
    "delegated_to_ase": "Parental authority delegated to the ASE",
    "pupille": "Pupille de l'État",
    "young_adult": "Young adult",
}
NO_ASSOCIATION_LABEL = "No mentor proposed yet"
ACTIVE_MONTHS = (3, 6, 12)


@dataclass(frozen=True, slots=True)
class SchoolYear:
    first_year: int
    first_day: date
    last_day: date

    @property
    def name(self) -> str:
        return f"{self.first_year}-{self.first_year + 1}"


def parse_school_year(value: str, month: int, day: int) -> SchoolYear:
    """`2026-2027`: from its first school day to the day before the next one's."""
    first, separator, second = value.partition("-")
    if not (separator and first.isdigit() and second.isdigit() and len(first) == 4):
        raise InvalidInput(
            "A school year is written as two years, such as 2026-2027.",
            field=("query", "school_year"),
        )
    first_year = int(first)
    if int(second) != first_year + 1 or not 2000 <= first_year <= 2099:
        raise InvalidInput(
            "A school year runs over two consecutive years, such as 2026-2027.",
            field=("query", "school_year"),
        )
    return SchoolYear(
        first_year=first_year,
        first_day=date(first_year, month, day),
        last_day=date(first_year + 1, month, day) - timedelta(days=1),
    )


def _known(values: np.ndarray) -> np.ndarray:
    return ~np.isnat(values)


@dataclass(frozen=True, slots=True)
class _Stages:
    masks: dict[FunnelStage, np.ndarray]
    on_time: np.ndarray
    in_mentorship: np.ndarray
    observable: dict[FunnelStage, np.ndarray]


def _stages(chains: ChainColumns, report_date: date, last_day: date) -> _Stages:
    d = chains.dates
    report, last = np.datetime64(report_date, "D"), np.datetime64(last_day, "D")
    eligible = np.ones(len(chains), dtype=bool)
    answered = _known(d["assessed_on"])
    due = _known(d["due_on"]) & (d["due_on"] <= last) & ((d["due_on"] <= report) | answered)
    assessed = due & answered
    recommended = assessed & _known(d["recommended_on"])
    informed = recommended & chains.informed
    agreed = informed & chains.agreed
    proposed = agreed & _known(d["proposed_on"])
    started = proposed & _known(d["start_on"])
    masks: dict[FunnelStage, np.ndarray] = {
        "eligible": eligible,
        "assessment_due": due,
        "assessed": assessed,
        "recommended": recommended,
        "informed": informed,
        "agreed": agreed,
        "waiting": agreed & ~proposed,
        "proposed": proposed,
        "started": started,
    }
    observable: dict[FunnelStage, np.ndarray] = {}
    for months in ACTIVE_MONTHS:
        stage: FunnelStage = f"active_{months}_months"  # type: ignore[assignment]
        mark = d[f"month_{months}"]
        observable[stage] = started & (mark <= report)
        still_live = np.isnat(d["ended_on"]) | (d["ended_on"] > mark)
        masks[stage] = observable[stage] & still_live
    return _Stages(masks=masks, on_time=assessed & (d["assessed_on"] <= d["due_on"]),
                   in_mentorship=recommended & chains.in_mentorship,
                   observable=observable)  # fmt: skip


def _delay_days(chains: ChainColumns, stages: _Stages) -> dict[DelayName, np.ndarray]:
    """Each delay in days, for the children that went through both of its steps."""
    d, masks = chains.dates, stages.masks

    def between(mask: np.ndarray, start: str, end: str) -> np.ndarray:
        mask = mask & _known(d[start]) & _known(d[end])
        return (d[end][mask] - d[start][mask]).astype(np.int64)

    return {
        "entry_to_assessment": between(
            masks["assessed"] & (chains.previous_assessments == 0), "first_due_on", "assessed_on"
        ),
        "assessment_to_offer": between(masks["recommended"], "recommended_on", "offered_on"),
        "offer_to_agreements": between(masks["agreed"], "offered_on", "agreed_on"),
        "agreements_to_proposal": between(masks["proposed"], "agreed_on", "proposed_on"),
        "proposal_to_start": between(masks["started"], "mentorship_proposed_on", "start_on"),
        "start_to_first_meeting": between(masks["started"], "start_on", "first_meeting_on"),
    }


def _delay_figure(name: DelayName, days: np.ndarray) -> DelayFigure:
    if len(days) == 0:
        return DelayFigure(delay=name, count=0, median_days=None, p90_days=None)
    median, p90 = np.percentile(days, [50, 90])
    return DelayFigure(
        delay=name,
        count=len(days),
        median_days=round(float(median), 1),
        p90_days=round(float(p90), 1),
    )


def _line(
    key: str | None, label: str, chains: ChainColumns, report_date: date, last_day: date
) -> ComplianceLine:
    stages = _stages(chains, report_date, last_day)
    funnel = []
    for stage in STAGES:
        count = StageCount(stage=stage, count=int(stages.masks[stage].sum()))
        if stage == "assessed":
            count.on_time = int(stages.on_time.sum())
        if stage == "recommended":
            count.in_mentorship = int(stages.in_mentorship.sum())
        if stage in stages.observable:
            count.observable = int(stages.observable[stage].sum())
        funnel.append(count)
    delays = _delay_days(chains, stages)
    return ComplianceLine(
        key=key,
        label=label,
        funnel=funnel,
        delays=[_delay_figure(name, delays[name]) for name in DELAYS],
    )


def _breakdown(
    chains: ChainColumns,
    keys: np.ndarray,
    ordered: list[str | None],
    label: Callable[[str | None], str],
    report_date: date,
    last_day: date,
) -> list[ComplianceLine]:
    return [
        _line(key, label(key), chains.subset(keys == key), report_date, last_day)
        for key in ordered
        if bool((keys == key).any())
    ]


async def compliance_report(
    session: AsyncSession,
    principal: Principal,
    *,
    departement: str,
    school_year: str,
    as_of: date | None,
) -> ComplianceReport:
    place = await departement_in_scope(session, principal, departement)
    year = parse_school_year(school_year, place.school_start_month, place.school_start_day)
    today = today_in(departement)
    if as_of is not None and as_of > today:
        raise InvalidInput(
            f"as_of is a past day (or today, {today.isoformat()}).", field=("query", "as_of")
        )
    report_date = as_of or today
    # Facts recorded by the end of the report day, in the département's time zone.
    cutoff = datetime.combine(report_date + timedelta(days=1), time(0), time_zone(departement))
    chains = await repository.load_chains(
        session,
        departement=departement,
        school_start=(place.school_start_month, place.school_start_day),
        first_day=year.first_day,
        last_day=year.last_day,
        cutoff=cutoff,
        time_zone=time_zone_name(departement),
    )
    scope = "departement"
    if principal.role is Role.coordinator:
        scope = "association"
        chains = chains.subset(chains.association_id == str(principal.association_id))
    line_args = (report_date, year.last_day)
    cohorts: list[str | None] = [str(value) for value in sorted(set(chains.cohort.tolist()))]
    associations = sorted({value for value in chains.association_id.tolist() if value is not None})
    names = await repository.association_names(
        session, [uuid.UUID(value) for value in associations]
    )
    association_order: list[str | None] = sorted(associations, key=lambda a: (names.get(a, a), a))
    if scope == "departement":
        association_order.append(None)
    return ComplianceReport(
        departement=departement,
        school_year=year.name,
        year_starts_on=year.first_day,
        year_ends_on=year.last_day,
        report_date=report_date,
        as_of=as_of,
        scope=scope,
        overall=_line(None, "All children", chains, *line_args),
        by_cohort=_breakdown(
            chains, chains.cohort.astype(str), cohorts,
            lambda key: f"Collège entry {key}", *line_args,
        ),
        by_legal_situation=_breakdown(
            chains, chains.legal_situation, list(LEGAL_SITUATIONS),
            lambda key: LEGAL_SITUATION_LABELS[str(key)], *line_args,
        ),
        by_association=_breakdown(
            chains, chains.association_id, association_order,
            lambda key: NO_ASSOCIATION_LABEL if key is None else names.get(key, key), *line_args,
        ),
    )  # fmt: skip
