"""Hot statements compiled once, sent as driver SQL.

A request path that runs one statement (authentication, a read with its audit events) spent
more processor time in SQLAlchemy's session and ORM execution than in the driver.
`CompiledStatement` compiles a Core statement once, at import, to PostgreSQL's SQL with `$n`
parameters, and runs it with `exec_driver_sql` on an autocommit connection (engine events still
see it); the asyncpg dialect keeps it prepared on each connection. No SQL expression is built or
compiled per request. Rows come back with the driver's types (`numeric` as Decimal).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Executable, RowMapping
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from mentorat.kit.db import Database

_DIALECT = asyncpg_dialect()


class CompiledStatement:
    """One statement, compiled for asyncpg; its bound parameters are passed by name."""

    def __init__(self, statement: Executable) -> None:
        compiled = statement.compile(dialect=_DIALECT)  # type: ignore[attr-defined]
        values = compiled.construct_params(_check=False)
        sql, names = compiled.string, compiled.positiontup or ()
        if compiled.post_compile_params:
            # IN over a fixed tuple (e.g. the situation's states) is rendered at execution
            # time; its values are known now, so render it once here, one `$n` per value.
            expanded = compiled._process_parameters_for_postcompile(values)
            sql, names, values = expanded.statement, expanded.positiontup or (), expanded.parameters
        self.sql: str = sql
        self._names: Sequence[str] = tuple(names)
        # Values fixed when the statement was built (literals), sent along with the caller's.
        self._fixed: Mapping[str, Any] = {
            name: value for name, value in values.items() if value is not None
        }

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        values = {**self._fixed, **parameters}
        return [values.get(name) for name in self._names]

    async def fetch(self, database: Database, parameters: Mapping[str, Any]) -> list[RowMapping]:
        async with database.statement_connection() as connection:
            result = await connection.exec_driver_sql(self.sql, tuple(self.arguments(parameters)))
            return list(result.mappings())

    async def fetchrow(
        self, database: Database, parameters: Mapping[str, Any]
    ) -> RowMapping | None:
        rows = await self.fetch(database, parameters)
        return rows[0] if rows else None
