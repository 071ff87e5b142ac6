"""Uploaded bytes to a header and rows of cell texts: CSV (UTF-8 or Windows-1252, `;` `,` or
tab separated) or XLSX (the first sheet)."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from mentorat.errors import InvalidInput, PayloadTooLarge

CSV_MEDIA_TYPE = "text/csv"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPES = frozenset({CSV_MEDIA_TYPE, "application/csv", "text/plain"})
DELIMITERS = (";", ",", "\t")


@dataclass(frozen=True, slots=True)
class Sheet:
    header: list[str]
    # (spreadsheet row number, the header being row 1; cell texts), blank rows left out
    rows: list[tuple[int, list[str]]]


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252, as French spreadsheets save CSV."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise InvalidInput(
            "The file is neither UTF-8 nor Windows-1252 text.", field=("body",)
        ) from None


def _delimiter(header_line: str) -> str:
    return max(DELIMITERS, key=header_line.count)


def _limited(rows: list[tuple[int, list[str]]], number: int, max_rows: int) -> None:
    if len(rows) > max_rows:
        raise PayloadTooLarge(f"The file has more than {max_rows} rows (row {number}).")


def read_csv(data: bytes, *, max_rows: int) -> Sheet:
    content = decode(data)
    if "\x00" in content:
        raise InvalidInput("The file holds NUL characters: is it really CSV?", field=("body",))
    first_line, _, rest = content.partition("\n")
    delimiter = _delimiter(first_line)
    # Excel's `sep=;` line (which Excel itself does not show) names the separator.
    if first_line.strip().lower().startswith("sep=") and len(first_line.strip()) == 5:
        delimiter, content = first_line.strip()[4], rest
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            raise InvalidInput("The file is empty.", field=("body",))
        rows: list[tuple[int, list[str]]] = []
        for number, cells in enumerate(reader, start=2):
            if any(cell.strip() for cell in cells):
                rows.append((number, cells))
                _limited(rows, number, max_rows)
    except csv.Error as error:
        raise InvalidInput(f"Unreadable CSV: {error}.", field=("body",)) from None
    return Sheet(header=header, rows=rows)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx(data: bytes, *, max_rows: int) -> Sheet:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
        raise InvalidInput("Not a readable XLSX workbook.", field=("body",)) from None
    try:
        values = workbook.worksheets[0].iter_rows(values_only=True)
        first = next(values, None)
        if first is None:
            raise InvalidInput("The workbook's first sheet is empty.", field=("body",))
        header = [_cell_text(value) for value in first]
        while header and not header[-1].strip():
            header.pop()
        rows: list[tuple[int, list[str]]] = []
        for number, row in enumerate(values, start=2):
            cells = [_cell_text(value) for value in row[: len(header)]]
            if any(cell.strip() for cell in cells):
                rows.append((number, cells))
                _limited(rows, number, max_rows)
    finally:
        workbook.close()
    return Sheet(header=header, rows=rows)


def read(data: bytes, media_type: str, *, max_rows: int) -> Sheet:
    if media_type == XLSX_MEDIA_TYPE:
        return read_xlsx(data, max_rows=max_rows)
    return read_csv(data, max_rows=max_rows)
