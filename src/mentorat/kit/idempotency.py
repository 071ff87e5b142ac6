"""Idempotency-Key for POST: a retry with the same key and body gets the first answer.

The key is claimed by inserting a row in the request's own transaction, and the answer is
stored in that same transaction, so either both the effect and the stored answer commit or
neither does. A concurrent retry blocks on the row until the first request ends.

Stored answers hold personal data: they live `idempotency_hours` (24 h by default). An expired
answer is never replayed; each new key sweeps its principal's expired answers, and the
retention command sweeps everyone's. The ids an answer mentions are kept beside it
(`subject_ids`), so that purging a person removes every stored answer naming them.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from mentorat.auth.dependencies import Authenticated
from mentorat.errors import Conflict, MentoratError
from mentorat.kit.etag import etag_for
from mentorat.kit.session import DbSession
from mentorat.models import IdempotencyRecord

REPLAYED_HEADERS = ("etag", "location")


class IdempotencyKeyReused(MentoratError):
    status = 422
    slug = "idempotency-key-reused"
    title = "Idempotency-Key already used for a different request"


def mentioned_ids(value: Any) -> set[uuid.UUID]:
    """Every UUID written anywhere in a JSON value (keys and strings)."""
    found: set[uuid.UUID] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and len(item) == 36:
            with contextlib.suppress(ValueError):
                found.add(uuid.UUID(item))
    return found


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
        self._record.subject_ids = sorted(mentioned_ids(self._record.response_body))
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
    lifetime = timedelta(hours=request.app.state.settings.idempotency_hours)
    # This key's expired answer (never replayed) and the principal's other expired ones.
    await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.principal_id == principal.id,
            IdempotencyRecord.created_at < datetime.now(UTC) - lifetime,
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


async def respond_created(
    idempotent: Idempotency,
    response: Response,
    body: BaseModel,
    *,
    location: str,
    version: int | None = None,
    status_code: int = 201,
) -> BaseModel:
    """A creation's answer: its `Location`, its `ETag` when the record has a version,
    remembered for the key's retries."""
    headers = {"Location": location}
    if version is not None:
        headers["ETag"] = etag_for(version)
    return await respond(idempotent, response, body, status_code=status_code, headers=headers)


async def respond(
    idempotent: Idempotency,
    response: Response,
    body: BaseModel,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    replayed_as: BaseModel | None = None,
) -> BaseModel:
    """Set the answer's status and headers, and remember it for the key's retries (as
    `replayed_as` where a retry must not see everything, such as a secret shown once)."""
    response.status_code = status_code
    response.headers.update(headers or {})
    await idempotent.remember(status_code, replayed_as or body, headers)
    return body
