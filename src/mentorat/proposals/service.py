"""Proposals: made by a matching run or by an educator, validated by the educator side and
accepted by the mentor side; with both consents they become a mentorship."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import record, record_child_reads
from mentorat.auth.principal import Principal, Role
from mentorat.children import repository as children_repository
from mentorat.errors import Conflict, Forbidden
from mentorat.kit.clock import today_in
from mentorat.kit.pagination import paginate
from mentorat.kit.repository import flush, one_or_404
from mentorat.matching.loading import id_in, load_children, load_exclusions, load_mentors
from mentorat.matching.scoring import REASON_CODES, Reason, Weights, explanation_json, score_pairs
from mentorat.mentors import repository as mentors_repository
from mentorat.mentorships.service import create_from_proposal
from mentorat.models import Child, Mentor, Mentorship, Proposal
from mentorat.proposals.events import emit_proposal_event

ENTITY = "proposal"
EDUCATOR_SIDE = frozenset({Role.admin, Role.departement_manager, Role.educator})
MENTOR_SIDE = frozenset({Role.admin, Role.coordinator, Role.mentor})


def scoped(principal: Principal) -> Select[tuple[Proposal]]:
    """Dry-run proposals stay on the département side."""
    statement = select(Proposal)
    if principal.role is Role.admin:
        return statement
    if principal.in_departement_role:
        return statement.where(Proposal.departement_code == principal.departement_code)
    statement = statement.where(Proposal.status != "simulated")
    if principal.role is Role.coordinator:
        return statement.where(
            Proposal.mentor_id.in_(
                select(Mentor.id).where(Mentor.association_id == principal.association_id)
            )
        )
    return statement.where(Proposal.mentor_id == principal.mentor_id)


async def get_scoped(
    session: AsyncSession, principal: Principal, proposal_id: uuid.UUID, *, for_update: bool = False
) -> Proposal:
    statement = scoped(principal).where(Proposal.id == proposal_id)
    return await one_or_404(session, statement, "proposal", for_update=for_update)


async def read_proposal(
    session: AsyncSession, principal: Principal, proposal_id: uuid.UUID
) -> Proposal:
    proposal = await get_scoped(session, principal, proposal_id)
    await audit_reads(session, principal, [proposal], via="proposal")
    return proposal


async def audit_reads(
    session: AsyncSession, principal: Principal, proposals: list[Proposal], *, via: str
) -> None:
    """Every proposal shown names its child (first name)."""
    await record_child_reads(
        session, principal, [(p.child_id, p.departement_code) for p in proposals], via=via
    )


async def list_proposals(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    child_id: uuid.UUID | None = None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Proposal], str | None]:
    """A child out of scope is filtered like any other: an empty list."""
    statement = scoped(principal)
    if status is not None:
        statement = statement.where(Proposal.status == status)
    if child_id is not None:
        statement = statement.where(Proposal.child_id == child_id)
    proposals, next_cursor = await paginate(
        session, statement, [Proposal.created_at, Proposal.id], limit=limit, cursor=cursor,
        scope="proposals", filters={"status": status, "child_id": child_id},
    )  # fmt: skip
    await audit_reads(session, principal, proposals, via="proposals")
    return proposals, next_cursor


async def create_proposal(
    session: AsyncSession, principal: Principal, child_id: uuid.UUID, mentor_id: uuid.UUID
) -> Proposal:
    """An educator's own choice (e.g. among the candidates): validated by its author."""
    child = await children_repository.get_scoped(session, principal, child_id, for_update=True)
    mentor = await mentors_repository.get_scoped(session, principal, mentor_id)
    child_statement = select(Child).where(Child.id == child.id)
    mentor_statement = select(Mentor).where(Mentor.id == mentor.id)
    today = today_in(child.departement_code)
    children = await load_children(session, child_statement, today)
    mentors = await load_mentors(session, mentor_statement, today, child.departement_code)
    exclusions = await load_exclusions(
        session, children, mentors, child_statement, mentor_statement
    )
    pairs = score_pairs(children.arrays, mentors.arrays, Weights(), exclusions)
    if len(pairs) == 0:
        reason = REASON_CODES[Reason(int(pairs.primary_reason_counts[0].argmax()))]
        raise Conflict(f"This pair cannot be proposed: {reason}.", reason=reason)
    now = datetime.now(UTC)
    proposal = Proposal(
        child_id=child.id,
        mentor_id=mentor.id,
        departement_code=child.departement_code,
        status="pending",
        score=float(pairs.score[0]),
        explanation=explanation_json(pairs, 0),
        created_by_id=principal.id,
        validated_at=now,
        validated_by_name=principal.name,
    )
    session.add(proposal)
    await flush(session)
    await record(
        session, principal, "create", ENTITY, [proposal.id],
        departement_code=child.departement_code,
    )  # fmt: skip
    await emit_proposal_event(session, "proposal.created", proposal)
    return proposal


