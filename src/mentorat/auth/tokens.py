"""Bearer tokens: 256 random bits, shown once, stored as SHA-256."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "mnt_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    # A fast hash is right here: the token is random, so there is nothing to brute-force.
    return hashlib.sha256(token.encode()).digest()


def display_prefix(token: str) -> str:
    return token[: len(TOKEN_PREFIX) + 6]
