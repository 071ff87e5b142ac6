from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from mentorat.auth.dependencies import Admin
from mentorat.kit.idempotency import IdempotencyDep, respond
from mentorat.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from mentorat.kit.problems import problems
from mentorat.kit.session import DbSession
from mentorat.tokens import service
from mentorat.tokens.schemas import (
    PrincipalCreate,
    PrincipalInfo,
    TokenCreate,
    TokenCreated,
    TokenInfo,
)

router = APIRouter(prefix="/v1/tokens", tags=["tokens"], responses=problems(401, 403, 422))
principals_router = APIRouter(
    prefix="/v1/principals", tags=["principals"], responses=problems(401, 403, 422)
)


@router.post(
    "",
    response_model=TokenCreated,
    status_code=status.HTTP_201_CREATED,
    responses=problems(409),
)
async def create_token(
    session: DbSession,
    principal: Admin,
    body: TokenCreate,
    response: Response,
    idempotent: IdempotencyDep,
) -> TokenCreated | Response:
    """A new principal and its token. The token is shown in this answer only: it is never
    stored, so a retry with the same `Idempotency-Key` answers `token: null` (revoke that token
    and create another if the first answer was lost)."""
    if idempotent.replay is not None:
        return idempotent.replay
    secret, token, holder = await service.create_token(session, principal, body)
    info = service.token_info(token, holder).model_dump()
    return await respond(
        idempotent,
        response,
        TokenCreated(**info, token=secret),
        status_code=status.HTTP_201_CREATED,
        replayed_as=TokenCreated(**info, token=None),
    )


@router.get("", response_model=Page[TokenInfo])
async def list_tokens(
    session: DbSession, principal: Admin, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[TokenInfo]:
    """Every API token with its principal, never the secret; administrators only."""
    items, next_cursor = await service.list_tokens(session, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404, 409))
async def revoke_token(session: DbSession, principal: Admin, token_id: uuid.UUID) -> Response:
    """Revokes a token at once; administrators only. A token already revoked is a 409."""
    await service.revoke_token(session, principal, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@principals_router.post(
    "", response_model=PrincipalInfo, status_code=status.HTTP_201_CREATED, responses=problems(409)
)
async def create_principal(
    session: DbSession,
    principal: Admin,
    body: PrincipalCreate,
    response: Response,
    idempotent: IdempotencyDep,
) -> PrincipalInfo | Response:
    """A principal without a token, who signs in with OpenID Connect: a JWT from the configured
    provider whose `email` claim matches this email acts with this role and scope."""
    if idempotent.replay is not None:
        return idempotent.replay
    created = service.principal_info(await service.create_principal(session, principal, body))
    return await respond(idempotent, response, created, status_code=status.HTTP_201_CREATED)


@principals_router.get("", response_model=Page[PrincipalInfo])
async def list_principals(
    session: DbSession, principal: Admin, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[PrincipalInfo]:
    """Every principal (the people and machines who may use the API) with their role and
    scope; administrators only."""
    items, next_cursor = await service.list_principals(session, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)
