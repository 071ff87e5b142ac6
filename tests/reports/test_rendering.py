"""Content negotiation and the three renderings of a report, without a database."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure
from pydantic import BaseModel

from mentorat.errors import NotAcceptable
from mentorat.reports.rendering import ReportFormat, csv_bytes, negotiate, render, svg_bytes


class TestNegotiate:
    @pytest.mark.parametrize(
        ("accept", "expected"),
        [
            (None, ReportFormat.json),
            ("", ReportFormat.json),
            ("*/*", ReportFormat.json),
            ("application/json", ReportFormat.json),
            ("text/csv", ReportFormat.csv),
            ("TEXT/CSV; charset=utf-8", ReportFormat.csv),
            ("image/svg+xml", ReportFormat.svg),
            ("image/*", ReportFormat.svg),
            ("text/*;q=0.5, image/svg+xml;q=0.4", ReportFormat.csv),
            ("application/json;q=0.1, text/csv", ReportFormat.csv),
            ("text/html, */*;q=0.8", ReportFormat.json),
            ("*/*;q=0.5, image/svg+xml", ReportFormat.svg),
            ("*/*, application/json;q=0", ReportFormat.csv),
        ],
    )
    def test_picks_the_preferred_format(self, accept: str | None, expected: ReportFormat) -> None:
        assert negotiate(accept) is expected

    @pytest.mark.parametrize(
        "accept", ["text/html", "application/xml", "image/png", "image/*;q=0", "nonsense"]
    )
    def test_nothing_acceptable_is_406(self, accept: str) -> None:
        with pytest.raises(NotAcceptable) as raised:
            negotiate(accept)
        assert raised.value.status == 406


class _Report(BaseModel):
    count: int


def _draw(figure: Figure) -> None:
    axes = figure.add_subplot()
    axes.bar(["eligible", "assessed"], [3, 2])
    axes.set_title("Funnel of the year")


class TestRender:
    def test_csv_is_semicolon_separated_with_bom(self) -> None:
        body = csv_bytes(["stage", "count"], [["eligible", 3], ["note", None]])
        assert body == b"\xef\xbb\xbfstage;count\r\neligible;3\r\nnote;\r\n"

    def test_svg_is_reproducible_and_keeps_text(self) -> None:
        first, second = svg_bytes(_draw), svg_bytes(_draw)
        assert first == second
        assert first.lstrip().startswith(b"<?xml")
        assert b"<svg" in first
        assert b"Funnel of the year" in first

    async def test_each_format_has_its_media_type(self) -> None:
        report = _Report(count=3)

        def rows() -> tuple[list[str], list[list[int]]]:
            return ["count"], [[3]]

        as_json = await render(None, report, rows, _draw, filename="r")
        as_csv = await render("text/csv", report, rows, _draw, filename="r")
        as_svg = await render("image/svg+xml", report, rows, _draw, filename="r")
        assert (as_json.media_type, as_json.body) == ("application/json", b'{"count":3}')
        assert as_csv.media_type == "text/csv; charset=utf-8"
        assert as_csv.body == b"\xef\xbb\xbfcount\r\n3\r\n"
        assert as_svg.media_type == "image/svg+xml"
        assert as_svg.headers["content-disposition"] == 'inline; filename="r.svg"'
