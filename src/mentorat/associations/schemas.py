from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator, ConfigDict, Field

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

DepartementCodes = Annotated[
    list[DepartementCode],
    Field(
        min_length=1,
        max_length=110,
        description="Codes of the départements the association serves (its mentors may be "
        "matched with their children).",
    ),
]


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


CONTACT_NAME = "Name of the association's contact person; null: none."
CONTACT_EMAIL = "The contact's email; null: none."
CONTACT_PHONE = "The contact's phone number; null: none."


class AssociationCreate(Schema):
    """A mentoring association (administrators only)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Parrainage Mayenne",
                    "departements": ["53"],
                    "contact_name": "Martine Lebreton",
                    "contact_email": "contact@parrainage-mayenne.example.fr",
                    "contact_phone": "02 43 00 00 00",
                }
            ]
        }
    )

    name: AssociationName
    departements: DepartementCodes
    contact_name: NonEmptyStr | None = Field(default=None, description=CONTACT_NAME)
    contact_email: Email | None = Field(default=None, description=CONTACT_EMAIL)
    contact_phone: Phone | None = Field(default=None, description=CONTACT_PHONE)


class AssociationUpdate(UpdateSchema):
    """The fields to change; those left out stay as they are."""

    nullable_fields = frozenset({"contact_name", "contact_email", "contact_phone"})

    name: AssociationName | None = None
    departements: DepartementCodes | None = None
    contact_name: NonEmptyStr | None = Field(default=None, description=CONTACT_NAME)
    contact_email: Email | None = Field(default=None, description=CONTACT_EMAIL)
    contact_phone: Phone | None = Field(default=None, description=CONTACT_PHONE)


class Association(ReadSchema):
    """A mentoring association and the départements it serves."""

    id: uuid.UUID = Field(description="The association's id.")
    name: str = Field(description="The association's name (unique).")
    departements: list[str] = Field(description="Codes of the départements it serves.")
    contact_name: str | None = Field(description=CONTACT_NAME)
    contact_email: str | None = Field(description=CONTACT_EMAIL)
    contact_phone: str | None = Field(description=CONTACT_PHONE)
    version: int = Field(
        description="Incremented on every change; the ETag to send back in If-Match."
    )
    created_at: datetime = Field(description="When the record was created (UTC).")
    updated_at: datetime = Field(description="When the record last changed (UTC).")
