"""Prometheus metrics at /metrics: requests, latencies, matching runs, the job queue and the
database pool.

Each app has its own registry (tests build several apps in one process). Requests are labelled
by route template (`/v1/children/{child_id}`), never by raw path, so ids never become labels;
a path matching no route is `none`. Every API process exposes its own figures: scrape each.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator import metrics as http_metrics
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from mentorat.jobs.app import QUEUES
from mentorat.jobs.figures import QueueFigures, queue_figures
from mentorat.kit.session import get_database
from mentorat.models import MatchingRun
from mentorat.models.matching import RUN_STATUSES

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
NAMESPACE = "mentorat"
REQUEST_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
PHASE_SECONDS_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)

# Observed by whichever process runs a matching run, registered in every app's registry.
RUN_PHASE_SECONDS = Histogram(
    "mentorat_matching_run_phase_seconds",
    "Seconds spent in each phase of the matching runs that succeeded in this process.",
    ["phase"],
    buckets=PHASE_SECONDS_BUCKETS,
    registry=None,
)


def observe_run_phases(timings: Mapping[str, float]) -> None:
    for phase, seconds in timings.items():
        RUN_PHASE_SECONDS.labels(phase=phase).observe(seconds)


class PoolCollector(Collector):
    """The SQLAlchemy pool of the app's engine, read at scrape time."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterable[Metric]:
        database = getattr(self.app.state, "database", None)
        pool = database.engine.pool if database is not None else None
        connections = GaugeMetricFamily(
            "mentorat_db_pool_connections",
            "Connections of this process's pool, by state.",
            labels=["state"],
        )
        size = GaugeMetricFamily(
            "mentorat_db_pool_size", "Connections the pool keeps open (overflow excluded)."
        )
        if pool is not None and hasattr(pool, "checkedout"):
            connections.add_metric(["checked_out"], pool.checkedout())
            connections.add_metric(["idle"], pool.checkedin())
            # QueuePool.overflow() is negative while the pool is not yet full.
            connections.add_metric(["overflow"], max(pool.overflow(), 0))
            size.add_metric([], pool.size())
        yield connections
        yield size

    def describe(self) -> Iterator[Metric]:
        return iter(())


def install_metrics(app: FastAPI) -> None:
    """Instrument every request and serve /metrics (outside the schema, without a token)."""
    registry = CollectorRegistry()
    instrumentator = Instrumentator(
        should_group_status_codes=False,
        excluded_handlers=[f"^{METRICS_PATH}$"],
        registry=registry,
    )
    for metric in (
        http_metrics.requests(metric_namespace=NAMESPACE, registry=registry),
        http_metrics.latency(
            metric_namespace=NAMESPACE, buckets=REQUEST_SECONDS_BUCKETS, registry=registry
        ),
    ):
        if metric is not None:
            instrumentator.add(metric)
    instrumentator.instrument(app)

    runs = Gauge(
        "mentorat_matching_runs",
        "Matching runs in the database, by status (the same figure in every process).",
        ["status"],
        registry=registry,
    )
    jobs_gauges = {
        "waiting": Gauge(
            "mentorat_jobs_waiting",
            "Jobs due and waiting for a worker, by queue (the same figure in every process).",
            ["queue"],
            registry=registry,
        ),
        "running": Gauge(
            "mentorat_jobs_running",
            "Jobs a worker is running, by queue.",
            ["queue"],
            registry=registry,
        ),
        "oldest_waiting_seconds": Gauge(
            "mentorat_jobs_oldest_waiting_seconds",
            "How long the oldest job due has waited for a worker, by queue (0: none waits).",
            ["queue"],
            registry=registry,
        ),
    }
    registry.register(RUN_PHASE_SECONDS)
    registry.register(PoolCollector(app))

    @app.get(METRICS_PATH, include_in_schema=False)
    async def metrics(request: Request) -> Response:
        try:
            counts = await _runs_by_status(request)
        except (SQLAlchemyError, OSError):
            # A scrape still says what it knows when the database is away.
            log.warning("metrics: matching runs could not be counted", exc_info=True)
        else:
            for status in RUN_STATUSES:
                runs.labels(status=status).set(counts.get(status, 0))
        try:
            figures = await queue_figures(get_database(request))
        except (SQLAlchemyError, OSError):
            log.warning("metrics: the job queue could not be read", exc_info=True)
        else:
            by_queue = {figure.queue: figure for figure in figures}
            for gauge in jobs_gauges.values():
                gauge.clear()
            for queue in sorted(set(QUEUES) | set(by_queue)):
                figure = by_queue.get(queue, QueueFigures(queue, 0, 0, 0.0))
                for name, gauge in jobs_gauges.items():
                    gauge.labels(queue=queue).set(getattr(figure, name))
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


async def _runs_by_status(request: Request) -> dict[str, int]:
    async with get_database(request).sessionmaker() as session:
        rows = await session.execute(
            select(MatchingRun.status, func.count()).group_by(MatchingRun.status)
        )
        return {status: count for status, count in rows}
