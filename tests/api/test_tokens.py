"""API tokens: shown once, usable as a bearer, never listed, revocable, expiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.tokens import hash_token
from mentorat.models import ApiToken
from tests.api.support import (
    assert_problem,
    audit_events,
    column,
    random_id,
    row_counts,
    walk_pages,
)
from tests.factories import Actors, bearer

TOKENS = "/v1/tokens"


async def create(client: httpx.AsyncClient, actors: Actors, **body: object) -> dict[str, object]:
    response = await client.post(TOKENS, json=body, headers=actors.admin)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


class TestTokenCreation:
    async def test_creation_time_is_the_transaction_time_not_the_migration_time(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        created = await create(client, actors, name="Horodatage", role="admin")
        now = await session.scalar(select(func.now()))
        assert datetime.fromisoformat(str(created["created_at"])) == now

    async def test_the_token_is_returned_once_and_works(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        created = await create(
            client, actors, name="Éducatrice Laval", role="educator", departement_code="53"
        )
        secret = created["token"]
        assert isinstance(secret, str)
        assert secret.startswith("mnt_")
        assert len(secret) >= 40
        assert created["prefix"] == secret[:10]
        assert created["role"] == "educator"
        assert created["departement_code"] == "53"
        assert created["revoked_at"] is None
        # Only its hash is stored.
        stored = await column(
            session, "SELECT token_hash FROM api_token WHERE id = :id", id=created["id"]
        )
        assert stored == hash_token(secret)
        assert secret.encode() != stored

        response = await client.get("/v1/children", headers=bearer(secret))
        assert response.status_code == 200
        assert [item["id"] for item in response.json()["items"]] == [str(actors.child_53.id)]

    async def test_the_new_principal_has_exactly_the_given_scope(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        created = await create(
            client,
            actors,
            name="Coordinatrice B",
            role="coordinator",
            association_id=str(actors.association_b.id),
        )
        headers = bearer(str(created["token"]))
        own = await client.get(f"/v1/mentors/{actors.mentor_b1.id}", headers=headers)
        assert own.status_code == 200
        other = await client.get(f"/v1/mentors/{actors.mentor_a1.id}", headers=headers)
        assert_problem(other, 404)
        assert_problem(await client.get("/v1/children", headers=headers), 403)

    async def test_a_future_expiry_is_kept(self, client: httpx.AsyncClient, actors: Actors) -> None:
        expires = datetime.now(UTC) + timedelta(days=30)
        created = await create(
            client, actors, name="Temp", role="admin", expires_at=expires.isoformat()
        )
        assert datetime.fromisoformat(str(created["expires_at"])) == expires
        response = await client.get(TOKENS, headers=bearer(str(created["token"])))
        assert response.status_code == 200


class TestTokenListing:
    async def test_the_secret_is_never_listed(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        created = await create(client, actors, name="Invisible", role="admin")
        secret = str(created["token"])
        response = await client.get(f"{TOKENS}?limit=200", headers=actors.admin)
        assert response.status_code == 200
        assert secret not in response.text
        assert secret[10:] not in response.text
        listed = {item["id"]: item for item in response.json()["items"]}
        assert created["id"] in listed
        assert "token" not in listed[str(created["id"])]
        assert "token_hash" not in listed[str(created["id"])]
        assert listed[str(created["id"])]["name"] == "Invisible"

    async def test_every_token_is_listed_once(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        new = {
            str((await create(client, actors, name=f"Lot {n}", role="admin"))["id"])
            for n in range(4)
        }
        pages = await walk_pages(client, f"{TOKENS}?limit=3", actors.admin)
        ids = [token_id for page in pages for token_id in page]
        stored = {str(i) for i in (await session.scalars(select(ApiToken.id))).all()}
        assert len(ids) == len(set(ids)) == len(stored) >= 11
        assert set(ids) == stored
        assert new <= set(ids)
        assert all(len(page) == 3 for page in pages[:-1])
        assert 1 <= len(pages[-1]) <= 3

    async def test_use_is_recorded(self, client: httpx.AsyncClient, actors: Actors) -> None:
        created = await create(client, actors, name="Usage", role="admin")
        listed = (await client.get(f"{TOKENS}?limit=200", headers=actors.admin)).json()["items"]
        assert next(t for t in listed if t["id"] == created["id"])["last_used_at"] is None
        await client.get("/v1/vocabulary/goals", headers=bearer(str(created["token"])))
        listed = (await client.get(f"{TOKENS}?limit=200", headers=actors.admin)).json()["items"]
        assert next(t for t in listed if t["id"] == created["id"])["last_used_at"] is not None


class TestTokenRevocation:
    async def test_a_revoked_token_is_refused(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        created = await create(client, actors, name="Bientôt révoqué", role="admin")
        headers = bearer(str(created["token"]))
        assert (await client.get(TOKENS, headers=headers)).status_code == 200

        response = await client.delete(f"{TOKENS}/{created['id']}", headers=actors.admin)
        assert response.status_code == 204

        refused = await client.get(TOKENS, headers=headers)
        assert_problem(refused, 401)
        assert refused.headers["www-authenticate"].startswith("Bearer")
        listed = (await client.get(f"{TOKENS}?limit=200", headers=actors.admin)).json()["items"]
        assert next(t for t in listed if t["id"] == created["id"])["revoked_at"] is not None

    async def test_revoking_twice_is_a_conflict(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        created = await create(client, actors, name="Deux fois", role="admin")
        await client.delete(f"{TOKENS}/{created['id']}", headers=actors.admin)
        response = await client.delete(f"{TOKENS}/{created['id']}", headers=actors.admin)
        assert_problem(response, 409)

    async def test_revoking_an_unknown_token_is_404(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        assert_problem(await client.delete(f"{TOKENS}/{random_id()}", headers=actors.admin), 404)

    async def test_an_admin_can_revoke_their_own_token(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        created = await create(client, actors, name="Moi", role="admin")
        headers = bearer(str(created["token"]))
        assert (
            await client.delete(f"{TOKENS}/{created['id']}", headers=headers)
        ).status_code == 204
        assert_problem(await client.get(TOKENS, headers=headers), 401)


class TestTokenExpiry:
    async def test_an_expired_token_is_refused(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        created = await create(client, actors, name="Expiré", role="admin")
        headers = bearer(str(created["token"]))
        assert (await client.get(TOKENS, headers=headers)).status_code == 200
        await session.execute(
            update(ApiToken)
            .where(ApiToken.id == created["id"])
            .values(
                created_at=func.now() - timedelta(days=10),
                expires_at=func.now() - timedelta(seconds=1),
            )
        )
        await session.commit()
        response = await client.get(TOKENS, headers=headers)
        assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")


class TestTokenForDeletedMentor:
    async def test_no_token_for_a_mentor_who_left(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        url = f"/v1/mentors/{actors.mentor_a1.id}"
        assert (await client.delete(url, headers=actors.coordinator_a)).status_code == 204
        response = await client.post(
            TOKENS,
            json={"name": "Ancien", "role": "mentor", "mentor_id": str(actors.mentor_a1.id)},
            headers=actors.admin,
        )
        assert_problem(response, 422)


PRINCIPALS = "/v1/principals"


class TestPrincipalsWithEmail:
    async def test_a_token_holder_may_have_an_email(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        created = await create(
            client,
            actors,
            name="Éducatrice",
            role="educator",
            departement_code="53",
            email="educ@ase53.example.fr",
        )
        assert created["email"] == "educ@ase53.example.fr"
        listed = (await client.get(f"{TOKENS}?limit=200", headers=actors.admin)).json()["items"]
        assert next(t for t in listed if t["id"] == created["id"])["email"] == (
            "educ@ase53.example.fr"
        )

    async def test_a_principal_without_token(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        before = await row_counts(session)
        response = await client.post(
            PRINCIPALS,
            json={
                "name": "Coordinatrice A",
                "role": "coordinator",
                "association_id": str(actors.association_a.id),
                "email": "coord@ombres.example.org",
            },
            headers=actors.admin,
        )
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["email"] == "coord@ombres.example.org"
        assert created["role"] == "coordinator"
        after = await row_counts(session)
        assert after["principal"] == before["principal"] + 1
        assert after["api_token"] == before["api_token"]
        events = await audit_events(session, entity_type="principal", entity_id=created["id"])
        assert [event.action for event in events] == ["create"]

        pages = await walk_pages(client, f"{PRINCIPALS}?limit=5", actors.admin)
        assert created["id"] in [item for page in pages for item in page]

    async def test_an_email_belongs_to_one_principal_whatever_its_case(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        body = {"name": "Un", "role": "admin", "email": "same@example.org"}
        assert (await client.post(PRINCIPALS, json=body, headers=actors.admin)).status_code == 201
        before = await row_counts(session)
        again = {**body, "name": "Deux", "email": "SAME@Example.org"}
        assert_problem(await client.post(PRINCIPALS, json=again, headers=actors.admin), 409)
        token = {**again, "name": "Trois"}
        assert_problem(await client.post(TOKENS, json=token, headers=actors.admin), 409)
        assert await row_counts(session) == before

    @pytest.mark.parametrize(
        "body",
        [
            {"name": "Sans email", "role": "admin"},
            {"name": "Mauvais", "role": "admin", "email": "not-an-email"},
            {"name": "Sans scope", "role": "educator", "email": "x@example.org"},
        ],
    )
    async def test_invalid_bodies(
        self, client: httpx.AsyncClient, actors: Actors, body: dict[str, object]
    ) -> None:
        assert_problem(await client.post(PRINCIPALS, json=body, headers=actors.admin), 422)

    async def test_only_an_admin_manages_principals(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        body = {"name": "Moi", "role": "admin", "email": "escalade@example.org"}
        for name, headers in actors.everyone.items():
            if name == "admin":
                continue
            assert_problem(await client.post(PRINCIPALS, json=body, headers=headers), 403)
            assert_problem(await client.get(PRINCIPALS, headers=headers), 403)
        assert_problem(await client.post(PRINCIPALS, json=body), 401)
        assert_problem(await client.get(PRINCIPALS), 401)
