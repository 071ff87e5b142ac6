"""Every error leaves the service as RFC 9457 application/problem+json."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from mentorat.errors import MentoratError
from mentorat.kit.db_errors import database_unavailable
from mentorat.kit.logging import request_id_var
from mentorat.kit.openapi import complete_document

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:mentorat:problem:"


class ValidationIssue(BaseModel):
    """One reason the input was refused."""

    loc: list[str | int] = Field(
        description="Where: the parameter's or field's path (names, and positions in lists)."
    )
    msg: str = Field(description="What is wrong, for people to read.")
    type: str = Field(description="The kind of error, for programs (missing, string_too_long...).")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(
        description="URI naming the kind of problem (urn:mentorat:problem:<slug>), for programs."
    )
    title: str = Field(description="Short summary of the kind of problem, for people.")
    status: int = Field(description="The HTTP status code.")
    detail: str | None = Field(
        default=None, description="What went wrong on this request, for people."
    )
    instance: str | None = Field(default=None, description="The path of the request.")
    errors: list[ValidationIssue] | None = Field(
        default=None, description="For invalid input (400, 422): every field refused, and why."
    )
    request_id: str | None = Field(
        default=None, description="The request's id, to quote when reporting a problem."
    )


def problem_body(
    instance: str, *, status: int, slug: str, title: str, detail: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + slug,
        "title": title,
        "status": status,
        "detail": detail or title,
        "instance": instance,
    }
    request_id = request_id_var.get()
    if request_id:
        body["request_id"] = request_id
    body.update({key: value for key, value in extra.items() if value is not None})
    return body


def domain_problem(error: MentoratError, instance: str) -> dict[str, Any]:
    """A domain error as the problem details its handler answers (for the items of a 207)."""
    return problem_body(
        instance,
        status=error.status,
        slug=error.slug,
        title=error.title,
        detail=error.detail,
        **error.extra,
    )


def problem_response(
    request: Request,
    *,
    status: int,
    slug: str,
    title: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = problem_body(
        request.url.path, status=status, slug=slug, title=title, detail=detail, **extra
    )
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _validation_issues(errors: list[Any]) -> list[dict[str, Any]]:
    issues = []
    for error in errors:
        location = [
            part for part in error.get("loc", ()) if part != "body" or len(error["loc"]) == 1
        ]
        issues.append(
            {"loc": location, "msg": str(error.get("msg", "")), "type": error.get("type", "")}
        )
    return issues


async def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, MentoratError):
        raise exc
    return problem_response(
        request,
        status=exc.status,
        slug=exc.slug,
        title=exc.title,
        detail=exc.detail,
        headers=exc.headers or None,
        **exc.extra,
    )


MALFORMED_BODY = (
    "Malformed body: truncated or invalid JSON, not UTF-8, or not sent as application/json"
)


def _malformed_body(request: Request, detail: str) -> JSONResponse:
    """Every body that cannot be read as JSON gets this one answer, whatever the cause."""
    return problem_response(
        request,
        status=400,
        slug="malformed-body",
        title="Malformed request body",
        detail=detail,
        errors=[{"loc": ["body"], "msg": detail, "type": "malformed_body"}],
    )


def _unreadable_body(errors: list[Any]) -> str | None:
    """Why the body could not be read as JSON, if that is what the validation errors say."""
    for error in errors:
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", "JSON decode error")
            position = error["loc"][-1] if error.get("loc") else None
            return f"The body is not valid JSON: {reason} at character {position}."
        if tuple(error.get("loc", ())) == ("body",) and isinstance(error.get("input"), bytes):
            # FastAPI hands over the raw bytes when the content type is not JSON.
            return "The body must be JSON, sent with Content-Type: application/json."
    return None


def _unparsable_body(cause: BaseException) -> str:
    if isinstance(cause, UnicodeDecodeError):
        return "The body is not valid JSON: it is not UTF-8 text."
    if isinstance(cause, RecursionError):
        return "The body is not valid JSON here: it is nested too deeply."
    return "The body is not valid JSON."


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):
        raise exc
    unreadable = _unreadable_body(list(exc.errors()))
    if unreadable is not None:
        return _malformed_body(request, unreadable)
    issues = _validation_issues(list(exc.errors()))
    fields = sorted({".".join(str(part) for part in issue["loc"]) for issue in issues})
    return problem_response(
        request,
        status=422,
        slug="validation-error",
        title="Invalid input",
        detail="Invalid field(s): " + ", ".join(fields) if fields else "Invalid input",
        errors=issues,
    )


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):
        raise exc
    if exc.status_code == 400 and exc.__cause__ is not None:
        # FastAPI's "error parsing the body", raised from what json.loads could not read.
        return _malformed_body(request, _unparsable_body(exc.__cause__))
    headers = dict(exc.headers) if exc.headers else {}
    if exc.status_code == 405:
        # The router names the methods of the first route that matched the path only.
        headers["Allow"] = ", ".join(_methods_served(request.app, request.url.path))
    slugs = {
        404: "not-found",
        405: "method-not-allowed",
        400: "bad-request",
        413: "payload-too-large",
    }
    return problem_response(
        request,
        status=exc.status_code,
        slug=slugs.get(exc.status_code, "http-error"),
        title=str(exc.detail) if exc.detail else "HTTP error",
        headers=headers or None,
    )


def _methods_served(app: FastAPI, path: str) -> list[str]:
    """Every method some operation serves at `path`, from the app's own OpenAPI paths."""
    patterns: list[tuple[re.Pattern[str], list[str]]] | None = getattr(
        app.state, "methods_by_path", None
    )
    if patterns is None:
        patterns = [
            (
                re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)) + "$"),
                [method.upper() for method in operations],
            )
            for template, operations in app.openapi().get("paths", {}).items()
        ]
        app.state.methods_by_path = patterns
    matching = [(pattern, served) for pattern, served in patterns if pattern.match(path)]
    # A literal path (/v1/children/import) is served by its own routes, not by the templated
    # one it also matches (/v1/children/{child_id}).
    literal = [(pattern, served) for pattern, served in matching if "[^/]+" not in pattern.pattern]
    methods = {method for _, served in (literal or matching) for method in served}
    if "GET" in methods:
        methods.add("HEAD")
    order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
    return [method for method in order if method in methods]


