"""A real HTTP receiver for the webhook tests: a small server on 127.0.0.1 on a free port,
answering each request with the next scripted status and keeping what it received."""

from __future__ import annotations

import base64
import hashlib
import hmac
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    # The statuses to answer, in order; 200 once they run out.
    statuses: deque[int] = field(default_factory=deque)
    delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, *statuses: int) -> None:
        self.statuses.extend(statuses)

    def next_status(self) -> int:
        with self.lock:
            return self.statuses.popleft() if self.statuses else 200

    def keep(self, request: Received) -> None:
        with self.lock:
            self.received.append(request)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client closing a kept-alive connection is not an error worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def start_receiver() -> tuple[Receiver, ThreadingHTTPServer, threading.Thread]:
    receiver_box: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would

        def do_POST(self) -> None:
            receiver = receiver_box["receiver"]
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            receiver.keep(
                Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            if receiver.delay_s:
                time.sleep(receiver.delay_s)
            status = receiver.next_status()
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", f"{receiver.url}/elsewhere")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = QuietServer(("127.0.0.1", 0), Handler)
    host, port = server.server_address[:2]
    receiver = Receiver(url=f"http://{host}:{port}")
    receiver_box["receiver"] = receiver
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return receiver, server, thread


def standard_signature_valid(
    secret: str, headers: dict[str, str], body: bytes, *, tolerance_s: int = 300
) -> bool:
    """Checks a delivery as a receiver would, written from the Standard Webhooks
    specification alone: HMAC-SHA256, under the base64-decoded secret (after `whsec_`), of
    `<webhook-id>.<webhook-timestamp>.<body>`, sent base64 after `v1,`; a timestamp within
    the tolerance of the receiver's clock."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    timestamp = headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance_s:
        return False
    signed = f"{headers['webhook-id']}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(candidate, f"v1,{expected}")
        for candidate in headers["webhook-signature"].split(" ")
    )


@contextmanager
def serving() -> Iterator[Receiver]:
    """A receiver listening on 127.0.0.1 for the length of the block."""
    receiver, server, thread = start_receiver()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
