"""The life of a mentorship: creation from an accepted proposal, transitions, views."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import record
from mentorat.auth.principal import Principal
from mentorat.errors import Conflict, InvalidInput
from mentorat.kit.clock import today_in
from mentorat.kit.etag import check_if_match
from mentorat.kit.pagination import paginate
from mentorat.kit.repository import flush
from mentorat.matching.loading import id_in
from mentorat.mentorships import repository
from mentorat.mentorships.events import emit_mentorship_event
from mentorat.mentorships.exceptions import IndividualAgreementRequired
from mentorat.models import (
    Child,
    Departement,
    Meeting,
    Mentor,
    Mentorship,
    MentorshipEvent,
    Objective,
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
ATTENTION_AFTER = timedelta(days=30)


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


def _needs_attention(today: date) -> Any:
    cutoff = datetime.now(UTC) - ATTENTION_AFTER
    last_meeting = (
        select(func.max(Meeting.held_on)).where(Meeting.mentorship_id == Mentorship.id)
    ).scalar_subquery()
    no_recent_meeting = or_(
        last_meeting < today - ATTENTION_AFTER,
        and_(
            last_meeting.is_(None),
            func.coalesce(Mentorship.started_at, Mentorship.created_at) < cutoff,
        ),
    )
    live_objective = and_(
        Objective.mentorship_id == Mentorship.id, Objective.status.in_(("open", "in_progress"))
    )
    fresh_objective = and_(
        live_objective,
        Objective.updated_at >= cutoff,
        or_(Objective.target_date.is_(None), Objective.target_date >= today),
    )
    all_objectives_stale = and_(exists().where(live_objective), ~exists().where(fresh_objective))
    return and_(Mentorship.state == "active", or_(no_recent_meeting, all_objectives_stale))


async def list_mentorships(
    session: AsyncSession,
    principal: Principal,
    *,
    state: str | None,
    needs_attention: bool | None,
    child_id: uuid.UUID | None = None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Mentorship], str | None]:
    statement: Select[Any] = repository.scoped(principal)
    if state is not None:
        statement = statement.where(Mentorship.state == state)
    if child_id is not None:  # a child out of scope lists nothing, like any filter
        statement = statement.where(Mentorship.child_id == child_id)
    if needs_attention is not None:
        condition = _needs_attention(today_in(principal.departement_code))
        statement = statement.where(condition if needs_attention else ~condition)
    mentorships, next_cursor = await paginate(
        session, statement, [Mentorship.created_at, Mentorship.id], limit=limit, cursor=cursor,
        scope="mentorships",
        filters={"state": state, "needs_attention": needs_attention, "child_id": child_id},
    )  # fmt: skip
    await repository.audit_reads(session, principal, mentorships, via="mentorships")
    return mentorships, next_cursor


# --------------------------------------------------------------------------- views


def _age(birth_date: date, on: date) -> int:
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


async def views(
    session: AsyncSession, principal: Principal, mentorships: list[Mentorship]
) -> list[dict[str, Any]]:
    """Mentorships with the child as the caller may see them, the mentor and the cadence."""
    if not mentorships:
        return []
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
