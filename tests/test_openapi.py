"""openapi.json at the repository root is the app's own document, and it tells the truth."""

from __future__ import annotations

from typing import Any

import pytest

from mentorat.openapi import OPENAPI_PATH, openapi_document, render

DOCUMENT = openapi_document()
V1_OPERATIONS = [
    (method.upper(), path, operation)
    for path, operations in DOCUMENT["paths"].items()
    if path.startswith("/v1/")
    for method, operation in operations.items()
]
IDS = [f"{method} {path}" for method, path, _ in V1_OPERATIONS]


def test_checked_in_document_is_up_to_date() -> None:
    expected = render(DOCUMENT)
    actual = OPENAPI_PATH.read_text(encoding="utf-8") if OPENAPI_PATH.exists() else ""
    assert actual == expected, (
        "openapi.json differs from the app; regenerate it with `python -m mentorat.openapi`"
    )


def test_document_is_stable() -> None:
    assert render(openapi_document()) == render(DOCUMENT)


@pytest.mark.parametrize(("method", "path", "operation"), V1_OPERATIONS, ids=IDS)
def test_every_v1_operation_needs_a_bearer_token(
    method: str, path: str, operation: dict[str, Any]
) -> None:
    assert operation.get("security") == [{"HTTPBearer": []}]
    assert "401" in operation["responses"]


@pytest.mark.parametrize(("method", "path", "operation"), V1_OPERATIONS, ids=IDS)
def test_errors_are_documented_as_problem_json(
    method: str, path: str, operation: dict[str, Any]
) -> None:
    for status, response in operation["responses"].items():
        if status.startswith(("4", "5")):
            assert list(response.get("content", {})) == ["application/problem+json"], status
            schema = response["content"]["application/problem+json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Problem"}, status


@pytest.mark.parametrize(("method", "path", "operation"), V1_OPERATIONS, ids=IDS)
def test_lookups_by_id_document_404(method: str, path: str, operation: dict[str, Any]) -> None:
    if "{" in path:
        assert "404" in operation["responses"]


def test_bearer_scheme_is_declared() -> None:
    schemes = DOCUMENT["components"]["securitySchemes"]
    assert schemes["HTTPBearer"] == {
        "type": "http",
        "description": schemes["HTTPBearer"].get("description"),
        "scheme": "bearer",
    }
