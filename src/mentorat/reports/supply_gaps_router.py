"""GET /v1/reports/supply-gaps, included in the reports router."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from mentorat.auth.dependencies import require
from mentorat.auth.principal import Principal, Role
from mentorat.kit.schemas import DepartementCode
from mentorat.kit.session import DbSession
from mentorat.reports import supply_gaps as service
from mentorat.reports.rendering import negotiate, render, report_responses
from mentorat.reports.supply_gaps_schemas import SupplyGapReport

router = APIRouter()

# Educators read it too: it says why their children wait, and names no child. Coordinators of
# an association serving the département read the same département-wide figures (children
# wait for any association's mentor, so a gap measured on one association's mentors alone
# would send it to recruit where another already covers), without the per-commune counts.
GapsReader = Annotated[
    Principal,
    Depends(require(Role.admin, Role.departement_manager, Role.educator, Role.coordinator)),
]


@router.get(
    "/supply-gaps",
    response_model=SupplyGapReport,
    responses=report_responses(
        "The report: JSON, CSV (groups, constraints and profiles, one row each) or an SVG "
        "bar chart of the gaps by group."
    ),
    summary="Where mentors are missing, and whom to recruit",
)
async def supply_gaps(
    session: DbSession,
    principal: GapsReader,
    departement: Annotated[
        DepartementCode, Query(description="The département's code.", examples=["53"])
    ],
    limit: Annotated[
        int, Query(ge=1, le=20, description="How many mentor profiles to propose, at most.")
    ] = 5,
    cluster_km: Annotated[
        float,
        Query(
            ge=1,
            le=100,
            description="Waiting children within this many km of a group's leader form a group.",
        ),
    ] = 15.0,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """The département's children waiting for a mentor (in care, offer accepted, no live
    mentorship nor pending proposal), grouped by place; for each group, how many an optimal run
    with today's mentors would match and, for the others, the constraints that keep them
    unmatched; then the mentor profiles (place, radius, weekly slots, goals) that would match
    the most of them, each measured by adding such a mentor to the optimal run (greedy: each
    with those before it). Administrators; managers and educators of the département;
    coordinators of an association serving it (without the per-commune counts). Another
    département is a 404. `Accept: text/csv` or `image/svg+xml` for the other renderings."""
    negotiate(accept)  # a 406 before any work or audit
    report = await service.supply_gaps(
        session, principal, departement, limit=limit, cluster_km=cluster_km
    )
    return await render(
        accept,
        report,
        lambda: service.csv_rows(report),
        lambda figure: service.draw_chart(report, figure),
        filename=f"supply-gaps-{departement}-{report.as_of}",
    )
