"""Apply the retention policy: anonymise what statistics need, delete the rest.

Policy (README, "Personal data"; settings `MENTORAT_RETENTION_*`):

- A child's personal data is kept while the child is in care, then `retention_child_years`
  (5) after the later of leaving care (the soft delete) and the end of their last mentorship;
  a record never closed is treated as left at 21, the latest age of ASE care. Nothing is
  touched while a mentorship is live or a proposal pending.
- A mentor's, `retention_mentor_years` (5) after the later of leaving (the soft delete) and
  the end of their last mentorship.
- Anonymising keeps, for the duty's statistics: ids, département, school level and year of
  entry into collège, birth year (as 1 January), goals, the care facts (dates, legal
  situation), the assessments' dates and outcomes, the offers' dates and consent facts, the
  proposals' statuses, scores and dates, the mentorships' states, dates and end reasons, the
  meetings' dates, durations and modes, the objectives' categories, statuses and progress,
  a mentor's association, capacity, honorability and training dates.
  It removes names, file reference, exact birth date, commune, postcode (kept: its
  département part), coordinates (rounded to a degree), availability, languages, preferences,
  contact details, every free text (notes, reasons, objective wording, scoring explanations)
  and the names of the people who wrote them; it deletes exclusions, the mentor's principals
  and tokens, and the stored idempotent answers naming the person. Each anonymisation is an
  `update` audit event by `system` (details `{"via": "retention"}`).
- Audit events are deleted after `retention_audit_months` (12); stored idempotent answers after
  `idempotency_hours` (24).

`apply_retention` works in the caller's transaction and never commits: a dry run is the same
work rolled back, so its report is exactly what the real run would do.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import record
from mentorat.privacy.subjects import (
    children_subject_ids,
    forget_stored_answers,
    mentors_subject_ids,
    pseudonymise_principals,
    retention_writes,
)
from mentorat.settings import Settings
from mentorat.vocabulary import AVAILABILITY_BYTES

ANONYMOUS = "anonymised"
CARE_ENDS_AT_AGE = 21
NOT_HELD = """
    NOT EXISTS (SELECT 1 FROM mentorship m WHERE m.{who}_id = {alias}.id AND m.state <> 'ended')
    AND NOT EXISTS (SELECT 1 FROM proposal p WHERE p.{who}_id = {alias}.id
                    AND p.status = 'pending')
"""
CHILDREN_DUE = f"""
SELECT c.id, c.departement_code FROM child c
 WHERE c.anonymised_at IS NULL
   AND {NOT_HELD.format(who="child", alias="c")}
   AND ((c.deleted_at IS NOT NULL
         AND greatest(c.deleted_at, (SELECT max(m.ended_at) FROM mentorship m
                                      WHERE m.child_id = c.id)) < :cutoff)
        OR c.birth_date < :born_before)
 ORDER BY c.id
 FOR UPDATE OF c
"""
MENTORS_DUE = f"""
SELECT t.id FROM mentor t
 WHERE t.anonymised_at IS NULL AND t.deleted_at IS NOT NULL
   AND {NOT_HELD.format(who="mentor", alias="t")}
   AND greatest(t.deleted_at, (SELECT max(m.ended_at) FROM mentorship m
                                WHERE m.mentor_id = t.id)) < :cutoff
 ORDER BY t.id
 FOR UPDATE OF t
"""
ZERO_AVAILABILITY = f"decode(repeat('00', {AVAILABILITY_BYTES}), 'hex')"
COARSE_LOCATION = f"""
    commune = '{ANONYMOUS}', postcode = left(postcode, 2) || '000',
    latitude = round(latitude::numeric, 0), longitude = round(longitude::numeric, 0),
    availability = {ZERO_AVAILABILITY}, languages = '{{}}'
"""
ANONYMISE_CHILDREN = f"""
UPDATE child SET
    first_name = '{ANONYMOUS}', reference = 'anon-' || id::text,
    birth_date = make_date(extract(year FROM birth_date)::int, 1, 1),
    {COARSE_LOCATION},
    mentor_gender_preference = NULL, referent_educator = NULL,
    deleted_at = coalesce(deleted_at, :now), anonymised_at = :now, version = version + 1,
    updated_at = :now
 WHERE id = ANY(CAST(:ids AS uuid[]))
