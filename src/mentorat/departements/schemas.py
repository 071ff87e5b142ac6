from __future__ import annotations

from datetime import datetime

from mentorat.kit.schemas import DepartementCode, NonEmptyStr, ReadSchema, Schema, UpdateSchema


class DepartementCreate(Schema):
    code: DepartementCode
    name: NonEmptyStr


class DepartementUpdate(UpdateSchema):
    name: NonEmptyStr


class Departement(ReadSchema):
    code: str
    name: str
    created_at: datetime
    updated_at: datetime
