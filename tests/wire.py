"""A TCP proxy in front of PostgreSQL that counts round trips on the wire.

Every frontend message that makes the client wait for the server's ReadyForQuery is one round
trip: a Sync ('S', ends an extended-protocol exchange: prepare, or bind + execute) or a simple
Query ('Q'). The proxy reads the frontend protocol (PostgreSQL 3.0, without TLS) and keeps, for
each round trip, the SQL it carried, so a failing count says which statements were sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass, field

from sqlalchemy.engine import URL

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
ROUND_TRIP_ENDS = {b"S", b"Q"}


@dataclass
class FrontendParser:
    """Splits what a client sends into messages; counts round trips and their SQL."""

    round_trips: list[list[str]] = field(default_factory=list)
    _buffer: bytearray = field(default_factory=bytearray)
    _started: bool = False
    _pending_sql: list[str] = field(default_factory=list)

    def feed(self, data: bytes) -> None:
        self._buffer += data
        while True:
            if not self._started:
                if len(self._buffer) < 8:
                    return
                length, code = struct.unpack("!ii", self._buffer[:8])
                if len(self._buffer) < length:
                    return
                del self._buffer[:length]
                # After an SSL or GSS request (refused), the startup message follows, untyped.
                self._started = code not in (SSL_REQUEST, GSSENC_REQUEST)
                continue
            if len(self._buffer) < 5:
                return
            kind = bytes(self._buffer[:1])
            (length,) = struct.unpack("!i", self._buffer[1:5])
            if len(self._buffer) < 1 + length:
                return
            body = bytes(self._buffer[5 : 1 + length])
            del self._buffer[: 1 + length]
            self._message(kind, body)

    def _message(self, kind: bytes, body: bytes) -> None:
        if kind == b"Q":
            self._pending_sql.append(body.split(b"\0", 1)[0].decode(errors="replace"))
        elif kind == b"P":  # Parse: statement name, then the query
            self._pending_sql.append(body.split(b"\0")[1].decode(errors="replace"))
        elif kind == b"B":
            self._pending_sql.append("<bind>")
        if kind in ROUND_TRIP_ENDS:
            self.round_trips.append(self._pending_sql)
            self._pending_sql = []


class CountingProxy:
    """Listens on 127.0.0.1 and forwards to the PostgreSQL of `server` (TCP, or the Unix
    socket of an embedded server), counting every client's round trips."""

    def __init__(self, server: URL) -> None:
        socket_dir = server.query.get("host")
        port = server.port or 5432
        self.unix_target = f"{socket_dir}/.s.PGSQL.{port}" if isinstance(socket_dir, str) else None
        self.target = (server.host or "127.0.0.1", port)
        self.server_url = server
        self.port = 0
        self.parsers: list[FrontendParser] = []
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> URL:
        """The same database, reached through the proxy."""
        return self.server_url.difference_update_query(["host"]).set(
            host="127.0.0.1", port=self.port
        )

    def round_trips(self) -> list[list[str]]:
        """Every round trip so far, of every connection, in no particular order."""
        return [trip for parser in self.parsers for trip in parser.round_trips]

    def reset(self) -> None:
        for parser in self.parsers:
            parser.round_trips.clear()

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()
        self._server = None

    async def _serve(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        if self.unix_target is not None:
            upstream_reader, upstream = await asyncio.open_unix_connection(self.unix_target)
        else:
            upstream_reader, upstream = await asyncio.open_connection(*self.target)
        self._writers |= {client, upstream}
        parser = FrontendParser()
        self.parsers.append(parser)

        async def pipe(
            reader: asyncio.StreamReader,
            writer: asyncio.StreamWriter,
            parser: FrontendParser | None,
        ) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await reader.read(65536):
                    if parser is not None:
                        parser.feed(data)
                    writer.write(data)
                    await writer.drain()
            writer.transport.abort()

        await asyncio.gather(
            pipe(client_reader, upstream, parser), pipe(upstream_reader, client, None)
        )
        self._writers -= {client, upstream}
