"""A real, small OpenID Connect issuer for the tests: an HTTP server on 127.0.0.1 (ephemeral
port) serving discovery and the JWKS, with signing keys made in the test."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, Key, RSAKey

REALM_PATH = "/realms/mentorat"
DISCOVERY_PATH = REALM_PATH + "/.well-known/openid-configuration"
JWKS_PATH = REALM_PATH + "/protocol/openid-connect/certs"


def rsa_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


def ec_key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig", "alg": "ES256"})


class LocalIssuer:
    """Publishes the public half of `keys`; `up = False` makes every request a 503."""

    def __init__(self) -> None:
        self.keys: list[Key] = []
        self.up = True
        self.hits: Counter[str] = Counter()
        self.base = ""
        self.url = ""
        self._server: ThreadingHTTPServer | None = None

    def publish(self, *keys: Key) -> None:
        self.keys = list(keys)

    def sign(
        self,
        key: Key,
        *,
        audience: str | list[str],
        issuer: str | None = None,
        lifetime: int = 300,
        header: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.url if issuer is None else issuer,
            "aud": audience,
            "sub": "agent-1",
            "iat": now,
            "exp": now + lifetime,
            **claims,
        }
        algorithm = "ES256" if isinstance(key, ECKey) else "RS256"
        return jwt.encode({"alg": algorithm, "kid": key.kid, **(header or {})}, payload, key)

    def _answer(self, path: str) -> tuple[int, dict[str, Any]]:
        self.hits[path] += 1
        if not self.up:
            return 503, {"error": "down"}
        if path == DISCOVERY_PATH:
            return 200, {
                "issuer": self.url,
                "jwks_uri": self.base + JWKS_PATH,
                "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            }
        if path == JWKS_PATH:
            return 200, {"keys": [key.as_dict(private=False) for key in self.keys]}
        return 404, {"error": "not found"}

    @contextmanager
    def serving(self) -> Iterator[LocalIssuer]:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = issuer._answer(self.path)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{server.server_address[1]}"
        self.url = self.base + REALM_PATH
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
