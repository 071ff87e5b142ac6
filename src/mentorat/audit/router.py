from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
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
    id: int
    occurred_at: datetime
    principal_id: uuid.UUID | None
    principal_name: str
    principal_role: str
    action: str
    entity_type: str
    entity_id: str
    departement_code: str | None
    request_id: str | None
    details: dict[str, Any] | None


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
