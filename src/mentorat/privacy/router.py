from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import Field

from mentorat.auth.dependencies import AnyRole
from mentorat.kit.problems import problems
from mentorat.kit.schemas import ReadSchema
from mentorat.kit.session import DbSession
from mentorat.privacy import export

router = APIRouter(tags=["personal data"], responses=problems(401, 403, 404, 422))


Rows = list[dict[str, Any]]


class Export(ReadSchema):
    subject: dict[str, Any] = Field(description="`type` (child or mentor) and `id`.")
    exported_at: datetime = Field(description="When the export was made (UTC).")
    proposals: Rows = Field(description="Every proposal of the subject, as stored.")
    exclusions: Rows = Field(description="Every exclusion of the subject, as stored.")
    mentorships: Rows = Field(
        description="Each with its events, objectives (with their revisions) and meetings."
    )
    audit_events: Rows = Field(description="The audit events about the subject (or by them).")


class ChildExport(Export):
    """Everything held about a child (right of access, RGPD art. 15)."""

    child: dict[str, Any] = Field(description="The child's record, as stored.")
    assessments: Rows = Field(
        description="Every assessment of whether mentoring serves the child, as stored."
    )
    offers: Rows = Field(
        description="Every offer made to the child, each with its consent facts (`consents`)."
    )
    run_results_unmatched: Rows = Field(
        description="The matching runs that left the child unmatched, and why."
    )


class MentorExport(Export):
    """Everything held about a mentor (right of access, RGPD art. 15)."""

    mentor: dict[str, Any] = Field(description="The mentor's record, as stored.")
    principals: Rows = Field(description="The principals acting as the mentor.")
    tokens: Rows = Field(description="Their API tokens (never the secret).")


@router.get(
    "/v1/children/{child_id}/export",
    response_model=ChildExport,
    summary="Everything held about a child (right of access)",
)
async def export_child(
    session: DbSession, principal: AnyRole, child_id: uuid.UUID
) -> dict[str, Any]:
    """The child's record, offers, exclusions, proposals, run results, mentorships with their
    events, objectives, revisions and meetings, and the audit events about them. For an
    administrator or the manager of the child's département."""
    return await export.export_child(session, principal, child_id)


@router.get(
    "/v1/mentors/{mentor_id}/export",
    response_model=MentorExport,
    summary="Everything held about a mentor (right of access)",
)
async def export_mentor(
    session: DbSession, principal: AnyRole, mentor_id: uuid.UUID
) -> dict[str, Any]:
    """The mentor's record, principals and tokens (never the secret), proposals, exclusions,
    mentorships with their events, objectives, revisions and meetings, and the audit events
    about them or by them. For an administrator, their coordinator, or the mentor."""
    return await export.export_mentor(session, principal, mentor_id)
