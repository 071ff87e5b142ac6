from __future__ import annotations

from pydantic import Field

from mentorat.kit.schemas import ReadSchema


class RowProblem(ReadSchema):
    """One problem found in an imported file."""

    row: int = Field(description="Spreadsheet row number; the header is row 1.")
    column: str | None = Field(
        description="The column's header; null when the problem is the whole row's."
    )
    problem: str = Field(description="What is wrong, in one sentence.")


class ImportReport(ReadSchema):
    """What an import did (or, on a dry run or with invalid rows, would do)."""

    dry_run: bool = Field(description="Whether this was a dry run.")
    written: bool = Field(description="Whether the file was written (never on a dry run).")
    rows: int = Field(description="Data rows read (blank rows left out).")
    created: int = Field(description="Rows with a new reference: records created.")
    updated: int = Field(description="Rows whose record changed: records updated.")
    unchanged: int = Field(description="Rows identical to their stored record.")
    invalid: int = Field(description="Rows with at least one problem.")
    problems: list[RowProblem] = Field(description="At most 1,000, in row order.")
    problems_truncated: bool = Field(
        default=False, description="Whether problems were left out past the first 1,000."
    )
