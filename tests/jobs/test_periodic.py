"""The periodic jobs the workers run, each deferred for one tick and run by a real worker."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.jobs.app import DEFAULT_QUEUE, jobs_app
from mentorat.jobs.worker import run_worker
from mentorat.kit.clock import today_in
from mentorat.kit.db import Database
from mentorat.models import Event
from mentorat.settings import Settings
from tests.factories import Actors, create_mentor
from tests.webhooks.receiver import Receiver, serving
from tests.webhooks.support import bodies, register


async def tick(session: AsyncSession, database: Database, settings: Settings, task: str) -> None:
    await jobs_app.configure_task(task, connection=session).defer_async(timestamp=0)
    await session.commit()
    await run_worker(
        database, settings, queues=[DEFAULT_QUEUE], install_signal_handlers=False, wait=False
    )


async def test_the_daily_reminders_run_as_a_periodic_job_and_tell_once(
    session: AsyncSession, database: Database, settings: Settings, actors: Actors
) -> None:
    today = today_in(None)
    mentor = await create_mentor(
        session,
        association=actors.association_a,
        honorability_checked_on=today - timedelta(days=1000),
        honorability_valid_until=today + timedelta(days=10),
    )
    await session.commit()

    await tick(session, database, settings, "reminders.daily")
    await tick(session, database, settings, "reminders.daily")

    told = (
        await session.scalars(
            select(Event).where(Event.type == "honorability.expiring", Event.entity_id == mentor.id)
        )
    ).all()
    assert [(event.association_id, event.departement_code) for event in told] == [
        (actors.association_a.id, None)
    ]


@pytest.fixture
def webhook_receiver() -> Iterator[Receiver]:
    with serving() as receiver:
        yield receiver


async def test_webhook_deliveries_go_out_from_the_periodic_job(
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    settings: Settings,
    actors: Actors,
    webhook_receiver: Receiver,
) -> None:
    receiver = webhook_receiver
    endpoint = await register(client, actors.manager_53, receiver.url)
    response = await client.post(f"/v1/webhooks/{endpoint['id']}/test", headers=actors.manager_53)
    assert response.status_code == 202, response.text
    assert receiver.received == []

    await tick(session, database, settings, "webhooks.deliver")

    assert [body["type"] for body in bodies(receiver.received)] == ["webhook.test"]
