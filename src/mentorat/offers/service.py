"""Offers: made on a recommending assessment, answered by facts from which PostgreSQL derives
the outcome (see migration 0009's `offer_consent_derive`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.assessments.service import current_recommendation
from mentorat.audit.service import record, record_child_reads
from mentorat.auth.principal import Principal, Role
from mentorat.children import repository as children_repository
from mentorat.errors import InvalidInput, MentoratError
from mentorat.kit.clock import today_in
from mentorat.kit.etag import check_if_match
from mentorat.kit.pagination import paginate
from mentorat.kit.repository import flush, one_or_404
from mentorat.models import Assessment, Offer, OfferConsent
from mentorat.models.legal import REQUIRED_PARTIES
from mentorat.offers.exceptions import AssessmentRequired, ConsentAlreadyRecorded, OfferDecided

ENTITY = "offer"
ANSWERS = frozenset({"agreed", "refused"})
Location = tuple[str | int, ...]


def consent_problems(location: Location) -> Mapping[str, Callable[[], MentoratError]]:
    """The database's own refusals of a fact (the trigger's checks, the unique indexes), as
    the problems the service gives first: a safety net for a race between two requests."""
    return {
        "ck_offer_consent_party_required": partial(
            InvalidInput,
            "No answer is expected from this party under the offer's legal situation.",
            field=(*location, "party"),
        ),
        "ck_offer_consent_offer_pending": partial(
            OfferDecided, "The offer is already decided; make a new offer instead."
        ),
        "uq_offer_consent_fact": partial(ConsentAlreadyRecorded),
        "uq_offer_consent_one_answer": partial(
            ConsentAlreadyRecorded, "This party has already answered the offer."
        ),
    }


# --------------------------------------------------------------------------- reads


async def consents_of(
    session: AsyncSession, offer_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[OfferConsent]]:
    """The facts of each offer, the oldest first (by date given, then as recorded)."""
    facts: dict[uuid.UUID, list[OfferConsent]] = {offer_id: [] for offer_id in offer_ids}
    if not offer_ids:
        return facts
    rows = await session.scalars(
        select(OfferConsent)
        .where(OfferConsent.offer_id.in_(offer_ids))
        .order_by(OfferConsent.given_on, OfferConsent.id)
    )
    for fact in rows:
        facts[fact.offer_id].append(fact)
    return facts


def view(offer: Offer, facts: Sequence[OfferConsent]) -> dict[str, Any]:
    """The read of an offer: its facts, whose agreement it needs and who is still awaited."""
    required = REQUIRED_PARTIES[offer.legal_situation]
    answered = {fact.party for fact in facts if fact.kind in ANSWERS}
    informed = {fact.party for fact in facts if fact.kind == "informed"}
    return {
        "id": offer.id,
        "child_id": offer.child_id,
        "departement_code": offer.departement_code,
        "offered_on": offer.offered_on,
        "offered_by_name": offer.offered_by_name,
        "legal_situation": offer.legal_situation,
        "assessment_id": offer.assessment_id,
        "required_parties": list(required),
        "consents": list(facts),
        "awaiting": [party for party in required if party not in answered],
        "not_informed": [party for party in required if party not in informed],
        "outcome": offer.outcome,
        "note": offer.note,
        "decided_at": offer.decided_at,
        "version": offer.version,
        "created_at": offer.created_at,
        "updated_at": offer.updated_at,
    }


async def views(session: AsyncSession, offers: Sequence[Offer]) -> list[dict[str, Any]]:
    facts = await consents_of(session, [offer.id for offer in offers])
    return [view(offer, facts[offer.id]) for offer in offers]


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


# --------------------------------------------------------------------------- writes


async def _earliest_fact_date(session: AsyncSession, offer: Offer) -> date:
    """Information may be given before the offer is written down, but not before the
    assessment it rests on (the offer's date for offers recorded before assessments were)."""
    if offer.assessment_id is None:
        return offer.offered_on
    assessed_on = await session.scalar(
        select(Assessment.assessed_on).where(Assessment.id == offer.assessment_id)
    )
    return assessed_on or offer.offered_on


async def _existing_facts(session: AsyncSession, offer_id: uuid.UUID) -> list[tuple[str, str]]:
    rows = await session.execute(
        select(OfferConsent.party, OfferConsent.kind).where(OfferConsent.offer_id == offer_id)
    )
    return [(party, kind) for party, kind in rows]


async def _append_fact(
    session: AsyncSession,
    principal: Principal,
    offer: Offer,
    fact: Mapping[str, Any],
    *,
    location: Location,
    earliest: date,
    today: date,
) -> OfferConsent:
    """Check one fact against the offer and append it; the trigger re-derives the outcome."""
    party, kind, given_on = fact["party"], fact["kind"], fact["given_on"]
    required = REQUIRED_PARTIES[offer.legal_situation]
    if party not in required:
        raise InvalidInput(
            f"The {party} does not take part in an offer under {offer.legal_situation}: "
            f"the parties are {', '.join(required)}.",
            field=(*location, "party"),
        )
    if given_on > today:
        raise InvalidInput("A fact cannot be dated in the future.", field=(*location, "given_on"))
    if given_on < earliest:
        raise InvalidInput(
            f"A fact cannot be dated before the assessment the offer rests on ({earliest}).",
            field=(*location, "given_on"),
        )
    existing = await _existing_facts(session, offer.id)
    if kind in ANSWERS and offer.outcome != "pending":
        raise OfferDecided(f"The offer is already {offer.outcome}; make a new offer instead.")
    if (party, kind) in existing:
        raise ConsentAlreadyRecorded(f"The {party} is already recorded as {kind}.")
    if kind in ANSWERS and any(p == party and k in ANSWERS for p, k in existing):
        raise ConsentAlreadyRecorded(f"The {party} has already answered the offer.")
    consent = OfferConsent(
        offer_id=offer.id,
        party=party,
        kind=kind,
        given_on=given_on,
        opinion=fact.get("opinion"),
        recorded_by_id=principal.id,
        recorded_by_name=principal.name,
    )
    session.add(consent)
    await flush(session, constraint_problems=consent_problems(location))
    await session.refresh(offer)  # outcome, decided_at and version come from the trigger
    return consent


async def create_offer(
    session: AsyncSession, principal: Principal, child_id: uuid.UUID, values: dict[str, Any]
) -> Offer:
    child = await children_repository.get_scoped(session, principal, child_id, for_update=True)
    today = today_in(child.departement_code)
    offered_on: date = values.get("offered_on") or today
    if offered_on > today:
        raise InvalidInput("An offer cannot be dated in the future.", field=("body", "offered_on"))
    assessment = await current_recommendation(session, child.id, offered_on)
    if assessment is None:
        raise AssessmentRequired(
            f"On {offered_on} the child has no assessment recommending mentoring less than a "
            "year old (the latest assessment counts); record one first."
        )
    offer = Offer(
        child_id=child.id,
        departement_code=child.departement_code,
        offered_on=offered_on,
        offered_by_id=principal.id,
        offered_by_name=principal.name,
        legal_situation=child.legal_situation,
        assessment_id=assessment.id,
        note=values.get("note"),
    )
    session.add(offer)
    await flush(session, conflict="The child already has an offer awaiting answers.")
    for index, fact in enumerate(values.get("consents") or []):
        await _append_fact(
            session, principal, offer, fact,
            location=("body", "consents", index), earliest=assessment.assessed_on, today=today,
        )  # fmt: skip
    await record(
        session, principal, "create", ENTITY, [offer.id], departement_code=child.departement_code
    )
    return offer


async def add_consent(
    session: AsyncSession,
    principal: Principal,
    offer_id: uuid.UUID,
    fact: dict[str, Any],
    if_match: str | None,
) -> Offer:
    """Append one fact to the offer; the offer as it now stands."""
    offer = await get_offer(session, principal, offer_id, for_update=True)
    check_if_match(if_match, offer.version)
    consent = await _append_fact(
        session, principal, offer, fact,
        location=("body",), earliest=await _earliest_fact_date(session, offer),
        today=today_in(offer.departement_code),
    )  # fmt: skip
    await record(
        session, principal, "update", ENTITY, [offer.id],
        departement_code=offer.departement_code,
        details={"consent": {"id": consent.id, "party": consent.party, "kind": consent.kind}},
    )  # fmt: skip
    return offer


async def update_offer(
    session: AsyncSession,
    principal: Principal,
    offer_id: uuid.UUID,
    changes: dict[str, Any],
    if_match: str | None,
) -> Offer:
    """The note only: the answers are facts (consents), never changed."""
    offer = await get_offer(session, principal, offer_id, for_update=True)
    check_if_match(if_match, offer.version)
    if not changes:
        raise InvalidInput("Nothing to update.", field=("body",))
    for field, value in changes.items():
        setattr(offer, field, value)
    await flush(session)
    await record(
        session, principal, "update", ENTITY, [offer.id],
        departement_code=offer.departement_code, details={"fields": sorted(changes)},
    )  # fmt: skip
    return offer
