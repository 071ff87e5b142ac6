from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.audit.service import record
from mentorat.auth.principal import Principal, Role
from mentorat.auth.tokens import display_prefix, hash_token, new_token
from mentorat.errors import Conflict, InvalidInput, NotFound
from mentorat.kit.pagination import paginate
from mentorat.kit.repository import flush
from mentorat.models import ApiToken, Association, Departement, Mentor
from mentorat.models import Principal as PrincipalRow
from mentorat.tokens.schemas import (
    PrincipalCreate,
    PrincipalFields,
    PrincipalInfo,
    TokenCreate,
    TokenInfo,
)


def token_info(token: ApiToken, holder: PrincipalRow) -> TokenInfo:
    return TokenInfo(
        id=token.id,
        prefix=token.prefix,
        principal_id=holder.id,
        name=holder.name,
        role=Role(holder.role),
        departement_code=holder.departement_code,
        association_id=holder.association_id,
        mentor_id=holder.mentor_id,
        email=holder.email,
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
    )


def principal_info(holder: PrincipalRow) -> PrincipalInfo:
    return PrincipalInfo.model_validate(holder)


async def _check_scope_exists(session: AsyncSession, data: PrincipalFields) -> None:
    checks = (
        (data.departement_code, Departement, "departement_code"),
        (data.association_id, Association, "association_id"),
        (data.mentor_id, Mentor, "mentor_id"),
    )
    for key, model, field in checks:
        found = await session.get(model, key) if key is not None else None
        if key is not None and (found is None or getattr(found, "deleted_at", None) is not None):
            raise InvalidInput(
                f"No such {field.removesuffix('_id').removesuffix('_code')}.", field=("body", field)
            )


async def _new_principal(session: AsyncSession, data: PrincipalFields) -> PrincipalRow:
    await _check_scope_exists(session, data)
    holder = PrincipalRow(
        name=data.name,
        role=data.role.value,
        departement_code=data.departement_code,
        association_id=data.association_id,
        mentor_id=data.mentor_id,
        email=data.email,
    )
    session.add(holder)
    await flush(session, conflict="A principal already has this email.")
    return holder


async def create_principal(
    session: AsyncSession, creator: Principal | None, data: PrincipalCreate
) -> PrincipalRow:
    """A principal without a token: it signs in with OpenID Connect, through its email."""
    holder = await _new_principal(session, data)
    await record(
        session,
        creator,
        "create",
        "principal",
        [holder.id],
        departement_code=data.departement_code,
        details={"role": data.role.value},
    )
    return holder


async def list_principals(
    session: AsyncSession, *, limit: int, cursor: str | None
) -> tuple[list[PrincipalInfo], str | None]:
    holders, next_cursor = await paginate(
        session,
        select(PrincipalRow),
        [PrincipalRow.created_at, PrincipalRow.id],
        limit=limit,
        cursor=cursor,
        scope="principals",
    )
    return [principal_info(holder) for holder in holders], next_cursor


async def create_token(
    session: AsyncSession, creator: Principal | None, data: TokenCreate
) -> tuple[str, ApiToken, PrincipalRow]:
    """A new principal with its first token; the token itself is returned once, never stored."""
    if data.expires_at is not None and data.expires_at <= datetime.now(UTC):
        raise InvalidInput("expires_at must be in the future.", field=("body", "expires_at"))
    holder = await _new_principal(session, data)
    secret = new_token()
    token = ApiToken(
        principal_id=holder.id,
        token_hash=hash_token(secret),
        prefix=display_prefix(secret),
        expires_at=data.expires_at,
    )
    session.add(token)
    await flush(session)
    await record(
        session,
        creator,
        "create",
        "api_token",
        [token.id],
        departement_code=data.departement_code,
        details={"role": data.role.value, "principal_id": str(holder.id)},
    )
    return secret, token, holder


async def list_tokens(
    session: AsyncSession, *, limit: int, cursor: str | None
) -> tuple[list[TokenInfo], str | None]:
    tokens, next_cursor = await paginate(
        session, select(ApiToken), [ApiToken.created_at, ApiToken.id], limit=limit, cursor=cursor,
        scope="tokens",
    )  # fmt: skip
    holders = {
        holder.id: holder
        for holder in await session.scalars(
            select(PrincipalRow).where(
                PrincipalRow.id.in_({token.principal_id for token in tokens})
            )
        )
    }
    return [token_info(token, holders[token.principal_id]) for token in tokens], next_cursor


async def revoke_token(session: AsyncSession, principal: Principal, token_id: uuid.UUID) -> None:
    token = await session.scalar(select(ApiToken).where(ApiToken.id == token_id).with_for_update())
    if token is None:
        raise NotFound("No such token.")
    if token.revoked_at is not None:
        raise Conflict("The token is already revoked.")
    token.revoked_at = datetime.now(UTC)
    await flush(session)
    await record(session, principal, "revoke", "api_token", [token_id])
