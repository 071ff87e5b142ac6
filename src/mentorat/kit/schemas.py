"""Base classes shared by the API schemas."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from sqlalchemy import inspect


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

    @field_validator("*")
    @classmethod
    def _no_null_for_required(cls, value: Any, info: ValidationInfo) -> Any:
        # Runs only on fields the caller sent, so the error's loc names the field.
        if value is None and info.field_name not in cls.nullable_fields:
            raise ValueError(f"{info.field_name} cannot be null")
        return value


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


def _rounded(digits: int) -> AfterValidator:
    return AfterValidator(lambda value: round(value, digits))


# Numbers leave the API at the precision they carry (scores are computed in float32).
Score = Annotated[float, _rounded(4)]
Kilometres = Annotated[float, _rounded(2)]
Hours = Annotated[float, _rounded(1)]
