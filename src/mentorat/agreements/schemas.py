from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from mentorat.kit.schemas import (
    DepartementCode,
    IsoDate,
    NonEmptyStr,
    ReadSchema,
    Schema,
    UpdateSchema,
)

EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
AgreementDate = Annotated[IsoDate, Field(ge=EARLIEST, le=LATEST)]

ASSOCIATION_ID = "The association that signed it."
DEPARTEMENT = "The département that signed it (its code)."
SIGNED_ON = "When it was signed (ISO date, 2000 or later)."
VALID_FROM = "First day the association's mentors may work in the département under it."
VALID_UNTIL = (
    "Last day it is in force (included), on or after valid_from; null: open-ended. Set it to "
    "end the agreement."
)
DOCUMENT_REFERENCE = "The reference of the signed document (1 to 200 characters); null: none."


def _not_before_valid_from(value: date | None, info: ValidationInfo) -> date | None:
    valid_from = info.data.get("valid_from")
    if value is not None and valid_from is not None and value < valid_from:
        raise ValueError(f"valid_until must be on or after valid_from ({valid_from})")
    return value


class AgreementCreate(Schema):
    """An agreement (convention) between an association and a département."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "association_id": "8b4f2d1e-5c3a-4e7b-9f60-1a2b3c4d5e6f",
                    "departement_code": "53",
                    "signed_on": "2026-06-15",
                    "valid_from": "2026-09-01",
                    "valid_until": "2029-08-31",
                    "document_reference": "CD53-DEF-2026-014",
                }
            ]
        }
    )

    association_id: uuid.UUID = Field(description=ASSOCIATION_ID)
    departement_code: DepartementCode = Field(description=DEPARTEMENT)
    signed_on: AgreementDate = Field(description=SIGNED_ON)
    valid_from: AgreementDate = Field(description=VALID_FROM)
    valid_until: AgreementDate | None = Field(default=None, description=VALID_UNTIL)
    document_reference: NonEmptyStr | None = Field(default=None, description=DOCUMENT_REFERENCE)

    _valid_until = field_validator("valid_until")(_not_before_valid_from)


class AgreementUpdate(UpdateSchema):
    """The fields to change; those left out stay as they are. The association and the
    département of an agreement never change: sign a new one instead."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"valid_until": "2027-08-31"}]})
    nullable_fields = frozenset({"valid_until", "document_reference"})

    signed_on: AgreementDate | None = Field(default=None, description=SIGNED_ON)
    valid_from: AgreementDate | None = Field(default=None, description=VALID_FROM)
    valid_until: AgreementDate | None = Field(default=None, description=VALID_UNTIL)
    document_reference: NonEmptyStr | None = Field(default=None, description=DOCUMENT_REFERENCE)

    _valid_until = field_validator("valid_until")(_not_before_valid_from)


class AssociationAgreement(ReadSchema):
    """An agreement between an association and a département (CASF D221-37): the
    association's mentors are proposed for the département's children only while one is in
    force."""

    id: uuid.UUID = Field(description="The agreement's id.")
    association_id: uuid.UUID = Field(description=ASSOCIATION_ID)
    departement_code: str = Field(description=DEPARTEMENT)
    signed_on: date = Field(description=SIGNED_ON)
    valid_from: date = Field(description=VALID_FROM)
    valid_until: date | None = Field(description=VALID_UNTIL)
    document_reference: str | None = Field(description=DOCUMENT_REFERENCE)
    in_force_today: bool = Field(
        description="Whether it is in force today in the département's time zone."
    )
    version: int = Field(
        description="Incremented on every change; the ETag to send back in If-Match."
    )
    created_at: datetime = Field(description="When the record was created (UTC).")
    updated_at: datetime = Field(description="When the record last changed (UTC).")
