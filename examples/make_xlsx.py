"""Writes examples/mentors.xlsx from examples/mentors.csv: the same mentors as a workbook.

Run it with `.venv/bin/python examples/make_xlsx.py`.
"""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent


def main() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Bénévoles"
    with (HERE / "mentors.csv").open(encoding="utf-8", newline="") as file:
        for row in csv.reader(file):
            sheet.append(row)
    workbook.save(HERE / "mentors.xlsx")


if __name__ == "__main__":
    main()