"""
ANONYMISE_MENTORS = f"""
UPDATE mentor SET
    first_name = '{ANONYMOUS}', last_name = '{ANONYMOUS}', email = NULL, phone = NULL,
    {COARSE_LOCATION},
    gender = NULL, active = false, anonymised_at = :now, version = version + 1, updated_at = :now
 WHERE id = ANY(CAST(:ids AS uuid[]))
"""
SCRUB_OFFERS = f"""
UPDATE offer SET note = NULL, offered_by_name = '{ANONYMOUS}'
 WHERE child_id = ANY(CAST(:children AS uuid[]))
"""
# Assessments and consent facts are append-only: these UPDATEs pass only because retention
# sets `mentorat.retention` for its transaction (see retention_writes).
SCRUB_ASSESSMENTS = f"""
UPDATE assessment SET note = NULL,
       reason = CASE WHEN outcome = 'mentoring_recommended' THEN NULL ELSE '{ANONYMOUS}' END,
       author_name = '{ANONYMOUS}'
 WHERE child_id = ANY(CAST(:children AS uuid[]))
"""
SCRUB_CONSENTS = f"""
UPDATE offer_consent SET opinion = NULL, recorded_by_name = '{ANONYMOUS}'
 WHERE offer_id IN (SELECT id FROM offer WHERE child_id = ANY(CAST(:children AS uuid[])))
"""
SCRUB_PROPOSALS = """
UPDATE proposal SET explanation = '{}'::jsonb, decline_reason = NULL,
       validated_by_name = NULL, mentor_accepted_by_name = NULL, declined_by_name = NULL
 WHERE child_id = ANY(CAST(:children AS uuid[])) OR mentor_id = ANY(CAST(:mentors AS uuid[]))
"""
DELETE_EXCLUSIONS = """
DELETE FROM pair_exclusion
 WHERE child_id = ANY(CAST(:children AS uuid[])) OR mentor_id = ANY(CAST(:mentors AS uuid[]))
"""
MENTORSHIPS_OF = """
SELECT id FROM mentorship
 WHERE child_id = ANY(CAST(:children AS uuid[])) OR mentor_id = ANY(CAST(:mentors AS uuid[]))
"""
SCRUB_EVENTS = f"""
UPDATE mentorship_event SET note = NULL, principal_name = '{ANONYMOUS}'
 WHERE mentorship_id = ANY(CAST(:mentorships AS uuid[]))
"""
SCRUB_OBJECTIVES = """
UPDATE objective SET title = category, description = NULL
 WHERE mentorship_id = ANY(CAST(:mentorships AS uuid[]))
"""
SCRUB_REVISIONS = f"""
UPDATE objective_revision
   SET "values" = ("values" - 'description') || jsonb_build_object('title', "values"->'category'),
       principal_name = '{ANONYMOUS}'
 WHERE mentorship_id = ANY(CAST(:mentorships AS uuid[]))
"""
SCRUB_MEETINGS = f"""
UPDATE meeting SET note = NULL, entered_by_name = '{ANONYMOUS}'
 WHERE mentorship_id = ANY(CAST(:mentorships AS uuid[]))
