"""Audit events for many records at once, one statement each: an import or an export touches
up to tens of thousands of records, which one INSERT row per record would make slow."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Select, Text, cast, func, insert, literal, select
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import AUDIT_EVENT_COLUMNS
from mentorat.auth.principal import Principal
from mentorat.kit.logging import request_id_var
from mentorat.models import AuditEvent


def _rows(
    principal: Principal,
    action: str,
    entity_type: str,
    entity_id: ColumnElement[Any],
    departement_code: ColumnElement[Any],
    details: dict[str, Any],
) -> Select[Any]:
    return select(
        literal(principal.id, UUID(as_uuid=True)),
        literal(principal.name, Text),
        literal(principal.role.value, Text),
        literal(action, Text),
        literal(entity_type, Text),
        entity_id,
        departement_code,
        literal(request_id_var.get(), Text),
        literal(details, JSONB),
    )


async def record_each(
    session: AsyncSession,
    principal: Principal,
    action: str,
    entity_type: str,
    entity_ids: Sequence[uuid.UUID],
    *,
    departement_code: str | None,
    details: dict[str, Any],
) -> None:
    """One event per id, as audit.service.record writes them, in one INSERT ... SELECT unnest."""
    if not entity_ids:
        return
    ids = func.unnest(cast(literal([str(value) for value in entity_ids], ARRAY(Text)), ARRAY(Text)))
    rows = _rows(principal, action, entity_type, ids, literal(departement_code, Text), details)
    await session.execute(insert(AuditEvent).from_select(AUDIT_EVENT_COLUMNS, rows))


async def record_reads_of(
    session: AsyncSession, principal: Principal, listed: Any, *, via: str
) -> None:
    """One `read` event per child of `listed` (a subquery with id and departement_code)."""
    rows = _rows(
        principal, "read", "child", cast(listed.c.id, Text), listed.c.departement_code, {"via": via}
    )
    await session.execute(insert(AuditEvent).from_select(AUDIT_EVENT_COLUMNS, rows))
