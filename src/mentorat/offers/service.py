from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import record, record_child_reads
from mentorat.auth.principal import Principal, Role
from mentorat.children import repository as children_repository
from mentorat.errors import Conflict, InvalidInput
from mentorat.kit.clock import today_in
from mentorat.kit.etag import check_if_match
from mentorat.kit.pagination import paginate
from mentorat.kit.repository import flush, one_or_404
from mentorat.models import Offer

ENTITY = "offer"


def _derived_outcome(child_answer: str, guardian_answer: str) -> str:
    if "refused" in (child_answer, guardian_answer):
        return "refused"
    if child_answer == guardian_answer == "accepted":
        return "accepted"
    return "pending"


async def list_offers(
    session: AsyncSession,
    principal: Principal,
    child_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Offer], str | None]:
    """The child's offers, the latest first."""
    child = await children_repository.get_scoped(session, principal, child_id)
    await record_child_reads(session, principal, [(child.id, child.departement_code)], via="offers")
    return await paginate(
        session,
        select(Offer).where(Offer.child_id == child.id),
        [Offer.offered_on, Offer.created_at, Offer.id],
        limit=limit,
        cursor=cursor,
        scope="offers",
        filters={"child": child.id},
        descending=True,
    )


async def get_offer(
    session: AsyncSession, principal: Principal, offer_id: uuid.UUID, *, for_update: bool = False
) -> Offer:
    statement = select(Offer).where(Offer.id == offer_id)
    if principal.role is not Role.admin:
        statement = statement.where(Offer.departement_code == principal.departement_code)
    return await one_or_404(session, statement, "offer", for_update=for_update)


async def read_offer(session: AsyncSession, principal: Principal, offer_id: uuid.UUID) -> Offer:
    offer = await get_offer(session, principal, offer_id)
    await record_child_reads(
        session, principal, [(offer.child_id, offer.departement_code)], via="offer"
    )
    return offer


def _validate_dates(offered_on: date, departement_code: str) -> None:
    if offered_on > today_in(departement_code):
        raise InvalidInput("An offer cannot be dated in the future.", field=("body", "offered_on"))


async def create_offer(
    session: AsyncSession, principal: Principal, child_id: uuid.UUID, values: dict[str, Any]
) -> Offer:
    child = await children_repository.get_scoped(session, principal, child_id, for_update=True)
    offered_on = values.get("offered_on") or today_in(child.departement_code)
    _validate_dates(offered_on, child.departement_code)
    child_answer = values.get("child_answer") or "pending"
    guardian_answer = values.get("guardian_answer") or "pending"
    decided = _derived_outcome(child_answer, guardian_answer) != "pending"
    offer = Offer(
        child_id=child.id,
        departement_code=child.departement_code,
        offered_on=offered_on,
        offered_by_id=principal.id,
        offered_by_name=principal.name,
        child_answer=child_answer,
        guardian_answer=guardian_answer,
        guardian_answer_source=values.get("guardian_answer_source"),
        note=values.get("note"),
        decided_at=datetime.now(UTC) if decided else None,
    )
    session.add(offer)
    await flush(session, conflict="The child already has an offer awaiting answers.")
    await record(
        session, principal, "create", ENTITY, [offer.id], departement_code=child.departement_code
    )
    return offer


async def update_offer(
    session: AsyncSession,
    principal: Principal,
    offer_id: uuid.UUID,
    changes: dict[str, Any],
    if_match: str | None,
) -> Offer:
    """Record answers. A decided offer is final: a new offer is made instead."""
    offer = await get_offer(session, principal, offer_id, for_update=True)
    check_if_match(if_match, offer.version)
    if not changes:
        raise InvalidInput("Nothing to update.", field=("body",))
    answers_changed = {"child_answer", "guardian_answer", "guardian_answer_source"} & set(changes)
    if answers_changed and offer.outcome != "pending":
        raise Conflict(f"The offer is already {offer.outcome}; make a new offer instead.")
    for field, value in changes.items():
        setattr(offer, field, value)
    if offer.guardian_answer != "pending" and offer.guardian_answer_source is None:
        raise InvalidInput(
            "guardian_answer_source is required with a guardian answer.",
            field=("body", "guardian_answer_source"),
        )
    if _derived_outcome(offer.child_answer, offer.guardian_answer) != "pending":
        offer.decided_at = offer.decided_at or datetime.now(UTC)
    await flush(session)
    await record(
        session, principal, "update", ENTITY, [offer.id],
        departement_code=offer.departement_code, details={"fields": sorted(changes)},
    )  # fmt: skip
    return offer