"""


@dataclass
class RetentionReport:
    """What a retention pass did (or, in a dry run, would do)."""

    now: datetime
    dry_run: bool
    child_cutoff: datetime
    mentor_cutoff: datetime
    audit_cutoff: datetime
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, what: str, action: str, count: int) -> None:
        self.counts[(what, action)] = self.counts.get((what, action), 0) + count

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "dry_run": self.dry_run,
            "cutoffs": {
                "children": self.child_cutoff.isoformat(),
                "mentors": self.mentor_cutoff.isoformat(),
                "audit_events": self.audit_cutoff.isoformat(),
            },
            "counts": [
                {"what": what, "action": action, "count": count}
                for (what, action), count in self.counts.items()
            ],
        }


def _years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


def _months_before(moment: datetime, months: int) -> datetime:
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, 28)
    return moment.replace(year=year, month=month + 1, day=day)


async def _count(session: AsyncSession, sql: str, **params: Any) -> int:
    result = await session.execute(text(sql), params)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def _audit(
    session: AsyncSession, children: Sequence[Any], mentors: Sequence[uuid.UUID]
) -> None:
    """The anonymisations, by the system, in the trail (bare ids)."""
    details = {"via": "retention", "anonymised": True}
    for code in sorted({code for _, code in children}):
        ids = [child_id for child_id, child_code in children if child_code == code]
        await record(session, None, "update", "child", ids, departement_code=code, details=details)
    await record(session, None, "update", "mentor", mentors, details=details)


async def apply_retention(
    session: AsyncSession, settings: Settings, *, now: datetime, dry_run: bool = False
) -> RetentionReport:
    """One retention pass in the caller's transaction (the caller commits, or rolls back for
    a dry run)."""
    report = RetentionReport(
        now=now,
        dry_run=dry_run,
        child_cutoff=_years_before(now, settings.retention_child_years),
        mentor_cutoff=_years_before(now, settings.retention_mentor_years),
        audit_cutoff=_months_before(now, settings.retention_audit_months),
    )
    born_before = _years_before(now, settings.retention_child_years + CARE_ENDS_AT_AGE).date()
    children_due = (
        await session.execute(
            text(CHILDREN_DUE), {"cutoff": report.child_cutoff, "born_before": born_before}
        )
    ).all()
    children = [child_id for child_id, _ in children_due]
    mentors = list(await session.scalars(text(MENTORS_DUE), {"cutoff": report.mentor_cutoff}))
    people = {"children": children, "mentors": mentors}
    async with retention_writes(session):
        report.add(
            "idempotency_record",
            "deleted (naming an anonymised person)",
            await forget_stored_answers(
                session,
                [
                    *await children_subject_ids(session, children),
                    *await mentors_subject_ids(session, mentors),
                ],
            ),
        )
        principals = list(
            await session.scalars(
                text("SELECT id FROM principal WHERE mentor_id = ANY(CAST(:ids AS uuid[]))"),
                {"ids": mentors},
            )
        )
        mentorships = list(await session.scalars(text(MENTORSHIPS_OF), people))
        report.add(
            "child", "anonymised", await _count(session, ANONYMISE_CHILDREN, ids=children, now=now)
        )
        report.add(
            "mentor", "anonymised", await _count(session, ANONYMISE_MENTORS, ids=mentors, now=now)
        )
        report.add("offer", "free text removed", await _count(session, SCRUB_OFFERS, **people))
        report.add(
            "assessment",
            "free text removed",
            await _count(session, SCRUB_ASSESSMENTS, children=children),
        )
        report.add(
            "offer_consent",
            "free text removed",
            await _count(session, SCRUB_CONSENTS, children=children),
        )
        report.add(
            "proposal", "free text removed", await _count(session, SCRUB_PROPOSALS, **people)
        )
        report.add("pair_exclusion", "deleted", await _count(session, DELETE_EXCLUSIONS, **people))
        for what, sql in (
            ("mentorship_event", SCRUB_EVENTS),
            ("objective", SCRUB_OBJECTIVES),
            ("objective_revision", SCRUB_REVISIONS),
            ("meeting", SCRUB_MEETINGS),
        ):
            report.add(
                what, "free text removed", await _count(session, sql, mentorships=mentorships)
            )
        await pseudonymise_principals(session, principals)
        report.add(
            "principal",
            "deleted (an anonymised mentor's)",
            await _count(
                session,
                "DELETE FROM principal WHERE id = ANY(CAST(:ids AS uuid[]))",
                ids=principals,
            ),
        )
        report.add(
            "idempotency_record",
            "deleted (expired)",
            await _count(
                session,
                "DELETE FROM idempotency_record WHERE created_at < :before",
                before=now - timedelta(hours=settings.idempotency_hours),
            ),
        )
        await _audit(session, children_due, mentors)
        report.add(
            "audit_event",
            "deleted (expired)",
            await _count(
                session,
                "DELETE FROM audit_event WHERE occurred_at < :before",
                before=report.audit_cutoff,
            ),
        )
    return report
