"""Unknown query parameters are a 422, not silently ignored: a misspelt filter (`?stauts=`)
would otherwise answer the whole, unfiltered list."""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute


def declared_query_parameters(route: APIRoute) -> frozenset[str]:
    """The query parameters a route (its dependencies included) declares, by their names in
    the URL."""
    # A walk over a handful of dependencies: cheaper than any cache keyed by the route.
    return frozenset(_query_names(route.dependant))


def _query_names(dependant: Dependant) -> set[str]:
    names = {field.alias for field in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= _query_names(dependency)
    return names


async def reject_unknown_query_parameters(request: Request) -> None:
    """An app-wide dependency: every name in the query string must be one the route reads."""
    route = request.scope.get("route")
    # Undocumented pages (docs, metrics) are left alone: Swagger UI's OAuth redirect receives
    # whatever the identity provider sends.
    if not isinstance(route, APIRoute) or not route.include_in_schema:
        return
    declared = declared_query_parameters(route)
    unknown = [name for name in dict.fromkeys(request.query_params.keys()) if name not in declared]
    if unknown:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "msg": "Unknown query parameter"
                    + (
                        f"; this operation takes: {', '.join(sorted(declared))}."
                        if declared
                        else "; this operation takes none."
                    ),
                    "type": "extra_forbidden",
                    "input": request.query_params[name],
                }
                for name in unknown
            ]
        )
