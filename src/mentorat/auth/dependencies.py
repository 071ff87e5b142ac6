"""FastAPI dependencies: who is calling, and may their role do this."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Row, Select, bindparam, func, or_, select, text, update

from mentorat.auth.oidc import OidcVerifier, looks_like_jwt
from mentorat.auth.principal import Principal, Role
from mentorat.auth.ratelimit import client_address, limiter_of
from mentorat.auth.tokens import hash_token
from mentorat.errors import Forbidden, InvalidToken, NotAuthenticated
from mentorat.kit.session import get_database
from mentorat.models import ApiToken, Mentor
from mentorat.models import Principal as PrincipalRow

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="A token from `mentorat tokens create`, or a JWT from the configured"
    " OpenID Connect provider.",
)


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The caller, found by one statement on a session of its own (not the request's: a read
    then needs no transaction, and a write's transaction holds only the write)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("Send `Authorization: Bearer <token>`.")
    limiter, address = limiter_of(request), client_address(request)
    limiter.check(address)
    token = credentials.credentials
    verifier: OidcVerifier | None = request.app.state.oidc_verifier
    try:
        if verifier is not None and looks_like_jwt(token):
            identity = await verifier.verify(token)
            holder = await _holder(request, HOLDER_OF_IDENTITY, {"email": identity.email})
            if holder is None:
                raise InvalidToken(
                    "The identity provider signed you in, but no principal of this service has"
                    " your email; ask an administrator to register it."
                )
        else:
            holder = await _holder(request, HOLDER_OF_TOKEN, {"bearer_hash": hash_token(token)})
            if holder is None:
                raise InvalidToken("The token is unknown, expired or revoked.")
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


async def _holder(
    request: Request, statement: Select[Any], parameters: dict[str, Any]
) -> Row[Any] | None:
    async with get_database(request).statement_sessionmaker()() as session:
        holder = (await session.execute(statement, parameters)).first()
        await session.commit()  # the last-use touch; nothing to send outside a test
    return holder


# A mentor who left (soft-deleted) keeps no access, whichever way they sign in.
_HOLDER_STILL_THERE = or_(PrincipalRow.mentor_id.is_(None), Mentor.deleted_at.is_(None))
_HOLDER_COLUMNS = (
    PrincipalRow.id,
    PrincipalRow.name,
    PrincipalRow.role,
    PrincipalRow.departement_code,
    PrincipalRow.association_id,
    PrincipalRow.mentor_id,
)
# last_used_at says when a token was last used, to this precision: touching it on every
# request would make every read a write.
LAST_USE_PRECISION = text("interval '1 minute'")

_token_holder = (
    select(ApiToken.id.label("token_id"), ApiToken.last_used_at, *_HOLDER_COLUMNS)
    .join(PrincipalRow, PrincipalRow.id == ApiToken.principal_id)
    .outerjoin(Mentor, Mentor.id == PrincipalRow.mentor_id)
    .where(
        ApiToken.token_hash == bindparam("bearer_hash"),
        ApiToken.revoked_at.is_(None),
        or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > func.now()),
        _HOLDER_STILL_THERE,
    )
    .cte("token_holder")
)
_last_use = (
    update(ApiToken)
    .where(
        ApiToken.id == _token_holder.c.token_id,
        or_(
            _token_holder.c.last_used_at.is_(None),
            _token_holder.c.last_used_at < func.now() - LAST_USE_PRECISION,
        ),
    )
    .values(last_used_at=func.now())
    .returning(ApiToken.id)
    .cte("last_use")
)
# One statement, one round trip: the holder of a valid token, and its last use recorded.
HOLDER_OF_TOKEN = select(*(_token_holder.c[column.key] for column in _HOLDER_COLUMNS)).add_cte(
    _last_use
)
HOLDER_OF_IDENTITY = (
    select(*_HOLDER_COLUMNS)
    .outerjoin(Mentor, Mentor.id == PrincipalRow.mentor_id)
    .where(func.lower(PrincipalRow.email) == func.lower(bindparam("email")), _HOLDER_STILL_THERE)
)


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
