"""Imports have their own size limit (above the general body limit) and a row limit."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.app import create_app
from mentorat.kit.db import Database
from mentorat.settings import Settings
from tests.api.support import assert_problem, column
from tests.factories import Actors
from tests.spreadsheets.support import CHILD_HEADER, child_row, csv_bytes, upload

IMPORT = "/v1/children/import"


@pytest.fixture
async def small_client(settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    limited = settings.model_copy(
        update={"max_body_bytes": 2048, "import_max_bytes": 10_000, "import_max_rows": 40}
    )
    app = create_app(limited, database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_imports_take_more_than_the_general_body_limit(
    small_client: httpx.AsyncClient, session: AsyncSession, actors: Actors
) -> None:
    content = csv_bytes(CHILD_HEADER, [child_row(f"BIG-{n:03d}") for n in range(25)])
    assert 2048 < len(content) < 10_000
    response = await upload(small_client, IMPORT, actors.educator_53, content)
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 25
    other = await small_client.post(
        "/v1/children", content=content, headers={**actors.educator_53, "Content-Type": "text/csv"}
    )
    assert_problem(other, 413)


async def test_too_many_bytes_or_rows_are_refused_whole(
    small_client: httpx.AsyncClient, session: AsyncSession, actors: Actors
) -> None:
    rows = csv_bytes(CHILD_HEADER, [child_row(f"ROWS-{n:03d}") for n in range(41)])
    assert len(rows) < 10_000
    assert_problem(await upload(small_client, IMPORT, actors.educator_53, rows), 413)
    padded = csv_bytes(
        CHILD_HEADER, [child_row(f"PAD-{n:03d}", referent_educator="x" * 190) for n in range(35)]
    )
    assert len(padded) > 10_000
    too_large = await upload(small_client, IMPORT, actors.educator_53, padded)
    assert_problem(too_large, 413)
    assert too_large.json()["detail"] == "The body must not exceed 10000 bytes."
    written = await column(session, "SELECT count(*) FROM child WHERE reference ~ '^(ROWS|PAD)-'")
    assert written == 0
