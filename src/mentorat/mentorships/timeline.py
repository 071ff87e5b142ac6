"""One time-ordered stream per mentorship: events, objective revisions and meetings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.principal import Principal
from mentorat.kit.clock import time_zone_name
from mentorat.kit.cursors import read_cursor, sign_cursor
from mentorat.mentorships import repository

# A meeting carries a date only: it sits at noon, the département's time, on that day.
ENTRIES = """
SELECT at, kind, id, data FROM (
    SELECT occurred_at AS at, 'event' AS kind, id::text AS id,
           jsonb_build_object('from_state', from_state, 'to_state', to_state,
                              'reason', reason, 'note', note, 'by', principal_name) AS data
      FROM mentorship_event WHERE mentorship_id = :mentorship_id
    UNION ALL
    SELECT recorded_at, 'objective_revision', id::text,
           jsonb_build_object('objective_id', objective_id, 'revision', revision,
                              'values', "values", 'changed_fields', changed_fields,
                              'by', principal_name)
      FROM objective_revision WHERE mentorship_id = :mentorship_id
    UNION ALL
    SELECT (held_on + time '12:00') AT TIME ZONE :time_zone, 'meeting', id::text,
           jsonb_build_object('held_on', held_on, 'duration_minutes', duration_minutes,
                              'mode', mode, 'note', note, 'backfill', backfill,
                              'by', entered_by_name)
      FROM meeting WHERE mentorship_id = :mentorship_id
) AS entries
{after}
ORDER BY at, kind, id
LIMIT :limit
"""
SCOPE = "mentorship-timeline"
AFTER = "WHERE (at, kind, id) > (:after_at, :after_kind, :after_id)"


def _summary(kind: str, data: dict[str, Any]) -> str:
    if kind == "event":
        return f"{data['from_state'] or 'created'} -> {data['to_state']}"
    if kind == "objective_revision":
        changed = ", ".join(data["changed_fields"])
        return f"objective '{data['values'].get('title')}' revision {data['revision']}: {changed}"
    entered = " (entered after the fact)" if data.get("backfill") else ""
    return f"meeting, {data['mode']}, {data['duration_minutes']} min{entered}"


async def timeline(
    session: AsyncSession,
    principal: Principal,
    mentorship_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    mentorship = await repository.read_scoped(session, principal, mentorship_id, via="timeline")
    parameters: dict[str, Any] = {
        "mentorship_id": mentorship.id,
        "time_zone": time_zone_name(mentorship.departement_code),
        "limit": limit + 1,
    }
    filters = {"mentorship": mentorship.id}
    after = ""
    if cursor is not None:
        at, kind, entry_id = await read_cursor(
            session, SCOPE, filters, cursor, [datetime, str, str]
        )
        parameters |= {"after_at": at, "after_kind": kind, "after_id": entry_id}
        after = AFTER
    rows = (await session.execute(text(ENTRIES.format(after=after)), parameters)).all()
    entries = [
        {"at": at, "kind": kind, "id": entry_id, "summary": _summary(kind, data), "data": data}
        for at, kind, entry_id, data in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = entries[-1]
        next_cursor = await sign_cursor(
            session, SCOPE, filters, [last["at"], last["kind"], last["id"]]
        )
    return entries, next_cursor
