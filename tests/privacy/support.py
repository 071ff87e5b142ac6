"""Look for a person's data anywhere in the database."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

TABLES = text(
    "SELECT table_name FROM information_schema.tables"
    " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
)


def new_marker() -> str:
    """Letters only, so it fits every free-text field (references included)."""
    return "Mrk" + "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:12])


async def tables_holding(session: AsyncSession, marker: str) -> dict[str, int]:
    """Each table whose rows' text (every column, JSON and arrays included) holds the marker."""
    found = {}
    for table in await session.scalars(TABLES):
        hits = await session.scalar(
            text(f'SELECT count(*) FROM "{table}" AS t WHERE strpos(lower(t::text), :m) > 0'),
            {"m": marker.lower()},
        )
        if hits:
            found[table] = int(hits)
    return found
