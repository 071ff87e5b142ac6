"""Helpers shared by the repositories."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from mentorat.errors import Conflict, PreconditionFailed

UNIQUE_VIOLATION = "23505"
FOREIGN_KEY_VIOLATION = "23503"


def _sqlstate(error: IntegrityError) -> str | None:
    original: Any = error.orig
    return getattr(original, "sqlstate", None) or getattr(
        getattr(original, "__cause__", None), "sqlstate", None
    )


async def flush(session: AsyncSession, *, conflict: str = "This record already exists.") -> None:
    """Flush, turning the violations a caller can cause into problems.

    A unique violation is a 409 (a duplicate the caller can fix); a concurrent update of the
    same version is a 412. Any other integrity error is a bug of ours and stays a 500.
    """
    try:
        await session.flush()
    except StaleDataError as error:
        raise PreconditionFailed("The record was changed by someone else meanwhile.") from error
    except IntegrityError as error:
        state = _sqlstate(error)
        if state == UNIQUE_VIOLATION:
            raise Conflict(conflict) from error
        if state == FOREIGN_KEY_VIOLATION:
            raise Conflict("The record is still referenced, or refers to a missing one.") from error
        raise
