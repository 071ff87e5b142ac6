"""How the OpenAPI document names and documents operations, so generated clients read well.

Operation ids are the camelCase of the endpoint's name (`list_children` -> `listChildren`),
with a few names made explicit below. The problems every operation can answer are added
from what the operation takes: a bearer (401, 429, 503), a path id (404), a body (400, 413,
422), an `If-Match` header (412), an `Idempotency-Key` (its replay header).
"""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute

EXPLICIT_OPERATION_IDS = {
    "healthz": "getHealth",
    "readyz": "getReadiness",
    "goals": "getGoalVocabulary",
    "languages": "getLanguageVocabulary",
    "mentor_candidates": "getMentorCandidates",
    "transition": "transitionMentorship",
    "list_events": "listMentorshipEvents",
    "list_objectives": "listMentorshipObjectives",
    "create_objective": "createMentorshipObjective",
    "objective_history": "listObjectiveHistory",
    "list_meetings": "listMentorshipMeetings",
    "create_meeting": "createMentorshipMeeting",
    "get_timeline": "getMentorshipTimeline",
    "list_runs": "listMatchingRuns",
    "create_run": "createMatchingRun",
    "get_run": "getMatchingRun",
    "list_run_proposals": "listMatchingRunProposals",
    "list_run_unmatched": "listMatchingRunUnmatched",
    "list_exclusions": "listChildExclusions",
    "create_exclusion": "createChildExclusion",
    "delete_exclusion": "deleteChildExclusion",
    "list_offers": "listChildOffers",
    "create_offer": "createChildOffer",
}

PROBLEM_DESCRIPTIONS = {
    400: "Malformed request: the body is not valid JSON or not UTF-8",
    401: "Missing or invalid bearer token",
    403: "Role not allowed",
    404: "Not found, or outside your scope",
    409: "Conflict with the current state",
    412: "If-Match does not match the current ETag",
    413: "Body too large",
    422: "Invalid input",
    429: "Too many failed authentications from your address; retry after `Retry-After`",
    503: "The database is unavailable; retry after `Retry-After`",
}

REQUEST_ID_HEADER = {
    "description": "The request's id (yours if you sent a safe `X-Request-ID`), also in logs.",
    "schema": {"type": "string"},
}
RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before retrying.",
    "schema": {"type": "integer"},
}
REPLAYED_HEADER = {
    "description": "`true` when this answer is the stored answer to an earlier request with the "
    "same `Idempotency-Key`.",
    "schema": {"type": "string", "enum": ["true"]},
}


def operation_id(route: APIRoute) -> str:
    """camelCase of the endpoint's name, or its explicit id."""
    if route.name in EXPLICIT_OPERATION_IDS:
        return EXPLICIT_OPERATION_IDS[route.name]
    head, *rest = route.name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _problem_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": PROBLEM_DESCRIPTIONS[status],
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }
    if status in (429, 503):
        response["headers"] = {"Retry-After": RETRY_AFTER_HEADER}
    return response


def _statuses_that_apply(path: str, operation: dict[str, Any]) -> set[int]:
    statuses: set[int] = set()
    headers = {
        parameter["name"].lower()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "header"
    }
    if path.startswith("/v1/"):
        statuses |= {401, 429, 503}
    if "{" in path:
        statuses.add(404)
    if "requestBody" in operation:
        statuses |= {400, 413, 422}
    if operation.get("parameters"):
        statuses.add(422)
    if "if-match" in headers:
        statuses.add(412)
    return statuses


def complete_document(document: dict[str, Any]) -> dict[str, Any]:
    """Add the problems and headers every operation can answer to the generated document."""
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status in _statuses_that_apply(path, operation):
                responses.setdefault(str(status), _problem_response(status))
            idempotent = any(
                parameter["in"] == "header" and parameter["name"].lower() == "idempotency-key"
                for parameter in operation.get("parameters", [])
            )
            for status, response in responses.items():
                headers = response.setdefault("headers", {})
                headers.setdefault("X-Request-ID", REQUEST_ID_HEADER)
                if idempotent and status.startswith("2"):
                    headers.setdefault("Idempotent-Replayed", REPLAYED_HEADER)
            operation["responses"] = dict(sorted(responses.items()))
    return document
