"""Proposals: made by a matching run or by an educator, validated by the educator side and
accepted by the mentor side; with both consents they become a mentorship."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import record, record_child_reads
from mentorat.auth.principal import Principal, Role
from mentorat.children import repository as children_repository
from mentorat.errors import Conflict, Forbidden
from mentorat.kit.clock import today_in
from mentorat.kit.pagination import paginate_rows
from mentorat.kit.repository import flush, one_or_404
from mentorat.matching.declines import decline_from_row, remembered_declines
from mentorat.matching.loading import id_in, load_children, load_exclusions, load_mentors
from mentorat.matching.scoring import Reason, Weights, explanation_json, score_pairs
from mentorat.mentors import repository as mentors_repository
from mentorat.mentorships.service import create_from_proposal
from mentorat.models import Child, Mentor, Mentorship, Proposal
from mentorat.proposals.events import emit_proposal_event
from mentorat.proposals.exceptions import RecentlyDeclined

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
    run_id: uuid.UUID | None = None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """The page as the API shows it, read with its names in one statement. A child or a run
    out of scope is filtered like any other: an empty list. A dry run's simulated proposals
    are listed only when its `run_id` is asked for."""
    statement = scoped(principal)
    if status is not None:
        statement = statement.where(Proposal.status == status)
    if child_id is not None:
        statement = statement.where(Proposal.child_id == child_id)
    if run_id is not None:
        statement = statement.where(Proposal.run_id == run_id)
    else:
        statement = statement.where(Proposal.status != "simulated")
    rows, next_cursor = await paginate_rows(
        session, readable(statement), [Proposal.created_at, Proposal.id],
        lambda row: (row[0].created_at, row[0].id), limit=limit, cursor=cursor,
        scope="proposals", filters={"status": status, "child_id": child_id, "run_id": run_id},
    )  # fmt: skip
    await audit_reads(session, principal, [row[0] for row in rows], via="proposals")
    return [view_of(principal, row) for row in rows], next_cursor


async def create_proposal(
    session: AsyncSession,
    principal: Principal,
    child_id: uuid.UUID,
    mentor_id: uuid.UUID,
    *,
    repropose: bool = False,
) -> Proposal:
    """An educator's own choice (e.g. among the candidates): validated by its author. A pair
    declined recently is proposed again only when `repropose` says so (audited)."""
    child = await children_repository.get_scoped(session, principal, child_id, for_update=True)
    mentor = await mentors_repository.get_scoped(session, principal, mentor_id)
    code = child.departement_code
    child_statement = select(Child).where(Child.id == child.id)
    mentor_statement = select(Mentor).where(Mentor.id == mentor.id)
    today = today_in(code)
    children = await load_children(session, child_statement, today)
    mentors = await load_mentors(session, mentor_statement, today, code)
    exclusions = await load_exclusions(
        session, children, mentors, child_statement, mentor_statement
    )
    declined = (
        await session.execute(
            remembered_declines(code, today).where(
                Proposal.child_id == child.id, Proposal.mentor_id == mentor.id
            )
        )
    ).first()
    decline = None if declined is None else decline_from_row(declined)
    pairs = score_pairs(
        children.arrays, mentors.arrays, Weights(), exclusions,
        declines=[[0, 0]] if decline is not None and not repropose else None,
    )  # fmt: skip
    if len(pairs) == 0:
        reason = pairs.primary_reason(0)
        if reason is Reason.DECLINED_RECENTLY and decline is not None:
            raise RecentlyDeclined(decline, code)
        raise Conflict(f"This pair cannot be proposed: {reason.code}.", reason=reason.code)
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
        session, principal, "create", ENTITY, [proposal.id], departement_code=code,
        details=None if decline is None else {"reproposes": str(decline.proposal_id)},
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


def readable(statement: Select[Any]) -> Select[Any]:
    """`statement` (of Proposal rows) with what a reader needs beside each proposal, in the
    same statement: the child's first name, reference and commune, the mentor's name, the
    mentorship it became."""
    return (
        statement.join(Child, Child.id == Proposal.child_id)
        .join(Mentor, Mentor.id == Proposal.mentor_id)
        .outerjoin(Mentorship, Mentorship.proposal_id == Proposal.id)
        .add_columns(
            Child.first_name.label("child_first_name"),
            Child.reference.label("child_reference"),
            Child.commune.label("child_commune"),
            (Mentor.first_name + " " + Mentor.last_name).label("mentor_name"),
            Mentorship.id.label("mentorship_id"),
        )
    )


def view_of(principal: Principal, row: Row[Any]) -> dict[str, Any]:
    """A row of `readable(...)` as the API shows it to `principal`: the association side sees
    the child's first name only."""
    p: Proposal = row[0]
    educator_side = principal.role in EDUCATOR_SIDE
    return {
        "id": p.id,
        "run_id": p.run_id,
        "status": p.status,
        "child_id": p.child_id if educator_side else None,
        "child_reference": row.child_reference if educator_side else None,
        "child_first_name": row.child_first_name,
        "child_commune": row.child_commune if educator_side else None,
        "mentor_id": p.mentor_id,
        "mentor_name": row.mentor_name,
        "score": p.score,
        "explanation": p.explanation,
        "validated_at": p.validated_at,
        "validated_by_name": p.validated_by_name,
        "mentor_accepted_at": p.mentor_accepted_at,
        "mentor_accepted_by_name": p.mentor_accepted_by_name,
        "decided_at": p.decided_at,
        "decline_reason": p.decline_reason,
        "mentorship_id": row.mentorship_id,
        "published_at": p.published_at,
        "version": p.version,
        "created_at": p.created_at,
    }


async def views_of_ids(
    session: AsyncSession, principal: Principal, proposal_ids: list[uuid.UUID]
) -> list[dict[str, Any]]:
    """The proposals of these ids as the API shows them, read afresh in one statement, in the
    order of `proposal_ids`."""
    if not proposal_ids:
        return []
    rows = (
        await session.execute(
            readable(select(Proposal).where(id_in(Proposal.id, proposal_ids))),
            execution_options={"populate_existing": True},
        )
    ).all()
    by_id = {row[0].id: view_of(principal, row) for row in rows}
    return [by_id[proposal_id] for proposal_id in proposal_ids]


async def views(
    session: AsyncSession, principal: Principal, proposals: list[Proposal]
) -> list[dict[str, Any]]:
    return await views_of_ids(session, principal, [p.id for p in proposals])
