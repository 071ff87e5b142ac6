"""Browsers: cross-origin calls from configured front-ends, compression and caching hints."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from mentorat.kit.db import Database
from mentorat.settings import Settings
from tests.api.own_apps import app_with, client_of
from tests.api.support import assert_problem, random_id
from tests.factories import Actors

FRONT = "https://mentorat.mayenne.fr"
OTHER = "https://evil.example"


def preflight(
    origin: str, method: str = "PATCH", headers: str = "authorization, if-match"
) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


def access_control(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control")}


@pytest.fixture(scope="module")
def cors_app(settings: Settings) -> FastAPI:
    return app_with(settings, cors_origins=[FRONT, "http://localhost:5173"])


@pytest.fixture
async def browser(cors_app: FastAPI, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(cors_app, database) as client:
        yield client


class TestCorsSettings:
    def test_comma_separated_and_json_lists_are_read(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("MENTORAT_CORS_ORIGINS", f" {FRONT}/ , http://localhost:5173")
        assert Settings().cors_origins == [FRONT, "http://localhost:5173"]
        monkeypatch.setenv("MENTORAT_CORS_ORIGINS", f'["{FRONT}"]')
        assert Settings().cors_origins == [FRONT]
        monkeypatch.delenv("MENTORAT_CORS_ORIGINS")
        assert Settings().cors_origins == []

    def test_an_url_with_a_path_is_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("MENTORAT_CORS_ORIGINS", f"{FRONT}/app")
        with pytest.raises(ValueError, match="not an origin"):
            Settings()


class TestPreflight:
    async def test_allowed_origin_gets_200_and_the_rules(
        self, browser: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await browser.options(
            f"/v1/children/{actors.child_53.id}", headers=preflight(FRONT)
        )
        assert response.status_code == 200, response.text
        headers = access_control(response)
        assert headers["access-control-allow-origin"] == FRONT
        methods = {m.strip() for m in headers["access-control-allow-methods"].split(",")}
        assert methods == {"GET", "POST", "PATCH", "DELETE"}
        allowed = {h.strip().lower() for h in headers["access-control-allow-headers"].split(",")}
        assert {"authorization", "content-type", "if-match", "idempotency-key"} <= allowed
        assert "x-request-id" in allowed
        assert int(headers["access-control-max-age"]) > 0
        assert "access-control-allow-credentials" not in headers
        assert "Origin" in response.headers["vary"]

    async def test_other_origin_learns_nothing(self, browser: httpx.AsyncClient) -> None:
        response = await browser.options("/v1/children", headers=preflight(OTHER, "GET"))
        body = assert_problem(response, 403)
        assert access_control(response) == {}
        assert "PATCH" not in response.text and "authorization" not in response.text.lower()
        assert body["type"].endswith("cors-refused")

    async def test_no_origin_is_allowed_by_default(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.options("/v1/children", headers=preflight(FRONT, "GET"))
        assert_problem(response, 403)
        assert access_control(response) == {}

    async def test_allowed_origin_asking_for_an_unlisted_method_is_refused(
        self, browser: httpx.AsyncClient
    ) -> None:
        response = await browser.options("/v1/children", headers=preflight(FRONT, "PUT"))
        body = assert_problem(response, 403)
        assert "access-control-allow-origin" not in response.headers
        assert "method" in body["detail"]

    async def test_unlisted_request_header_is_refused(self, browser: httpx.AsyncClient) -> None:
        response = await browser.options(
            "/v1/children", headers=preflight(FRONT, "GET", "authorization, x-secret")
        )
        assert_problem(response, 403)
        assert "access-control-allow-origin" not in response.headers


class TestBareOptions:
    """Without CORS headers, OPTIONS is an ordinary method no route serves: 405 with Allow."""

    async def test_options_without_origin_is_405_with_allow(
        self, browser: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await browser.options(f"/v1/children/{actors.child_53.id}")
        assert_problem(response, 405)
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert allowed == {"GET", "HEAD", "PATCH", "DELETE"}
        assert access_control(response) == {}

    @pytest.mark.parametrize(
        ("path", "methods"),
        [
            ("/v1/children", {"GET", "HEAD", "POST"}),
            ("/v1/associations/{id}", {"GET", "HEAD", "PATCH", "DELETE"}),
            ("/v1/mentorships/{id}/objectives", {"GET", "HEAD", "POST"}),
            ("/v1/tokens", {"GET", "HEAD", "POST"}),
            ("/v1/children/import", {"POST"}),
        ],
    )
    async def test_allow_names_every_method_of_the_path(
        self, browser: httpx.AsyncClient, path: str, methods: set[str]
    ) -> None:
        response = await browser.request("PUT", path.replace("{id}", str(uuid.uuid4())))
        assert_problem(response, 405)
        assert {m.strip() for m in response.headers["allow"].split(",")} == methods


class TestCrossOriginAnswers:
    async def test_allowed_origin_reads_the_answer_and_its_headers(
        self, browser: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await browser.get(
            f"/v1/children/{actors.child_53.id}",
            headers=actors.educator_53 | {"Origin": FRONT},
        )
        assert response.status_code == 200, response.text
        assert response.headers["access-control-allow-origin"] == FRONT
        exposed = {
            h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
        }
        assert {"etag", "location", "x-request-id", "idempotent-replayed", "retry-after"} <= exposed
        assert "Origin" in response.headers["vary"]

    @pytest.mark.parametrize("status", [401, 404])
    async def test_problems_carry_cors_headers_too(
        self, browser: httpx.AsyncClient, actors: Actors, status: int
    ) -> None:
        headers = {"Origin": FRONT} | (actors.educator_53 if status == 404 else {})
        response = await browser.get(f"/v1/children/{random_id()}", headers=headers)
        assert_problem(response, status)
        assert response.headers["access-control-allow-origin"] == FRONT

    async def test_a_body_refused_as_too_large_carries_them(
        self, browser: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await browser.post(
            "/v1/children",
            content=b"{" + b" " * 1_000_001 + b"}",
            headers=actors.educator_53 | {"Origin": FRONT, "Content-Type": "application/json"},
        )
        assert_problem(response, 413)
        assert response.headers["access-control-allow-origin"] == FRONT
        assert response.headers["cache-control"] == "no-store"

    async def test_other_origin_gets_no_cors_header(
        self, browser: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await browser.get(
            f"/v1/children/{actors.child_53.id}",
            headers=actors.educator_53 | {"Origin": OTHER},
        )
        assert response.status_code == 200
        assert access_control(response) == {}
        assert "Origin" in response.headers["vary"]


class TestCompression:
    async def test_large_json_is_gzipped_when_asked(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.get(
            "/v1/vocabulary/goals", headers=actors.admin | {"Accept-Encoding": "gzip"}
        )
        assert response.status_code == 200
        assert response.headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in response.headers["vary"]
        raw = await client.get(
            "/v1/vocabulary/goals", headers=actors.admin | {"Accept-Encoding": "identity"}
        )
        assert "content-encoding" not in raw.headers
        assert response.json() == raw.json()
        assert len(raw.content) >= 1000

    async def test_small_answers_are_left_alone(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz", headers={"Accept-Encoding": "gzip"})
        assert "content-encoding" not in response.headers

    async def test_gzip_body_is_the_json(self, client: httpx.AsyncClient, actors: Actors) -> None:
        async with client.stream(
            "GET", "/v1/vocabulary/goals", headers=actors.admin | {"Accept-Encoding": "gzip"}
        ) as response:
            compressed = b"".join([chunk async for chunk in response.aiter_raw()])
        assert gzip.decompress(compressed).startswith(b"{")


class TestCaching:
    async def test_every_v1_answer_is_no_store(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        answers = [
            await client.get(f"/v1/children/{actors.child_53.id}", headers=actors.educator_53),
            await client.get("/v1/children", headers=actors.educator_53),
            await client.get(f"/v1/children/{random_id()}", headers=actors.educator_53),
            await client.get("/v1/children"),
            await client.get("/v1/children", headers={"Authorization": "Bearer nope"}),
            await client.post("/v1/children", headers=actors.educator_53, json={}),
            await client.get("/v1/nothing-here"),
        ]
        assert [a.status_code for a in answers] == [200, 200, 404, 401, 401, 422, 404]
        for answer in answers:
            assert answer.headers["cache-control"] == "no-store", answer.request.url

    async def test_probes_are_not_marked(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz")
        assert "no-store" not in response.headers.get("cache-control", "")
