"""The periodic jobs the workers run, each deferred for one tick and run by a real worker."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.jobs.app import DEFAULT_QUEUE, jobs_app
from mentorat.jobs.worker import run_worker
from mentorat.kit.clock import today_in
from mentorat.kit.db import Database
from mentorat.models import Event
from mentorat.settings import Settings
from tests.factories import Actors, create_mentor


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
