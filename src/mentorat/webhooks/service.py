"""Webhook endpoints: who may register which, their URLs, secrets, tests and delivery log."""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Select, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import record
from mentorat.auth.principal import Principal, Role
from mentorat.errors import Conflict, InvalidInput, NotFound
from mentorat.events.outbox import NewEvent, emit
from mentorat.kit.etag import check_if_match
from mentorat.kit.pagination import paginate
from mentorat.kit.repository import flush, one_or_404
from mentorat.models import Departement, Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from mentorat.webhooks import secrets
from mentorat.webhooks.schemas import TEST_EVENT, WebhookCreate, WebhookUpdate

ENTITY = "webhook_endpoint"
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def scoped(principal: Principal) -> Select[tuple[WebhookEndpoint]]:
    """Administrators: every endpoint; a département manager: their département's. Other
    roles are refused before this."""
    statement = select(WebhookEndpoint)
    if principal.role is Role.admin:
        return statement
    if principal.role is Role.departement_manager:
        return statement.where(WebhookEndpoint.departement_code == principal.scope_departement)
    return statement.where(False)


async def get_scoped(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID, *, for_update: bool = False
) -> WebhookEndpoint:
    statement = scoped(principal).where(WebhookEndpoint.id == endpoint_id)
    return await one_or_404(session, statement, "webhook", for_update=for_update)


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, allow_http: bool) -> str:
    """https with a host, no user or password, no fragment; plain http only for a loopback
    host (a receiver on the same machine) or when the server allows it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidInput("The URL cannot be read.", field=("body", "url")) from None
    del port  # read only to refuse a malformed one
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput("The URL must be https://host/...", field=("body", "url"))
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(
            "The URL must not carry a user or a password: the signature authenticates.",
            field=("body", "url"),
        )
    if parts.fragment:
        raise InvalidInput("The URL must not have a fragment (#...).", field=("body", "url"))
    if any(character.isspace() for character in url):
        raise InvalidInput("The URL must not contain spaces.", field=("body", "url"))
    if parts.scheme == "http" and not allow_http and not _is_loopback(parts.hostname):
        raise InvalidInput(
            "Plain http is accepted only for a loopback host; use https.", field=("body", "url")
        )
    return url


async def list_webhooks(
    session: AsyncSession, principal: Principal, *, limit: int, cursor: str | None
) -> tuple[list[WebhookEndpoint], str | None]:
    return await paginate(
        session, scoped(principal), [WebhookEndpoint.created_at, WebhookEndpoint.id],
        limit=limit, cursor=cursor, scope="webhooks",
    )  # fmt: skip


async def create_webhook(
    session: AsyncSession, principal: Principal, data: WebhookCreate, *, allow_http: bool
) -> tuple[WebhookEndpoint, str]:
    departement_code = data.departement_code
    if principal.role is Role.departement_manager:
        own = principal.scope_departement
        if departement_code not in (None, own):
            raise NotFound(f"No département {departement_code} in your scope.")
        departement_code = own
    elif departement_code is not None and await session.get(Departement, departement_code) is None:
        raise InvalidInput(
            f"Unknown département {departement_code}.", field=("body", "departement_code")
        )
    url = check_url(data.url, allow_http=allow_http)
    secret = secrets.new_secret()
    endpoint_id = uuid.uuid4()
    endpoint = WebhookEndpoint(
        id=endpoint_id,
        departement_code=departement_code,
        url=url,
        event_types=[str(value) for value in data.event_types],
        description=data.description,
        active=data.active,
        secret_ciphertext=secrets.encrypt(
            await secrets.encryption_key(session), endpoint_id, secret
        ),
        created_by_id=principal.id,
    )
    session.add(endpoint)
    await flush(session)
    await record(
        session, principal, "create", ENTITY, [endpoint.id],
        departement_code=departement_code, details={"event_types": endpoint.event_types},
    )  # fmt: skip
    return endpoint, secret


async def update_webhook(
    session: AsyncSession,
    principal: Principal,
    endpoint_id: uuid.UUID,
    data: WebhookUpdate,
    if_match: str | None,
    *,
    allow_http: bool,
) -> WebhookEndpoint:
    endpoint = await get_scoped(session, principal, endpoint_id, for_update=True)
    check_if_match(if_match, endpoint.version)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    if "url" in changes:
        changes["url"] = check_url(changes["url"], allow_http=allow_http)
    if "event_types" in changes:
        changes["event_types"] = [str(value) for value in changes["event_types"]]
    if changes.get("active") is True and not endpoint.active:
        # Turned on again: the failing streak and the reason it was turned off are over.
        endpoint.disabled_reason, endpoint.failing_since = None, None
    if changes.get("active") is False:
        endpoint.disabled_reason = None
    for name, value in changes.items():
        setattr(endpoint, name, value)
    await flush(session)
    await record(
        session, principal, "update", ENTITY, [endpoint.id],
        departement_code=endpoint.departement_code, details={"fields": sorted(changes)},
    )  # fmt: skip
    return endpoint


async def delete_webhook(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID, if_match: str | None
) -> None:
    """Its deliveries and their log go with it."""
    endpoint = await get_scoped(session, principal, endpoint_id, for_update=True)
    check_if_match(if_match, endpoint.version)
    departement_code = endpoint.departement_code
    await session.delete(endpoint)
    await flush(session)
    await record(
        session, principal, "delete", ENTITY, [endpoint_id], departement_code=departement_code
    )


async def rotate_secret(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID, if_match: str | None
) -> tuple[WebhookEndpoint, str]:
    """A new secret replaces the old one at once: deliveries from now on are signed with it."""
    endpoint = await get_scoped(session, principal, endpoint_id, for_update=True)
    check_if_match(if_match, endpoint.version)
    secret = secrets.new_secret()
    endpoint.secret_ciphertext = secrets.encrypt(
        await secrets.encryption_key(session), endpoint.id, secret
    )
    await flush(session)
    await record(
        session, principal, "update", ENTITY, [endpoint.id],
        departement_code=endpoint.departement_code, details={"step": "secret rotated"},
    )  # fmt: skip
    return endpoint, secret


async def send_test(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID
) -> tuple[uuid.UUID, uuid.UUID]:
    """A `webhook.test` event, delivered to this endpoint only (the fan-out skips that type)."""
    endpoint = await get_scoped(session, principal, endpoint_id, for_update=True)
    if not endpoint.active:
        raise Conflict("The endpoint is inactive: set active to true first.")
    await emit(
        session,
        [
            NewEvent(
                type=TEST_EVENT,
                entity_type=ENTITY,
                entity_id=endpoint.id,
                departement_code=endpoint.departement_code,
                data={"webhook_id": str(endpoint.id)},
            )
        ],
    )
    # The endpoint's row lock keeps other tests of it out: its newest test event is this one.
    event_id, event_seq = (
        await session.execute(
            select(Event.id, Event.seq)
            .where(Event.type == TEST_EVENT, Event.entity_id == endpoint.id)
            .order_by(Event.seq.desc())
            .limit(1)
        )
    ).one()
    delivery_id: uuid.UUID = (
        await session.execute(
            insert(WebhookDelivery)
            .values(endpoint_id=endpoint.id, event_id=event_id, event_seq=event_seq)
            .returning(WebhookDelivery.id)
        )
    ).scalar_one()
    await record(
        session, principal, "update", ENTITY, [endpoint.id],
        departement_code=endpoint.departement_code, details={"step": "test event"},
    )  # fmt: skip
    return event_id, delivery_id


async def list_attempts(
    session: AsyncSession,
    principal: Principal,
    endpoint_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[WebhookAttempt], str | None]:
    """The endpoint's delivery log, the newest attempt first."""
    endpoint = await get_scoped(session, principal, endpoint_id)
    return await paginate(
        session, select(WebhookAttempt).where(WebhookAttempt.endpoint_id == endpoint.id),
        [WebhookAttempt.id], limit=limit, cursor=cursor, scope="webhook-deliveries",
        filters={"webhook": endpoint.id}, descending=True,
    )  # fmt: skip
