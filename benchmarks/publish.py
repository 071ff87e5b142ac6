"""Publishing a dry run and bulk proposal actions, through the API, on synthetic data in a
fresh database.

    python benchmarks/publish.py [--run-size 2000]

A dry run over N children x N mentors, then: its proposals listed (one page of 200), the
whole run published (every pair checked again as of today), and 500 of the published
proposals validated in one bulk request. The server is MENTORAT_TEST_DATABASE_URL /
MENTORAT_DATABASE_URL, else an embedded PostgreSQL; a database is created for the benchmark and
dropped at the end. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.matching_db import DEPARTEMENT, load
from benchmarks.scratch import scratch_database
from mentorat.app import create_app
from mentorat.auth.principal import Principal, Role
from mentorat.kit.db import Database
from mentorat.matching import service
from mentorat.matching.schemas import RunCreate
from mentorat.tokens.schemas import TokenCreate
from mentorat.tokens.service import create_token


async def dry_run(database: Database) -> tuple[uuid.UUID, dict[str, Any]]:
    operator = Principal(id=uuid.UUID(int=0), name="benchmark", role=Role.admin)
    async with database.sessionmaker() as session:
        run = await service.create_run(
            session, operator, RunCreate(departement_code=DEPARTEMENT, dry_run=True)
        )
        await session.commit()
    await service.execute_run(database, run.id)
    async with database.sessionmaker() as session:
        finished = await session.get(service.MatchingRun, run.id)
        assert finished is not None
        return run.id, finished.figures


async def manager_token(database: Database) -> str:
    async with database.sessionmaker() as session:
        secret, _, _ = await create_token(
            session,
            None,
            TokenCreate(name="bench", role=Role.departement_manager, departement_code=DEPARTEMENT),
        )
        await session.commit()
    return secret


async def timed(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> Any:
    started = time.perf_counter()
    response = await client.request(method, url, **kwargs)
    seconds = time.perf_counter() - started
    assert response.status_code < 300, response.text
    return seconds, response.json()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run-size", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    async with scratch_database() as (database, settings):
        await load(database, args.run_size, args.run_size, args.seed)
        run_id, figures = await dry_run(database)
        print(
            f"dry run {args.run_size} x {args.run_size}: {figures['matched']} simulated proposals"
            f" in {sum(figures['timings'].values()):.2f} s"
        )
        headers = {"Authorization": f"Bearer {await manager_token(database)}"}
        app = create_app(settings, database)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            base = f"/v1/matching-runs/{run_id}"
            await timed(client, "GET", base, headers=headers)  # the app's first request
            seconds, _ = await timed(
                client, "GET", f"{base}/proposals", params={"limit": 200}, headers=headers
            )
            print(f"GET {base}/proposals?limit=200: {seconds * 1000:.0f} ms")
            seconds, _ = await timed(
                client, "GET", "/v1/proposals", params={"limit": 200, "run_id": str(run_id)},
                headers=headers,
            )  # fmt: skip
            print(f"GET /v1/proposals?run_id=...&limit=200: {seconds * 1000:.0f} ms")
            seconds, published = await timed(client, "POST", f"{base}/publish", headers=headers)
            print(
                f"POST {base}/publish: {published['published']} proposals checked and published"
                f" in {seconds:.2f} s"
            )
            actions = [
                {"proposal_id": proposal_id, "action": "validate"}
                for proposal_id in published["proposal_ids"][:500]
            ]
            seconds, outcome = await timed(
                client, "POST", "/v1/proposals/bulk", json={"actions": actions}, headers=headers
            )
            print(
                f"POST /v1/proposals/bulk: {outcome['succeeded']} validations in {seconds:.2f} s"
                f" ({seconds / max(len(actions), 1) * 1000:.1f} ms each)"
            )


if __name__ == "__main__":
    asyncio.run(main())
