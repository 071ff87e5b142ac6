"""Import uploads: the raw file as the request body, its Content-Type saying which format."""

from __future__ import annotations

from typing import Any

from mentorat.errors import UnsupportedMediaType
from mentorat.spreadsheets.reading import CSV_MEDIA_TYPE, CSV_MEDIA_TYPES, XLSX_MEDIA_TYPE

IMPORT_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file itself as the body: CSV (UTF-8 or Windows-1252; `;`, `,` or "
        "tab separated) or XLSX (first sheet). Header on the first row; see the README for "
        "the columns.",
        "content": {
            CSV_MEDIA_TYPE: {"schema": {"type": "string"}},
            XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def upload_media_type(content_type: str | None) -> str:
    """The format a Content-Type names, or a 415."""
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    if declared in CSV_MEDIA_TYPES:
        return CSV_MEDIA_TYPE
    if declared == XLSX_MEDIA_TYPE:
        return XLSX_MEDIA_TYPE
    raise UnsupportedMediaType(
        f"Send the file as the body with Content-Type {CSV_MEDIA_TYPE} or {XLSX_MEDIA_TYPE}."
    )
