from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert
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
