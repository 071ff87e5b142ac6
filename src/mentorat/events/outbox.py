"""Writing events to the outbox, in the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.models import EVENT_TYPES, Event, Mentor


@dataclass(frozen=True, slots=True)
class NewEvent:
    type: str
    entity_type: str
    entity_id: uuid.UUID
    departement_code: str | None
    association_id: uuid.UUID | None = None
    # Ids, statuses and codes only: what any reader in the event's scope may see.
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise ValueError(f"Unknown event type {self.type!r}.")


async def emit(session: AsyncSession, events: Sequence[NewEvent]) -> None:
    """Append the events in the caller's transaction: a rolled-back change leaves none."""
    if not events:
        return
    await session.execute(
        insert(Event),
        [
            {
                "type": event.type,
                "entity_type": event.entity_type,
                "entity_id": event.entity_id,
                "departement_code": event.departement_code,
                "association_id": event.association_id,
                "data": event.data,
            }
            for event in events
        ],
    )


async def emit_about_pair(
    session: AsyncSession,
    event_type: str,
    *,
    entity_type: str,
    entity_id: uuid.UUID,
    departement_code: str,
    mentor_id: uuid.UUID,
    data: dict[str, Any],
) -> None:
    """One event about a child-mentor pair (a proposal, a mentorship): in the département's
    scope and the mentor's association's, both named in `data` too."""
    association_id = await session.scalar(
        select(Mentor.association_id).where(Mentor.id == mentor_id)
    )
    data = {
        **data,
        "association_id": str(association_id) if association_id is not None else None,
        "departement_code": departement_code,
    }
    event = NewEvent(event_type, entity_type, entity_id, departement_code, association_id, data)
    await emit(session, [event])
