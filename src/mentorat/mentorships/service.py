"""The life of a mentorship: creation from an accepted proposal, transitions, views."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import record
from mentorat.auth.principal import Principal
from mentorat.errors import Conflict, InvalidInput, NotFound
from mentorat.kit.clock import today_in
from mentorat.kit.etag import check_if_match
from mentorat.kit.pagination import paginate, paginate_rows
from mentorat.kit.repository import flush
from mentorat.matching.loading import id_in
from mentorat.mentorships import repository
from mentorat.mentorships.attention import with_attention
from mentorat.mentorships.events import emit_mentorship_event
from mentorat.mentorships.exceptions import IndividualAgreementRequired
from mentorat.models import (
    Child,
    Departement,
    Meeting,
    Mentor,
    Mentorship,
    MentorshipEvent,
    PairExclusion,
    Proposal,
)

ENTITY = "mentorship"
ALLOWED_TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        ("accepted", "active"),
        ("accepted", "ended"),
        ("active", "paused"),
        ("paused", "active"),
        ("active", "ended"),
        ("paused", "ended"),
    }
)
# Each mentorship's reasons to need attention, as PostgreSQL derived them.
Attention = dict[uuid.UUID, list[dict[str, Any]]]


async def add_event(
    session: AsyncSession,
    principal: Principal,
    mentorship: Mentorship,
    from_state: str | None,
    *,
    reason: str | None = None,
    note: str | None = None,
) -> None:
    session.add(
        MentorshipEvent(
            mentorship_id=mentorship.id,
            principal_id=principal.id,
            principal_name=principal.name,
            from_state=from_state,
            to_state=mentorship.state,
            reason=reason,
            note=note,
        )
    )


async def create_from_proposal(
    session: AsyncSession, principal: Principal, proposal: Proposal
) -> Mentorship:
    """Called once both consents are given; the proposal must already be `accepted` so that
    its place passes to the mentorship without being counted twice."""
    mentorship = Mentorship(
        proposal_id=proposal.id,
        child_id=proposal.child_id,
        mentor_id=proposal.mentor_id,
        departement_code=proposal.departement_code,
        state="accepted",
    )
    session.add(mentorship)
    await flush(session)
    await add_event(session, principal, mentorship, None, note="both consents given")
    await record(
        session, principal, "create", ENTITY, [mentorship.id],
        departement_code=mentorship.departement_code,
    )  # fmt: skip
    return mentorship


async def transition(
    session: AsyncSession,
    principal: Principal,
    mentorship_id: uuid.UUID,
    to: str,
    *,
    reason: str | None,
    note: str | None,
    if_match: str | None,
) -> Mentorship:
    mentorship = await repository.get_scoped(session, principal, mentorship_id, for_update=True)
    check_if_match(if_match, mentorship.version)
    return await apply_transition(session, principal, mentorship, to, reason=reason, note=note)


async def apply_transition(
    session: AsyncSession,
    principal: Principal,
    mentorship: Mentorship,
    to: str,
    *,
    reason: str | None,
    note: str | None,
) -> Mentorship:
    current = mentorship.state
    if (current, to) not in ALLOWED_TRANSITIONS:
        raise Conflict(f"A mentorship cannot go from {current} to {to}.")
    if to == "active" and mentorship.agreement_signed_on is None:
        await _check_individual_agreement_not_required(session, mentorship.departement_code)
    if to == "ended" and reason is None:
        raise InvalidInput("Ending a mentorship needs a reason.", field=("body", "reason"))
    if to != "ended" and reason is not None:
        raise InvalidInput("Only ending takes a reason.", field=("body", "reason"))
    now = datetime.now(UTC)
    mentorship.state = to
    starts = to == "active" and mentorship.started_at is None
    if starts:
        mentorship.started_at = now
    if to == "ended":
        mentorship.end_reason, mentorship.ended_at = reason, now
        if reason == "safeguarding":
            await _exclude_pair(session, principal, mentorship)
    await flush(session)
    await add_event(session, principal, mentorship, current, reason=reason, note=note)
    await record(
        session, principal, "update", ENTITY, [mentorship.id],
        departement_code=mentorship.departement_code,
        details={"from": current, "to": to, "reason": reason},
    )  # fmt: skip
    if starts:
        await emit_mentorship_event(session, "mentorship.started", mentorship)
    elif to == "ended":
        await emit_mentorship_event(session, "mentorship.ended", mentorship)
    return mentorship


async def _check_individual_agreement_not_required(
    session: AsyncSession, departement_code: str
) -> None:
    required = await session.scalar(
        select(Departement.individual_agreement_required).where(
            Departement.code == departement_code
        )
    )
    if required:
        raise IndividualAgreementRequired(
            f"Département {departement_code} requires the individual agreement (ASE, "
            "association, child) to be signed before a mentorship becomes active; record its "
            "date with PATCH /v1/mentorships/{id} (agreement_signed_on) first."
        )


async def update_mentorship(
    session: AsyncSession,
    principal: Principal,
    mentorship_id: uuid.UUID,
    changes: dict[str, Any],
    if_match: str | None,
) -> Mentorship:
    """Records (or corrects) the individual agreement's signature date."""
    mentorship = await repository.get_scoped(session, principal, mentorship_id, for_update=True)
    check_if_match(if_match, mentorship.version)
    signed_on = changes.get("agreement_signed_on")
    if signed_on is not None and signed_on > today_in(mentorship.departement_code):
        raise InvalidInput(
            "The individual agreement cannot be signed in the future.",
            field=("body", "agreement_signed_on"),
        )
    for name, value in changes.items():
        setattr(mentorship, name, value)
    await flush(session)
    await record(
        session, principal, "update", ENTITY, [mentorship.id],
        departement_code=mentorship.departement_code, details={"fields": sorted(changes)},
    )  # fmt: skip
    return mentorship


