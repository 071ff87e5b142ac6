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


# scope="function": the commit runs when the endpoint returns, before the response goes out,
# so a 2xx is never sent for a write that then fails to commit.
DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]
