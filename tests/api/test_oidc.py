"""Sign-in with OpenID Connect, against a real local issuer serving discovery and its JWKS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from joserfc.jwk import Key
from pydantic import ValidationError
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.app import create_app
from mentorat.auth.oidc import OidcVerifier, looks_like_jwt
from mentorat.auth.ratelimit import AuthFailureLimiter
from mentorat.kit.db import Database
from mentorat.models import Principal as PrincipalRow
from mentorat.settings import Settings
from tests.api.support import assert_problem
from tests.factories import Actors, bearer
from tests.oidc_issuer import JWKS_PATH, LocalIssuer, ec_key, rsa_key

AUDIENCE = "mentorat-api"
EDUCATOR_EMAIL = "aline.chevreau@ase53.example.fr"


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer().serving() as issuer:
        yield issuer


@pytest.fixture(scope="module")
def rsa() -> Key:
    return rsa_key("rsa-1")


@pytest.fixture(scope="module")
def ec() -> Key:
    return ec_key("ec-1")


@pytest.fixture(scope="module")
def oidc_app(database_url: URL, issuer: LocalIssuer) -> FastAPI:
    """An app of its own: the session-wide one has no identity provider configured."""
    settings = Settings(
        database_url=database_url.render_as_string(hide_password=False),
        oidc_issuer=issuer.url,
        oidc_audience=AUDIENCE,
        auth_failure_limit=100_000,  # the limit itself: TestFailuresAreRateLimited
    )
    return create_app(settings)


def fresh_verifier(app: FastAPI, issuer: LocalIssuer, **options: object) -> OidcVerifier:
    """A verifier with an empty key cache (one per test, so no test sees another's keys)."""
    verifier = OidcVerifier(
        issuer=issuer.url,
        audience=AUDIENCE,
        **{"min_refetch_seconds": 0, **options},  # type: ignore[arg-type]
    )
    app.state.oidc_verifier = verifier
    return verifier


@pytest.fixture
async def client(
    oidc_app: FastAPI, database: Database, issuer: LocalIssuer, rsa: Key, ec: Key
) -> AsyncIterator[httpx.AsyncClient]:
    issuer.publish(rsa, ec)
    issuer.up = True
    issuer.hits.clear()
    assert isinstance(oidc_app.state.oidc_verifier, OidcVerifier)  # built from the settings
    fresh_verifier(oidc_app, issuer)
    oidc_app.state.database = database
    transport = httpx.ASGITransport(app=oidc_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def educator(session: AsyncSession) -> PrincipalRow:
    holder = PrincipalRow(
        name="Aline Chevreau", role="educator", departement_code="53", email=EDUCATOR_EMAIL
    )
    session.add(holder)
    await session.commit()
    return holder


def unsigned(header: dict[str, object], claims: dict[str, object]) -> str:
    def segment(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{segment(header)}.{segment(claims)}"


def refused(response: httpx.Response, *words: str) -> None:
    body = assert_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    for word in words:
        assert word in body["detail"], body["detail"]


CHILDREN = "/v1/children"


class TestValidTokens:
    async def test_rs256_token_acts_as_the_principal_with_that_email(
        self,
        client: httpx.AsyncClient,
        issuer: LocalIssuer,
        rsa: Key,
        educator: PrincipalRow,
        actors: Actors,
    ) -> None:
        token = issuer.sign(rsa, audience=AUDIENCE, email=EDUCATOR_EMAIL, email_verified=True)
        response = await client.get(CHILDREN, headers=bearer(token))
        assert response.status_code == 200, response.text
        # The educator of 53 sees the child of 53, not the one of 75.
        assert [item["id"] for item in response.json()["items"]] == [str(actors.child_53.id)]
        other = await client.get(f"{CHILDREN}/{actors.child_75.id}", headers=bearer(token))
        assert_problem(other, 404)

    async def test_es256_token_is_accepted(
        self, client: httpx.AsyncClient, issuer: LocalIssuer, ec: Key, educator: PrincipalRow
    ) -> None:
        token = issuer.sign(ec, audience=AUDIENCE, email=EDUCATOR_EMAIL)
        response = await client.get(CHILDREN, headers=bearer(token))
        assert response.status_code == 200, response.text

    async def test_the_role_comes_from_our_database_not_the_token(
        self, client: httpx.AsyncClient, issuer: LocalIssuer, rsa: Key, educator: PrincipalRow
    ) -> None:
        token = issuer.sign(
            rsa, audience=AUDIENCE, email=EDUCATOR_EMAIL, role="admin", roles=["admin"]
        )
        assert_problem(await client.get("/v1/tokens", headers=bearer(token)), 403)

    async def test_email_matches_whatever_its_case(
        self, client: httpx.AsyncClient, issuer: LocalIssuer, rsa: Key, educator: PrincipalRow
    ) -> None:
        token = issuer.sign(rsa, audience=AUDIENCE, email="Aline.CHEVREAU@ASE53.Example.FR")
        assert (await client.get(CHILDREN, headers=bearer(token))).status_code == 200

    async def test_an_audience_list_holding_ours_is_accepted(
        self, client: httpx.AsyncClient, issuer: LocalIssuer, rsa: Key, educator: PrincipalRow
    ) -> None:
        token = issuer.sign(rsa, audience=["account", AUDIENCE], email=EDUCATOR_EMAIL)
        assert (await client.get(CHILDREN, headers=bearer(token))).status_code == 200

    async def test_a_token_just_expired_is_within_the_leeway(
        self, client: httpx.AsyncClient, issuer: LocalIssuer, rsa: Key, educator: PrincipalRow
    ) -> None:
        # Expired 20 s ago; the default leeway is 60 s.
        token = issuer.sign(rsa, audience=AUDIENCE, email=EDUCATOR_EMAIL, lifetime=-20)
        assert (await client.get(CHILDREN, headers=bearer(token))).status_code == 200

    async def test_a_principal_registered_through_the_api_signs_in(
        self, client: httpx.AsyncClient, issuer: LocalIssuer, rsa: Key, actors: Actors
    ) -> None:
        created = await client.post(
            "/v1/principals",
            json={
                "name": "Coordinatrice",
                "role": "coordinator",
                "association_id": str(actors.association_a.id),
                "email": "coord@ombres.example.org",
            },
            headers=actors.admin,
        )
        assert created.status_code == 201, created.text
        token = issuer.sign(rsa, audience=AUDIENCE, email="coord@ombres.example.org")
        own = await client.get(f"/v1/mentors/{actors.mentor_a1.id}", headers=bearer(token))
        assert own.status_code == 200
        other = await client.get(f"/v1/mentors/{actors.mentor_b1.id}", headers=bearer(token))
        assert_problem(other, 404)

    async def test_opaque_tokens_keep_working(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.get(CHILDREN, headers=actors.educator_53)
        assert response.status_code == 200
        assert [item["id"] for item in response.json()["items"]] == [str(actors.child_53.id)]

    async def test_keys_are_fetched_once_and_kept(
        self, client: httpx.AsyncClient, issuer: LocalIssuer, rsa: Key, educator: PrincipalRow
    ) -> None:
        token = issuer.sign(rsa, audience=AUDIENCE, email=EDUCATOR_EMAIL)
        for _ in range(3):
            assert (await client.get(CHILDREN, headers=bearer(token))).status_code == 200
        assert issuer.hits[JWKS_PATH] == 1


class TestRefusedTokens:
    async def test_wrong_audience(
        self, client: httpx.AsyncClient, issuer: LocalIssuer, rsa: Key, educator: PrincipalRow
    ) -> None:
        token = issuer.sign(rsa, audience="another-service", email=EDUCATOR_EMAIL)
        refused(await client.get(CHILDREN, headers=bearer(token)), "aud")

    async def test_wrong_issuer(
        self, client: httpx.AsyncClient, issuer: LocalIssuer, rsa: Key, educator: PrincipalRow
    ) -> None:
        token = issuer.sign(
            rsa, audience=AUDIENCE, issuer="https://evil.example/realms/x", email=EDUCATOR_EMAIL
        )
        refused(await client.get(CHILDREN, headers=bearer(token)), "iss")

    async def test_expired_beyond_the_leeway(
        self, client: httpx.AsyncClient, issuer: LocalIssuer, rsa: Key, educator: PrincipalRow
    ) -> None:
        token = issuer.sign(rsa, audience=AUDIENCE, email=EDUCATOR_EMAIL, lifetime=-600)
        refused(await client.get(CHILDREN, headers=bearer(token)), "expired")

    async def test_not_valid_yet(
        self, client: httpx.AsyncClient, issuer: LocalIssuer, rsa: Key, educator: PrincipalRow
    ) -> None:
        token = issuer.sign(rsa, audience=AUDIENCE, email=EDUCATOR_EMAIL, nbf=2**31 - 1)
        refused(await client.get(CHILDREN, headers=bearer(token)), "nbf")

    async def test_without_expiry(
        self, client: httpx.AsyncClient, issuer: LocalIssuer, rsa: Key, educator: PrincipalRow
    ) -> None:
        token = issuer.sign(rsa, audience=AUDIENCE, email=EDUCATOR_EMAIL, exp=None)
        refused(await client.get(CHILDREN, headers=bearer(token)), "exp")

    async def test_alg_none(
        self, client: httpx.AsyncClient, issuer: LocalIssuer, educator: PrincipalRow
    ) -> None:
        token = unsigned(
            {"alg": "none", "typ": "JWT"},
            {"iss": issuer.url, "aud": AUDIENCE, "exp": 2**31 - 1, "email": EDUCATOR_EMAIL},
        )
        token += "."
        assert looks_like_jwt(token)
        refused(await client.get(CHILDREN, headers=bearer(token)), "algorithm")

    async def test_hs256_signed_with_the_public_key(
        self, client: httpx.AsyncClient, issuer: LocalIssuer, rsa: Key, educator: PrincipalRow
    ) -> None:
        """The classic confusion attack: the public key (which anyone can fetch) as an HMAC
        secret."""
        signing_input = unsigned(
            {"alg": "HS256", "typ": "JWT", "kid": rsa.kid},
            {"iss": issuer.url, "aud": AUDIENCE, "exp": 2**31 - 1, "email": EDUCATOR_EMAIL},
        )
        for secret in (rsa.as_pem(private=False), json.dumps(rsa.as_dict(private=False)).encode()):
            mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
            token = signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
            refused(await client.get(CHILDREN, headers=bearer(token)), "algorithm")

    async def test_signed_by_a_key_the_issuer_does_not_hold(
        self, client: httpx.AsyncClient, issuer: LocalIssuer, educator: PrincipalRow
    ) -> None:
        impostor = rsa_key("rsa-1")  # the published kid, another key
        token = issuer.sign(impostor, audience=AUDIENCE, email=EDUCATOR_EMAIL)
        refused(await client.get(CHILDREN, headers=bearer(token)), "signature")

    async def test_a_tampered_payload(
        self, client: httpx.AsyncClient, issuer: LocalIssuer, rsa: Key, actors: Actors
    ) -> None:
        token = issuer.sign(rsa, audience=AUDIENCE, email="nobody@example.org")
        header, _, signature = token.split(".")
        payload = unsigned(
            {}, {"iss": issuer.url, "aud": AUDIENCE, "exp": 2**31 - 1, "email": EDUCATOR_EMAIL}
        ).split(".")[1]
        refused(
            await client.get(CHILDREN, headers=bearer(f"{header}.{payload}.{signature}")),
            "signature",
        )

    async def test_unknown_email_says_so(
        self, client: httpx.AsyncClient, issuer: LocalIssuer, rsa: Key, educator: PrincipalRow
    ) -> None:
        token = issuer.sign(rsa, audience=AUDIENCE, email="stranger@ase53.example.fr")
        refused(await client.get(CHILDREN, headers=bearer(token)), "no principal", "email")

    async def test_unverified_email(
        self, client: httpx.AsyncClient, issuer: LocalIssuer, rsa: Key, educator: PrincipalRow
    ) -> None:
        token = issuer.sign(rsa, audience=AUDIENCE, email=EDUCATOR_EMAIL, email_verified=False)
        refused(await client.get(CHILDREN, headers=bearer(token)), "email_verified")

    async def test_no_email_claim(
        self, client: httpx.AsyncClient, issuer: LocalIssuer, rsa: Key, educator: PrincipalRow
    ) -> None:
        token = issuer.sign(rsa, audience=AUDIENCE)
        refused(await client.get(CHILDREN, headers=bearer(token)), "email")

    async def test_a_mentor_who_left_keeps_no_access(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        issuer: LocalIssuer,
        rsa: Key,
        actors: Actors,
    ) -> None:
        session.add(
            PrincipalRow(
                name="Mentor", role="mentor", mentor_id=actors.mentor_a1.id, email="m@ex.org"
            )
        )
        await session.commit()
        token = issuer.sign(rsa, audience=AUDIENCE, email="m@ex.org")
        own = f"/v1/mentors/{actors.mentor_a1.id}"
        assert (await client.get(own, headers=bearer(token))).status_code == 200
        assert (await client.delete(own, headers=actors.coordinator_a)).status_code == 204
        refused(await client.get(own, headers=bearer(token)), "no principal")

    async def test_garbage_that_looks_like_a_jwt(
        self, client: httpx.AsyncClient, educator: PrincipalRow
    ) -> None:
        refused(await client.get(CHILDREN, headers=bearer("abc.def.ghi")), "JWT")

    async def test_without_oidc_a_jwt_is_just_an_unknown_token(
        self, app: FastAPI, database: Database, issuer: LocalIssuer, rsa: Key
    ) -> None:
        app.state.database = database
        token = issuer.sign(rsa, audience=AUDIENCE, email=EDUCATOR_EMAIL)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as plain:
            refused(await plain.get(CHILDREN, headers=bearer(token)), "unknown")
        assert issuer.hits[JWKS_PATH] == 0


class TestFailuresAreRateLimited:
    async def test_refused_jwts_count_as_failed_authentications(
        self, client: httpx.AsyncClient, oidc_app: FastAPI, issuer: LocalIssuer, rsa: Key
    ) -> None:
        shared = oidc_app.state.auth_failure_limiter
        oidc_app.state.auth_failure_limiter = AuthFailureLimiter(limit=2, window_seconds=60)
        try:
            wrong = issuer.sign(rsa, audience="another-client", email="stranger@example.fr")
            for _ in range(2):
                assert (await client.get(CHILDREN, headers=bearer(wrong))).status_code == 401
            limited = await client.get(CHILDREN, headers=bearer(wrong))
            assert limited.status_code == 429
            assert limited.headers["Retry-After"] == "60"
        finally:
            oidc_app.state.auth_failure_limiter = shared


class TestKeyRotation:
    async def test_an_unknown_kid_makes_the_keys_refetched(
        self, client: httpx.AsyncClient, issuer: LocalIssuer, rsa: Key, educator: PrincipalRow
    ) -> None:
        assert (
            await client.get(
                CHILDREN, headers=bearer(issuer.sign(rsa, audience=AUDIENCE, email=EDUCATOR_EMAIL))
            )
        ).status_code == 200
        assert issuer.hits[JWKS_PATH] == 1

        rotated = rsa_key("rsa-2")
        token = issuer.sign(rotated, audience=AUDIENCE, email=EDUCATOR_EMAIL)
        # Not published yet: refetched, still unknown, refused.
        refused(await client.get(CHILDREN, headers=bearer(token)), "kid")
        assert issuer.hits[JWKS_PATH] == 2

        issuer.publish(rotated)
        assert (await client.get(CHILDREN, headers=bearer(token))).status_code == 200
        assert issuer.hits[JWKS_PATH] == 3
        assert (await client.get(CHILDREN, headers=bearer(token))).status_code == 200
        assert issuer.hits[JWKS_PATH] == 3

    async def test_refetches_are_rate_limited(
        self,
        client: httpx.AsyncClient,
        oidc_app: FastAPI,
        issuer: LocalIssuer,
        rsa: Key,
        educator: PrincipalRow,
    ) -> None:
        fresh_verifier(oidc_app, issuer, min_refetch_seconds=3600)
        good = issuer.sign(rsa, audience=AUDIENCE, email=EDUCATOR_EMAIL)
        assert (await client.get(CHILDREN, headers=bearer(good))).status_code == 200
        for _ in range(5):
            made_up = rsa_key(uuid.uuid4().hex)
            token = issuer.sign(made_up, audience=AUDIENCE, email=EDUCATOR_EMAIL)
            refused(await client.get(CHILDREN, headers=bearer(token)), "kid")
        assert issuer.hits[JWKS_PATH] == 1

    async def test_keys_are_refetched_after_their_ttl(
        self,
        client: httpx.AsyncClient,
        oidc_app: FastAPI,
        issuer: LocalIssuer,
        rsa: Key,
        ec: Key,
        educator: PrincipalRow,
    ) -> None:
        now = [1000.0]
        fresh_verifier(
            oidc_app, issuer, keys_ttl_seconds=3600, min_refetch_seconds=60, clock=lambda: now[0]
        )
        token = issuer.sign(rsa, audience=AUDIENCE, email=EDUCATOR_EMAIL)
        assert (await client.get(CHILDREN, headers=bearer(token))).status_code == 200
        issuer.publish(ec)  # the provider withdraws the RSA key
        now[0] += 3599
        assert (await client.get(CHILDREN, headers=bearer(token))).status_code == 200
        now[0] += 2
        refused(await client.get(CHILDREN, headers=bearer(token)), "kid")
        assert issuer.hits[JWKS_PATH] == 2


class TestIssuerDown:
    async def test_no_keys_to_be_had_is_a_503_with_retry_after(
        self, client: httpx.AsyncClient, issuer: LocalIssuer, rsa: Key, educator: PrincipalRow
    ) -> None:
        issuer.up = False
        token = issuer.sign(rsa, audience=AUDIENCE, email=EDUCATOR_EMAIL)
        response = await client.get(CHILDREN, headers=bearer(token))
        body = assert_problem(response, 503)
        assert body["type"].endswith("identity-provider-unavailable")
        assert int(response.headers["retry-after"]) >= 1

        issuer.up = True
        assert (await client.get(CHILDREN, headers=bearer(token))).status_code == 200

    async def test_an_issuer_nobody_answers_at(
        self,
        client: httpx.AsyncClient,
        oidc_app: FastAPI,
        issuer: LocalIssuer,
        rsa: Key,
        educator: PrincipalRow,
    ) -> None:
        closed = OidcVerifier(issuer="http://127.0.0.1:9/realms/none", audience=AUDIENCE)
        oidc_app.state.oidc_verifier = closed
        token = issuer.sign(rsa, audience=AUDIENCE, email=EDUCATOR_EMAIL, issuer=closed.issuer)
        assert_problem(await client.get(CHILDREN, headers=bearer(token)), 503)

    async def test_stale_keys_are_kept_while_the_issuer_is_down(
        self,
        client: httpx.AsyncClient,
        oidc_app: FastAPI,
        issuer: LocalIssuer,
        rsa: Key,
        educator: PrincipalRow,
    ) -> None:
        now = [0.0]
        fresh_verifier(oidc_app, issuer, keys_ttl_seconds=10, clock=lambda: now[0])
        token = issuer.sign(rsa, audience=AUDIENCE, email=EDUCATOR_EMAIL)
        assert (await client.get(CHILDREN, headers=bearer(token))).status_code == 200
        issuer.up = False
        now[0] += 60
        assert (await client.get(CHILDREN, headers=bearer(token))).status_code == 200
        assert issuer.hits[JWKS_PATH] == 1  # the second attempt failed at discovery


class TestShape:
    @pytest.mark.parametrize(
        ("token", "jwt"),
        [
            ("mnt_abc.def.ghi", False),
            ("mnt_" + "A" * 43, False),
            ("aaa.bbb.ccc", True),
            ("aaa.bbb.", True),
            ("aaa.bbb", False),
            ("aaa.bbb.ccc.ddd.eee", False),
            ("aa+a.bbb.ccc", False),
        ],
    )
    def test_jwt_or_opaque(self, token: str, jwt: bool) -> None:
        assert looks_like_jwt(token) is jwt


class TestSettings:
    def test_issuer_and_audience_go_together(self) -> None:
        with pytest.raises(ValidationError, match="go together"):
            Settings(oidc_issuer="https://sso.example.fr/realms/ase")
        with pytest.raises(ValidationError, match="go together"):
            Settings(oidc_audience="mentorat")
        assert OidcVerifier.from_settings(Settings()) is None

    def test_the_issuer_is_a_url(self) -> None:
        with pytest.raises(ValidationError):
            Settings(oidc_issuer="sso.example.fr", oidc_audience="mentorat")