async def _exclude_pair(
    session: AsyncSession, principal: Principal, mentorship: Mentorship
) -> None:
    """A pair that ended for safeguarding is never proposed again."""
    await session.execute(
        insert(PairExclusion)
        .values(
            child_id=mentorship.child_id,
            mentor_id=mentorship.mentor_id,
            reason="Mentorship ended for safeguarding.",
            created_by_id=principal.id,
            created_by_name=principal.name,
        )
        .on_conflict_do_nothing(index_elements=["child_id", "mentor_id"])
    )


async def list_mentorships(
    session: AsyncSession,
    principal: Principal,
    *,
    state: str | None,
    needs_attention: bool | None,
    child_id: uuid.UUID | None = None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Mentorship], Attention, str | None]:
    """A page of mentorships and, read by the same statement, why each needs attention."""
    statement, attention = with_attention(repository.scoped(principal))
    statement = statement.add_columns(attention.reasons)
    if state is not None:
        statement = statement.where(Mentorship.state == state)
    if child_id is not None:  # a child out of scope lists nothing, like any filter
        statement = statement.where(Mentorship.child_id == child_id)
    if needs_attention is not None:
        statement = statement.where(attention.needed if needs_attention else ~attention.needed)
    rows, next_cursor = await paginate_rows(
        session, statement, [Mentorship.created_at, Mentorship.id],
        lambda row: [row[0].created_at, row[0].id], limit=limit, cursor=cursor,
        scope="mentorships",
        filters={"state": state, "needs_attention": needs_attention, "child_id": child_id},
    )  # fmt: skip
    mentorships = [row[0] for row in rows]
    await repository.audit_reads(session, principal, mentorships, via="mentorships")
    return mentorships, {row[0].id: row[1] for row in rows}, next_cursor


async def read_mentorship(
    session: AsyncSession, principal: Principal, mentorship_id: uuid.UUID
) -> tuple[Mentorship, Attention]:
    """One mentorship in scope and why it needs attention, in one statement; the read is
    audited."""
    statement, attention = with_attention(
        repository.scoped(principal).where(Mentorship.id == mentorship_id)
    )
    row = (await session.execute(statement.add_columns(attention.reasons))).first()
    if row is None:
        raise NotFound("No such mentorship.")
    await repository.audit_reads(session, principal, [row[0]], via="mentorship")
    return row[0], {row[0].id: row[1]}


