"""Request logic never relies on `assert`: `python -O` strips it, and the check would vanish."""

from __future__ import annotations

import ast
from pathlib import Path

import mentorat

SOURCE = Path(mentorat.__file__).parent


def test_no_assert_statement_in_the_service() -> None:
    found = [
        f"{path.relative_to(SOURCE)}:{node.lineno}"
        for path in sorted(SOURCE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
        if isinstance(node, ast.Assert)
    ]
    assert found == []
