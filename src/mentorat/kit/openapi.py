"""How the OpenAPI document names and documents operations, so generated clients read well.

Operation ids are the camelCase of the endpoint's name (`list_children` -> `listChildren`),
with a few names made explicit below. The problems every operation can answer are added
from what the operation takes: a bearer (401, 429, 503), a path id (404), a body (400, 413,
422), an `If-Match` header (412), an `Idempotency-Key` (its replay header).
"""

from __future__ import annotations

from functools import cache
from typing import Any, get_args

from fastapi.routing import APIRoute
from pydantic import BaseModel

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
    400: "Malformed body: truncated or invalid JSON, not UTF-8, or not sent as application/json",
    401: "Missing or invalid bearer token",
    403: "Role not allowed",
    404: "Not found, or outside your scope",
    409: "Conflict with the current state",
    412: "If-Match does not match the current ETag",
    413: "Body too large",
    422: "Invalid input",
    429: "Too many failed authentications from your address; retry after `Retry-After`",
    503: "The database (or the identity provider) is unreachable for now; retry after"
    " `Retry-After` seconds",
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
    "schema": {"type": "string"},
}


RESPONSE_HEADERS = {
    "ETag": {
        "description": "The record's version; send it back in `If-Match` to change the record.",
        "schema": {"type": "string"},
    },
    "Location": {"description": "Where the created record is read.", "schema": {"type": "string"}},
}


def documented_headers(status: int, *names: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` entry declaring the headers an endpoint sets on its answer."""
    return {status: {"headers": {name: RESPONSE_HEADERS[name] for name in names}}}


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


# Pydantic writes a Literal inline wherever it is used; generated clients then make one enum
# type per use. These become one named schema each, found by their values.
@cache
def _named_enums() -> dict[tuple[Any, ...], str]:
    # Imported here: the domain schemas themselves build on kit.
    from mentorat.assessments import schemas as assessments
    from mentorat.children import schemas as children
    from mentorat.matching import schemas as matching
    from mentorat.mentors import schemas as mentors
    from mentorat.mentorships import schemas as mentorships
    from mentorat.offers import schemas as offers
    from mentorat.profile import GoalCode, LanguageCode
    from mentorat.proposals import schemas as proposals
    from mentorat.reports import schemas as reports
    from mentorat.situation import schemas as situation
    from mentorat.vocabulary_router import GoalKind

    aliases = {
        "OfferOutcome": offers.OfferOutcome,
        "LegalSituation": offers.LegalSituation,
        "ConsentParty": offers.ConsentParty,
        "ConsentKind": offers.ConsentKind,
        "AssessmentOutcome": assessments.AssessmentOutcome,
        "MentorshipState": mentorships.State,
        "ObjectiveStatus": mentorships.ObjectiveStatus,
        "EndReason": mentorships.EndReason,
        "MeetingMode": mentorships.MeetingMode,
        "TimelineEntryKind": mentorships.TimelineEntryKind,
        "MatchingObjective": matching.Objective,
        "RunStatus": matching.RunStatus,
        "RunPhase": matching.RunPhase,
        "RunErrorCode": matching.RunErrorCode,
        "UnmatchedReason": matching.UnmatchedReason,
        "InfeasibleReason": matching.InfeasibleReason,
        "ProposalStatus": matching.ProposalStatus,
        "ProposalAction": proposals.BulkActionName,
        "GoalKind": GoalKind,
        "GoalCode": GoalCode,
        "LanguageCode": LanguageCode,
        "SchoolLevel": children.SchoolLevel,
        "PreferredMentorGender": children.PreferredGender,
        "Gender": mentors.Gender,
        "FunnelStage": reports.FunnelStage,
        "ReportDelay": reports.DelayName,
        "ReportScope": reports.ReportScope,
        "Situation": situation.Situation,
        "NextAction": situation.NextAction,
        "DueKind": situation.DueKind,
    }
    return {get_args(alias): name for name, alias in aliases.items()}


def _enum_name(values: tuple[Any, ...]) -> str | None:
    return _named_enums().get(values)


def _name_enums(node: Any, named: dict[str, dict[str, Any]]) -> Any:
    if isinstance(node, list):
        return [_name_enums(item, named) for item in node]
    if not isinstance(node, dict):
        return node
    if "enum" in node and (name := _enum_name(tuple(node["enum"]))) is not None:
        named[name] = {"type": node.get("type", "string"), "enum": node["enum"], "title": name}
        rest = {key: value for key, value in node.items() if key not in ("enum", "type", "title")}
        return {"$ref": f"#/components/schemas/{name}", **rest}
    return {key: _name_enums(value, named) for key, value in node.items()}


def name_inline_enums(document: dict[str, Any]) -> dict[str, Any]:
    named: dict[str, dict[str, Any]] = {}
    document["paths"] = _name_enums(document.get("paths", {}), named)
    components = document.setdefault("components", {})
    schemas = components.get("schemas", {})
    components["schemas"] = {
        name: schema if name in _named_enums().values() else _name_enums(schema, named)
        for name, schema in schemas.items()
    }
    components["schemas"] = dict(sorted({**components["schemas"], **named}.items()))
    return document


def _models_with_examples() -> list[type[BaseModel]]:
    """The service's pydantic models that declare examples."""
    found: list[type[BaseModel]] = []
    pending: list[type[BaseModel]] = [BaseModel]
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        extra = model.model_config.get("json_schema_extra")
        if (
            model.__module__.startswith("mentorat.")
            and isinstance(extra, dict)
            and "examples" in extra
        ):
            found.append(model)
    return found


def _without_nulls(value: Any) -> Any:
    """What FastAPI's encoder leaves of a value: dict entries that are null are dropped."""
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def restore_examples(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI drops every null from the document, examples included, which leaves an example
    without its required nullable fields (a run's `error_code`): put each model's examples
    back as written, where the published ones are exactly those without their nulls."""
    schemas = document.get("components", {}).get("schemas", {})
    for model in _models_with_examples():
        examples = model.model_config["json_schema_extra"]["examples"]  # type: ignore[index]
        schema = schemas.get(model.__name__)
        if schema is not None and schema.get("examples") == _without_nulls(examples):
            schema["examples"] = examples
    return document


def complete_document(document: dict[str, Any]) -> dict[str, Any]:
    """Add the problems and headers every operation can answer to the generated document."""
    name_inline_enums(document)
    restore_examples(document)
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
