"""Endpoint signing secrets: made by the server, shown once, kept encrypted.

The server signs every delivery with the endpoint's secret, so it must be able to read it: a
hash would not do. It is kept under AES-GCM with a key derived from the server secret
`webhook` (table server_secret, made by the migrations), the endpoint's id as associated data,
so that a copy of the webhook table alone (an export, a dump of some tables) reveals nothing
and a ciphertext moved to another endpoint does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.models import ServerSecret

SERVER_SECRET_NAME = "webhook"
SECRET_PREFIX = "whsec_"  # as Standard Webhooks libraries expect
SECRET_BYTES = 32
_NONCE_BYTES = 12


def new_secret() -> str:
    """`whsec_` and the base64 of 32 random bytes: the form Standard Webhooks verifiers read."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


async def encryption_key(session: AsyncSession) -> bytes:
    stored = await session.scalar(
        select(ServerSecret.value).where(ServerSecret.name == SERVER_SECRET_NAME)
    )
    if stored is None:
        raise RuntimeError("No webhook key in server_secret: run the migrations.")
    return hmac.new(bytes(stored), b"webhook endpoint secrets", hashlib.sha256).digest()


def encrypt(key: bytes, endpoint_id: uuid.UUID, secret: str) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, secret.encode(), endpoint_id.bytes)


def decrypt(key: bytes, endpoint_id: uuid.UUID, ciphertext: bytes) -> str:
    data = bytes(ciphertext)
    nonce, sealed = data[:_NONCE_BYTES], data[_NONCE_BYTES:]
    return AESGCM(key).decrypt(nonce, sealed, endpoint_id.bytes).decode()
