"""One role's schemathesis output, summarised: failures counted by kind, with their operations.

python scripts/fuzz_summary.py ROLE EXIT_CODE OUTPUT_FILE
"""

from __future__ import annotations

import collections
import re
import sys


def summarise(role: str, status: str, text: str) -> str:
    failures = text.split("= FAILURES =", 1)[1] if "= FAILURES =" in text else ""
    failures = re.split(r"^=+ (?:WARNINGS|SUMMARY) =+$", failures, flags=re.MULTILINE)[0]
    operations: dict[str, set[str]] = collections.defaultdict(set)
    counts: collections.Counter[str] = collections.Counter()
    operation = ""
    for line in failures.splitlines():
        heading = re.match(r"^_+ (.+?) _+$", line)
        if heading:
            operation = heading.group(1)
        elif line.startswith("- "):
            kind = line[2:].strip()
            counts[kind] += 1
            operations[kind].add(operation)
    server = sum(n for kind, n in counts.items() if "server error" in kind.lower())
    other = sum(counts.values()) - server
    lines = [f"{role}: exit {status}, {server} server errors, {other} other failures"]
    for kind, n in sorted(counts.items()):
        lines.append(f"  {n:4} {kind}: {', '.join(sorted(operations[kind]))}")
    if "did not finish" in text or "Interrupted" in text:
        lines.append("  (interrupted: the time budget ran out)")
    return "\n".join(lines)


def main() -> None:
    role, status, path = sys.argv[1:]
    with open(path, encoding="utf-8", errors="replace") as output:
        print(summarise(role, status, output.read()))


if __name__ == "__main__":
    main()
