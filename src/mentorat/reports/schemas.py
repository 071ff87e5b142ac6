"""What the duty report and the survival report answer."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import Field

from mentorat.kit.schemas import ReadSchema

FunnelStage = Literal[
    "eligible",
    "assessment_due",
    "assessed",
    "recommended",
    "informed",
    "agreed",
    "waiting",
    "proposed",
    "started",
    "active_3_months",
    "active_6_months",
    "active_12_months",
]
DelayName = Literal[
    "entry_to_assessment",
    "assessment_to_offer",
    "offer_to_agreements",
    "agreements_to_proposal",
    "proposal_to_start",
    "start_to_first_meeting",
]
ReportScope = Literal["departement", "association"]


class StageCount(ReadSchema):
    """How many children of the line reached one stage of the duty's chain."""

    stage: FunnelStage = Field(
        description="eligible: in scope that school year; assessment_due: the year's assessment "
        "fell due by the report date (or was done); assessed: it was done; recommended: an "
        "assessment of the year recommends mentoring; informed: the offer made after it, with "
        "every required party informed; agreed: every required party agreed; waiting: agreed "
        "and no proposal yet (not a stage of the chain: a subset of agreed, apart from "
        "proposed); proposed: a mentor was proposed; started: the mentorship became active; "
        "active_N_months: still live N months after it started."
    )
    count: int = Field(description="Children of the line at this stage.")
    on_time: int | None = Field(
        default=None,
        description="assessed only: of them, assessed on or before the due date.",
    )
    in_mentorship: int | None = Field(
        default=None,
        description="recommended only: of them, already in a mentorship on the day of the "
        "assessment, with no offer made since (none is needed): the chain stops there for "
        "them.",
    )
    observable: int | None = Field(
        default=None,
        description="active_N_months only: started children whose N months had passed by the "
        "report date (those that could count here).",
    )


class DelayFigure(ReadSchema):
    """One delay of the chain over the children of the line that went through both steps."""

    delay: DelayName = Field(
        description="entry_to_assessment: from the first due date (coming into care at 11 or "
        "more, collège entry, a young adult's request) to the first assessment (renewals "
        "left out); assessment_to_offer: recommending assessment to offer; "
        "offer_to_agreements: offer to the last required agreement; agreements_to_proposal: "
        "to the first proposal; proposal_to_start: the mentorship's proposal to its start; "
        "start_to_first_meeting: start to the first meeting held."
    )
    count: int = Field(description="Children with both dates.")
    median_days: float | None = Field(
        description="Median, in days (linear interpolation); null without any child."
    )
    p90_days: float | None = Field(
        description="90th percentile, in days (linear interpolation); null without any child."
    )


class ComplianceLine(ReadSchema):
    """The chain and its delays for one group of children."""

    key: str | None = Field(
        description="The group: a collège-entry year, a legal situation or an association id; "
        "null in the association breakdown for children with no mentor proposed yet."
    )
    label: str = Field(description="The group for people to read.")
    funnel: list[StageCount] = Field(description="Every stage, in the chain's order.")
    delays: list[DelayFigure] = Field(description="Every delay, in the chain's order.")


class ComplianceReport(ReadSchema):
    """Whether the mentoring duty was met in a département for one school year."""

    departement: str = Field(description="The département's code.")
    school_year: str = Field(description="The school year, such as 2026-2027.")
    year_starts_on: date = Field(description="Its first school day.")
    year_ends_on: date = Field(description="The day before the next school year's first day.")
    report_date: date = Field(
        description="The day the figures are as of: `as_of`, or today in the département."
    )
    as_of: date | None = Field(
        description="When asked, the past day whose recorded facts alone make the report."
    )
    scope: ReportScope = Field(
        description="departement: every child in scope; association: a coordinator's view, "
        "only the children proposed to their association's mentors."
    )
    overall: ComplianceLine = Field(description="Every child of the report.")
    by_cohort: list[ComplianceLine] = Field(description="By collège-entry year.")
    by_legal_situation: list[ComplianceLine] = Field(description="By legal situation.")
    by_association: list[ComplianceLine] = Field(
        description="By the association of the mentor proposed (or of the mentorship)."
    )


class SurvivalStep(ReadSchema):
    """The Kaplan-Meier estimate just after one day where something happened."""

    day: int = Field(description="Days since the mentorships' start.")
    at_risk: int = Field(description="Mentorships still followed at the start of that day.")
    events: int = Field(description="Mentorships that ended early that day.")
    censored: int = Field(description="Mentorships whose follow-up stops that day.")
    survival: float = Field(description="Estimated share still going after that day.")
    lower: float | None = Field(description="95% confidence interval, lower bound.")
    upper: float | None = Field(description="95% confidence interval, upper bound.")


class SurvivalHorizon(ReadSchema):
    """The estimate at 3, 6 or 12 months."""

    months: int = Field(description="3, 6 or 12.")
    day: int = Field(description="The same in days (91, 182, 365).")
    survival: float | None = Field(
        description="Estimated share of mentorships still going; null when no mentorship "
        "was followed that long."
    )
    lower: float | None = Field(description="95% confidence interval, lower bound.")
    upper: float | None = Field(description="95% confidence interval, upper bound.")
    at_risk: int = Field(description="Mentorships still followed on that day.")


class EndingCount(ReadSchema):
    """How many mentorships ended in one quarter for one reason."""

    quarter: str = Field(description="Calendar quarter of the end, such as 2026-Q3.")
    end_reason: str = Field(description="The reason given when it ended.")
    count: int = Field(description="Mentorships ended then for that reason.")


class SurvivalReport(ReadSchema):
    """How long mentorships last, by the Kaplan-Meier estimator."""

    departement: str = Field(description="The département's code.")
    association_id: uuid.UUID | None = Field(
        description="The association the report is limited to, if any."
    )
    report_date: date = Field(description="Today in the département: live ones censored then.")
    mentorships: int = Field(description="Mentorships that started.")
    events: int = Field(
        description="Of them, ended early: for a reason other than completed or age_limit."
    )
    censored: int = Field(description="Still live, or ended as completed or at the age limit.")
    confidence_interval: Literal["log-log"] = Field(
        description="How the 95% intervals are built: Greenwood's variance on the log(-log) "
        "scale, always within [0, 1]."
    )
    horizons: list[SurvivalHorizon] = Field(description="At 3, 6 and 12 months.")
    curve: list[SurvivalStep] = Field(description="The step curve, one step per day.")
    endings: list[EndingCount] = Field(description="Ending reasons by quarter, oldest first.")
