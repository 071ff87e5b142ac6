"""The duty's reports under /v1/reports: JSON, CSV or an SVG chart, as `Accept` asks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from mentorat.auth.dependencies import require
from mentorat.auth.principal import Principal, Role
from mentorat.kit.problems import problems
from mentorat.reports.supply_gaps_router import router as supply_gaps_router

router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=problems(401, 403, 404, 422))

# Educators are not readers: the reports steer the duty across a département (managers),
# or an association's share of it (coordinators, who see only their association's lines).
ReportReader = Annotated[
    Principal, Depends(require(Role.admin, Role.departement_manager, Role.coordinator))
]

router.include_router(supply_gaps_router)
