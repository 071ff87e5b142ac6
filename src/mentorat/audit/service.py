from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    Text,
    bindparam,
    cast,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
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


def with_read_events(
    read: Select[Any],
    entity_type: str,
    *,
    via: str | None,
    page_order: Sequence[str] = (),
    page_size: BindParameter[int] | None = None,
) -> Select[Any]:
    """`read` (a SELECT of rows with `id` and `departement_code` columns), as one statement
    that also writes a `read` event for each row it returns, in `page_order` (column names);
    with `page_size`, only for that many first rows (a page is read with one row more, to
    know whether another page follows, and that row is not shown).

    The statement is built once and run with `read_event_parameters(principal)`: the rows and
    their audit events are one statement, so one round trip and one implicit transaction, and
    nobody sees a row without its event being written. Every column of `read` is returned, so
    a caller may join more columns into `read` (a lateral subquery) before passing it here.
    """
    rows = read.cte("read_rows")
    order = [rows.c[name] for name in page_order]
    audited_rows = (
        select(rows.c.id, rows.c.departement_code).order_by(*order).limit(page_size)
    ).subquery("audited")
    event = select(
        bindparam("audit_principal_id", type_=UUID(as_uuid=True)),
        bindparam("audit_principal_name", type_=Text),
        bindparam("audit_principal_role", type_=Text),
        literal("read", Text),
        literal(entity_type, Text),
        cast(audited_rows.c.id, Text),
        audited_rows.c.departement_code,
        bindparam("audit_request_id", type_=Text),
        _details(via),
    )
    events = insert(AuditEvent).from_select(AUDIT_EVENT_COLUMNS, event).cte("read_events")
    return select(rows).add_cte(events).order_by(*order)


def read_event_parameters(principal: Principal) -> dict[str, Any]:
    """The parameters of a statement from `with_read_events`: who reads, in which request."""
    return {
        "audit_principal_id": principal.id,
        "audit_principal_name": principal.name,
        "audit_principal_role": principal.role.value,
        "audit_request_id": request_id_var.get(),
    }


AUDIT_EVENT_COLUMNS = (
    "principal_id",
    "principal_name",
    "principal_role",
    "action",
    "entity_type",
    "entity_id",
    "departement_code",
    "request_id",
    "details",
)


def _details(via: str | None) -> ColumnElement[Any]:
    if via is None:
        return cast(None, JSONB)
    return cast(literal(json.dumps({"via": via}), Text), JSONB)
