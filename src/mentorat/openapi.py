"""openapi.json at the repository root, generated from the app: `python -m mentorat.openapi`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from mentorat.app import create_app
from mentorat.settings import Settings

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "openapi.json"


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the app; building it touches no database."""
    return create_app(Settings()).openapi()


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Write the document to openapi.json (or to the path given as the only argument)."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else OPENAPI_PATH
    target.write_text(render(openapi_document()), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
