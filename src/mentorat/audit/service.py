from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.principal import Principal
from mentorat.kit.logging import request_id_var
from mentorat.models import AuditEvent


async def record(
    session: AsyncSession,
    principal: Principal | None,
    action: str,
    entity_type: str,
    entity_ids: Iterable[uuid.UUID | str],
    *,
    departement_code: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one event per entity, in the caller's transaction: a rolled-back write leaves none."""
    rows = [
        {
            "principal_id": principal.id if principal else None,
            "principal_name": principal.name if principal else "system",
            "principal_role": principal.role.value if principal else "system",
            "action": action,
            "entity_type": entity_type,
            "entity_id": str(entity_id),
            "departement_code": departement_code,
            "request_id": request_id_var.get(),
            "details": details,
        }
        for entity_id in entity_ids
    ]
    if rows:
        await session.execute(insert(AuditEvent), rows)


READS = text(
    """
    INSERT INTO audit_event (principal_id, principal_name, principal_role, action,
                             entity_type, entity_id, departement_code, request_id, details)
    SELECT CAST(:principal_id AS uuid), :principal_name, :principal_role, 'read',
           :entity_type, read.entity_id, read.departement_code, :request_id,
           CAST(:details AS jsonb)
      FROM unnest(CAST(:entity_ids AS text[]), CAST(:departement_codes AS text[]))
           AS read(entity_id, departement_code)
    """
)


async def record_reads(
    session: AsyncSession,
    principal: Principal,
    entity_type: str,
    entities: Iterable[tuple[uuid.UUID | str, str | None]],
    *,
    via: str,
) -> None:
    """One `read` event per entity (id, département) shown, written by one INSERT ... SELECT
    whatever the page size, so auditing a list costs one round trip."""
    unique = dict.fromkeys((str(entity_id), code) for entity_id, code in entities)
    if not unique:
        return
    await session.execute(
        READS,
        {
            "principal_id": str(principal.id),
            "principal_name": principal.name,
            "principal_role": principal.role.value,
            "entity_type": entity_type,
            "request_id": request_id_var.get(),
            "details": json.dumps({"via": via}),
            "entity_ids": [entity_id for entity_id, _ in unique],
            "departement_codes": [code for _, code in unique],
        },
    )


async def record_child_reads(
    session: AsyncSession,
    principal: Principal,
    children: Iterable[tuple[uuid.UUID, str | None]],
    *,
    via: str,
) -> None:
    """The children (id, département) whose personal data an answer shows."""
    await record_reads(session, principal, "child", children, via=via)
