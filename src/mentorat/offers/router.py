from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from mentorat.auth.dependencies import ChildReader, ChildWriter
from mentorat.kit.etag import IfMatch, etag_for, set_etag
from mentorat.kit.idempotency import IdempotencyDep
from mentorat.kit.openapi import documented_headers
from mentorat.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from mentorat.kit.problems import problems
from mentorat.kit.session import DbSession
from mentorat.offers import service
from mentorat.offers.schemas import Offer, OfferCreate, OfferUpdate

router = APIRouter(tags=["offers"], responses=problems(401, 403, 404, 422))


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
    """Records the legal offer of a mentor to the child, with the answers known so far.
    Administrators, and the managers and educators of the child's département; send an
    `Idempotency-Key` to retry safely."""
    if idempotent.replay is not None:
        return idempotent.replay
    offer = Offer.model_validate(
        await service.create_offer(session, principal, child_id, body.model_dump())
    )
    headers = {"ETag": etag_for(offer.version), "Location": f"/v1/offers/{offer.id}"}
    response.headers.update(headers)
    await idempotent.remember(status.HTTP_201_CREATED, offer, headers)
    return offer


@router.get("/v1/children/{child_id}/offers", response_model=Page[Offer])
async def list_offers(
    session: DbSession,
    principal: ChildReader,
    child_id: uuid.UUID,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[Offer]:
    """Every offer made to the child, the latest first."""
    offers, next_cursor = await service.list_offers(
        session, principal, child_id, limit=limit, cursor=cursor
    )
    return Page(items=[Offer.model_validate(offer) for offer in offers], next_cursor=next_cursor)


@router.get(
    "/v1/offers/{offer_id}", response_model=Offer, responses=documented_headers(200, "ETag")
)
async def get_offer(
    session: DbSession, principal: ChildReader, offer_id: uuid.UUID, response: Response
) -> Offer:
    """One offer, with its `ETag`. Administrators, and the managers and educators of the
    child's département."""
    offer = await service.read_offer(session, principal, offer_id)
    set_etag(response, offer.version)
    return Offer.model_validate(offer)


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
    """Record the child's answer and the guardian's (or the ASE decision's)."""
    offer = await service.update_offer(
        session, principal, offer_id, body.model_dump(exclude_unset=True), if_match
    )
    set_etag(response, offer.version)
    return Offer.model_validate(offer)
