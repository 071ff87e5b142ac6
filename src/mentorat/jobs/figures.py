"""What the queue looks like now, for /readyz and /metrics: jobs waiting and running, and
how long the oldest waiting job has waited, by queue."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from mentorat.kit.db import Database

# A job waits from the moment it became due: its last event (deferred, retried) or its
# scheduled time, whichever is later.
_QUEUE_FIGURES = text(
    """
    SELECT j.queue_name,
           count(*) FILTER (WHERE j.status = 'todo') AS waiting,
           count(*) FILTER (WHERE j.status = 'doing') AS running,
           coalesce(extract(epoch FROM now() - min(greatest(j.scheduled_at, e.at))
                    FILTER (WHERE j.status = 'todo')), 0) AS oldest_waiting_seconds
      FROM procrastinate_jobs j
      LEFT JOIN LATERAL (
           SELECT max(at) AS at FROM procrastinate_events WHERE job_id = j.id
      ) e ON true
     WHERE j.status = 'doing'
        OR (j.status = 'todo' AND (j.scheduled_at IS NULL OR j.scheduled_at <= now()))
     GROUP BY j.queue_name
    """
)


@dataclass(frozen=True, slots=True)
class QueueFigures:
    queue: str
    waiting: int
    running: int
    oldest_waiting_seconds: float


async def queue_figures(database: Database) -> list[QueueFigures]:
    """One statement; queues with nothing waiting or running are absent."""
    async with database.statement_sessionmaker()() as session:
        rows = await session.execute(_QUEUE_FIGURES)
        return [
            QueueFigures(queue, int(waiting), int(running), max(float(oldest), 0.0))
            for queue, waiting, running, oldest in rows
        ]
