"""A read schema as spreadsheet columns: nested objects become `parent.field` columns, lists of
codes a `a, b` cell, booleans `oui` / `non`. The rows come from the same views as the JSON, so
an export shows exactly what the caller sees there."""

from __future__ import annotations

import json
import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from mentorat.spreadsheets.cells import format_boolean


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if get_origin(annotation) in (Union, types.UnionType):
        models = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _nested_model(models[0]) if len(models) == 1 else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def columns_of(model: type[BaseModel], prefix: str = "") -> list[str]:
    names: list[str] = []
    for name, field in model.model_fields.items():
        nested = _nested_model(field.annotation)
        if nested is not None:
            names.extend(columns_of(nested, f"{prefix}{name}."))
        else:
            names.append(prefix + name)
    return names


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return format_boolean(value)
    if isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def cells_of(dumped: dict[str, Any], columns: list[str]) -> list[str]:
    """`dumped` is a schema's model_dump(mode="json")."""
    row = []
    for column in columns:
        value: Any = dumped
        for part in column.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        row.append(_cell(value))
    return row
