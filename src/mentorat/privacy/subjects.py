"""The ids of every record about a child or a mentor, and the removal of stored copies."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# The records that hang on a child, or on a mentor (ids of every kind, one column).
CHILD_RECORDS = """
    SELECT id FROM offer WHERE child_id = ANY(CAST(:ids AS uuid[]))
    UNION ALL SELECT id FROM assessment WHERE child_id = ANY(CAST(:ids AS uuid[]))
    UNION ALL SELECT id FROM proposal WHERE child_id = ANY(CAST(:ids AS uuid[]))
    UNION ALL SELECT id FROM pair_exclusion WHERE child_id = ANY(CAST(:ids AS uuid[]))
    UNION ALL SELECT id FROM mentorship WHERE child_id = ANY(CAST(:ids AS uuid[]))
    UNION ALL SELECT o.id FROM objective o JOIN mentorship m ON m.id = o.mentorship_id
               WHERE m.child_id = ANY(CAST(:ids AS uuid[]))
    UNION ALL SELECT g.id FROM meeting g JOIN mentorship m ON m.id = g.mentorship_id
               WHERE m.child_id = ANY(CAST(:ids AS uuid[]))
"""
MENTOR_RECORDS = """
    SELECT id FROM proposal WHERE mentor_id = ANY(CAST(:ids AS uuid[]))
    UNION ALL SELECT id FROM pair_exclusion WHERE mentor_id = ANY(CAST(:ids AS uuid[]))
    UNION ALL SELECT id FROM mentorship WHERE mentor_id = ANY(CAST(:ids AS uuid[]))
    UNION ALL SELECT o.id FROM objective o JOIN mentorship m ON m.id = o.mentorship_id
               WHERE m.mentor_id = ANY(CAST(:ids AS uuid[]))
    UNION ALL SELECT g.id FROM meeting g JOIN mentorship m ON m.id = g.mentorship_id
               WHERE m.mentor_id = ANY(CAST(:ids AS uuid[]))
    UNION ALL SELECT id FROM principal WHERE mentor_id = ANY(CAST(:ids AS uuid[]))
"""


async def child_subject_ids(session: AsyncSession, child_id: uuid.UUID) -> list[uuid.UUID]:
    """The child's id and the ids of its assessments, offers, proposals, exclusions, mentorships,
    objectives and meetings."""
    return await children_subject_ids(session, [child_id])


async def children_subject_ids(
    session: AsyncSession, child_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    rows = await session.scalars(text(CHILD_RECORDS), {"ids": list(child_ids)})
    return [*child_ids, *rows]


async def mentor_subject_ids(session: AsyncSession, mentor_id: uuid.UUID) -> list[uuid.UUID]:
    """The mentor's id, their principals' and those of their proposals, exclusions,
    mentorships, objectives and meetings."""
    return await mentors_subject_ids(session, [mentor_id])


async def mentors_subject_ids(
    session: AsyncSession, mentor_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    rows = await session.scalars(text(MENTOR_RECORDS), {"ids": list(mentor_ids)})
    return [*mentor_ids, *rows]


async def forget_stored_answers(
    session: AsyncSession,
    subject_ids: Sequence[uuid.UUID],
    principal_ids: Sequence[uuid.UUID] = (),
) -> int:
    """Delete the idempotency answers naming any of `subject_ids` (indexed `&&`) and those
    of `principal_ids`; the number deleted."""
    result = await session.execute(
        text(
            "DELETE FROM idempotency_record"
            " WHERE subject_ids && CAST(:ids AS uuid[])"
            " OR principal_id = ANY(CAST(:principals AS uuid[]))"
        ),
        {"ids": list(subject_ids), "principals": list(principal_ids)},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def forget_events(session: AsyncSession, subject_ids: Sequence[uuid.UUID]) -> int:
    """Delete the outbox events about any of `subject_ids` (their entity, or the child or
    mentor their data names), with their webhook deliveries and log; the number
    deleted. Rare (a purge), so a scan of the outbox is acceptable."""
    result = await session.execute(
        text(
            "DELETE FROM event WHERE entity_id = ANY(CAST(:ids AS uuid[]))"
            " OR data->>'child_id' = ANY(CAST(:texts AS text[]))"
            " OR data->>'mentor_id' = ANY(CAST(:texts AS text[]))"
        ),
        {"ids": list(subject_ids), "texts": [str(value) for value in subject_ids]},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def forget_run_inputs(
    session: AsyncSession, *, child_id: uuid.UUID | None = None, mentor_id: uuid.UUID | None = None
) -> None:
    """Take a purged person out of the id lists a matching run was given."""
    if child_id is not None:
        await session.execute(
            text(
                "UPDATE matching_run SET child_ids = array_remove(child_ids, :id)"
                " WHERE child_ids @> ARRAY[CAST(:id AS uuid)]"
            ),
            {"id": child_id},
        )
    if mentor_id is not None:
        await session.execute(
            text(
                "UPDATE matching_run SET mentor_ids = array_remove(mentor_ids, :id)"
                " WHERE mentor_ids @> ARRAY[CAST(:id AS uuid)]"
            ),
            {"id": mentor_id},
        )


@asynccontextmanager
async def retention_writes(session: AsyncSession) -> AsyncIterator[None]:
    """Within the block (and this transaction only), the audit trail may lose expired rows and
    a purged principal's copied name, and append-only histories may have free texts scrubbed
    (see migration 0006). Used by the retention service and the purges, nowhere else."""
    await session.execute(text("SELECT set_config('mentorat.retention', 'on', true)"))
    yield
    # On an error the transaction is rolled back, and the setting with it.
    await session.execute(text("SELECT set_config('mentorat.retention', 'off', true)"))


async def pseudonymise_principals(
    session: AsyncSession, principal_ids: Sequence[uuid.UUID]
) -> None:
    """The audit trail keeps what purged principals did, by id only."""
    if not principal_ids:
        return
    async with retention_writes(session):
        await session.execute(
            text(
                "UPDATE audit_event SET principal_name = 'purged'"
                " WHERE principal_id = ANY(CAST(:ids AS uuid[])) AND principal_name <> 'purged'"
            ),
            {"ids": list(principal_ids)},
        )
