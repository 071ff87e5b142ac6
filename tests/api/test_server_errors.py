"""An unexpected error is a 500 problem with the request id, and the connection ends cleanly."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from mentorat.app import create_app
from mentorat.kit.db import Database
from mentorat.settings import Settings
from tests.api.support import assert_problem

BOOM = "/test-only/boom"


@pytest.fixture
def failing_app(settings: Settings, database: Database) -> FastAPI:
    """The real app plus one route that fails the way a bug would."""
    app = create_app(settings.model_copy(update={"max_body_bytes": 2048}), database=database)

    @app.get(BOOM)
    async def boom() -> None:
        raise RuntimeError("a bug that leaks secret detail")

    return app


@pytest.fixture
async def failing_client(failing_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=failing_app)  # app exceptions would surface here
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def read_response(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status_line, *lines = head.strip().split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, value in (line.split(":", 1) for line in lines)
    }
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status_line, headers, body


class TestUnexpectedError:
    async def test_a_500_is_a_problem_with_the_request_id_and_closes(
        self, failing_client: httpx.AsyncClient
    ) -> None:
        response = await failing_client.get(BOOM, headers={"X-Request-ID": "boom-1"})
        body = assert_problem(response, 500)
        assert body["type"].endswith("internal-error")
        assert body["request_id"] == "boom-1"
        assert response.headers["x-request-id"] == "boom-1"
        assert response.headers["connection"] == "close"
        assert "secret detail" not in response.text and "RuntimeError" not in response.text

    async def test_a_413_carries_the_request_id(self, failing_client: httpx.AsyncClient) -> None:
        response = await failing_client.post(
            "/v1/children", content=b"x" * 4096, headers={"X-Request-ID": "big-1"}
        )
        body = assert_problem(response, 413)
        assert body["request_id"] == "big-1"
        assert response.headers["x-request-id"] == "big-1"

    async def test_over_keep_alive_the_client_is_told_and_can_go_on(
        self, failing_app: FastAPI
    ) -> None:
        listening = socket.socket()
        listening.bind(("127.0.0.1", 0))  # connections wait in its backlog until uvicorn runs
        listening.listen()
        port = listening.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(failing_app, lifespan="off", log_level="critical"))
        serving = asyncio.create_task(server.serve(sockets=[listening]))
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"GET {BOOM} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
            await writer.drain()
            status, headers, body = await read_response(reader)
            assert status.startswith("HTTP/1.1 500"), status
            assert headers["connection"] == "close"
            assert b"request_id" in body
            assert await reader.read() == b""  # closed by the server after the answer
            writer.close()

            # A client that honours Connection: close goes on with a new connection.
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                assert (await client.get(BOOM)).status_code == 500
                assert (await client.get("/healthz")).status_code == 200
                assert (await client.get(BOOM)).status_code == 500
                assert (await client.get("/healthz")).status_code == 200
        finally:
            server.should_exit = True
            await serving
