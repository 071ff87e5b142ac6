"""The reports drawn on a matplotlib figure (rendering.svg_bytes turns it into SVG), and
their CSV tables (long format: one row per figure, easy to pivot in a spreadsheet)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from mentorat.reports.rendering import CsvRows
from mentorat.reports.schemas import ComplianceLine, ComplianceReport, SurvivalReport

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COMPLIANCE_HEADER = (
    "breakdown", "key", "label", "measure", "count", "on_time", "observable",
    "median_days", "p90_days", "in_mentorship",
)  # fmt: skip
SURVIVAL_HEADER = (
    "section", "day", "months", "at_risk", "events", "censored", "survival", "lower", "upper",
    "quarter", "end_reason", "count",
)  # fmt: skip
STAGE_LABELS = {
    "eligible": "Eligible",
    "assessment_due": "Assessment due",
    "assessed": "Assessed",
    "recommended": "Recommended",
    "informed": "Informed",
    "agreed": "Agreed",
    "waiting": "Waiting for a mentor",
    "proposed": "Mentor proposed",
    "started": "Mentorship started",
    "active_3_months": "Active at 3 months",
    "active_6_months": "Active at 6 months",
    "active_12_months": "Active at 12 months",
}
CHAIN_COLOUR, ASIDE_COLOUR, ON_TIME_COLOUR = "#3465a4", "#c4a000", "#73d216"


def _line_rows(breakdown: str, line: ComplianceLine) -> Iterator[Sequence[Any]]:
    for stage in line.funnel:
        yield (breakdown, line.key, line.label, stage.stage, stage.count, stage.on_time,
               stage.observable, None, None, stage.in_mentorship)  # fmt: skip
    for delay in line.delays:
        yield (breakdown, line.key, line.label, delay.delay, delay.count, None, None,
               delay.median_days, delay.p90_days, None)  # fmt: skip


def compliance_rows(report: ComplianceReport) -> CsvRows:
    def rows() -> Iterator[Sequence[Any]]:
        yield from _line_rows("all", report.overall)
        for breakdown, lines in (
            ("cohort", report.by_cohort),
            ("legal_situation", report.by_legal_situation),
            ("association", report.by_association),
        ):
            for line in lines:
                yield from _line_rows(breakdown, line)

    return COMPLIANCE_HEADER, rows()


def draw_funnel(report: ComplianceReport, figure: Figure) -> None:
    """Horizontal bars, the chain from top to bottom; `waiting` (aside from the chain) and
    the on-time part of `assessed` in their own colours."""
    funnel = report.overall.funnel
    axes = figure.add_subplot()
    positions = list(range(len(funnel)))[::-1]
    counts = [stage.count for stage in funnel]
    colours = [ASIDE_COLOUR if stage.stage == "waiting" else CHAIN_COLOUR for stage in funnel]
    axes.barh(positions, counts, color=colours)
    for position, stage in zip(positions, funnel, strict=True):
        if stage.on_time is not None:
            axes.barh([position], [stage.on_time], color=ON_TIME_COLOUR, label="on time")
        detail = (
            f" ({stage.on_time} on time)" if stage.on_time is not None
            else f" ({stage.in_mentorship} already in a mentorship)"
            if stage.in_mentorship else ""
        )  # fmt: skip
        axes.annotate(
            f"{stage.count}{detail}",
            (stage.count, position), xytext=(4, 0), textcoords="offset points", va="center",
        )  # fmt: skip
    axes.set_yticks(positions, [STAGE_LABELS[stage.stage] for stage in funnel])
    axes.set_xlabel("Children")
    axes.set_xlim(0, max([*counts, 1]) * 1.25)
    as_of = f", as of {report.as_of.isoformat()}" if report.as_of else ""
    axes.set_title(f"Mentoring duty {report.school_year}, département {report.departement}{as_of}")
    axes.spines[["top", "right"]].set_visible(False)


def survival_rows(report: SurvivalReport) -> CsvRows:
    def rows() -> Iterator[Sequence[Any]]:
        for step in report.curve:
            yield ("curve", step.day, None, step.at_risk, step.events, step.censored,
                   step.survival, step.lower, step.upper, None, None, None)  # fmt: skip
        for horizon in report.horizons:
            yield ("horizon", horizon.day, horizon.months, horizon.at_risk, None, None,
                   horizon.survival, horizon.lower, horizon.upper, None, None, None)  # fmt: skip
        for ending in report.endings:
            yield ("ending", None, None, None, None, None, None, None, None,
                   ending.quarter, ending.end_reason, ending.count)  # fmt: skip

    return SURVIVAL_HEADER, rows()


def draw_survival(report: SurvivalReport, figure: Figure) -> None:
    """The Kaplan-Meier step curve from day 0 with its 95% band, and the numbers at risk at
    0, 3, 6 and 12 months under the axis."""
    axes = figure.add_subplot()
    days = [0] + [step.day for step in report.curve]
    survival = [1.0] + [step.survival for step in report.curve]
    lower = [1.0] + [step.survival if step.lower is None else step.lower for step in report.curve]
    upper = [1.0] + [step.survival if step.upper is None else step.upper for step in report.curve]
    axes.fill_between(days, lower, upper, step="post", color=CHAIN_COLOUR, alpha=0.2,
                      label="95% confidence interval")  # fmt: skip
    axes.step(days, survival, where="post", color=CHAIN_COLOUR, label="Still going")
    ticks = [0] + [horizon.day for horizon in report.horizons]
    at_risk = [report.mentorships] + [horizon.at_risk for horizon in report.horizons]
    months = [0] + [horizon.months for horizon in report.horizons]
    axes.set_xticks(ticks, [f"{m} mo\n{n} at risk" for m, n in zip(months, at_risk, strict=True)])
    axes.set_xlim(0, max([*days, ticks[-1]]))
    axes.set_ylim(0, 1.02)
    axes.set_ylabel("Share of mentorships still going")
    scope = "" if report.association_id is None else ", one association"
    axes.set_title(
        f"Mentorship survival, département {report.departement}{scope} "
        f"({report.mentorships} mentorships, {report.events} ended early)"
    )
    axes.legend(loc="lower left")
    axes.spines[["top", "right"]].set_visible(False)
