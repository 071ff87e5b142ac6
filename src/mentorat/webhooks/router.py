"""Webhooks: endpoints told about events, with their secret, test action and delivery log."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from mentorat.auth.dependencies import require
from mentorat.auth.principal import Principal, Role
from mentorat.kit.etag import IfMatch, set_etag
from mentorat.kit.idempotency import IdempotencyDep, respond, respond_created
from mentorat.kit.openapi import documented_headers
from mentorat.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from mentorat.kit.problems import problems
from mentorat.kit.schemas import column_values
from mentorat.kit.session import DbSession
from mentorat.models import WebhookEndpoint
from mentorat.settings import Settings
from mentorat.webhooks import service
from mentorat.webhooks.schemas import (
    DeliveryAttempt,
    Webhook,
    WebhookCreate,
    WebhookTest,
    WebhookUpdate,
    WebhookWithSecret,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=problems(401, 403, 422))

WebhookManager = Annotated[Principal, Depends(require(Role.admin, Role.departement_manager))]


def _allow_http(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    return settings.webhook_allow_http


def to_schema(endpoint: WebhookEndpoint) -> Webhook:
    return Webhook.model_validate(column_values(endpoint))


def with_secret(endpoint: WebhookEndpoint, secret: str | None) -> WebhookWithSecret:
    return WebhookWithSecret.model_validate({**column_values(endpoint), "secret": secret})


@router.get("", response_model=Page[Webhook], summary="List webhook endpoints")
async def list_webhooks(
    session: DbSession,
    principal: WebhookManager,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[Webhook]:
    """Endpoints in your scope, the oldest registered first: every one for an administrator,
    your département's for a département manager. Never their secrets."""
    rows, next_cursor = await service.list_webhooks(session, principal, limit=limit, cursor=cursor)
    return Page(items=[to_schema(row) for row in rows], next_cursor=next_cursor)


@router.post(
    "",
    response_model=WebhookWithSecret,
    status_code=status.HTTP_201_CREATED,
    responses={**documented_headers(201, "ETag", "Location"), **problems(404)},
)
async def create_webhook(
    session: DbSession,
    principal: WebhookManager,
    body: WebhookCreate,
    request: Request,
    response: Response,
    idempotent: IdempotencyDep,
) -> WebhookWithSecret | Response:
    """Registers an endpoint: administrators (for every département, or one), or a
    département manager (for their département; another is a 404). The answer carries the
    signing secret, shown this once: a retry with the same `Idempotency-Key` answers
    `secret: null`."""
    if idempotent.replay is not None:
        return idempotent.replay
    endpoint, secret = await service.create_webhook(
        session, principal, body, allow_http=_allow_http(request)
    )
    await respond_created(
        idempotent,
        response,
        with_secret(endpoint, None),
        location=f"/v1/webhooks/{endpoint.id}",
        version=endpoint.version,
    )
    return with_secret(endpoint, secret)


@router.get(
    "/{webhook_id}",
    response_model=Webhook,
    responses={**documented_headers(200, "ETag"), **problems(404)},
)
async def get_webhook(
    session: DbSession, principal: WebhookManager, webhook_id: uuid.UUID, response: Response
) -> Webhook:
    """One endpoint in your scope, with its `ETag`, without its secret."""
    endpoint = await service.get_scoped(session, principal, webhook_id)
    set_etag(response, endpoint.version)
    return to_schema(endpoint)


@router.patch(
    "/{webhook_id}",
    response_model=Webhook,
    responses={**documented_headers(200, "ETag"), **problems(404, 412)},
)
async def update_webhook(
    session: DbSession,
    principal: WebhookManager,
    webhook_id: uuid.UUID,
    body: WebhookUpdate,
    request: Request,
    response: Response,
    if_match: IfMatch = None,
) -> Webhook:
    """Changes an endpoint's URL, event types, description or `active` flag. Send the `ETag`
    in `If-Match` so as not to overwrite a change made meanwhile (412)."""
    endpoint = await service.update_webhook(
        session, principal, webhook_id, body, if_match, allow_http=_allow_http(request)
    )
    set_etag(response, endpoint.version)
    return to_schema(endpoint)


@router.delete(
    "/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404, 412)
)
async def delete_webhook(
    session: DbSession, principal: WebhookManager, webhook_id: uuid.UUID, if_match: IfMatch = None
) -> Response:
    """Removes an endpoint with its pending deliveries and its delivery log."""
    await service.delete_webhook(session, principal, webhook_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id}/rotate-secret",
    response_model=WebhookWithSecret,
    responses={**documented_headers(200, "ETag"), **problems(404, 412)},
)
async def rotate_webhook_secret(
    session: DbSession,
    principal: WebhookManager,
    webhook_id: uuid.UUID,
    response: Response,
    idempotent: IdempotencyDep,
    if_match: IfMatch = None,
) -> WebhookWithSecret | Response:
    """Replaces the signing secret at once and shows the new one, this once (a replay of the
    same `Idempotency-Key` answers `secret: null`). Deliveries from now on, retries included,
    are signed with it."""
    if idempotent.replay is not None:
        return idempotent.replay
    endpoint, secret = await service.rotate_secret(session, principal, webhook_id, if_match)
    await respond(
        idempotent, response, with_secret(endpoint, None), headers={"ETag": f'"{endpoint.version}"'}
    )
    return with_secret(endpoint, secret)


@router.post(
    "/{webhook_id}/test",
    response_model=WebhookTest,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems(404, 409),
)
async def test_webhook(
    session: DbSession, principal: WebhookManager, webhook_id: uuid.UUID
) -> WebhookTest:
    """Makes a `webhook.test` event for this endpoint only; the next delivery pass sends it
    like any other, and its attempts appear in the delivery log. An inactive endpoint is a
    409."""
    event_id, delivery_id = await service.send_test(session, principal, webhook_id)
    return WebhookTest(event_id=event_id, delivery_id=delivery_id)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=Page[DeliveryAttempt],
    responses=problems(404),
)
async def list_webhook_deliveries(
    session: DbSession,
    principal: WebhookManager,
    webhook_id: uuid.UUID,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[DeliveryAttempt]:
    """The endpoint's delivery log, the newest attempt first: each attempt's status code,
    duration, error and next attempt."""
    rows, next_cursor = await service.list_attempts(
        session, principal, webhook_id, limit=limit, cursor=cursor
    )
    return Page(
        items=[DeliveryAttempt.model_validate(row) for row in rows], next_cursor=next_cursor
    )
