"""Sending deliveries: plain async functions on a `Database`, called by the workers.

`deliver_due(database)` sends, for each active endpoint with something due, its pending
deliveries in event order. Per endpoint:

- the endpoint's row is locked (`FOR NO KEY UPDATE SKIP LOCKED`) for the time of its batch, so
  two workers never send for the same endpoint at once (the same attempt is never sent twice,
  and order holds), while new events can still be fanned out to it (their foreign key takes a
  `KEY SHARE` lock, which this one does not block);
- the first delivery not yet sent stops the batch when it is waiting for its next attempt, and
  so does a failure: an event is never sent before an earlier one of the same endpoint was
  delivered or given up;
- a failed attempt is retried after 1 min, 4 min, 16 min, 64 min, 4 h 16 min, then 8 h and
  8 h (about 22 h in all), each wait drawn within ±25 % (jitter); after the 8th failure the
  delivery is `failed` and the next one goes;
- an endpoint whose every attempt failed for 5 days is turned off (`disabled_reason =
  failing`); its pending deliveries wait for it to be turned on again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks.webhooks import Webhook

from mentorat.audit.service import record
from mentorat.kit.db import Database
from mentorat.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from mentorat.webhooks import secrets
from mentorat.webhooks.service import ENTITY

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(minutes=1)
RETRY_FACTOR = 4
LONGEST_WAIT = timedelta(hours=8)
JITTER = 0.25
MAX_ATTEMPTS = 8
DISABLE_AFTER = timedelta(days=5)
BATCH = 100
# A batch holds its endpoint's row lock: it stops sending after this long (the rest goes at
# the next pass).
BATCH_SECONDS = 30.0
PARALLEL_ENDPOINTS = 8
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# However slowly a receiver trickles its answer.
ATTEMPT_SECONDS = 15.0
USER_AGENT = "mentorat-webhooks/1"
ERROR_MAX = 300


def nominal_wait(failed_attempts: int) -> timedelta:
    """The wait after the n-th failed attempt, before jitter."""
    return min(FIRST_RETRY * RETRY_FACTOR ** (failed_attempts - 1), LONGEST_WAIT)


def retry_wait(failed_attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with jitter, so endpoints that failed together are not all retried
    in the same second."""
    factor = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    return nominal_wait(failed_attempts) * factor


@dataclass
class DeliveryFigures:
    """What one pass did."""

    endpoints: int = 0
    attempts: int = 0
    succeeded: int = 0
    retrying: int = 0
    failed: int = 0
    disabled: int = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def payload(event: Event) -> str:
    """The body sent: the event's id, type, time and data (ids, statuses and codes, as the
    département side sees them), as compact JSON."""
    return json.dumps(
        {
            "id": str(event.id),
            "type": event.type,
            "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
            "data": event.data,
        },
        separators=(",", ":"),
        sort_keys=True,
    )


