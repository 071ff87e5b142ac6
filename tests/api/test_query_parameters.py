"""Unknown query parameters are a 422 on every operation, never silently ignored."""

from __future__ import annotations

import re
import uuid

import httpx
from fastapi import FastAPI

from tests.api.support import assert_problem
from tests.factories import Actors

UNKNOWN = "surely_not_a_parameter"


def _concrete(path: str) -> str:
    """The path with a plausible value in each placeholder."""
    return re.sub(
        r"\{([^}]+)\}",
        lambda match: "53" if match.group(1) == "code" else str(uuid.uuid4()),
        path,
    )


def _get_paths(app: FastAPI) -> list[str]:
    """Every documented path that answers GET."""
    return [path for path, operations in app.openapi()["paths"].items() if "get" in operations]


class TestUnknownQueryParameters:
    async def test_every_get_operation_refuses_one(
        self, app: FastAPI, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        paths = _get_paths(app)
        assert len(paths) > 30  # the walk covers the whole API
        for path in paths:
            response = await client.get(
                _concrete(path), params={UNKNOWN: "1"}, headers=actors.admin
            )
            body = assert_problem(response, 422, f"query.{UNKNOWN}")
            assert body["errors"][0]["loc"] == ["query", UNKNOWN], path

    async def test_a_misspelt_filter_is_named_with_the_ones_that_exist(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.get(
            "/v1/children?situaton=to_inform&limit=5", headers=actors.educator_53
        )
        body = assert_problem(response, 422, "query.situaton")
        assert [error["loc"] for error in body["errors"]] == [["query", "situaton"]]
        assert "situation" in body["errors"][0]["msg"]

    async def test_declared_parameters_pass(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.get(
            "/v1/proposals?status=pending&limit=3", headers=actors.educator_53
        )
        assert response.status_code == 200, response.text
        response = await client.get("/healthz")
        assert response.status_code == 200, response.text
        assert_problem(await client.get(f"/healthz?{UNKNOWN}=1"), 422, f"query.{UNKNOWN}")
        # Undocumented pages (the docs' OAuth redirect takes the provider's parameters) pass.
        response = await client.get("/docs/oauth2-redirect?code=abc&state=xyz")
        assert response.status_code == 200

    async def test_other_methods_refuse_them_too(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.patch(
            f"/v1/children/{actors.child_53.id}?{UNKNOWN}=1",
            json={"first_name": "Nouveau"},
            headers=actors.educator_53,
        )
        assert_problem(response, 422, f"query.{UNKNOWN}")
        response = await client.get(f"/v1/children/{actors.child_53.id}", headers=actors.admin)
        assert response.json()["first_name"] != "Nouveau"  # nothing changed
