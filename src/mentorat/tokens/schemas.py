from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Self

from pydantic import Field, field_validator, model_validator

from mentorat.auth.principal import Role
from mentorat.kit.schemas import (
    DepartementCode,
    Email,
    IsoAwareDatetime,
    NonEmptyStr,
    ReadSchema,
    Schema,
)


class PrincipalFields(Schema):
    """Who someone is to us: a name, a role, the scope the role takes, and maybe an email."""

    name: NonEmptyStr
    role: Role
    departement_code: DepartementCode | None = None
    association_id: uuid.UUID | None = None
    mentor_id: uuid.UUID | None = None
    email: Email | None = Field(
        default=None,
        description="Signs in with OpenID Connect: a JWT whose `email` claim matches it"
        " (case-insensitively) acts as this principal. Unique.",
    )

    @model_validator(mode="after")
    def _scope_matches_role(self) -> Self:
        needed = {
            Role.admin: set(),
            Role.departement_manager: {"departement_code"},
            Role.educator: {"departement_code"},
            Role.coordinator: {"association_id"},
            Role.mentor: {"mentor_id"},
        }[self.role]
        given = {
            field
            for field in ("departement_code", "association_id", "mentor_id")
            if getattr(self, field) is not None
        }
        if given != needed:
            wanted = ", ".join(sorted(needed)) or "no scope"
            raise ValueError(f"the role {self.role.value} takes {wanted}")
        return self


class PrincipalCreate(PrincipalFields):
    """A principal without a token, who signs in with OpenID Connect only."""

    email: Email = Field(
        description="The email the identity provider puts in its tokens' `email` claim. Unique."
    )


class PrincipalInfo(ReadSchema):
    id: uuid.UUID
    name: str
    role: Role
    departement_code: str | None
    association_id: uuid.UUID | None
    mentor_id: uuid.UUID | None
    email: str | None
    created_at: datetime


class TokenCreate(PrincipalFields):
    expires_at: IsoAwareDatetime | None = None

    @field_validator("expires_at")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        # 9999-12-31T23:59-14:00 is a valid input but no instant PostgreSQL can store.
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError("expires_at is out of range") from None


class TokenInfo(ReadSchema):
    id: uuid.UUID
    prefix: str
    principal_id: uuid.UUID
    name: str
    role: Role
    departement_code: str | None
    association_id: uuid.UUID | None
    mentor_id: uuid.UUID | None
    email: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenInfo):
    token: str | None = Field(
        description="The token, shown in this answer only; null when the answer is replayed for"
        " a retried `Idempotency-Key` (the token itself is never stored)."
    )
