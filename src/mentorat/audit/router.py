from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field
from sqlalchemy import select

from mentorat.auth.dependencies import AuditReader
from mentorat.auth.principal import Role
from mentorat.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, paginate
from mentorat.kit.problems import problems
from mentorat.kit.schemas import ReadSchema
from mentorat.kit.session import DbSession
from mentorat.models import AuditEvent as AuditEventRow

router = APIRouter(prefix="/v1/audit-events", tags=["audit"], responses=problems(401, 403, 422))


class AuditEvent(ReadSchema):
    """One read of personal data or one change, in the append-only audit trail."""

    id: int = Field(description="The event's number, increasing over time.")
    occurred_at: datetime = Field(description="When it happened (UTC).")
    principal_id: uuid.UUID | None = Field(
        description="Who did it; null for the service's own jobs such as retention (then name and "
        "role are system)."
    )
    principal_name: str = Field(description="Their name at the time.")
    principal_role: str = Field(description="Their role at the time.")
    action: str = Field(description="read, create, update, delete, purge or revoke.")
    entity_type: str = Field(description="The kind of record (child, mentor, proposal...).")
    entity_id: str = Field(description="The record's id.")
    departement_code: str | None = Field(
        description="The département the record belongs to; null when none."
    )
    request_id: str | None = Field(description="The request's id, as in the logs.")
    details: dict[str, Any] | None = Field(description="What changed, or other context.")


@router.get("", response_model=Page[AuditEvent], summary="Read the audit trail")
async def list_audit_events(
    session: DbSession,
    principal: AuditReader,
    entity_type: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]+$")] = None,
    entity_id: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9-]+$")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[AuditEvent]:
    """Administrators see everything; a département manager sees their département's events."""
    statement = select(AuditEventRow)
    if principal.role is not Role.admin:
        statement = statement.where(AuditEventRow.departement_code == principal.departement_code)
    if entity_type is not None:
        statement = statement.where(AuditEventRow.entity_type == entity_type)
    if entity_id is not None:
        statement = statement.where(AuditEventRow.entity_id == entity_id)
    rows, next_cursor = await paginate(
        session, statement, [AuditEventRow.id], limit=limit, cursor=cursor,
        scope="audit-events", filters={"entity_type": entity_type, "entity_id": entity_id},
    )  # fmt: skip
    return Page(items=[AuditEvent.model_validate(row) for row in rows], next_cursor=next_cursor)
