"""Base classes shared by the API schemas."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetJsonSchemaHandler,
    Strict,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from sqlalchemy import inspect

from mentorat.kit.bounds import BoundedDatetime


def contains_nul(value: object) -> bool:
    """Whether a parsed JSON value holds a NUL character, which PostgreSQL text cannot store."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(item) for item in value)
    return False


class Schema(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(from_attributes=True, extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # Checked on every field, nested values included, so it is a 422 and not a 500.
        if contains_nul(value):
            raise ValueError("text must not contain NUL (\\u0000) characters")
        return value


class ReadSchema(BaseModel):
    """Responses, built from ORM rows or dicts holding more than they show."""

    model_config = ConfigDict(from_attributes=True)


class UpdateSchema(Schema):
    """PATCH bodies: every field optional, applied with model_dump(exclude_unset=True).

    An explicit null clears a field only where `nullable_fields` allows it.
    """

    nullable_fields: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # The fields are typed `T | None = None` so that they may be left out; only those in
        # nullable_fields accept an explicit null, and only those say so in the schema.
        schema = handler.resolve_ref_schema(handler(core_schema))
        for name, field_schema in schema.get("properties", {}).items():
            if name not in cls.nullable_fields:
                schema["properties"][name] = _without_null(field_schema)
        schema["minProperties"] = 1  # an empty PATCH is "Nothing to update" (422)
        return schema

    @model_validator(mode="after")
    def _something_to_update(self) -> Self:
        # Refused with the body's other errors, before any If-Match or record is looked at.
        if not self.model_fields_set:
            raise ValueError("Nothing to update.")
        return self

    @field_validator("*")
    @classmethod
    def _no_null_for_required(cls, value: Any, info: ValidationInfo) -> Any:
        # Runs only on fields the caller sent, so the error's loc names the field.
        if value is None and info.field_name not in cls.nullable_fields:
            raise ValueError(f"{info.field_name} cannot be null")
        return value


def _without_null(field_schema: dict[str, Any]) -> dict[str, Any]:
    options = [option for option in field_schema.get("anyOf", []) if option != {"type": "null"}]
    if len(options) != 1 or len(options) == len(field_schema["anyOf"]):
        return field_schema
    rest = {key: value for key, value in field_schema.items() if key not in ("anyOf", "default")}
    return {**options[0], **rest}


def column_values(row: object) -> dict[str, Any]:
    """The mapped column values of an ORM object, as a plain dict (deferred columns, which are
    internal, left out)."""
    mapper = inspect(row).mapper
    return {
        attribute.key: getattr(row, attribute.key)
        for attribute in mapper.column_attrs
        if not attribute.deferred
    }


NonEmptyStr = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(max_length=2000)]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9 .()-]{6,20}$")]
DepartementCode = Annotated[
    str,
    StringConstraints(pattern=r"^(0[1-9]|1[0-9]|2[AB1-9]|[3-8][0-9]|9[0-5]|97[1-6]|[0-9]{2}M)$"),
]


# Strict input: JSON numbers are numbers, booleans are true or false, dates are ISO strings.
# Pydantic's lax mode would take "3" or true for 3, 0 or "yes" for a boolean and 0 for
# 1970-01-01; the body arrives as parsed JSON (validated in Python mode), so `Strict()` is
# right for numbers and booleans, while dates and datetimes (strings in JSON) get a format check.
Number = Annotated[float, Strict()]
Integer = Annotated[int, Strict()]
Flag = Annotated[bool, Strict()]

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}.*")


def _iso_date(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


def _iso_datetime(value: object) -> object:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATETIME.fullmatch(value):
        return value
    raise ValueError("must be a date and time written YYYY-MM-DDTHH:MM[:SS]+HH:MM (RFC 3339)")


def _true_or_false(value: object) -> object:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise ValueError("must be true or false")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
IsoAwareDatetime = Annotated[BoundedDatetime, BeforeValidator(_iso_datetime)]
"""A datetime written in RFC 3339, with its time zone, within the supported range."""
QueryFlag = Annotated[bool, BeforeValidator(_true_or_false)]
"""A boolean query parameter: `true` or `false`, nothing else."""

_JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def _json_number(value: object) -> object:
    if isinstance(value, float | int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _JSON_NUMBER.fullmatch(value):
        return float(value)
    raise ValueError("must be a number written as in JSON (such as 0.25), nothing else")


QueryNumber = Annotated[float, BeforeValidator(_json_number)]
"""A number query parameter written as a JSON number: no `nan`, `inf`, `0x10` or `1_000`."""


def rounded(digits: int) -> AfterValidator:
    """Keeps a number to the precision it is stored with (the column's scale), so 1e-300, which
    no `real` can hold, is 0.0 and not an error deep in a query."""
    return AfterValidator(lambda value: round(value, digits) + 0.0)  # + 0.0: no -0.0


# Numbers leave the API at the precision they carry (scores are computed in float32).
Score = Annotated[float, rounded(4)]
Kilometres = Annotated[float, rounded(2)]
Hours = Annotated[float, rounded(1)]
