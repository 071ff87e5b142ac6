"""One session and one transaction per request, committed before the response is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.kit.db import Database


def get_database(request: Request) -> Database:
    return request.app.state.database  # type: ignore[no-any-return]


# For endpoints whose work is one compiled statement (kit/statements.py), with no session.
DatabaseDep = Annotated[Database, Depends(get_database)]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_database(request).sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session whose every statement is its own implicit transaction (no BEGIN, no COMMIT
    round trip), for an endpoint whose work is one statement: a read with its audit rows."""
    async with get_database(request).statement_sessionmaker()() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()  # nothing to send; a test's savepoint is released


# scope="function": the commit runs when the endpoint returns, before the response goes out,
# so a 2xx is never sent for a write that then fails to commit.
DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]
# For endpoints that run one statement only: several would not be atomic together.
ReadSession = Annotated[AsyncSession, Depends(get_read_session, scope="function")]
