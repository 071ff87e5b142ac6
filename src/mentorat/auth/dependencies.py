"""FastAPI dependencies: who is calling, and may their role do this."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import func, or_, select, update

from mentorat.auth.principal import Principal, Role
from mentorat.auth.ratelimit import client_address, limiter_of
from mentorat.auth.tokens import hash_token
from mentorat.errors import Forbidden, NotAuthenticated
from mentorat.kit.session import DbSession
from mentorat.models import ApiToken, Mentor
from mentorat.models import Principal as PrincipalRow

bearer_scheme = HTTPBearer(auto_error=False, description="A token from `mentorat tokens create`.")


async def authenticate(
    request: Request,
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("Send `Authorization: Bearer <token>`.")
    limiter, address = limiter_of(request), client_address(request)
    limiter.check(address)
    row = (
        await session.execute(
            select(ApiToken.id, PrincipalRow)
            .join(PrincipalRow, PrincipalRow.id == ApiToken.principal_id)
            .outerjoin(Mentor, Mentor.id == PrincipalRow.mentor_id)
            .where(
                ApiToken.token_hash == hash_token(credentials.credentials),
                ApiToken.revoked_at.is_(None),
                or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > func.now()),
                # A mentor who left (soft-deleted) keeps no access.
                or_(PrincipalRow.mentor_id.is_(None), Mentor.deleted_at.is_(None)),
            )
        )
    ).first()
    if row is None:
        limiter.record_failure(address)
        raise NotAuthenticated("The token is unknown, expired or revoked.")
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
