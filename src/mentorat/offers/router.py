from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.dependencies import ChildReader, ChildWriter
from mentorat.kit.etag import IfMatch, set_etag
from mentorat.kit.idempotency import IdempotencyDep, respond_created
from mentorat.kit.openapi import documented_headers
from mentorat.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from mentorat.kit.problems import problems
from mentorat.kit.session import DbSession
from mentorat.models import Offer as OfferRow
from mentorat.offers import service
from mentorat.offers.schemas import ConsentCreate, Offer, OfferCreate, OfferUpdate

router = APIRouter(tags=["offers"], responses=problems(401, 403, 404, 422))


async def _read(session: AsyncSession, offer: OfferRow) -> Offer:
    (view,) = await service.views(session, [offer])
    return Offer.model_validate(view)


@router.post(
    "/v1/children/{child_id}/offers",
    response_model=Offer,
    status_code=status.HTTP_201_CREATED,
    responses={**documented_headers(201, "ETag", "Location"), **problems(409)},
    summary="Record the offer of a mentor to a child",
)
async def create_offer(
    session: DbSession,
    principal: ChildWriter,
    child_id: uuid.UUID,
    body: OfferCreate,
    response: Response,
    idempotent: IdempotencyDep,
) -> Offer | Response:
    """Records the legal offer of a mentor to the child (CASF L.221-2-6, D221-35), with the
    facts already known (`consents`). The offer keeps the child's legal situation of the day,
    which decides whose agreement it needs, and rests on the child's latest assessment: it must
    recommend mentoring and be less than a year old on `offered_on`, otherwise a 409
    `assessment-required`. One offer awaiting answers per child (409). Administrators, and the
    managers and educators of the child's département; send an `Idempotency-Key` to retry
    safely; audited."""
    if idempotent.replay is not None:
        return idempotent.replay
    offer = await service.create_offer(session, principal, child_id, body.model_dump())
    return await respond_created(
        idempotent,
        response,
        await _read(session, offer),
        location=f"/v1/offers/{offer.id}",
        version=offer.version,
    )


@router.get("/v1/children/{child_id}/offers", response_model=Page[Offer])
async def list_offers(
    session: DbSession,
    principal: ChildReader,
    child_id: uuid.UUID,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[Offer]:
    """Every offer made to the child, the latest first, each with its facts. Administrators,
    and the managers and educators of the child's département; the read is audited."""
    offers, next_cursor = await service.list_offers(
        session, principal, child_id, limit=limit, cursor=cursor
    )
    return Page(
        items=[Offer.model_validate(view) for view in await service.views(session, offers)],
        next_cursor=next_cursor,
    )


@router.get(
    "/v1/offers/{offer_id}", response_model=Offer, responses=documented_headers(200, "ETag")
)
async def get_offer(
    session: DbSession, principal: ChildReader, offer_id: uuid.UUID, response: Response
) -> Offer:
    """One offer with its facts, whose answers are awaited and who is still to be informed,
    and its `ETag`. Administrators, and the managers and educators of the child's
    département; the read is audited."""
    offer = await service.read_offer(session, principal, offer_id)
    set_etag(response, offer.version)
    return await _read(session, offer)


@router.post(
    "/v1/offers/{offer_id}/consents",
    response_model=Offer,
    status_code=status.HTTP_201_CREATED,
    responses={**documented_headers(201, "ETag", "Location"), **problems(409, 412)},
    summary="Record that a party was informed of the offer, agreed or refused",
)
async def add_consent(
    session: DbSession,
    principal: ChildWriter,
    offer_id: uuid.UUID,
    body: ConsentCreate,
    response: Response,
    idempotent: IdempotencyDep,
    if_match: IfMatch = None,
) -> Offer | Response:
    """Appends one fact to the offer and answers the offer as it now stands (its `Location`
    and new `ETag`); the outcome follows from the facts. Only the parties the offer's legal
    situation requires take part (422 at `party` otherwise); an answer on a decided offer is a
    409 `offer-decided`, a fact already recorded (or a second answer of a party) a 409
    `consent-already-recorded`. Facts are never changed or removed. Administrators, and the
    managers and educators of the child's département; `If-Match` optional,
    `Idempotency-Key` to retry safely; audited."""
    if idempotent.replay is not None:
        return idempotent.replay
    offer = await service.add_consent(session, principal, offer_id, body.model_dump(), if_match)
    return await respond_created(
        idempotent,
        response,
        await _read(session, offer),
        location=f"/v1/offers/{offer.id}",
        version=offer.version,
    )


@router.patch(
    "/v1/offers/{offer_id}",
    response_model=Offer,
    responses={**documented_headers(200, "ETag"), **problems(409, 412)},
)
async def update_offer(
    session: DbSession,
    principal: ChildWriter,
    offer_id: uuid.UUID,
    body: OfferUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> Offer:
    """Changes the offer's note, the only thing that changes on an offer: answers are facts
    added with POST /v1/offers/{offer_id}/consents. Send the `ETag` in `If-Match` (412 when
    stale). Administrators, and the managers and educators of the child's département;
    audited."""
    offer = await service.update_offer(
        session, principal, offer_id, body.model_dump(exclude_unset=True), if_match
    )
    set_etag(response, offer.version)
    return await _read(session, offer)
