"""Run results and proposal lists read without one GET per line: the département side sees
each child's reference, first name and commune and the mentor's name; the association side
the child's first name only. The names come with the page, whatever its size."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from mentorat.models import Child, Mentor
from tests.conftest import run_queued_jobs
from tests.factories import Actors, create_child, create_mentor
from tests.matching_api.test_runs import all_pages
from tests.mentorships.support import count
from tests.spreadsheets.support import CSV, read_csv

RUNS = "/v1/matching-runs"
CHILD_FIELDS = ("child_id", "child_reference", "child_commune")


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs."""
    sent: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", listen)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", listen)


async def scene(
    session: AsyncSession, actors: Actors, n: int
) -> tuple[list[Child], list[Mentor], Child]:
    """`n` children in different communes, `n` mentors, and a child too far from any."""
    children = [
        await create_child(session, commune=f"Commune {i}", first_name=f"Alice{i}")
        for i in range(n)
    ]
    mentors = [await create_mentor(session, association=actors.association_a) for _ in range(n)]
    far = await create_child(
        session, commune="Brest", postcode="29200", latitude=48.39, longitude=-4.49
    )
    await session.commit()
    return children, mentors, far


async def run(
    client: httpx.AsyncClient, actors: Actors, children: list[Child], mentors: list[Mentor]
) -> str:
    response = await client.post(
        RUNS,
        json={
            "child_ids": [str(c.id) for c in children],
            "mentor_ids": [str(m.id) for m in mentors],
        },
        headers=actors.manager_53,
    )
    assert response.status_code == 202, response.text
    await run_queued_jobs(client)
    return str(response.json()["id"])


def check_departement_view(item: dict[str, Any], children: dict[str, Child]) -> None:
    child = children[item["child_id"]]
    assert item["child_reference"] == child.reference
    assert item["child_first_name"] == child.first_name
    assert item["child_commune"] == child.commune


class TestRunResults:
    async def test_proposals_and_unmatched_carry_reference_commune_and_mentor_name(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        children, mentors, far = await scene(session, actors, 3)
        run_id = await run(client, actors, [*children, far], mentors)
        by_id = {str(c.id): c for c in [*children, far]}
        names = {str(m.id): f"{m.first_name} {m.last_name}" for m in mentors}

        proposals = await all_pages(client, f"{RUNS}/{run_id}/proposals", actors.educator_53)
        assert len(proposals) == 3
        for item in proposals:
            check_departement_view(item, by_id)
            assert item["mentor_name"] == names[item["mentor_id"]]
        (unmatched,) = await all_pages(client, f"{RUNS}/{run_id}/unmatched", actors.educator_53)
        check_departement_view(unmatched, by_id)
        assert unmatched["child_commune"] == "Brest"

        exported = read_csv(
            (
                await client.get(
                    f"{RUNS}/{run_id}/proposals", headers={**actors.manager_53, "Accept": CSV}
                )
            ).content
        )
        header = exported[0]
        assert {"child_reference", "child_first_name", "child_commune", "mentor_name"} <= set(
            header
        )
        rows = [dict(zip(header, row, strict=True)) for row in exported[1:]]
        for row in rows:
            check_departement_view(row, by_id)

    async def test_reads_stay_audited_one_event_per_child(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        children, mentors, far = await scene(session, actors, 2)
        run_id = await run(client, actors, [*children, far], mentors)
        for suffix, via in (("proposals", "run-proposals"), ("unmatched", "run-unmatched")):
            response = await client.get(f"{RUNS}/{run_id}/{suffix}", headers=actors.educator_53)
            shown = [item["child_id"] for item in response.json()["items"]]
            audited = await count(
                session,
                "audit_event",
                "action = 'read' AND entity_type = 'child' AND entity_id = ANY(:ids)"
                " AND details->>'via' = :via",
                ids=shown,
                via=via,
            )
            assert audited == len(shown) > 0


class TestProposalList:
    async def test_each_side_sees_its_view(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        children, mentors, _ = await scene(session, actors, 3)
        run_id = await run(client, actors, children, mentors)
        by_id = {str(c.id): c for c in children}
        first_names = {c.first_name for c in children}

        departement = (
            await client.get("/v1/proposals", params={"run_id": run_id}, headers=actors.educator_53)
        ).json()["items"]
        assert len(departement) == 3
        for item in departement:
            check_departement_view(item, by_id)
            assert item["mentor_name"].endswith(" Dupont")

        for headers in (actors.coordinator_a, actors.mentor_a):
            items = (
                await client.get("/v1/proposals", params={"run_id": run_id}, headers=headers)
            ).json()["items"]
            for item in items:
                assert all(item[name] is None for name in CHILD_FIELDS), item
                assert item["child_first_name"] in first_names
        coordinator = (
            await client.get(
                "/v1/proposals", params={"run_id": run_id}, headers=actors.coordinator_a
            )
        ).json()["items"]
        assert len(coordinator) == 3
        exported = read_csv(
            (
                await client.get(
                    "/v1/proposals",
                    params={"run_id": run_id},
                    headers={**actors.coordinator_a, "Accept": CSV},
                )
            ).content
        )
        header = exported[0]
        for row in exported[1:]:
            cells = dict(zip(header, row, strict=True))
            assert all(cells[name] == "" for name in CHILD_FIELDS)
            assert cells["child_first_name"] in first_names

    async def test_names_come_with_the_page_whatever_its_size(
        self, client: httpx.AsyncClient, session: AsyncSession, engine: AsyncEngine, actors: Actors
    ) -> None:
        children, mentors, _ = await scene(session, actors, 6)
        small_run = await run(client, actors, children[:1], mentors[:1])
        large_run = await run(client, actors, children[1:], mentors[1:])
        sent: dict[str, int] = {}
        for run_id in (small_run, large_run):
            for url in ("/v1/proposals", f"{RUNS}/{run_id}/proposals"):
                params = {"run_id": run_id} if url == "/v1/proposals" else {}
                with statements(engine) as seen:
                    response = await client.get(url, params=params, headers=actors.educator_53)
                assert response.status_code == 200
                key = f"{url.split(run_id)[0]}{len(response.json()['items'])}"
                # Savepoints are the test's transaction, not the request's.
                sent[key] = len([s for s in seen if "SAVEPOINT" not in s])
                assert not [s for s in seen if s.lstrip().startswith("SELECT child.id")], seen
        # Authentication, the page with its names, the audit events (and the run, for its
        # results): the same few statements for one line or five.
        assert sent["/v1/proposals1"] == sent["/v1/proposals5"] == 3
        assert sent[f"{RUNS}/1"] == sent[f"{RUNS}/5"] == 4