async def _pending(session: AsyncSession, principal: Principal, proposal_id: uuid.UUID) -> Proposal:
    proposal = await get_scoped(session, principal, proposal_id, for_update=True)
    if proposal.status != "pending":
        raise Conflict(f"The proposal is {proposal.status}, not pending.")
    return proposal


async def _finish_if_agreed(
    session: AsyncSession, principal: Principal, proposal: Proposal
) -> Mentorship | None:
    if proposal.validated_at is None or proposal.mentor_accepted_at is None:
        return None
    proposal.status, proposal.decided_at = "accepted", datetime.now(UTC)
    await flush(session)  # the place passes from the proposal to the mentorship
    return await create_from_proposal(session, principal, proposal)


async def validate(
    session: AsyncSession, principal: Principal, proposal_id: uuid.UUID
) -> tuple[Proposal, Mentorship | None]:
    if principal.role not in EDUCATOR_SIDE:
        raise Forbidden("Only the département side validates a proposal.")
    proposal = await _pending(session, principal, proposal_id)
    if proposal.validated_at is not None:
        raise Conflict("The proposal is already validated.")
    proposal.validated_at, proposal.validated_by_name = datetime.now(UTC), principal.name
    await flush(session)
    await _audit(session, principal, proposal, "validated")
    mentorship = await _finish_if_agreed(session, principal, proposal)
    await emit_proposal_event(session, "proposal.validated", proposal, mentorship)
    return proposal, mentorship


async def accept(
    session: AsyncSession, principal: Principal, proposal_id: uuid.UUID
) -> tuple[Proposal, Mentorship | None]:
    if principal.role not in MENTOR_SIDE:
        raise Forbidden("Only the mentor or their coordinator accepts a proposal.")
    proposal = await _pending(session, principal, proposal_id)
    if proposal.mentor_accepted_at is not None:
        raise Conflict("The proposal is already accepted by the mentor side.")
    proposal.mentor_accepted_at = datetime.now(UTC)
    proposal.mentor_accepted_by_name = principal.name
    await flush(session)
    await _audit(session, principal, proposal, "accepted by mentor side")
    mentorship = await _finish_if_agreed(session, principal, proposal)
    await emit_proposal_event(session, "proposal.accepted", proposal, mentorship)
    return proposal, mentorship


async def decline(
    session: AsyncSession, principal: Principal, proposal_id: uuid.UUID, reason: str
) -> Proposal:
    """Either side may decline; the mentor's place and the child are free again."""
    proposal = await _pending(session, principal, proposal_id)
    proposal.status, proposal.decided_at = "declined", datetime.now(UTC)
    proposal.decline_reason, proposal.declined_by_name = reason, principal.name
    await flush(session)
    await _audit(session, principal, proposal, "declined")
    await emit_proposal_event(session, "proposal.declined", proposal)
    return proposal


async def _audit(
    session: AsyncSession, principal: Principal, proposal: Proposal, what: str
) -> None:
    await record(
        session, principal, "update", ENTITY, [proposal.id],
        departement_code=proposal.departement_code, details={"step": what},
    )  # fmt: skip


async def views(
    session: AsyncSession, principal: Principal, proposals: list[Proposal]
) -> list[dict[str, Any]]:
    if not proposals:
        return []
    child_names = dict(
        (
            await session.execute(
                select(Child.id, Child.first_name).where(
                    id_in(Child.id, [p.child_id for p in proposals])
                )
            )
        ).all()
    )
    mentor_names = {
        row.id: f"{row.first_name} {row.last_name}"
        for row in await session.execute(
            select(Mentor.id, Mentor.first_name, Mentor.last_name).where(
                id_in(Mentor.id, [p.mentor_id for p in proposals])
            )
        )
    }
    mentorships = dict(
        (
            await session.execute(
                select(Mentorship.proposal_id, Mentorship.id).where(
                    id_in(Mentorship.proposal_id, [p.id for p in proposals])
                )
            )
        ).all()
    )
    educator_side = principal.role in EDUCATOR_SIDE
    return [
        {
            "id": p.id,
            "run_id": p.run_id,
            "status": p.status,
            "child_id": p.child_id if educator_side else None,
            "child_first_name": child_names[p.child_id],
            "mentor_id": p.mentor_id,
            "mentor_name": mentor_names[p.mentor_id],
            "score": p.score,
            "explanation": p.explanation,
            "validated_at": p.validated_at,
            "validated_by_name": p.validated_by_name,
            "mentor_accepted_at": p.mentor_accepted_at,
            "mentor_accepted_by_name": p.mentor_accepted_by_name,
            "decided_at": p.decided_at,
            "decline_reason": p.decline_reason,
            "mentorship_id": mentorships.get(p.id),
            "version": p.version,
            "created_at": p.created_at,
        }
        for p in proposals
    ]
