"""Idempotency-Key for POST: a retry with the same key and body gets the first answer.

The key is claimed by inserting a row in the request's own transaction, and the answer is
stored in that same transaction, so either both the effect and the stored answer commit or
neither does. A concurrent retry blocks on the row until the first request ends.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Header, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from mentorat.auth.dependencies import Authenticated
from mentorat.errors import Conflict, MentoratError
from mentorat.kit.session import DbSession
from mentorat.models import IdempotencyRecord

KEY_LIFETIME = timedelta(hours=24)
REPLAYED_HEADERS = ("etag", "location")


class IdempotencyKeyReused(MentoratError):
    status = 422
    slug = "idempotency-key-reused"
    title = "Idempotency-Key already used for a different request"


class Idempotency:
    """Per request: `replay` is the stored answer to return, else call `remember` once done."""

    def __init__(self, replay: JSONResponse | None = None, record: IdempotencyRecord | None = None):
        self.replay = replay
        self._record = record

    async def remember(
        self, status_code: int, body: BaseModel | None, headers: dict[str, str] | None = None
    ) -> None:
        if self._record is None:
            return
        self._record.status_code = status_code
        self._record.response_body = jsonable_encoder(body) if body is not None else None
        self._record.response_headers = {
            name: value
            for name, value in (headers or {}).items()
            if name.lower() in REPLAYED_HEADERS
        }


async def idempotency(
    request: Request,
    session: DbSession,
    principal: Authenticated,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=255,
            description="Send the same key when retrying: the first answer is replayed.",
        ),
    ] = None,
) -> Idempotency:
    if key is None:
        return Idempotency()
    fingerprint = hashlib.sha256(
        request.method.encode() + b" " + request.url.path.encode() + b"\n" + await request.body()
    ).digest()
    await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.principal_id == principal.id,
            IdempotencyRecord.key == key,
            IdempotencyRecord.created_at < datetime.now(UTC) - KEY_LIFETIME,
        )
    )
    claimed = await session.scalar(
        insert(IdempotencyRecord)
        .values(principal_id=principal.id, key=key, fingerprint=fingerprint)
        .on_conflict_do_nothing()
        .returning(IdempotencyRecord.key)
    )
    record = await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.principal_id == principal.id, IdempotencyRecord.key == key
        )
    )
    if record is None:  # the first request's claim was removed between our two statements
        raise Conflict("The request with this Idempotency-Key changed meanwhile; retry.")
    if claimed is not None:
        return Idempotency(record=record)
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was first sent with another body or to another endpoint."
        )
    if record.status_code is None:
        raise Conflict("The first request with this Idempotency-Key gave no answer to replay.")
    headers = {**(record.response_headers or {}), "Idempotent-Replayed": "true"}
    return Idempotency(
        replay=JSONResponse(record.response_body, status_code=record.status_code, headers=headers)
    )


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]


async def respond(
    idempotent: Idempotency,
    response: Response,
    body: BaseModel,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> BaseModel:
    """Set the answer's status and headers, and remember it for the key's retries."""
    response.status_code = status_code
    response.headers.update(headers or {})
    await idempotent.remember(status_code, body, headers)
    return body
