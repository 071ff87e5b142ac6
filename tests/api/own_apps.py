"""Apps built with their own settings, for behaviour the shared test app has switched off."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from mentorat.app import create_app
from mentorat.kit.db import Database
from mentorat.settings import Settings


def app_with(settings: Settings, **changes: Any) -> FastAPI:
    return create_app(Settings.model_validate(settings.model_dump() | changes))


@asynccontextmanager
async def client_of(
    app: FastAPI, database: Database, address: str = "127.0.0.1"
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on `app` and this test's rolled-back database, calling from `address`."""
    app.state.database = database
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