async def attention_of(session: AsyncSession, mentorship_ids: list[uuid.UUID]) -> Attention:
    """Why each of these mentorships needs attention (after a change), in one statement."""
    statement, attention = with_attention(
        select(Mentorship.id).where(id_in(Mentorship.id, mentorship_ids))
    )
    rows = await session.execute(statement.add_columns(attention.reasons))
    return {mentorship_id: reasons for mentorship_id, reasons in rows}


# --------------------------------------------------------------------------- views


def _age(birth_date: date, on: date) -> int:
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


async def views(
    session: AsyncSession,
    principal: Principal,
    mentorships: list[Mentorship],
    attention: Attention | None = None,
) -> list[dict[str, Any]]:
    """Mentorships with the child as the caller may see them, the mentor, the cadence and why
    each needs attention (read now unless the caller read it with the mentorships)."""
    if not mentorships:
        return []
    if attention is None:
        attention = await attention_of(session, [m.id for m in mentorships])
    children = {
        child.id: child
        for child in await session.scalars(
            select(Child).where(id_in(Child.id, [m.child_id for m in mentorships]))
        )
    }
    mentors = {
        mentor.id: mentor
        for mentor in await session.scalars(
            select(Mentor).where(id_in(Mentor.id, [m.mentor_id for m in mentorships]))
        )
    }
    today = today_in(principal.departement_code)
    cadence = await _cadences(session, [m.id for m in mentorships], today)
    educator_side = principal.is_admin or principal.in_departement_role
    result = []
    for mentorship in mentorships:
        child = children[mentorship.child_id]
        mentor = mentors[mentorship.mentor_id]
        child_view: dict[str, Any] = {
            "first_name": child.first_name,
            "age": _age(child.birth_date, today),
            "commune": child.commune,
            "goals": child.goals,
        }
        if educator_side:
            child_view |= {"id": child.id, "reference": child.reference}
        result.append(
            {
                "id": mentorship.id,
                "departement_code": mentorship.departement_code,
                "state": mentorship.state,
                "end_reason": mentorship.end_reason,
                "started_at": mentorship.started_at,
                "ended_at": mentorship.ended_at,
                "proposal_id": mentorship.proposal_id,
                "agreement_signed_on": mentorship.agreement_signed_on,
                "child": child_view,
                "mentor": {
                    "id": mentor.id,
                    "first_name": mentor.first_name,
                    "last_name": mentor.last_name,
                    "association_id": mentor.association_id,
                },
                "cadence": cadence.get(mentorship.id, _empty_cadence()),
                "attention": attention.get(mentorship.id, []),
                "version": mentorship.version,
                "created_at": mentorship.created_at,
                "updated_at": mentorship.updated_at,
            }
        )
    return result


def _empty_cadence() -> dict[str, Any]:
    return {
        "meetings": 0,
        "last_meeting_on": None,
        "days_since_last_meeting": None,
        "meetings_last_90_days": 0,
        "mean_days_between_meetings": None,
    }


async def _cadences(
    session: AsyncSession, mentorship_ids: list[uuid.UUID], today: date
) -> dict[uuid.UUID, dict[str, Any]]:
    rows = await session.execute(
        select(
            Meeting.mentorship_id,
            func.count(),
            func.min(Meeting.held_on),
            func.max(Meeting.held_on),
            func.count().filter(Meeting.held_on >= today - timedelta(days=90)),
        )
        .where(id_in(Meeting.mentorship_id, mentorship_ids))
        .group_by(Meeting.mentorship_id)
    )
    cadences = {}
    for mentorship_id, count, first, last, recent in rows:
        cadences[mentorship_id] = {
            "meetings": count,
            "last_meeting_on": last,
            "days_since_last_meeting": (today - last).days,
            "meetings_last_90_days": recent,
            "mean_days_between_meetings": (
                round((last - first).days / (count - 1), 1) if count > 1 else None
            ),
        }
    return cadences


async def list_events(
    session: AsyncSession,
    principal: Principal,
    mentorship_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[MentorshipEvent], str | None]:
    mentorship = await repository.read_scoped(session, principal, mentorship_id, via="events")
    return await paginate(
        session,
        select(MentorshipEvent).where(MentorshipEvent.mentorship_id == mentorship.id),
        [MentorshipEvent.occurred_at, MentorshipEvent.id],
        limit=limit,
        cursor=cursor,
        scope="mentorship-events",
        filters={"mentorship": mentorship.id},
    )
