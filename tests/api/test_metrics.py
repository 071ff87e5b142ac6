"""/metrics: Prometheus text for operators, without a token, switchable off."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from mentorat.jobs.worker import run_until_idle
from mentorat.kit.db import Database
from mentorat.settings import Settings
from tests.api.own_apps import app_with, client_of
from tests.factories import Actors

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: Samples, name: str, **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


def labelled(scraped: Samples, name: str, label: str) -> set[str]:
    return {dict(labels)[label] for sample, labels in scraped if sample == name}


@pytest.fixture(scope="module")
def metrics_app(settings: Settings) -> FastAPI:
    """An app of its own, so the counts start at zero."""
    return app_with(settings, metrics_enabled=True)


@pytest.fixture
async def operator(metrics_app: FastAPI, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(metrics_app, database) as client:
        yield client


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return samples(response.text)


class TestRequests:
    async def test_counted_by_route_template_and_status(
        self, operator: httpx.AsyncClient, actors: Actors
    ) -> None:
        template = "/v1/children/{child_id}"
        before = await scrape(operator)
        child = f"/v1/children/{actors.child_53.id}"
        assert (await operator.get(child, headers=actors.educator_53)).status_code == 200
        assert (await operator.get(child, headers=actors.educator_75)).status_code == 404
        assert (await operator.get(child)).status_code == 401
        assert (await operator.get("/v1/nothing/here")).status_code == 404
        after = await scrape(operator)

        counter = "mentorat_http_requests_total"
        for status, added in (("200", 1), ("404", 1), ("401", 1)):
            labels = {"handler": template, "method": "GET", "status": status}
            assert value(after, counter, **labels) - value(before, counter, **labels) == added
        unmatched = {"handler": "none", "method": "GET", "status": "404"}
        assert value(after, counter, **unmatched) - value(before, counter, **unmatched) == 1
        latency = "mentorat_http_request_duration_seconds_count"
        labels = {"handler": template, "method": "GET", "status": "200"}
        assert value(after, latency, **labels) - value(before, latency, **labels) == 1

    async def test_no_id_ever_becomes_a_label(
        self, operator: httpx.AsyncClient, actors: Actors
    ) -> None:
        await operator.get(f"/v1/children/{actors.child_53.id}", headers=actors.educator_53)
        await operator.get(f"/v1/mentors/{actors.mentor_a1.id}", headers=actors.admin)
        response = await operator.get("/metrics")
        assert str(actors.child_53.id) not in response.text
        assert str(actors.mentor_a1.id) not in response.text
        handlers = labelled(samples(response.text), "mentorat_http_requests_total", "handler")
        assert "/v1/mentors/{mentor_id}" in handlers
        assert all(h == "none" or h.startswith("/") for h in handlers)

    async def test_needs_no_token_and_ignores_a_bad_one(self, operator: httpx.AsyncClient) -> None:
        response = await operator.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert response.status_code == 200
        assert "mentorat_http_requests_total" in response.text

    async def test_scrapes_are_not_counted(self, operator: httpx.AsyncClient) -> None:
        await scrape(operator)
        scraped = await scrape(operator)
        assert "/metrics" not in labelled(scraped, "mentorat_http_requests_total", "handler")


class TestMatchingRuns:
    async def test_runs_by_status_and_phase_durations(
        self, operator: httpx.AsyncClient, database: Database, actors: Actors
    ) -> None:
        before = await scrape(operator)
        response = await operator.post("/v1/matching-runs", json={}, headers=actors.manager_53)
        assert response.status_code == 202, response.text
        await run_until_idle(database)
        run = await operator.get(
            f"/v1/matching-runs/{response.json()['id']}", headers=actors.manager_53
        )
        assert run.json()["status"] == "succeeded"
        after = await scrape(operator)

        runs = "mentorat_matching_runs"
        assert value(after, runs, status="succeeded") - value(before, runs, status="succeeded") == 1
        assert {"queued", "running", "succeeded", "failed"} <= labelled(after, runs, "status")
        phases = "mentorat_matching_run_phase_seconds_count"
        for phase in ("load", "score", "solve", "write"):
            assert value(after, phases, phase=phase) - value(before, phases, phase=phase) == 1


class TestPool:
    async def test_pool_gauges_are_read_at_scrape_time(self, operator: httpx.AsyncClient) -> None:
        scraped = await scrape(operator)
        states = labelled(scraped, "mentorat_db_pool_connections", "state")
        assert states == {"checked_out", "idle", "overflow"}
        # The test engine's pool (tests/conftest.py), one connection held by this test.
        assert value(scraped, "mentorat_db_pool_size") == 5
        assert value(scraped, "mentorat_db_pool_connections", state="checked_out") >= 1


class TestSwitch:
    async def test_off_means_404_and_no_instrumentation(
        self, settings: Settings, database: Database
    ) -> None:
        app = app_with(settings, metrics_enabled=False)
        async with client_of(app, database) as client:
            response = await client.get("/metrics")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"

    def test_metrics_stay_out_of_the_openapi_document(self, metrics_app: FastAPI) -> None:
        assert "/metrics" not in metrics_app.openapi()["paths"]
