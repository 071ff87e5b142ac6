"""Building spreadsheets for the tests and sending them."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from openpyxl import Workbook, load_workbook

from mentorat.spreadsheets.reading import XLSX_MEDIA_TYPE

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CSV = "text/csv"
XLSX = XLSX_MEDIA_TYPE

CHILD_HEADER = [
    "reference", "first_name", "birth_date", "school_level", "college_entry_year", "commune",
    "postcode", "latitude", "longitude", "goals", "availability", "mentor_gender_preference",
    "languages", "remote_ok", "referent_educator",
]  # fmt: skip


def child_row(reference: str, **overrides: str) -> list[str]:
    values = {
        "reference": reference,
        "first_name": "Léa",
        "birth_date": "2014-09-02",
        "school_level": "cm2",
        "college_entry_year": "2026",
        "commune": "Laval",
        "postcode": "53000",
        "latitude": "48.0707",
        "longitude": "-0.7734",
        "goals": "orientation, confiance",
        "availability": "mercredi 14:00-17:00",
        "mentor_gender_preference": "",
        "languages": "fr",
        "remote_ok": "non",
        "referent_educator": "",
        **overrides,
    }
    return [values[name] for name in CHILD_HEADER]


def csv_bytes(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    delimiter: str = ";",
    encoding: str = "utf-8",
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_csv(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def read_xlsx(content: bytes) -> list[list[Any]]:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


async def upload(
    client: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    content: bytes,
    media_type: str = CSV,
    **params: Any,
) -> httpx.Response:
    return await client.post(
        path,
        params=params,
        content=content,
        headers={**headers, "Content-Type": media_type},
    )
