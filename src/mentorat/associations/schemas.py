from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator, Field

from mentorat.kit.schemas import (
    DepartementCode,
    Email,
    NonEmptyStr,
    Phone,
    ReadSchema,
    Schema,
    UpdateSchema,
)
from mentorat.kit.text import clean_name

DepartementCodes = Annotated[list[DepartementCode], Field(min_length=1, max_length=110)]


def _clean(value: object) -> object:
    return clean_name(value) if isinstance(value, str) else value


AssociationName = Annotated[
    NonEmptyStr,
    BeforeValidator(_clean),
    Field(
        description="Unique, compared ignoring case, Unicode form, spacing and invisible "
        "characters; stored without invisible characters."
    ),
]


class AssociationCreate(Schema):
    name: AssociationName
    departements: DepartementCodes
    contact_name: NonEmptyStr | None = None
    contact_email: Email | None = None
    contact_phone: Phone | None = None


class AssociationUpdate(UpdateSchema):
    nullable_fields = frozenset({"contact_name", "contact_email", "contact_phone"})

    name: AssociationName | None = None
    departements: DepartementCodes | None = None
    contact_name: NonEmptyStr | None = None
    contact_email: Email | None = None
    contact_phone: Phone | None = None


class Association(ReadSchema):
    id: uuid.UUID
    name: str
    departements: list[str]
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None
    version: int
    created_at: datetime
    updated_at: datetime
