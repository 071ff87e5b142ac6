"""create_app(): routers, error handlers, middleware and the database lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline
from starlette.middleware.gzip import GZipMiddleware

from mentorat import health, vocabulary_router
from mentorat.agreements.router import router as agreements_router
from mentorat.assessments.router import router as assessments_router
from mentorat.associations.router import router as associations_router
from mentorat.audit.router import router as audit_router
from mentorat.auth.oidc import OidcVerifier
from mentorat.auth.ratelimit import AuthFailureLimiter
from mentorat.children.router import router as children_router
from mentorat.departements.router import router as departements_router
from mentorat.jobs.worker import in_process_worker
from mentorat.kit.caching import GZIP_MINIMUM_BYTES, NoStoreMiddleware
from mentorat.kit.cors import install_cors
from mentorat.kit.db import Database, database_url
from mentorat.kit.middleware import (
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
    UnexpectedErrorMiddleware,
)
from mentorat.kit.openapi import operation_id
from mentorat.kit.problems import install_problem_handlers
from mentorat.kit.query import reject_unknown_query_parameters
from mentorat.matching.router import children_router as matching_children_router
from mentorat.matching.router import runs_router as matching_runs_router
from mentorat.mentors.router import router as mentors_router
from mentorat.mentorships.router import router as mentorships_router
from mentorat.metrics import install_metrics
from mentorat.offers.router import router as offers_router
from mentorat.privacy.router import router as privacy_router
from mentorat.proposals.router import router as proposals_router
from mentorat.reports.router import router as reports_router
from mentorat.settings import Settings, get_settings
from mentorat.situation.router import router as situation_router
from mentorat.tokens.router import principals_router
from mentorat.tokens.router import router as tokens_router
from mentorat.webhooks.router import router as webhooks_router

IMPORT_PATHS = ("/v1/children/import", "/v1/mentors/import")
API_DESCRIPTION = """
Matches children in the care of the Aide Sociale à l'Enfance with volunteer mentors, and
follows each mentorship over time. Every endpoint under `/v1` needs `Authorization: Bearer
<token>`; a record outside your scope answers 404. Errors are `application/problem+json`.
"""


def create_app(
    settings: Settings | None = None, database: Database | None = None, *, worker: bool = False
) -> FastAPI:
    """The ASGI app. Tests pass their own `database`; otherwise the lifespan builds it. With
    `worker`, the lifespan also runs a worker in the process (`mentorat serve`)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if database is not None:
            app.state.database = database
            yield
            return
        # Without a URL (app served without the CLI), the embedded server lives as long as the app.
        with database_url(settings) as url:
            own = Database.from_url(url, settings)
            app.state.database = own
            try:
                if worker:
                    async with in_process_worker(own, settings):
                        yield
                else:
                    yield
            finally:
                await own.engine.dispose()

    # /docs and /redoc load Swagger UI and ReDoc from the fastapi-offline package, not a CDN.
    app = FastAPIOffline(
        title="mentorat",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        static_url="/docs/assets",
        dependencies=[Depends(reject_unknown_query_parameters)],
    )
    app.state.settings = settings
    app.state.oidc_verifier = OidcVerifier.from_settings(settings)
    app.state.auth_failure_limiter = AuthFailureLimiter(
        settings.auth_failure_limit, settings.auth_failure_window_seconds
    )
    if database is not None:
        app.state.database = database
    install_problem_handlers(app)
    # Each middleware added wraps the ones before it: the last one sees the request first.
    # Unexpected errors are answered inside CORS, no-store and metrics, so a 500 carries their
    # headers and is counted.
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        larger_limits=dict.fromkeys(IMPORT_PATHS, settings.import_max_bytes),
    )
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)
    app.add_middleware(
        UnexpectedErrorMiddleware, retry_after_s=settings.db_unavailable_retry_after_s
    )
    app.add_middleware(NoStoreMiddleware, prefix="/v1")
    install_cors(app, settings.cors_origins)
    if settings.metrics_enabled:
        install_metrics(app)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health.router)
    for router in (
        departements_router,
        situation_router,
        associations_router,
        agreements_router,
        children_router,
        mentors_router,
        matching_runs_router,
        assessments_router,
        offers_router,
        proposals_router,
        mentorships_router,
        matching_children_router,
        tokens_router,
        principals_router,
        privacy_router,
        audit_router,
        reports_router,
        webhooks_router,
        vocabulary_router.router,
    ):
        app.include_router(router)
    return app
