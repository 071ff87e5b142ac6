"""Prepares a served demo instance for scripts/fuzz.sh.

Through the API, it makes the records the demo data lacks (a matching run, proposals, a
mentorship with an objective and a meeting, an exclusion), creates the coordinator and mentor
tokens for that mentorship's side, and writes a schemathesis configuration whose dictionaries
hold the real ids: path parameters then name existing records most of the time instead of
random ones that are only ever a 404.

    python scripts/fuzz_seed.py BASE_URL CONFIG_PATH   (tokens in FUZZ_TOKEN_<ROLE>)

Prints "role token" lines for the two tokens it created.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

PROBABILITY = 0.8  # the share of generated path parameters that name a real record


class Api:
    def __init__(self, base: str) -> None:
        self.base = base

    def call(self, token: str, method: str, path: str, body: Any = None) -> Any:
        request = urllib.request.Request(
            self.base + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raise SystemExit(f"{method} {path}: {error.code} {error.read().decode()}") from None


def create_token(role: str, scope: list[str]) -> str:
    mentorat = Path(sys.executable).with_name("mentorat")
    command = [str(mentorat), "tokens", "create", "--role", role, "--name", f"Fuzz {role}"]
    result = subprocess.run(
        [*command, *scope], check=True, capture_output=True, text=True, env=os.environ
    )
    return result.stdout.strip().splitlines()[-1]


def seed(api: Api, admin: str, manager: str, educator: str) -> tuple[dict[str, list[str]], str]:
    """Real ids per path parameter, and the mentor whose side gets tokens."""
    run = api.call(manager, "POST", "/v1/matching-runs", {"min_score": 0.3})
    for _ in range(600):
        run = api.call(manager, "GET", f"/v1/matching-runs/{run['id']}")
        if run["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.5)
    proposals = api.call(manager, "GET", f"/v1/matching-runs/{run['id']}/proposals?limit=5")
    first, *others = proposals["items"]
    mentor_id = first["mentor_id"]
    api.call(educator, "POST", f"/v1/proposals/{first['id']}/validate")
    accepted = api.call(admin, "POST", f"/v1/proposals/{first['id']}/accept")
    mentorship_id = accepted["mentorship_id"]
    objective = api.call(
        admin,
        "POST",
        f"/v1/mentorships/{mentorship_id}/objectives",
        {"title": "Trouver un stage de 3e", "category": "stage"},
    )
    api.call(
        admin,
        "POST",
        f"/v1/mentorships/{mentorship_id}/meetings",
        {"held_on": run["run_date"], "duration_minutes": 60, "mode": "in_person"},
    )
    child_id = first["child_id"]
    children = api.call(educator, "GET", "/v1/children?limit=5")["items"]
    other_mentor = api.call(admin, "GET", "/v1/mentors?limit=5")["items"][-1]
    exclusion = api.call(
        educator,
        "POST",
        f"/v1/children/{children[-1]['id']}/exclusions",
        {"mentor_id": other_mentor["id"], "reason": "Essai"},
    )
    offers = api.call(educator, "GET", f"/v1/children/{child_id}/offers")["items"]
    mentor = api.call(admin, "GET", f"/v1/mentors/{mentor_id}")
    ids = {
        "code": ["53", "75"],
        "child_id": [child_id, *(c["id"] for c in children)],
        "mentor_id": [mentor_id, other_mentor["id"]],
        "association_id": [mentor["association_id"]],
        "run_id": [run["id"]],
        "proposal_id": [first["id"], *(p["id"] for p in others)],
        "mentorship_id": [mentorship_id],
        "objective_id": [objective["id"]],
        "offer_id": [o["id"] for o in offers],
        "exclusion_id": [exclusion["id"]],
    }
    return ids, mentor_id


def write_config(path: Path, ids: dict[str, list[str]]) -> None:
    lines = []
    for name, values in ids.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    for name in ids:
        lines.append(f'"path.{name}" = {{ dictionary = "{name}", probability = {PROBABILITY} }}')
    # Any If-Match string is schema-valid, and one that does not name the record's version
    # is rightly a 412: not a valid request refused.
    lines += [
        "",
        "[checks.positive_data_acceptance]",
        'expected-statuses = ["2xx", "3xx", 401, 403, 404, 409, 412, 429, "5xx"]',
    ]
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    base, config = sys.argv[1], Path(sys.argv[2])
    api = Api(base)
    admin, manager, educator = (
        os.environ[f"FUZZ_TOKEN_{role}"] for role in ("ADMIN", "MANAGER", "EDUCATOR")
    )
    ids, mentor_id = seed(api, admin, manager, educator)
    write_config(config, ids)
    association_id = ids["association_id"][0]
    print("coordinator", create_token("coordinator", ["--association", association_id]))
    print("mentor", create_token("mentor", ["--mentor", mentor_id]))


if __name__ == "__main__":
    main()
