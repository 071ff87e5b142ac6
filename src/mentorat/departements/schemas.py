from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from mentorat.kit.schemas import DepartementCode, NonEmptyStr, ReadSchema, Schema, UpdateSchema

CODE = "Code of the département, such as 53, 2A, 974 or 69M (Métropole de Lyon)."
NAME = "The département's name."


class DepartementCreate(Schema):
    """A département using the service (administrators only)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "53", "name": "Mayenne"}]})

    code: DepartementCode = Field(description=CODE)
    name: NonEmptyStr = Field(description=NAME)


class DepartementUpdate(UpdateSchema):
    """The new name."""

    name: NonEmptyStr = Field(description=NAME)


class Departement(ReadSchema):
    """A département using the service."""

    code: str = Field(description=CODE)
    name: str = Field(description=NAME)
    created_at: datetime = Field(description="When the record was created (UTC).")
    updated_at: datetime = Field(description="When the record last changed (UTC).")
