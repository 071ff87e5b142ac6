from __future__ import annotations

from pydantic import Field

from mentorat.kit.schemas import ReadSchema


class RowProblem(ReadSchema):
    row: int = Field(description="Spreadsheet row number; the header is row 1.")
    column: str | None
    problem: str


class ImportReport(ReadSchema):
    dry_run: bool
    written: bool = Field(description="Whether the file was written (never on a dry run).")
    rows: int = Field(description="Data rows read (blank rows left out).")
    created: int
    updated: int
    unchanged: int
    invalid: int = Field(description="Rows with at least one problem.")
    problems: list[RowProblem] = Field(description="At most 1,000, in row order.")
    problems_truncated: bool = False
