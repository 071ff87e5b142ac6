"""Keyset pagination with a signed cursor: stable under inserts, no OFFSET scans."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Row, Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from mentorat.kit.cursors import Filters, read_cursor, sign_cursor

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")]
Cursor = Annotated[
    str | None,
    Query(max_length=512, description="Opaque cursor from a previous page's `next_cursor`."),
]


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    # A parametrized Page[Child] has no docstring of its own: the schema takes this one.
    model_config = ConfigDict(
        json_schema_extra={"description": "One page of a list, and the cursor to the next."}
    )

    items: list[T] = Field(description="This page's items, at most `limit`.")
    next_cursor: str | None = Field(
        default=None,
        description="Pass it as `cursor` to get the next page; null on the last page.",
    )


async def _resumed(
    session: AsyncSession,
    statement: Select[Any],
    order_by: Sequence[ColumnElement[Any]],
    cursor: str | None,
    scope: str,
    filters: Filters | None,
    descending: bool,
) -> Select[Any]:
    """`statement` in `order_by` order, after the cursor's key when there is one."""
    if cursor is not None:
        types = [column.type.python_type for column in order_by]
        after = await read_cursor(session, scope, filters or {}, cursor, types)
        key, resume_at = tuple_(*order_by), tuple_(*after)
        statement = statement.where(key < resume_at if descending else key > resume_at)
    ordering = [column.desc() for column in order_by] if descending else list(order_by)
    return statement.order_by(*ordering)


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    order_by: Sequence[InstrumentedAttribute[Any]],
    *,
    limit: int,
    cursor: str | None,
    scope: str,
    filters: Filters | None = None,
    descending: bool = False,
) -> tuple[list[Any], str | None]:
    """Rows of `statement` after `cursor` in `order_by` order, and the next page's cursor.

    `scope` names the list and `filters` holds every parameter that shaped it (path ids
    included): a cursor only resumes the list it was made for. `descending` walks the same
    key from the largest.
    """
    statement = await _resumed(session, statement, order_by, cursor, scope, filters, descending)
    rows = list((await session.scalars(statement.limit(limit + 1))).all())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    values = [getattr(last, column.key) for column in order_by]
    return rows, await sign_cursor(session, scope, filters or {}, values)


async def paginate_rows(
    session: AsyncSession,
    statement: Select[Any],
    order_by: Sequence[ColumnElement[Any]],
    key_of: Callable[[Row[Any]], Sequence[Any]],
    *,
    limit: int,
    cursor: str | None,
    scope: str,
    filters: Filters | None = None,
    descending: bool = False,
) -> tuple[list[Row[Any]], str | None]:
    """`paginate` for statements of several columns (an entity and derived values): whole
    rows, ordered by any columns; `key_of` reads a row's `order_by` values."""
    statement = await _resumed(session, statement, order_by, cursor, scope, filters, descending)
    rows = list((await session.execute(statement.limit(limit + 1))).all())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, await sign_cursor(session, scope, filters or {}, list(key_of(rows[-1])))


async def paginate_computed(
    session: AsyncSession,
    items: Sequence[T],
    sort_key: Callable[[T], tuple[Any, ...]],
    types: Sequence[type],
    *,
    limit: int,
    cursor: str | None,
    scope: str,
    filters: Filters | None = None,
) -> tuple[list[T], str | None]:
    """The same pages over a short list computed in Python, sorted by `sort_key`."""
    filters = filters or {}
    ordered = sorted(items, key=sort_key)
    if cursor is not None:
        after = tuple(await read_cursor(session, scope, filters, cursor, types))
        ordered = [item for item in ordered if sort_key(item) > after]
    if len(ordered) <= limit:
        return ordered, None
    page = ordered[:limit]
    return page, await sign_cursor(session, scope, filters, list(sort_key(page[-1])))
