"""Workers racing on committed data: each attempt is sent once, in event order, and sending
never holds up the transactions that write new events.

The rolled-back `database` runs everything on one connection, where nothing can race; here
two passes run on the real engine, each endpoint batch in its own transaction, and the rows
are deleted afterwards.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from mentorat.events.outbox import NewEvent, emit
from mentorat.kit.db import Database
from mentorat.models import Event, WebhookAttempt, WebhookEndpoint
from mentorat.webhooks import secrets
from mentorat.webhooks.delivery import deliver_due
from tests.webhooks.receiver import Receiver

# Not 53 or 75, where the rolled-back tests work.
DEPARTEMENT = "44"


@dataclass
class Committed:
    """The real engine's Database, and the events written, to delete afterwards."""

    database: Database
    entity_ids: list[uuid.UUID] = field(default_factory=list)


@pytest.fixture
async def committed(engine: AsyncEngine) -> AsyncIterator[Committed]:
    data = Committed(Database(engine, async_sessionmaker(engine, expire_on_commit=False)))
    try:
        yield data
    finally:
        async with data.database.sessionmaker() as session:
            await session.execute(
                delete(WebhookEndpoint).where(WebhookEndpoint.departement_code == DEPARTEMENT)
            )
            await session.execute(delete(Event).where(Event.entity_id.in_(data.entity_ids)))
            await session.commit()


async def _endpoint(database: Database, url: str) -> uuid.UUID:
    endpoint_id = uuid.uuid4()
    async with database.sessionmaker() as session:
        key = await secrets.encryption_key(session)
        session.add(
            WebhookEndpoint(
                id=endpoint_id,
                departement_code=DEPARTEMENT,
                url=url,
                event_types=["proposal.created"],
                secret_ciphertext=secrets.encrypt(key, endpoint_id, secrets.new_secret()),
            )
        )
        await session.commit()
    return endpoint_id


async def _emit(committed: Committed, count: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    committed.entity_ids.extend(ids)
    async with committed.database.sessionmaker() as session:
        await emit(
            session,
            [
                NewEvent("proposal.created", "proposal", entity_id, DEPARTEMENT, None, {"n": i})
                for i, entity_id in enumerate(ids)
            ],
        )
        await session.commit()
    return ids


async def test_two_workers_send_each_event_once_in_order_without_blocking_writers(
    committed: Committed, receiver: Receiver
) -> None:
    database = committed.database
    endpoint_id = await _endpoint(database, receiver.url)
    first = await _emit(committed, 4)
    receiver.delay_s = 0.25  # the batch holds its endpoint for about a second

    async def write_meanwhile() -> list[uuid.UUID]:
        await asyncio.sleep(0.1)
        # Fanning out to an endpoint being sent to takes a KEY SHARE lock on it, which the
        # sender's NO KEY UPDATE does not block: this commits long before the batch ends.
        return await asyncio.wait_for(_emit(committed, 1), timeout=0.5)

    one, other, later = await asyncio.gather(
        deliver_due(database), deliver_due(database), write_meanwhile()
    )
    assert one.attempts + other.attempts == 4
    assert {one.endpoints, other.endpoints} <= {0, 1}
    receiver.delay_s = 0
    last = await deliver_due(database)
    assert last.attempts == 1

    sent = [json.loads(request.body)["data"]["n"] for request in receiver.received]
    assert sent == [0, 1, 2, 3, 0]
    assert len({request.headers["webhook-id"] for request in receiver.received}) == 5
    async with database.sessionmaker() as session:
        attempts = await session.scalar(
            select(func.count()).where(WebhookAttempt.endpoint_id == endpoint_id)
        )
    assert attempts == 5
    assert len(first) == 4 and len(later) == 1
