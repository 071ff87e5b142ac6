"""Every read that shows a child's personal data is in the audit trail (CNIL 2021-122), lists
included, each written by one statement whatever the page size."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import httpx
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.conftest import run_queued_jobs
from tests.factories import Actors, create_child
from tests.mentorships.support import make_mentorship, new_child, new_mentor, run_proposal


async def child_reads(session: AsyncSession, child_id: str, via: str | None) -> int:
    query = (
        "SELECT count(*) FROM audit_event WHERE action = 'read' AND entity_type = 'child'"
        " AND entity_id = :id AND details IS NOT DISTINCT FROM CAST(:details AS jsonb)"
    )
    details = None if via is None else f'{{"via": "{via}"}}'
    return int(await session.scalar(text(query), {"id": child_id, "details": details}) or 0)


@contextmanager
def audit_inserts(engine: AsyncEngine) -> Iterator[list[str]]:
    """The INSERT statements into audit_event sent while the block runs."""
    sent: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "INSERT INTO audit_event" in statement:
            sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", listen)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", listen)


class TestEveryReadOfAChildIsAudited:
    async def test_mentorship_and_offer_reads(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors, state="active")
        child_id = mentorship["child"]["id"]
        base = f"/v1/mentorships/{mentorship['id']}"
        objective = (
            await client.post(
                f"{base}/objectives",
                json={"title": "Stage", "category": "stage"},
                headers=actors.coordinator_a,
            )
        ).json()
        response = await client.post(
            f"{base}/meetings",
            json={"held_on": date.today().isoformat(), "duration_minutes": 30, "mode": "remote"},
            headers=actors.coordinator_a,
        )
        assert response.status_code == 201, response.text
        offers = (await client.get(f"/v1/children/{child_id}/offers", headers=actors.admin)).json()[
            "items"
        ]
        reads = {
            f"/v1/children/{child_id}/offers": "offers",
            f"/v1/offers/{offers[0]['id']}": "offer",
            f"/v1/children/{child_id}/assessments": "assessments",
            f"/v1/assessments/{offers[0]['assessment_id']}": "assessment",
            f"/v1/children/{child_id}/exclusions": "exclusions",
            f"/v1/proposals/{mentorship['proposal_id']}": "proposal",
            "/v1/proposals": "proposals",
            base: "mentorship",
            "/v1/mentorships": "mentorships",
            f"{base}/events": "events",
            f"{base}/objectives": "objectives",
            f"/v1/objectives/{objective['id']}/history": "objective-history",
            f"{base}/meetings": "meetings",
            f"{base}/timeline": "timeline",
        }
        for url, via in reads.items():
            for who in ("educator_53", "coordinator_a"):
                if (
                    url.startswith(("/v1/children", "/v1/offers", "/v1/assessments"))
                    and who == "coordinator_a"
                ):
                    continue
                before = await child_reads(session, child_id, via)
                response = await client.get(url, headers=getattr(actors, who))
                assert response.status_code == 200, (url, response.text)
                assert await child_reads(session, child_id, via) == before + 1, (url, who)

    async def test_run_results(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentor = await new_mentor(session, actors.association_a)
        matched = await new_child(session)
        proposal = await run_proposal(client, actors, matched, mentor)
        run = f"/v1/matching-runs/{proposal['run_id']}"
        assert await child_reads(session, str(matched.id), "run-proposals") == 1
        unmatched = await new_child(session, mentor_gender_preference="male")
        response = await client.post(
            "/v1/matching-runs",
            json={"child_ids": [str(unmatched.id)], "min_score": 0},
            headers=actors.manager_53,
        )
        assert response.status_code == 202, response.text
        await run_queued_jobs(client)
        run = f"/v1/matching-runs/{response.json()['id']}"
        response = await client.get(f"{run}/unmatched", headers=actors.educator_53)
        assert [item["child_id"] for item in response.json()["items"]] == [str(unmatched.id)]
        assert await child_reads(session, str(unmatched.id), "run-unmatched") == 1

    async def test_a_refused_read_is_not_audited(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        child_id = str(actors.child_53.id)
        response = await client.get(f"/v1/children/{child_id}/offers", headers=actors.educator_75)
        assert response.status_code == 404
        assert await child_reads(session, child_id, "offers") == 0


class TestListReadsCostOneStatement:
    async def test_children_of_several_departements(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, engine: AsyncEngine
    ) -> None:
        for departement in ("53", "75", "44"):
            await create_child(session, departement=departement)
        await session.commit()
        with audit_inserts(engine) as sent:
            response = await client.get("/v1/children?limit=50", headers=actors.admin)
        assert response.status_code == 200
        children = response.json()["items"]
        assert len({child["departement_code"] for child in children}) >= 3
        assert len(sent) == 1
        for child in children:
            assert await child_reads(session, child["id"], "list") == 1
        codes = await session.execute(
            text(
                "SELECT entity_id, departement_code FROM audit_event WHERE details->>'via' = 'list'"
            )
        )
        assert dict(codes.all()) == {c["id"]: c["departement_code"] for c in children}
