"""openapi.json at the repository root is the app's own document, and it tells the truth."""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute

from mentorat.app import create_app
from mentorat.openapi import OPENAPI_PATH, openapi_document, render
from mentorat.settings import Settings

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


def test_operation_ids_are_readable_camel_case() -> None:
    ids = [
        operation["operationId"]
        for operations in DOCUMENT["paths"].values()
        for operation in operations.values()
    ]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)*", operation_id), operation_id
    assert "listChildren" in ids
    assert "getMentorCandidates" in ids


def test_tags_are_ascii() -> None:
    tags = {
        tag
        for operations in DOCUMENT["paths"].values()
        for operation in operations.values()
        for tag in operation.get("tags", [])
    }
    assert all(tag.isascii() for tag in tags), tags


def test_request_headers_keep_their_usual_spelling() -> None:
    names = {
        parameter["name"]
        for operations in DOCUMENT["paths"].values()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "header"
    }
    assert "If-Match" in names
    assert all(name[0].isupper() for name in names), names


def test_problem_schema_carries_the_request_id() -> None:
    assert "request_id" in DOCUMENT["components"]["schemas"]["Problem"]["properties"]


@pytest.mark.parametrize(("method", "path", "operation"), V1_OPERATIONS, ids=IDS)
def test_every_answer_documents_its_request_id_header(
    method: str, path: str, operation: dict[str, Any]
) -> None:
    for status, response in operation["responses"].items():
        assert "X-Request-ID" in response.get("headers", {}), status
    assert {"429", "503"} <= set(operation["responses"])


def test_a_python_client_generates_without_warnings(tmp_path: Path) -> None:
    """openapi-python-client reads the whole document: no schema dropped, no warning."""
    generator = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent))
    assert generator is not None, "openapi-python-client is part of the test extra"
    bin_dir = str(Path(sys.executable).parent)
    result = subprocess.run(
        [
            generator,
            "generate",
            "--path",
            str(OPENAPI_PATH),
            "--meta",
            "none",
            "--config",
            str(OPENAPI_PATH.parent / "openapi-python-client.yaml"),
            "--output-path",
            str(tmp_path / "mentorat_client"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")},
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Warning" not in output and "Unable to process" not in output, output
    generated = {path.stem for path in (tmp_path / "mentorat_client" / "api").rglob("*.py")}
    operation_modules = {
        re.sub(r"(?<!^)(?=[A-Z])", "_", operation["operationId"]).lower()
        for operations in DOCUMENT["paths"].values()
        for operation in operations.values()
    }
    assert operation_modules <= generated, operation_modules - generated


def _inline_enums(node: Any, path: str) -> list[str]:
    if isinstance(node, list):
        return [found for item in node for found in _inline_enums(item, path)]
    if not isinstance(node, dict):
        return []
    here = [path] if "enum" in node else []
    return here + [
        found for key, value in node.items() for found in _inline_enums(value, f"{path}/{key}")
    ]


def test_enums_are_named_schemas_not_inline_copies() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    inline = _inline_enums(DOCUMENT["paths"], "paths") + [
        found
        for name, schema in schemas.items()
        for found in _inline_enums(schema, f"schemas/{name}")
        if found != f"schemas/{name}"
    ]
    assert inline == []
    for name in (
        "GoalCode",
        "LanguageCode",
        "OfferOutcome",
        "MentorshipState",
        "RunStatus",
        "Role",
    ):
        assert "enum" in schemas[name], name


def _headers_set_by(endpoint: Any) -> set[str]:
    source = inspect.getsource(endpoint)
    found = set()
    if "set_etag(" in source or '"ETag"' in source:
        found.add("ETag")
    if '"Location"' in source or "respond_created(" in source:
        found.add("Location")
    if "respond_created(" in source and "version=" in source:
        found.add("ETag")
    return found


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    """The app's routes, those of included routers too (kept behind `original_router`)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(_api_routes(route.original_router.routes))
    return found


def test_every_header_an_endpoint_sets_is_documented() -> None:
    """ETag and Location, where an endpoint sets them, are declared on its success answer."""
    undocumented = []
    checked = 0
    for route in _api_routes(create_app(Settings()).routes):
        if not isinstance(route, APIRoute) or route.path_format not in DOCUMENT["paths"]:
            continue
        for method in route.methods:
            operation = DOCUMENT["paths"][route.path_format][method.lower()]
            success = operation["responses"][str(route.status_code or 200)]
            for header in _headers_set_by(route.endpoint):
                if header not in success.get("headers", {}):
                    undocumented.append(f"{method} {route.path_format}: {header}")
            checked += 1
    assert checked > 60
    assert undocumented == []


@pytest.mark.parametrize(("method", "path", "operation"), V1_OPERATIONS, ids=IDS)
def test_every_v1_operation_is_described(method: str, path: str, operation: dict[str, Any]) -> None:
    assert operation.get("description", "").strip(), "give the endpoint a docstring"


OBJECT_SCHEMAS = {
    name: schema
    for name, schema in DOCUMENT["components"]["schemas"].items()
    if "properties" in schema
}


@pytest.mark.parametrize(("name", "schema"), OBJECT_SCHEMAS.items(), ids=list(OBJECT_SCHEMAS))
def test_every_schema_and_property_is_described(name: str, schema: dict[str, Any]) -> None:
    assert schema.get("description", "").strip(), f"{name} needs a docstring"
    undescribed = [
        prop
        for prop, prop_schema in schema["properties"].items()
        if not prop_schema.get("description", "").strip()
    ]
    assert undescribed == [], f"{name}: give these a Field(description=...)"


def test_published_examples_keep_their_nulls() -> None:
    """FastAPI drops nulls from the document; a run's example needs `error_code: null`."""
    run = DOCUMENT["components"]["schemas"]["Run"]["examples"][0]
    assert run["error_code"] is None and run["status"] == "succeeded"


def test_patch_bodies_say_an_empty_one_changes_nothing() -> None:
    """Every PATCH service answers 422 "Nothing to update" to `{}`: the schemas say so."""
    updates = {
        name: schema
        for name, schema in DOCUMENT["components"]["schemas"].items()
        if name.endswith("Update")
    }
    assert len(updates) >= 6
    assert {name: schema.get("minProperties") for name, schema in updates.items()} == dict.fromkeys(
        updates, 1
    )
