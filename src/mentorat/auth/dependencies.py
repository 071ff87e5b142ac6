"""FastAPI dependencies: who is calling, and may their role do this."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.oidc import Identity, OidcVerifier, looks_like_jwt
from mentorat.auth.principal import Principal, Role
from mentorat.auth.ratelimit import client_address, limiter_of
from mentorat.auth.tokens import hash_token
from mentorat.errors import Forbidden, InvalidToken, NotAuthenticated
from mentorat.kit.session import DbSession
from mentorat.models import ApiToken, Mentor
from mentorat.models import Principal as PrincipalRow

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="A token from `mentorat tokens create`, or a JWT from the configured"
    " OpenID Connect provider.",
)


async def authenticate(
    request: Request,
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("Send `Authorization: Bearer <token>`.")
    limiter, address = limiter_of(request), client_address(request)
    limiter.check(address)
    token = credentials.credentials
    verifier: OidcVerifier | None = request.app.state.oidc_verifier
    try:
        if verifier is not None and looks_like_jwt(token):
            holder = await _holder_of_identity(session, await verifier.verify(token))
        else:
            holder = await _holder_of_api_token(session, token)
    except InvalidToken:
        limiter.record_failure(address)
        raise
    principal = Principal(
        id=holder.id,
        name=holder.name,
        role=Role(holder.role),
        departement_code=holder.departement_code,
        association_id=holder.association_id,
        mentor_id=holder.mentor_id,
    )
    request.state.principal = principal
    return principal


# A mentor who left (soft-deleted) keeps no access, whichever way they sign in.
_HOLDER_STILL_THERE = or_(PrincipalRow.mentor_id.is_(None), Mentor.deleted_at.is_(None))


async def _holder_of_api_token(session: AsyncSession, token: str) -> PrincipalRow:
    row = (
        await session.execute(
            select(ApiToken.id, PrincipalRow)
            .join(PrincipalRow, PrincipalRow.id == ApiToken.principal_id)
            .outerjoin(Mentor, Mentor.id == PrincipalRow.mentor_id)
            .where(
                ApiToken.token_hash == hash_token(token),
                ApiToken.revoked_at.is_(None),
                or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > func.now()),
                _HOLDER_STILL_THERE,
            )
        )
    ).first()
    if row is None:
        raise InvalidToken("The token is unknown, expired or revoked.")
    token_id, holder = row
    await session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(
                ApiToken.last_used_at.is_(None),
                ApiToken.last_used_at < func.now() - func.make_interval(0, 0, 0, 0, 0, 1),
            ),
        )
        .values(last_used_at=func.now())
    )
    return holder  # type: ignore[no-any-return]


async def _holder_of_identity(session: AsyncSession, identity: Identity) -> PrincipalRow:
    holder = await session.scalar(
        select(PrincipalRow)
        .outerjoin(Mentor, Mentor.id == PrincipalRow.mentor_id)
        .where(func.lower(PrincipalRow.email) == func.lower(identity.email), _HOLDER_STILL_THERE)
    )
    if holder is None:
        raise InvalidToken(
            "The identity provider signed you in, but no principal of this service has your"
            " email; ask an administrator to register it."
        )
    return holder


Authenticated = Annotated[Principal, Depends(authenticate)]


def require(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    allowed = frozenset(roles)

    async def check(principal: Authenticated) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"The role {principal.role.value} may not do this.")
        return principal

    return check


AnyRole = Authenticated
Admin = Annotated[Principal, Depends(require(Role.admin))]
ChildReader = Annotated[
    Principal, Depends(require(Role.admin, Role.departement_manager, Role.educator))
]
ChildWriter = ChildReader
MentorWriter = Annotated[Principal, Depends(require(Role.admin, Role.coordinator))]
AssociationEditor = Annotated[Principal, Depends(require(Role.admin, Role.coordinator))]
AuditReader = Annotated[Principal, Depends(require(Role.admin, Role.departement_manager))]
RunManager = Annotated[Principal, Depends(require(Role.admin, Role.departement_manager))]
RunReader = Annotated[
    Principal, Depends(require(Role.admin, Role.departement_manager, Role.educator))
]
MeetingWriter = Annotated[Principal, Depends(require(Role.admin, Role.coordinator, Role.mentor))]
