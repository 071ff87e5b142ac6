"""Streamed exports: rows are read from PostgreSQL in batches (a server-side cursor) and
written out as they come, so a 100,000-row export never sits whole in memory."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Literal

import anyio
from fastapi import Request
from fastapi.responses import StreamingResponse
from openpyxl import Workbook
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.kit.db import Database
from mentorat.spreadsheets.flat import cells_of, columns_of
from mentorat.spreadsheets.reading import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE

Format = Literal["csv", "xlsx"]
# (session, cursor) -> (items as the JSON list shows them, next cursor)
PageFetcher = Callable[[AsyncSession, str | None], Awaitable[tuple[Sequence[Any], str | None]]]
BATCH = 1000
EXPORT_PAGE = BATCH
CHUNK = 256 * 1024
MEDIA_TYPES: dict[Format, str] = {
    "csv": f"{CSV_MEDIA_TYPE}; charset=utf-8",
    "xlsx": XLSX_MEDIA_TYPE,
}

# openapi `responses=` entry for list endpoints that also answer in CSV and XLSX.
SPREADSHEET_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The page as JSON; with `Accept: text/csv` or `Accept: "
        f"{XLSX_MEDIA_TYPE}`, every matching row (`limit` and `cursor` ignored) as a streamed "
        "spreadsheet: children and mentors in the import's columns and cell formats (an export "
        "imports back unchanged), other lists with the JSON fields, nested ones as `parent.field`.",
        "content": {
            CSV_MEDIA_TYPE: {"schema": {"type": "string"}},
            XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def requested_format(request: Request) -> Format | None:
    """The spreadsheet format the Accept header asks for, if any (JSON otherwise)."""
    accept = request.headers.get("accept", "").lower()
    positions = {
        fmt: accept.find(media_type)
        for fmt, media_type in (("csv", CSV_MEDIA_TYPE), ("xlsx", XLSX_MEDIA_TYPE))
    }
    wanted = [(position, fmt) for fmt, position in positions.items() if position >= 0]
    return min(wanted)[1] if wanted else None  # type: ignore[return-value]


async def _batches(
    database: Database, statement: Select[Any], to_cells: Callable[[Any], list[str]]
) -> AsyncIterator[list[list[str]]]:
    # Plain rows of the entity's table (attribute access as on the entity), not ORM objects:
    # an export never changes them, and building 100,000 tracked objects is the slow part.
    table = statement.column_descriptions[0]["entity"].__table__
    rows = statement.with_only_columns(*table.columns).execution_options(yield_per=BATCH)
    async with database.sessionmaker() as session:
        result = await session.stream(rows)
        async for partition in result.partitions():
            yield [to_cells(row) for row in partition]


async def _csv(
    header: Sequence[str], batches: AsyncIterator[list[list[str]]]
) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    # `;` and a BOM: what a French spreadsheet opens as columns, and what the import reads.
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    yield b"\xef\xbb\xbf" + buffer.getvalue().encode()
    async for rows in batches:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(rows)
        yield buffer.getvalue().encode()


async def _xlsx(
    header: Sequence[str], batches: AsyncIterator[list[list[str]]]
) -> AsyncIterator[bytes]:
    # Write-only mode keeps rows in a temporary file, not in memory; the zip is then sent in
    # chunks from disk.
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(list(header))
    async for rows in batches:
        for row in rows:
            sheet.append(row)
    with tempfile.TemporaryFile() as file:
        await anyio.to_thread.run_sync(workbook.save, file)
        file.seek(0)
        while chunk := await anyio.to_thread.run_sync(file.read, CHUNK):
            yield chunk


async def _pages(
    database: Database, fetch_page: PageFetcher, schema: type[BaseModel], columns: list[str]
) -> AsyncIterator[list[list[str]]]:
    async with database.sessionmaker() as session:
        cursor: str | None = None
        while True:
            items, cursor = await fetch_page(session, cursor)
            yield [
                cells_of(schema.model_validate(item).model_dump(mode="json"), columns)
                for item in items
            ]
            if cursor is None:
                break
        # Whatever the list functions record (audit) stays, as for a JSON page.
        await session.commit()


def _streamed(fmt: Format, body: AsyncIterator[bytes], name: str) -> StreamingResponse:
    return StreamingResponse(
        body,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


def paged_response(
    request: Request, fmt: Format, schema: type[BaseModel], fetch_page: PageFetcher, name: str
) -> StreamingResponse:
    """Stream every item of a paginated list, walking its own keyset pages of EXPORT_PAGE
    items in a session of its own; columns are the read schema's fields, flattened."""
    columns = columns_of(schema)
    batches = _pages(request.app.state.database, fetch_page, schema, columns)
    body = _csv(columns, batches) if fmt == "csv" else _xlsx(columns, batches)
    return _streamed(fmt, body, name)


def spreadsheet_body(
    database: Database,
    fmt: Format,
    statement: Select[Any],
    header: Sequence[str],
    to_cells: Callable[[Any], list[str]],
) -> AsyncIterator[bytes]:
    """The bytes of the export of every row of `statement`, as they are produced."""
    batches = _batches(database, statement, to_cells)
    return _csv(header, batches) if fmt == "csv" else _xlsx(header, batches)


def spreadsheet_response(
    request: Request,
    fmt: Format,
    statement: Select[Any],
    header: Sequence[str],
    to_cells: Callable[[Any], list[str]],
    name: str,
) -> StreamingResponse:
    """Stream every row of `statement` (already scoped and filtered) in `fmt`.

    The rows are read in a session of their own, after the request's session has committed.
    """
    body = spreadsheet_body(request.app.state.database, fmt, statement, header, to_cells)
    return _streamed(fmt, body, name)
