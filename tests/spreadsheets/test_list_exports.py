"""Spreadsheet exports of proposals, mentorships and a run's results: the JSON views, flattened,
every page, with the same minimisation for the association side."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.support import assert_problem
from tests.conftest import run_queued_jobs
from tests.factories import Actors, create_child
from tests.spreadsheets.support import CSV, XLSX, read_csv, read_xlsx


def accept(headers: dict[str, str], media_type: str = CSV) -> dict[str, str]:
    return {**headers, "Accept": media_type}


def as_dicts(content: bytes) -> list[dict[str, str]]:
    header, *rows = read_csv(content)
    return [dict(zip(header, row, strict=True)) for row in rows]


async def propose_and_accept(client: httpx.AsyncClient, actors: Actors) -> dict[str, object]:
    proposal = await client.post(
        "/v1/proposals",
        json={"child_id": str(actors.child_53.id), "mentor_id": str(actors.mentor_a1.id)},
        headers=actors.educator_53,
    )
    assert proposal.status_code == 201, proposal.text
    accepted = await client.post(
        f"/v1/proposals/{proposal.json()['id']}/accept", headers=actors.coordinator_a
    )
    assert accepted.status_code == 200, accepted.text
    return accepted.json()


class TestProposalsAndMentorships:
    async def test_proposals_each_side_sees_what_json_shows(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        proposal = await propose_and_accept(client, actors)
        educator = as_dicts(
            (await client.get("/v1/proposals", headers=accept(actors.educator_53))).content
        )
        assert [row["id"] for row in educator] == [proposal["id"]]
        assert educator[0]["child_id"] == str(actors.child_53.id)
        assert educator[0]["child_first_name"] == actors.child_53.first_name
        assert float(educator[0]["explanation.score"]) == proposal["score"]
        coordinator = as_dicts(
            (await client.get("/v1/proposals", headers=accept(actors.coordinator_a))).content
        )
        assert coordinator[0]["child_id"] == ""  # as in JSON: hidden from the association side
        assert coordinator[0]["mentorship_id"] == proposal["mentorship_id"]
        other = await client.get("/v1/proposals", headers=accept(actors.coordinator_b))
        assert as_dicts(other.content) == []

    async def test_mentorships_minimised_for_the_association_side(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        proposal = await propose_and_accept(client, actors)
        educator = as_dicts(
            (await client.get("/v1/mentorships", headers=accept(actors.educator_53))).content
        )
        assert [row["id"] for row in educator] == [proposal["mentorship_id"]]
        assert educator[0]["child.reference"] == actors.child_53.reference
        assert educator[0]["state"] == "accepted"
        assert educator[0]["mentor.id"] == str(actors.mentor_a1.id)
        response = await client.get("/v1/mentorships", headers=accept(actors.mentor_a, XLSX))
        sheet = read_xlsx(response.content)
        mentor_view = dict(zip(sheet[0], sheet[1], strict=True))
        assert mentor_view["child.first_name"] == actors.child_53.first_name
        assert mentor_view["child.reference"] is None
        assert mentor_view["child.id"] is None
        json_view = (await client.get("/v1/mentorships", headers=actors.mentor_a)).json()
        assert json_view["items"][0]["child"]["reference"] is None


class TestRunExports:
    async def test_a_runs_proposals_and_unmatched_children(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        far = await create_child(
            session, commune="Paris", postcode="75011", latitude=48.858, longitude=2.38
        )
        created = await client.post(
            "/v1/matching-runs",
            json={"departement_code": "53", "dry_run": True},
            headers=actors.manager_53,
        )
        assert created.status_code == 202, created.text
        await run_queued_jobs(client)
        run = f"/v1/matching-runs/{created.json()['id']}"
        status = (await client.get(run, headers=actors.manager_53)).json()["status"]
        assert status == "succeeded"
        proposals = as_dicts(
            (await client.get(f"{run}/proposals", headers=accept(actors.educator_53))).content
        )
        assert [row["child_id"] for row in proposals] == [str(actors.child_53.id)]
        assert proposals[0]["mentor_id"] == str(actors.mentor_a1.id)
        unmatched = as_dicts(
            (await client.get(f"{run}/unmatched", headers=accept(actors.educator_53))).content
        )
        assert [(row["child_id"], row["reason"]) for row in unmatched] == [
            (str(far.id), "no_feasible_mentor")
        ]
        assert '"too_far"' in unmatched[0]["excluded_by_reason"]
        hidden = await client.get(f"{run}/unmatched", headers=accept(actors.educator_75))
        assert_problem(hidden, 404)
