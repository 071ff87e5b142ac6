"""Cross-origin calls from the browsers of configured front-ends (MENTORAT_CORS_ORIGINS).

Starlette's CORSMiddleware does the work; this subclass only changes what other origins see:
a refused preflight is a 403 problem without any Access-Control-* header (Starlette answers a
400 text listing the allowed methods and headers), and a simple request from another origin
gets no Access-Control-Expose-Headers.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mentorat.kit.problems import problem_response

ALLOWED_METHODS = ("GET", "POST", "PATCH", "DELETE")
ALLOWED_HEADERS = ("Authorization", "Content-Type", "If-Match", "Idempotency-Key", "X-Request-ID")
EXPOSED_HEADERS = ("ETag", "Location", "X-Request-ID", "Idempotent-Replayed", "Retry-After")
PREFLIGHT_MAX_AGE_SECONDS = 600
_PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"


class StrictCORSMiddleware(CORSMiddleware):
    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        super().__init__(
            app,
            allow_origins=origins,
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            # Bearer tokens travel in a header, never in cookies.
            allow_credentials=False,
            max_age=PREFLIGHT_MAX_AGE_SECONDS,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if origin is not None and "access-control-request-method" in headers:
                response = self.preflight_response(request_headers=headers)
                if response.status_code != 200:
                    response = problem_response(
                        Request(scope),
                        status=403,
                        slug="cors-refused",
                        title="Cross-origin request refused",
                        detail=self._refusal_detail(origin, response.body),
                        headers={"Vary": _PREFLIGHT_VARY},
                    )
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def _refusal_detail(self, origin: str, starlette_text: bytes | memoryview) -> str:
        if not self.is_allowed_origin(origin):
            return "This origin may not call the API from a browser."
        # An allowed front-end's developer learns what was refused ("Disallowed CORS method").
        return bytes(starlette_text).decode() + "."

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        origin = request_headers.get("origin")
        if (
            message["type"] == "http.response.start"
            and origin is not None
            and not self.is_allowed_origin(origin)
        ):
            # Nothing for another origin but the cache hint that the answer depends on Origin.
            message.setdefault("headers", [])
            message["headers"] = [*message["headers"], (b"vary", b"Origin")]
            await send(message)
            return
        await super().send(message, send, request_headers)


def install_cors(app: FastAPI, origins: list[str]) -> None:
    app.add_middleware(StrictCORSMiddleware, origins=origins)
