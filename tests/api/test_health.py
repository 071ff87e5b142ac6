"""Probes, and the problem shape of answers from outside any endpoint."""

from __future__ import annotations

import httpx

from mentorat.kit.db import head_revision
from tests.api.support import assert_problem


class TestProbes:
    async def test_healthz_needs_no_token(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    async def test_healthz_ignores_a_bad_token(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz", headers={"Authorization": "Bearer nope"})
        assert response.status_code == 200

    async def test_readyz_reports_the_migrated_revision(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/readyz")
        assert response.status_code == 200, response.text
        head = head_revision()
        assert head is not None
        body = response.json()
        queue = body.pop("queue")
        assert body == {"status": "ok", "revision": head, "expected": head}
        # Nothing queued in this test's transaction.
        assert queue == {"waiting": 0, "running": 0, "oldest_waiting_seconds": 0, "queues": {}}

    async def test_every_answer_carries_a_request_id(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz", headers={"X-Request-ID": "probe-42"})
        assert response.headers["x-request-id"] == "probe-42"
        unsafe = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
        assert unsafe.headers["x-request-id"] != "bad id\twith spaces"
        assert len(unsafe.headers["x-request-id"]) == 32


class TestRoutingProblems:
    async def test_unknown_path_is_a_problem(self, client: httpx.AsyncClient) -> None:
        assert_problem(await client.get("/v1/nothing-here"), 404)

    async def test_wrong_method_is_a_problem(self, client: httpx.AsyncClient) -> None:
        assert_problem(await client.put("/v1/children"), 405)
