"""Keyset pagination with an opaque cursor: stable under inserts, no OFFSET scans."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from mentorat.errors import InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")]
Cursor = Annotated[
    str | None,
    Query(max_length=512, description="Opaque cursor from a previous page's `next_cursor`."),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def _bigint(value: str) -> int:
    number = int(value)
    if not -(2**63) <= number < 2**63:
        raise ValueError("out of the bigint range")
    return number


_PARSERS: dict[type, Callable[[str], Any]] = {
    datetime: datetime.fromisoformat,
    date: date.fromisoformat,  # e.g. meetings are paged by (held_on, id)
    uuid.UUID: uuid.UUID,
    str: str,
    int: _bigint,
}


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(
        [value.isoformat() if isinstance(value, datetime) else str(value) for value in values]
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, types: Sequence[type]) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError("wrong shape")
        # encode_cursor writes strings only; PostgreSQL text cannot hold NUL.
        if not all(isinstance(value, str) and "\x00" not in value for value in values):
            raise ValueError("wrong values")
        return [_PARSERS[kind](value) for kind, value in zip(types, values, strict=True)]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidInput("Malformed cursor.", field=("query", "cursor")) from error


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    order_by: Sequence[InstrumentedAttribute[Any]],
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    """Rows of `statement` after `cursor` in `order_by` order, and the next page's cursor."""
    if cursor is not None:
        types = [column.type.python_type for column in order_by]
        after = decode_cursor(cursor, types)
        statement = statement.where(tuple_(*order_by) > tuple_(*after))
    rows = list((await session.scalars(statement.order_by(*order_by).limit(limit + 1))).all())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor([getattr(last, column.key) for column in order_by])
