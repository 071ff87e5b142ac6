"""Right of access (RGPD art. 15): everything the service holds about one person, as one
JSON document, read by one audited request."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import record
from mentorat.auth.principal import Principal, Role
from mentorat.errors import Forbidden
from mentorat.kit.repository import one_or_404
from mentorat.kit.schemas import column_values
from mentorat.models import (
    ApiToken,
    Assessment,
    AuditEvent,
    Child,
    MatchingRunUnmatched,
    Meeting,
    Mentor,
    Mentorship,
    MentorshipEvent,
    Objective,
    ObjectiveRevision,
    Offer,
    OfferConsent,
    PairExclusion,
    Proposal,
)
from mentorat.models import Principal as PrincipalRow
from mentorat.privacy.subjects import child_subject_ids, mentor_subject_ids
from mentorat.profile import profile_from_row

# Internal columns (matching's packed forms) that say nothing a person could read.
INTERNAL = frozenset({"availability", "goals_mask", "languages_mask", "matching_record"})
# Entity types of the audit trail whose ids belong to a person's records.
AUDITED_TYPES = (
    "child",
    "mentor",
    "assessment",
    "offer",
    "proposal",
    "pair_exclusion",
    "mentorship",
    "objective",
    "meeting",
)
CHILD_EXPORTERS = frozenset({Role.admin, Role.departement_manager})
MENTOR_EXPORTERS = frozenset({Role.admin, Role.coordinator, Role.mentor})


def _values(row: object, *, without: Iterable[str] = ()) -> dict[str, Any]:
    values = column_values(row)
    for name in (*INTERNAL, *without):
        values.pop(name, None)
    return values


def _person(row: Child | Mentor) -> dict[str, Any]:
    return _values(row) | {
        key: jsonable_encoder(value) for key, value in profile_from_row(row).items()
    }


async def _all(session: AsyncSession, statement: Any) -> list[Any]:
    return list((await session.scalars(statement)).all())


async def _mentorships(
    session: AsyncSession, mentorships: Sequence[Mentorship], *, without: Iterable[str] = ()
) -> list[dict[str, Any]]:
    ids = [m.id for m in mentorships]
    events = await _all(
        session,
        select(MentorshipEvent)
        .where(MentorshipEvent.mentorship_id.in_(ids))
        .order_by(MentorshipEvent.occurred_at, MentorshipEvent.id),
    )
    objectives = await _all(
        session,
        select(Objective)
        .where(Objective.mentorship_id.in_(ids))
        .order_by(Objective.created_at, Objective.id),
    )
    revisions = await _all(
        session,
        select(ObjectiveRevision)
        .where(ObjectiveRevision.mentorship_id.in_(ids))
        .order_by(ObjectiveRevision.objective_id, ObjectiveRevision.revision),
    )
    meetings = await _all(
        session,
        select(Meeting).where(Meeting.mentorship_id.in_(ids)).order_by(Meeting.held_on, Meeting.id),
    )
    return [
        _values(mentorship, without=without)
        | {
            "events": [_values(e) for e in events if e.mentorship_id == mentorship.id],
            "objectives": [
                _values(o)
                | {
                    "revisions": [
                        _values(r, without=("mentorship_id",))
                        for r in revisions
                        if r.objective_id == o.id
                    ]
                }
                for o in objectives
                if o.mentorship_id == mentorship.id
            ],
            "meetings": [_values(g) for g in meetings if g.mentorship_id == mentorship.id],
        }
        for mentorship in mentorships
    ]


async def _audit_events(
    session: AsyncSession, subject_ids: Sequence[uuid.UUID], principal_ids: Sequence[uuid.UUID]
) -> list[dict[str, Any]]:
    about = AuditEvent.entity_type.in_(AUDITED_TYPES) & AuditEvent.entity_id.in_(
        [str(i) for i in subject_ids]
    )
    # What the person did, except which children they read: those ids are the children's.
    by = AuditEvent.principal_id.in_(principal_ids) & (AuditEvent.entity_type != "child")
    rows = await _all(session, select(AuditEvent).where(or_(about, by)).order_by(AuditEvent.id))
    return [_values(row) for row in rows]


def _document(kind: str, subject_id: uuid.UUID, content: dict[str, Any]) -> dict[str, Any]:
    return jsonable_encoder(
        {
            "subject": {"type": kind, "id": subject_id},
            "exported_at": datetime.now(UTC),
            **content,
        }
    )


async def export_child(
    session: AsyncSession, principal: Principal, child_id: uuid.UUID
) -> dict[str, Any]:
    """For an administrator or the manager of the child's département (soft-deleted
    children included: the right of access lasts as long as the data)."""
    if principal.role not in CHILD_EXPORTERS:
        raise Forbidden("Only an administrator or the département's manager exports a child.")
    statement = select(Child).where(Child.id == child_id)
    if principal.role is not Role.admin:
        statement = statement.where(Child.departement_code == principal.departement_code)
    child = await one_or_404(session, statement, "child")
    mentorships = await _all(
        session,
        select(Mentorship)
        .where(Mentorship.child_id == child.id)
        .order_by(Mentorship.created_at, Mentorship.id),
    )
    by_child = {"child_id"}
    offers = await _all(
        session,
        select(Offer)
        .where(Offer.child_id == child.id)
        .order_by(Offer.offered_on, Offer.created_at),
    )
    consents = await _all(
        session,
        select(OfferConsent)
        .where(OfferConsent.offer_id.in_([o.id for o in offers]))
        .order_by(OfferConsent.given_on, OfferConsent.id),
    )
    content = {
        "child": _person(child),
        "assessments": [
            _values(a, without=by_child)
            for a in await _all(
                session,
                select(Assessment)
                .where(Assessment.child_id == child.id)
                .order_by(Assessment.assessed_on, Assessment.created_at),
            )
        ],
        "offers": [
            _values(o, without=by_child)
            | {
                "consents": [
                    _values(c, without=("offer_id",)) for c in consents if c.offer_id == o.id
                ]
            }
            for o in offers
        ],
        "exclusions": [
            _values(e, without=by_child)
            for e in await _all(
                session,
                select(PairExclusion)
                .where(PairExclusion.child_id == child.id)
                .order_by(PairExclusion.created_at),
            )
        ],
        "proposals": [
            _values(p, without=by_child)
            for p in await _all(
                session,
                select(Proposal)
                .where(Proposal.child_id == child.id)
                .order_by(Proposal.created_at, Proposal.id),
            )
        ],
        "run_results_unmatched": [
            _values(u, without=by_child)
            for u in await _all(
                session,
                select(MatchingRunUnmatched)
                .where(MatchingRunUnmatched.child_id == child.id)
                .order_by(MatchingRunUnmatched.run_id),
            )
        ],
        "mentorships": await _mentorships(session, mentorships, without=by_child),
        "audit_events": await _audit_events(
            session, await child_subject_ids(session, child.id), []
        ),
    }
    await record(
        session, principal, "read", "child", [child.id],
        departement_code=child.departement_code, details={"via": "export"},
    )  # fmt: skip
    return _document("child", child.id, content)


async def export_mentor(
    session: AsyncSession, principal: Principal, mentor_id: uuid.UUID
) -> dict[str, Any]:
    """For an administrator, the mentor's coordinator, or the mentor themself. What concerns
    children (their ids, an exclusion's reason) stays out: it is theirs, not the mentor's."""
    if principal.role not in MENTOR_EXPORTERS:
        raise Forbidden("Only an administrator, the coordinator or the mentor exports a mentor.")
    statement = select(Mentor).where(Mentor.id == mentor_id)
    if principal.role is Role.coordinator:
        statement = statement.where(Mentor.association_id == principal.association_id)
    elif principal.role is Role.mentor:
        statement = statement.where(Mentor.id == principal.mentor_id)
    mentor = await one_or_404(session, statement, "mentor")
    principals = await _all(
        session, select(PrincipalRow).where(PrincipalRow.mentor_id == mentor.id)
    )
    principal_ids = [p.id for p in principals]
    tokens = await _all(
        session,
        select(ApiToken)
        .where(ApiToken.principal_id.in_(principal_ids))
        .order_by(ApiToken.created_at),
    )
    mentorships = await _all(
        session,
        select(Mentorship)
        .where(Mentorship.mentor_id == mentor.id)
        .order_by(Mentorship.created_at, Mentorship.id),
    )
    no_child = {"child_id", "mentor_id"}
    content = {
        "mentor": _person(mentor),
        "principals": [_values(p) for p in principals],
        "tokens": [_values(t, without=("token_hash",)) for t in tokens],
        "proposals": [
            _values(p, without=(*no_child, "explanation"))
            for p in await _all(
                session,
                select(Proposal)
                .where(Proposal.mentor_id == mentor.id)
                .order_by(Proposal.created_at, Proposal.id),
            )
        ],
        "exclusions": [
            _values(e, without=(*no_child, "reason"))
            for e in await _all(
                session,
                select(PairExclusion)
                .where(PairExclusion.mentor_id == mentor.id)
                .order_by(PairExclusion.created_at),
            )
        ],
        "mentorships": await _mentorships(session, mentorships, without=no_child),
        "audit_events": await _audit_events(
            session, await mentor_subject_ids(session, mentor.id), principal_ids
        ),
    }
    await record(session, principal, "read", "mentor", [mentor.id], details={"via": "export"})
    return _document("mentor", mentor.id, content)
