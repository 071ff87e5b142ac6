"""Signed list cursors: opaque to clients, bound to their list and its filters.

A cursor is `<payload>.<signature>`: the payload is the base64 JSON of the last row's sort
key, the signature an HMAC-SHA256 over the list's name, the filters that shaped the list and
the payload. A cursor edited, forged, or taken from another list or other filters is refused.
The key is MENTORAT_CURSOR_SECRET, else a random key created once in PostgreSQL by the
migrations (table server_secret), so every API process signs and checks alike.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.errors import InvalidInput
from mentorat.kit.bounds import date_in_range, datetime_in_range
from mentorat.models import ServerSecret

CURSOR_KEY_NAME = "cursor"
SESSION_INFO_KEY = "cursor_keys"
INVALID = "Invalid cursor: send back the next_cursor of the same list with the same filters."

Filters = Mapping[str, Any]


class CursorKeys:
    """The signing key of one Database: the configured secret, else the stored one (read
    from PostgreSQL on first use, then kept)."""

    def __init__(self, configured: SecretStr | None = None) -> None:
        self._key = (
            hashlib.sha256(configured.get_secret_value().encode()).digest() if configured else None
        )

    async def key(self, session: AsyncSession) -> bytes:
        if self._key is None:
            stored = await session.scalar(
                select(ServerSecret.value).where(ServerSecret.name == CURSOR_KEY_NAME)
            )
            if stored is None:
                raise RuntimeError("No cursor key in server_secret: run the migrations.")
            self._key = bytes(stored)
        return self._key


async def _key(session: AsyncSession) -> bytes:
    keys = session.info.get(SESSION_INFO_KEY)
    if not isinstance(keys, CursorKeys):
        keys = CursorKeys()
    return await keys.key(session)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode())


def _signature(key: bytes, scope: str, filters: Filters, payload: str) -> str:
    message = json.dumps(
        [scope, dict(filters), payload], sort_keys=True, separators=(",", ":"), default=str
    )
    return _b64(hmac.new(key, message.encode(), hashlib.sha256).digest())


def _bigint(value: str) -> int:
    number = int(value)
    if not -(2**63) <= number < 2**63:
        raise ValueError("out of the bigint range")
    return number


def _datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if not datetime_in_range(parsed):
        raise ValueError("datetime out of range")
    return parsed


def _date(value: str) -> date:
    parsed = date.fromisoformat(value)
    if not date_in_range(parsed):
        raise ValueError("date out of range")
    return parsed


_PARSERS: dict[type, Callable[[str], Any]] = {
    datetime: _datetime,
    date: _date,  # e.g. meetings are paged by (held_on, id)
    uuid.UUID: uuid.UUID,
    str: str,
    int: _bigint,
}


async def sign_cursor(
    session: AsyncSession, scope: str, filters: Filters, values: Sequence[Any]
) -> str:
    """The cursor that resumes list `scope` (with these filters) after the row `values`."""
    payload = _b64(
        json.dumps(
            [value.isoformat() if isinstance(value, date) else str(value) for value in values]
        ).encode()
    )
    return payload + "." + _signature(await _key(session), scope, filters, payload)


async def read_cursor(
    session: AsyncSession, scope: str, filters: Filters, cursor: str, types: Sequence[type]
) -> list[Any]:
    """The sort key a cursor holds, if it was signed for this list and these filters."""
    payload, _, signature = cursor.partition(".")
    expected = _signature(await _key(session), scope, filters, payload)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise InvalidInput(INVALID, field=("query", "cursor"))
    try:
        values = json.loads(_unb64(payload).decode())
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError("wrong shape")
        if not all(isinstance(value, str) and "\x00" not in value for value in values):
            raise ValueError("wrong values")
        return [_PARSERS[kind](value) for kind, value in zip(types, values, strict=True)]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError) as error:
        # Only a cursor we signed gets here: its key or its code changed since.
        raise InvalidInput(INVALID, field=("query", "cursor")) from error
