"""Per-process snapshots of a département's mentors, ready for scoring.

Loading 20,000 mentors' matching records costs tens of milliseconds; most candidates requests
would load the same ones again. A snapshot is kept with the département's matching version,
which PostgreSQL bumps in the same transaction as any change to what the arrays are made of
(migration 0011). Each request reads the current version in the statement that reads its
child, so a snapshot whose version is not that one is never used: it is loaded again, together
with the version it was loaded at (one statement, one database snapshot).
"""

from __future__ import annotations

import json
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import Request
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.matching.loading import LoadedMentors, load_mentors
from mentorat.matching.scoring import PreparedMentors, prepare_mentors
from mentorat.models import DepartementMatchingVersion, Mentor

# Snapshots kept per process by default (settings.mentor_snapshots): one per (département,
# run date) asked for recently. 20,000 mentors take ~3 MiB.
MAX_SNAPSHOTS = 32


def matching_version(departement_code: str) -> Any:
    """The département's matching version as a scalar subquery (0: never bumped)."""
    return func.coalesce(
        select(DepartementMatchingVersion.version)
        .where(DepartementMatchingVersion.departement_code == departement_code)
        .scalar_subquery(),
        0,
    )


@dataclass(frozen=True)
class MentorDetails:
    """What a candidate shows of a mentor besides the score."""

    first_name: str
    last_name: str
    association_id: uuid.UUID
    commune: str | None


@dataclass(frozen=True)
class MentorSnapshot:
    version: int
    mentors: LoadedMentors
    details: list[MentorDetails]  # in the order of mentors
    prepared: PreparedMentors  # the mentor side of scoring, computed once


class MentorSnapshots:
    """The snapshots of one process (one app), least recently used dropped first."""

    def __init__(self, max_entries: int = MAX_SNAPSHOTS) -> None:
        self._entries: OrderedDict[tuple[str, date], MentorSnapshot] = OrderedDict()
        self._max_entries = max_entries
        self.loads = 0  # how many times mentors were loaded from PostgreSQL

    async def get(
        self,
        session: AsyncSession,
        departement_code: str,
        statement: Select[Any],
        run_date: date,
        version: int,
    ) -> MentorSnapshot:
        """The mentors `statement` selects, as of `version` or later."""
        key = (departement_code, run_date)
        snapshot = self._entries.get(key)
        if snapshot is not None and snapshot.version == version:
            self._entries.move_to_end(key)
            return snapshot
        snapshot = await self._load(session, departement_code, statement, run_date)
        self._put(key, snapshot)
        return snapshot

    async def _load(
        self, session: AsyncSession, departement_code: str, statement: Select[Any], run_date: date
    ) -> MentorSnapshot:
        self.loads += 1
        # Version, records and details in one statement: one database snapshot.
        details_json = func.json_agg(
            func.json_build_array(
                Mentor.id, Mentor.first_name, Mentor.last_name, Mentor.association_id,
                Mentor.commune,
            )
        )  # fmt: skip
        mentors, (version, rows) = await load_mentors(
            session,
            statement,
            run_date,
            departement_code,
            extra=[matching_version(departement_code), details_json],
        )
        if isinstance(rows, str):
            rows = json.loads(rows)
        by_id = {
            uuid.UUID(mentor_id): MentorDetails(first, last, uuid.UUID(association), commune)
            for mentor_id, first, last, association, commune in rows or []
        }
        details = [by_id[i] for i in mentors.ids]
        return MentorSnapshot(int(version), mentors, details, prepare_mentors(mentors.arrays))

    def _put(self, key: tuple[str, date], snapshot: MentorSnapshot) -> None:
        for other in [k for k, s in self._entries.items() if k[0] == key[0]]:
            if self._entries[other].version != snapshot.version:
                del self._entries[other]  # older data of the same département
        self._entries[key] = snapshot
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)


def mentor_snapshots(request: Request) -> MentorSnapshots:
    """The app's snapshots (each app instance, hence each process, has its own)."""
    snapshots = getattr(request.app.state, "mentor_snapshots", None)
    if snapshots is None:
        settings = getattr(request.app.state, "settings", None)
        size = MAX_SNAPSHOTS if settings is None else settings.mentor_snapshots
        snapshots = request.app.state.mentor_snapshots = MentorSnapshots(size)
    return snapshots
