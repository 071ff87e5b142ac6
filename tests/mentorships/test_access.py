"""Who sees and acts on which mentorship, and what the association side sees of a child."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.principal import Role
from tests.factories import Actors, bearer, token_for
from tests.mentorships.support import (
    assert_problem,
    make_mentorship,
    new_child,
    new_mentor,
    propose,
    snapshot,
)

IN_SCOPE = ("admin", "manager_53", "educator_53", "coordinator_a", "mentor_a")
OUT_OF_SCOPE = ("educator_75", "coordinator_b", "other_mentor")


@pytest.fixture
async def world(client: httpx.AsyncClient, session: AsyncSession, actors: Actors) -> dict[str, Any]:
    """mentor_a1's mentorship in département 53, with an objective and a meeting; and the
    token of another mentor of the same association."""
    child = await new_child(session, reference="ASE-53-SECRET-REF", first_name="Lina")
    mentorship = await make_mentorship(
        client, session, actors, state="active", mentor=actors.mentor_a1, child=child
    )
    response = await client.post(
        f"/v1/mentorships/{mentorship['id']}/objectives",
        json={"title": "Découvrir les métiers", "category": "orientation"},
        headers=actors.educator_53,
    )
    assert response.status_code == 201, response.text
    objective = response.json()
    response = await client.post(
        f"/v1/mentorships/{mentorship['id']}/meetings",
        json={"held_on": date.today().isoformat(), "duration_minutes": 60, "mode": "remote"},
        headers=actors.mentor_a,
    )
    assert response.status_code == 201, response.text
    other_mentor = await new_mentor(session, actors.association_a)
    secret = await token_for(session, Role.mentor, mentor_id=other_mentor.id)
    await session.commit()
    return {
        "child": child,
        "mentorship": mentorship,
        "objective": objective,
        "headers": actors.everyone | {"other_mentor": bearer(secret)},
    }


def reads(world: dict[str, Any]) -> list[str]:
    mentorship_id, objective_id = world["mentorship"]["id"], world["objective"]["id"]
    base = f"/v1/mentorships/{mentorship_id}"
    return [
        base,
        f"{base}/events",
        f"{base}/objectives",
        f"{base}/objectives?as_of=2030-01-01T00:00:00Z",
        f"/v1/objectives/{objective_id}/history",
        f"{base}/meetings",
        f"{base}/timeline",
    ]


class TestScope:
    @pytest.mark.parametrize("who", IN_SCOPE)
    async def test_in_scope_everything_reads(
        self, client: httpx.AsyncClient, world: dict[str, Any], who: str
    ) -> None:
        for path in reads(world):
            response = await client.get(path, headers=world["headers"][who])
            assert response.status_code == 200, (who, path, response.text)
        listed = await client.get("/v1/mentorships", headers=world["headers"][who])
        assert world["mentorship"]["id"] in {m["id"] for m in listed.json()["items"]}

    @pytest.mark.parametrize("who", OUT_OF_SCOPE)
    async def test_out_of_scope_the_mentorship_does_not_exist(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        world: dict[str, Any],
        who: str,
    ) -> None:
        headers = world["headers"][who]
        for path in reads(world):
            assert_problem(await client.get(path, headers=headers), 404, "not-found")
        listed = await client.get("/v1/mentorships", headers=headers)
        assert listed.status_code == 200
        assert world["mentorship"]["id"] not in {m["id"] for m in listed.json()["items"]}

        mentorship_id = world["mentorship"]["id"]
        before = await snapshot(session, mentorship_id)
        writes = [
            ("post", f"/v1/mentorships/{mentorship_id}/transitions", {"to": "paused"}),
            ("post", f"/v1/mentorships/{mentorship_id}/objectives",
             {"title": "Intrus", "category": "stage"}),
            ("patch", f"/v1/objectives/{world['objective']['id']}", {"progress": 99}),
        ]  # fmt: skip
        if who != "educator_75":  # an educator may not enter meetings at all (403)
            writes.append(
                (
                    "post",
                    f"/v1/mentorships/{mentorship_id}/meetings",
                    {"held_on": date.today().isoformat(), "duration_minutes": 5, "mode": "remote"},
                )
            )
        for method, path, body in writes:
            response = await client.request(method, path, json=body, headers=headers)
            assert_problem(response, 404, "not-found")
        assert await snapshot(session, mentorship_id) == before
        objectives = await client.get(
            f"/v1/mentorships/{mentorship_id}/objectives", headers=world["headers"]["admin"]
        )
        assert [o["progress"] for o in objectives.json()["items"]] == [0]

    async def test_the_list_filters_by_state(
        self, client: httpx.AsyncClient, world: dict[str, Any]
    ) -> None:
        for state, expected in (("active", [world["mentorship"]["id"]]), ("paused", [])):
            response = await client.get(
                "/v1/mentorships", params={"state": state}, headers=world["headers"]["mentor_a"]
            )
            assert [m["id"] for m in response.json()["items"]] == expected
        response = await client.get(
            "/v1/mentorships", params={"state": "asleep"}, headers=world["headers"]["mentor_a"]
        )
        assert_problem(response, 422)

    async def test_an_educator_enters_no_meeting_even_in_scope(
        self, client: httpx.AsyncClient, world: dict[str, Any]
    ) -> None:
        for who in ("educator_53", "educator_75"):
            response = await client.post(
                f"/v1/mentorships/{world['mentorship']['id']}/meetings",
                json={"held_on": date.today().isoformat(), "duration_minutes": 5, "mode": "remote"},
                headers=world["headers"][who],
            )
            assert_problem(response, 403)

    async def test_a_mentor_lists_only_their_own(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors, world: dict
    ) -> None:
        other = await new_mentor(session, actors.association_a)
        theirs = await make_mentorship(client, session, actors, mentor=other)
        mine = await client.get("/v1/mentorships", headers=actors.mentor_a)
        assert [m["id"] for m in mine.json()["items"]] == [world["mentorship"]["id"]]
        coordinator = await client.get("/v1/mentorships", headers=actors.coordinator_a)
        assert {m["id"] for m in coordinator.json()["items"]} == {
            world["mentorship"]["id"],
            theirs["id"],
        }
        assert (await client.get("/v1/mentorships", headers=actors.coordinator_b)).json()[
            "items"
        ] == []
        assert (await client.get("/v1/mentorships", headers=actors.educator_75)).json()[
            "items"
        ] == []

    async def test_proposals_follow_the_same_scope(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        response = await propose(
            client, actors.educator_53, actors.child_53.id, actors.mentor_a1.id
        )
        proposal_id = response.json()["id"]
        for who in ("educator_75", "coordinator_b"):
            response = await client.get(
                f"/v1/proposals/{proposal_id}", headers=getattr(actors, who)
            )
            assert_problem(response, 404)
        for who in ("educator_53", "coordinator_a", "mentor_a"):
            response = await client.get(
                f"/v1/proposals/{proposal_id}", headers=getattr(actors, who)
            )
            assert response.status_code == 200, response.text


class TestWhatTheAssociationSideSees:
    @pytest.mark.parametrize("who", ["coordinator_a", "mentor_a"])
    async def test_no_reference_birth_date_or_id_of_the_child(
        self, client: httpx.AsyncClient, world: dict[str, Any], who: str
    ) -> None:
        child = world["child"]
        headers = world["headers"][who]
        mentorship = (
            await client.get(f"/v1/mentorships/{world['mentorship']['id']}", headers=headers)
        ).json()
        assert mentorship["child"] == {
            "id": None,
            "reference": None,
            "first_name": "Lina",
            "age": age(child.birth_date),
            "commune": child.commune,
            "goals": child.goals,
        }
        objectives = (
            await client.get(
                f"/v1/mentorships/{world['mentorship']['id']}/objectives", headers=headers
            )
        ).json()["items"]
        assert [o["title"] for o in objectives] == ["Découvrir les métiers"]

        proposal_id = mentorship["proposal_id"]
        proposal = (await client.get(f"/v1/proposals/{proposal_id}", headers=headers)).json()
        assert proposal["child_id"] is None and proposal["child_first_name"] == "Lina"
        proposals = (await client.get("/v1/proposals", headers=headers)).json()["items"]
        assert proposals and all(p["child_id"] is None for p in proposals)

        # Nowhere in what they can read.
        secrets = (str(child.id), child.reference, child.birth_date.isoformat(), "birth_date")
        paths = [*reads(world), "/v1/mentorships", "/v1/proposals", f"/v1/proposals/{proposal_id}"]
        for path in paths:
            response = await client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.text)
            for secret in secrets:
                assert secret not in response.text, (path, secret)

    @pytest.mark.parametrize("who", ["educator_53", "manager_53", "admin"])
    async def test_the_departement_side_sees_the_child(
        self, client: httpx.AsyncClient, world: dict[str, Any], who: str
    ) -> None:
        child = world["child"]
        mentorship = (
            await client.get(
                f"/v1/mentorships/{world['mentorship']['id']}", headers=world["headers"][who]
            )
        ).json()
        assert mentorship["child"]["id"] == str(child.id)
        assert mentorship["child"]["reference"] == "ASE-53-SECRET-REF"
        proposal = (
            await client.get(
                f"/v1/proposals/{mentorship['proposal_id']}", headers=world["headers"][who]
            )
        ).json()
        assert proposal["child_id"] == str(child.id)

    async def test_the_child_record_itself_is_closed_to_them(
        self, client: httpx.AsyncClient, world: dict[str, Any]
    ) -> None:
        child_id = world["child"].id
        for who in ("coordinator_a", "mentor_a"):
            for path in (f"/v1/children/{child_id}", f"/v1/children/{child_id}/offers"):
                response = await client.get(path, headers=world["headers"][who])
                assert_problem(response, 403)


def age(birth: date) -> int:
    today = date.today()
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


class TestAuthentication:
    @pytest.mark.parametrize(
        "token", [None, "Bearer nope", "Basic dXNlcjpwYXNz"], ids=["none", "unknown", "basic"]
    )
    async def test_no_valid_token_is_a_401(
        self, client: httpx.AsyncClient, world: dict[str, Any], token: str | None
    ) -> None:
        headers = {"Authorization": token} if token else {}
        mentorship_id = world["mentorship"]["id"]
        child_id = world["child"].id
        requests: list[tuple[str, str, dict[str, Any] | None]] = [
            *(("get", path, None) for path in reads(world)),
            ("get", "/v1/mentorships", None),
            ("get", "/v1/proposals", None),
            ("post", f"/v1/mentorships/{mentorship_id}/transitions", {"to": "paused"}),
            ("post", f"/v1/mentorships/{mentorship_id}/objectives",
             {"title": "x", "category": "stage"}),
            ("patch", f"/v1/objectives/{world['objective']['id']}", {"progress": 1}),
            ("post", f"/v1/mentorships/{mentorship_id}/meetings",
             {"held_on": date.today().isoformat(), "duration_minutes": 5, "mode": "remote"}),
            ("post", "/v1/proposals", {"child_id": str(child_id), "mentor_id": str(child_id)}),
            ("post", f"/v1/children/{child_id}/offers", {}),
        ]  # fmt: skip
        for method, path, body in requests:
            response = await client.request(
                method, path, json=body, headers=headers | {"Idempotency-Key": "k"}
            )
            assert_problem(response, 401, "not-authenticated")
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
