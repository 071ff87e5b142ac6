"""Who sees a child's situation: the département side, never the association side."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.support import assert_problem
from tests.factories import Actors
from tests.mentorships.support import make_mentorship


class TestWhoSeesTheSituation:
    async def test_the_departement_side_sees_it_the_association_side_does_not(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        mentorship = await make_mentorship(client, session, actors)
        child_id = mentorship["child"]["id"]
        for headers in (actors.admin, actors.manager_53, actors.educator_53):
            response = await client.get(f"/v1/children/{child_id}", headers=headers)
            assert response.json()["situation"] == "in_mentorship"
        # The coordinator's minimised view of the child carries no situation, and the child
        # records and the due list stay closed to the association side.
        response = await client.get(
            f"/v1/mentorships/{mentorship['id']}", headers=actors.coordinator_a
        )
        assert response.status_code == 200, response.text
        child = response.json()["child"]
        assert set(child) == {"id", "reference", "first_name", "age", "commune", "goals"}
        assert child["id"] is None and child["reference"] is None
        for headers in (actors.coordinator_a, actors.mentor_a):
            assert_problem(await client.get(f"/v1/children/{child_id}", headers=headers), 403)
            assert_problem(await client.get("/v1/children", headers=headers), 403)
            assert_problem(await client.get("/v1/departements/53/due", headers=headers), 403)

    async def test_another_departements_child_is_a_404(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.get(
            f"/v1/children/{actors.child_53.id}", headers=actors.educator_75
        )
        assert_problem(response, 404)
        listed = await client.get(
            "/v1/children", params={"situation": "waiting_for_mentor"}, headers=actors.educator_75
        )
        assert str(actors.child_53.id) not in {item["id"] for item in listed.json()["items"]}
