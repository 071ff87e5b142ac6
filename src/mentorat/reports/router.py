"""The duty's reports under /v1/reports: JSON, CSV or an SVG chart, as `Accept` asks."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from mentorat.auth.dependencies import require
from mentorat.auth.principal import Principal, Role
from mentorat.kit.problems import problems
from mentorat.kit.schemas import DepartementCode, IsoDate
from mentorat.kit.session import DbSession
from mentorat.reports import charts
from mentorat.reports.compliance import compliance_report
from mentorat.reports.rendering import negotiate, render, report_responses
from mentorat.reports.schemas import ComplianceReport, SurvivalReport
from mentorat.reports.supply_gaps_router import router as supply_gaps_router
from mentorat.reports.survival import survival_report

router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=problems(401, 403, 404, 422))

# Educators are not readers: the reports steer the duty across a département (managers),
# or an association's share of it (coordinators, who see only their association's lines).
ReportReader = Annotated[
    Principal, Depends(require(Role.admin, Role.departement_manager, Role.coordinator))
]
DepartementQuery = Annotated[DepartementCode, Query(description="Département code, such as 53.")]


@router.get(
    "/compliance",
    response_model=ComplianceReport,
    summary="Whether the mentoring duty was met in a school year",
    responses=report_responses(
        "The report as JSON; `Accept: text/csv` gives one row per figure (breakdown, key, "
        "label, measure, count, on_time, observable, median_days, p90_days, in_mentorship), "
        "`Accept: "
        "image/svg+xml` the funnel as a chart."
    ),
)
async def compliance(
    request: Request,
    session: DbSession,
    principal: ReportReader,
    departement: DepartementQuery,
    school_year: Annotated[
        str, Query(description="Such as 2026-2027: from its first school day to the next's.")
    ],
    as_of: Annotated[
        IsoDate | None,
        Query(description="A past day: the report from what had been recorded by its end."),
    ] = None,
) -> Response:
    """For the children in scope that school year (in care, 11 or more or entering collège,
    young adults who asked), the chain eligible, assessment due, assessed (on time),
    recommended, informed, agreed, waiting, proposed, started, active at 3, 6 and 12 months,
    with the median and 90th percentile of each delay; overall, by collège-entry cohort, by
    legal situation and by association. Administrators and the département's managers see
    every child; a coordinator sees only the children proposed to their association's mentors,
    in a département their association serves. Educators are not allowed (403). Figures only,
    no child is named. `as_of` rebuilds the report from the facts recorded by the end of that
    day (the history is append-only)."""
    negotiate(request.headers.get("accept"))
    report = await compliance_report(
        session, principal, departement=departement, school_year=school_year, as_of=as_of
    )
    return await render(
        request.headers.get("accept"),
        report,
        partial(charts.compliance_rows, report),
        partial(charts.draw_funnel, report),
        filename=f"compliance-{departement}-{report.school_year}",
    )


@router.get(
    "/survival",
    response_model=SurvivalReport,
    summary="How long mentorships last",
    responses=report_responses(
        "The report as JSON; `Accept: text/csv` gives the curve, the 3/6/12-month figures "
        "and the endings by quarter as rows (column `section`), `Accept: image/svg+xml` the "
        "survival curve with its 95% band and the numbers at risk."
    ),
)
async def survival(
    request: Request,
    session: DbSession,
    principal: ReportReader,
    departement: DepartementQuery,
    association: Annotated[
        uuid.UUID | None,
        Query(description="Only this association's mentorships (a coordinator: their own)."),
    ] = None,
) -> Response:
    """Kaplan-Meier survival of the département's mentorships from their start: an end for a
    reason other than `completed` or `age_limit` is an event, other ends and live mentorships
    are censored. Estimates at 3, 6 and 12 months with 95% log(-log) Greenwood intervals and
    the numbers at risk, the step curve, the ending reasons by quarter. Administrators and
    the département's managers; a coordinator, their association's mentorships only."""
    negotiate(request.headers.get("accept"))
    report = await survival_report(
        session, principal, departement=departement, association_id=association
    )
    return await render(
        request.headers.get("accept"),
        report,
        partial(charts.survival_rows, report),
        partial(charts.draw_survival, report),
        filename=f"survival-{departement}",
    )


router.include_router(supply_gaps_router)