def unexpected_error_response(
    request: Request, exc: Exception, *, retry_after_s: int = 5
) -> JSONResponse:
    """PostgreSQL away: a 503 to retry shortly. Anything else: a 500 we must fix, after which
    the connection is closed. The detail goes to the log only, with the request id."""
    if database_unavailable(exc):
        log.warning("database unavailable", exc_info=exc, extra={"path": request.url.path})
        return problem_response(
            request,
            status=503,
            slug="service-unavailable",
            title="Service temporarily unavailable",
            detail="The database cannot be reached at the moment; retry shortly.",
            headers={"Retry-After": str(retry_after_s)},
        )
    log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
    return problem_response(
        request,
        status=500,
        slug="internal-error",
        title="Internal server error",
        detail="An unexpected error occurred; it has been logged with this request id.",
        headers={"Connection": "close"},
    )


async def _on_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # Only errors raised outside UnexpectedErrorMiddleware (in an outer middleware) get here.
    settings = request.app.state.settings
    return unexpected_error_response(
        request, exc, retry_after_s=settings.db_unavailable_retry_after_s
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MentoratError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected_error)
    _document_problems_as_problem_json(app)


def _document_problems_as_problem_json(app: FastAPI) -> None:
    """FastAPI files a response `model` under the route's media type (application/json);
    move the Problem schema to application/problem+json, which is what we send."""
    generate = app.openapi
    completed: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        # FastAPI caches the generated document; complete it once, not on every request.
        if completed:
            return completed
        document = generate()
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                for response in operation.get("responses", {}).values():
                    content = response.get("content", {})
                    if PROBLEM_MEDIA_TYPE in content and "application/json" in content:
                        content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
        completed.update(complete_document(document))
        return completed

    app.openapi = openapi  # type: ignore[method-assign]


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries so openapi.json documents the problems an endpoint can return."""
    descriptions = {
        400: "Malformed request",
        401: "Missing or invalid bearer token",
        403: "Role not allowed",
        404: "Not found, or outside your scope",
        409: "Conflict with the current state",
        412: "If-Match does not match the current ETag",
        413: "Body too large",
        415: "Unsupported media type",
        422: "Invalid input",
    }
    return {
        status: {
            "model": Problem,
            "description": descriptions.get(status, "Problem"),
            "content": {PROBLEM_MEDIA_TYPE: {}},
        }
        for status in statuses
    }
