"""Content negotiation for reports: JSON (default), CSV or an SVG chart drawn by matplotlib.

matplotlib is imported only when a chart is asked for, so the app starts without it. The
figure is drawn on an explicit SVG canvas (no pyplot, no global backend): the result does
not depend on `MPLBACKEND` and drawing is safe in a worker thread.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

import anyio
from fastapi import Response
from pydantic import BaseModel

from mentorat.errors import NotAcceptable
from mentorat.kit.problems import PROBLEM_MEDIA_TYPE, Problem

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class ReportFormat(StrEnum):
    json = "json"
    csv = "csv"
    svg = "svg"


MEDIA_TYPES: dict[ReportFormat, str] = {
    ReportFormat.json: "application/json",
    ReportFormat.csv: "text/csv",
    ReportFormat.svg: "image/svg+xml",
}
# Served media types, in the order preferred when the client likes several equally.
_OFFERED = tuple(MEDIA_TYPES.items())

CsvRows = tuple[Sequence[str], Iterable[Sequence[Any]]]
ChartDrawer = Callable[["Figure"], None]


@dataclass(frozen=True, slots=True)
class _MediaRange:
    type: str
    subtype: str
    quality: float

    def specificity(self, media_type: str) -> int | None:
        """How precisely this range names `media_type` (2 exact, 1 `type/*`, 0 `*/*`), or
        None when it does not cover it."""
        wanted_type, wanted_subtype = media_type.split("/")
        if self.type == "*" and self.subtype == "*":
            return 0
        if self.type != wanted_type:
            return None
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == wanted_subtype else None


def _media_ranges(accept: str) -> list[_MediaRange]:
    ranges = []
    for part in accept.split(","):
        media_range, *parameters = (piece.strip() for piece in part.split(";"))
        if "/" not in media_range:
            continue
        type_, _, subtype = media_range.lower().partition("/")
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        ranges.append(_MediaRange(type_.strip(), subtype.strip(), quality))
    return ranges


def negotiate(accept: str | None) -> ReportFormat:
    """The format to answer in (RFC 9110 §12.5.1: the most specific range that matches a
    media type gives its quality; the highest quality wins, JSON first on a tie).

    No Accept header (or an empty one) is JSON; a header that accepts none of the three is a
    406 problem."""
    if accept is None or not accept.strip():
        return ReportFormat.json
    ranges = _media_ranges(accept)
    best: tuple[float, ReportFormat] | None = None
    for fmt, media_type in _OFFERED:
        matches = [
            (specificity, media_range.quality)
            for media_range in ranges
            if (specificity := media_range.specificity(media_type)) is not None
        ]
        if not matches:
            continue
        quality = max(matches)[1]
        if quality > 0 and (best is None or quality > best[0]):
            best = (quality, fmt)
    if best is None:
        offered = ", ".join(MEDIA_TYPES.values())
        raise NotAcceptable(f"This report is served as {offered}; the Accept header allows none.")
    return best[1]


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """`;`-separated UTF-8 with a BOM (what a French spreadsheet opens as columns), as the
    list exports write."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(["" if cell is None else cell for cell in row] for row in rows)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode()


@cache
def _svg_figure_class() -> type[Figure]:
    """matplotlib's Figure, imported on first use, with SVG output made reproducible (fixed
    id salt) and text kept as text (smaller, and searchable)."""
    from matplotlib import rcParams
    from matplotlib.figure import Figure

    rcParams["svg.hashsalt"] = "mentorat"
    rcParams["svg.fonttype"] = "none"
    return Figure


def svg_bytes(draw_chart: ChartDrawer, *, width: float = 8.0, height: float = 5.0) -> bytes:
    """Draw with `draw_chart` on a fresh figure and return it as SVG: identical bytes for
    identical input (no date in the metadata)."""
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    figure = _svg_figure_class()(figsize=(width, height), layout="constrained")
    canvas = FigureCanvasSVG(figure)
    draw_chart(figure)
    buffer = io.BytesIO()
    canvas.print_svg(buffer, metadata={"Date": None})
    return buffer.getvalue()


async def render(
    accept: str | None,
    report: BaseModel,
    csv_rows: Callable[[], CsvRows],
    draw_chart: ChartDrawer,
    *,
    filename: str,
) -> Response:
    """Answer `report` in the format `accept` asks for: the model as JSON, the rows
    `csv_rows()` gives as CSV, or the chart `draw_chart` draws as SVG (in a worker thread)."""
    fmt = negotiate(accept)
    if fmt is ReportFormat.json:
        return Response(report.model_dump_json(), media_type=MEDIA_TYPES[fmt])
    if fmt is ReportFormat.csv:
        header, rows = csv_rows()
        body = csv_bytes(header, rows)
        media_type = f"{MEDIA_TYPES[fmt]}; charset=utf-8"
    else:
        body = await anyio.to_thread.run_sync(svg_bytes, draw_chart)
        media_type = MEDIA_TYPES[fmt]
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'inline; filename="{filename}.{fmt.value}"'},
    )


def report_responses(description: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries of a report endpoint: its three media types and the 406."""
    return {
        200: {
            "description": description,
            "content": {
                MEDIA_TYPES[ReportFormat.csv]: {"schema": {"type": "string"}},
                MEDIA_TYPES[ReportFormat.svg]: {"schema": {"type": "string"}},
            },
        },
        406: {
            "model": Problem,
            "description": "The Accept header allows none of application/json, text/csv and "
            "image/svg+xml",
            "content": {PROBLEM_MEDIA_TYPE: {}},
        },
    }
