from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Self

from pydantic import ConfigDict, Field, field_validator, model_validator

from mentorat.auth.principal import Role
from mentorat.kit.schemas import (
    DepartementCode,
    Email,
    IsoAwareDatetime,
    NonEmptyStr,
    ReadSchema,
    Schema,
)

NAME = "The person's (or the machine's) name, as shown in audit trails."
ROLE = (
    "admin; departement_manager and educator (scoped to a département); coordinator (to an "
    "association); mentor (to themself)."
)
DEPARTEMENT_SCOPE = "The département of a departement_manager or an educator; null otherwise."
ASSOCIATION_SCOPE = "The association of a coordinator; null otherwise."
MENTOR_SCOPE = "The mentor a mentor principal is; null otherwise."
EMAIL = "Email matched against OpenID Connect tokens' `email` claim; null: API tokens only."
PRINCIPAL_ID = "The principal's id."
CREATED_AT = "When it was created (UTC)."


class PrincipalFields(Schema):
    """Who someone is to us: a name, a role, the scope the role takes, and maybe an email."""

    name: NonEmptyStr = Field(description=NAME)
    role: Role = Field(description=ROLE)
    departement_code: DepartementCode | None = Field(
        default=None, description="Required for departement_manager and educator, else absent."
    )
    association_id: uuid.UUID | None = Field(
        default=None, description="Required for coordinator, else absent."
    )
    mentor_id: uuid.UUID | None = Field(
        default=None, description="Required for mentor (the mentor's id), else absent."
    )
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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Aline Chevreau",
                    "role": "educator",
                    "departement_code": "53",
                    "email": "aline.chevreau@departement53.fr",
                }
            ]
        }
    )

    email: Email = Field(
        description="The email the identity provider puts in its tokens' `email` claim. Unique."
    )


class PrincipalInfo(ReadSchema):
    """Someone who may use the API, with their role and scope."""

    id: uuid.UUID = Field(description=PRINCIPAL_ID)
    name: str = Field(description=NAME)
    role: Role = Field(description=ROLE)
    departement_code: str | None = Field(description=DEPARTEMENT_SCOPE)
    association_id: uuid.UUID | None = Field(description=ASSOCIATION_SCOPE)
    mentor_id: uuid.UUID | None = Field(description=MENTOR_SCOPE)
    email: str | None = Field(description=EMAIL)
    created_at: datetime = Field(description=CREATED_AT)


class TokenCreate(PrincipalFields):
    """A new principal and its API token (for machines and batch jobs)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Nightly export, Mayenne",
                    "role": "departement_manager",
                    "departement_code": "53",
                    "expires_at": "2027-06-30T23:59:59+02:00",
                }
            ]
        }
    )

    expires_at: IsoAwareDatetime | None = Field(
        default=None,
        description="When the token stops working (RFC 3339 with a time zone, stored in UTC); "
        "null: never.",
    )

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
    """An API token and its principal; never the secret."""

    id: uuid.UUID = Field(description="The token's id.")
    prefix: str = Field(
        description="The token's first 10 characters (mnt_ and 6 more), to tell it."
    )
    principal_id: uuid.UUID = Field(description="The principal the token acts as.")
    name: str = Field(description=NAME)
    role: Role = Field(description=ROLE)
    departement_code: str | None = Field(description=DEPARTEMENT_SCOPE)
    association_id: uuid.UUID | None = Field(description=ASSOCIATION_SCOPE)
    mentor_id: uuid.UUID | None = Field(description=MENTOR_SCOPE)
    email: str | None = Field(description=EMAIL)
    created_at: datetime = Field(description=CREATED_AT)
    expires_at: datetime | None = Field(description="When the token stops working; null: never.")
    revoked_at: datetime | None = Field(description="When it was revoked; null: not revoked.")
    last_used_at: datetime | None = Field(
        description="When it last authenticated a request (to the minute); null: never used."
    )


class TokenCreated(TokenInfo):
    """The new token, with its secret: shown in this answer only, never again."""

    token: str | None = Field(
        description="The secret bearer token (mnt_...), shown in this answer only; null when"
        " the answer is replayed for a retried `Idempotency-Key` (it is never stored)."
    )