def signed_headers(secret: str, message_id: str, body: str, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers: `webhook-signature` is `v1,` and the base64 HMAC-SHA256,
    under the secret's bytes, of `<webhook-id>.<webhook-timestamp>.<body>`."""
    signature = Webhook(secret).sign(message_id, at, body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


async def _post(client: httpx.AsyncClient, url: str, body: str, headers: dict[str, str]) -> Outcome:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(ATTEMPT_SECONDS):
            request = client.build_request("POST", url, content=body.encode(), headers=headers)
            # The answer's body is never read: a receiver says yes or no with its status.
            response = await client.send(request, stream=True)
            await response.aclose()
    except TimeoutError:
        return Outcome(None, f"no answer within {ATTEMPT_SECONDS:.0f} s", _elapsed_ms(started))
    except httpx.HTTPError as error:
        message = f"{type(error).__name__}: {error}".strip()
        return Outcome(None, message[:ERROR_MAX], _elapsed_ms(started))
    status = response.status_code
    if 200 <= status < 300:
        return Outcome(status, None, _elapsed_ms(started))
    if 300 <= status < 400:
        return Outcome(status, f"HTTP {status}: redirects are not followed", _elapsed_ms(started))
    return Outcome(status, f"HTTP {status}", _elapsed_ms(started))


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


async def _due_endpoints(database: Database, now: datetime) -> list[uuid.UUID]:
    async with database.sessionmaker() as session:
        rows = await session.scalars(
            select(WebhookDelivery.endpoint_id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(
                WebhookEndpoint.active,
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at <= now,
            )
            .distinct()
        )
        return list(rows)


async def deliver_due(
    database: Database,
    *,
    now: datetime | None = None,
    rng: random.Random | None = None,
    batch: int = BATCH,
) -> DeliveryFigures:
    """Send what is due, in event order per endpoint; one transaction per endpoint's batch.
    `now` is when the pass runs (tests move it forward); the signature's timestamp is always
    the real time of sending."""
    now = now or datetime.now(UTC)
    figures = DeliveryFigures()
    endpoint_ids = await _due_endpoints(database, now)
    if not endpoint_ids:
        return figures
    # Endpoints are independent: a slow one does not hold up the others. On a test's
    # connection every session shares one connection, so they go one at a time there.
    places = asyncio.Semaphore(1 if database.connection is not None else PARALLEL_ENDPOINTS)

    async def one(endpoint_id: uuid.UUID) -> None:
        async with places, database.sessionmaker() as session:
            figures.endpoints += await _deliver_endpoint(
                session, client, endpoint_id, now, rng, batch, figures
            )
            await session.commit()

    async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:
        await asyncio.gather(*(one(endpoint_id) for endpoint_id in endpoint_ids))
    return figures


async def _deliver_endpoint(
    session: AsyncSession,
    client: httpx.AsyncClient,
    endpoint_id: uuid.UUID,
    now: datetime,
    rng: random.Random | None,
    batch: int,
    figures: DeliveryFigures,
) -> int:
    endpoint = await session.scalar(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.active)
        .with_for_update(key_share=True, skip_locked=True)  # FOR NO KEY UPDATE SKIP LOCKED
    )
    if endpoint is None:  # another worker has it, or it was turned off or deleted meanwhile
        return 0
    rows = (
        await session.execute(
            select(WebhookDelivery, Event)
            .join(Event, Event.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "pending")
            .order_by(WebhookDelivery.event_seq)
            .limit(batch)
        )
    ).all()
    secret = secrets.decrypt(
        await secrets.encryption_key(session), endpoint.id, endpoint.secret_ciphertext
    )
    sent: list[tuple[WebhookDelivery, Event, Outcome]] = []
    started = time.monotonic()
    for delivery, event in rows:
        if delivery.next_attempt_at > now or time.monotonic() - started > BATCH_SECONDS:
            break
        body = payload(event)
        headers = signed_headers(secret, str(event.id), body, datetime.now(UTC))
        outcome = await _post(client, endpoint.url, body, headers)
        sent.append((delivery, event, outcome))
        if not outcome.ok:
            break
    if sent:
        await _record(session, endpoint, sent, now, rng, figures)
    return 1


async def _record(
    session: AsyncSession,
    endpoint: WebhookEndpoint,
    sent: list[tuple[WebhookDelivery, Event, Outcome]],
    now: datetime,
    rng: random.Random | None,
    figures: DeliveryFigures,
) -> None:
    """The batch's results in three statements, whatever its size: its deliveries, their
    attempts in the log, and the endpoint's health."""
    deliveries: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    for delivery, event, outcome in sent:
        attempt = delivery.attempts + 1
        next_attempt_at: datetime | None = None
        if outcome.ok:
            status, result = "succeeded", "succeeded"
            figures.succeeded += 1
        elif attempt >= MAX_ATTEMPTS:
            status, result = "failed", "failed"
            figures.failed += 1
        else:
            status, result = "pending", "retrying"
            next_attempt_at = now + retry_wait(attempt, rng)
            figures.retrying += 1
        figures.attempts += 1
        deliveries.append(
            {
                "id": delivery.id,
                "attempts": attempt,
                "status": status,
                "next_attempt_at": next_attempt_at or delivery.next_attempt_at,
                "completed_at": None if status == "pending" else now,
            }
        )
        attempts.append(
            {
                "delivery_id": delivery.id,
                "endpoint_id": endpoint.id,
                "event_id": event.id,
                "event_type": event.type,
                "attempt": attempt,
                "attempted_at": now,
                "status_code": outcome.status_code,
                "duration_ms": outcome.duration_ms,
                "error": outcome.error,
                "outcome": result,
                "next_attempt_at": next_attempt_at,
            }
        )
    await session.execute(update(WebhookDelivery), deliveries)
    await session.execute(insert(WebhookAttempt), attempts)
    any_success = any(outcome.ok for _, _, outcome in sent)
    await _update_endpoint(session, endpoint, sent[-1][2].ok, any_success, now, figures)


async def _update_endpoint(
    session: AsyncSession,
    endpoint: WebhookEndpoint,
    last_ok: bool,
    any_success: bool,
    now: datetime,
    figures: DeliveryFigures,
) -> None:
    """The endpoint's health, written without bumping its version (its ETag changes only
    when someone, or the automatic turning off, changes it)."""
    values: dict[str, Any] = {"updated_at": WebhookEndpoint.updated_at}
    if any_success:
        values["last_success_at"] = now
    if last_ok:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint.id)
            .values(failing_since=None, **values)
        )
        return
    # The batch ended on a failure: the streak starts now after a success, else goes on.
    streak_start = now if any_success else func.coalesce(WebhookEndpoint.failing_since, now)
    failing_since = await session.scalar(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint.id)
        .values(failing_since=streak_start, **values)
        .returning(WebhookEndpoint.failing_since)
    )
    if failing_since is None or failing_since > now - DISABLE_AFTER:
        return
    await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint.id)
        .values(active=False, disabled_reason="failing", version=WebhookEndpoint.version + 1)
    )
    figures.disabled += 1
    log.warning("webhook %s turned off: every attempt failed for 5 days", endpoint.id)
    await record(
        session, None, "update", ENTITY, [endpoint.id],
        departement_code=endpoint.departement_code,
        details={"step": "turned off: failing", "failing_since": failing_since.isoformat()},
    )  # fmt: skip
