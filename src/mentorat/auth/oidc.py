"""Bearers that are JWTs signed by the configured OpenID Connect provider.

The provider's keys come from `{issuer}/.well-known/openid-configuration` -> `jwks_uri`. They
are kept in process for `oidc_jwks_ttl_seconds`, and fetched again early when a token names a
`kid` we do not hold (a key rotation), but at most once per `oidc_jwks_min_refetch_seconds`, so
a flood of made-up `kid`s cannot make us hammer the provider. Signatures and claims are checked
by joserfc, with an explicit allow-list of algorithms.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import (
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import Key, KeySet

from mentorat.auth.tokens import TOKEN_PREFIX
from mentorat.errors import IdentityProviderUnavailable, InvalidToken
from mentorat.settings import Settings

log = logging.getLogger(__name__)

# Asymmetric only: an HMAC algorithm would let anyone holding the public key sign tokens.
ALLOWED_ALGORITHMS = ("RS256", "ES256")
FETCH_TIMEOUT = httpx.Timeout(5.0)
# Three base64url segments; the signature may be empty (`alg: none`), which is then refused
# with a clear reason rather than being taken for an unknown opaque token.
JWT_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")

CLAIM_REASONS = {
    "iss": "The token is not from the configured identity provider (iss).",
    "aud": "The token is not issued for this service (aud).",
    "nbf": "The token is not valid yet (nbf).",
    "iat": "The token is issued in the future (iat).",
    "exp": "The token's expiry is not a valid date (exp).",
}


def looks_like_jwt(token: str) -> bool:
    return not token.startswith(TOKEN_PREFIX) and JWT_SHAPE.fullmatch(token) is not None


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the provider says signed in: we match principals on the email."""

    email: str
    subject: str | None


class ProviderError(Exception):
    """Discovery or the key set could not be fetched or read."""


class OidcVerifier:
    """Verifies JWT bearers of one issuer for one audience, keeping the issuer's keys."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        leeway_seconds: int = 60,
        keys_ttl_seconds: int = 3600,
        min_refetch_seconds: int = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.leeway_seconds = leeway_seconds
        self.keys_ttl_seconds = keys_ttl_seconds
        self.min_refetch_seconds = min_refetch_seconds
        self.clock = clock
        self._keys: KeySet | None = None
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcVerifier | None:
        if settings.oidc_issuer is None or settings.oidc_audience is None:
            return None
        return cls(
            issuer=settings.oidc_issuer,
            audience=settings.oidc_audience,
            leeway_seconds=settings.oidc_leeway_seconds,
            keys_ttl_seconds=settings.oidc_jwks_ttl_seconds,
            min_refetch_seconds=settings.oidc_jwks_min_refetch_seconds,
        )

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    async def verify(self, token: str) -> Identity:
        """The identity in a valid token; InvalidToken (401) or IdentityProviderUnavailable
        (503) otherwise."""
        header = _header(token)
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise InvalidToken(
                f"The token's algorithm {algorithm!r} is not accepted"
                f" (only {', '.join(ALLOWED_ALGORITHMS)})."
            )
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise InvalidToken("The token's key id (kid) is not a string.")
        key = await self._key(kid, algorithm)
        try:
            decoded = jwt.decode(token, key, algorithms=ALLOWED_ALGORITHMS)
        except JoseError:
            raise InvalidToken("The token's signature does not verify.") from None
        self._check_claims(decoded.claims)
        return _identity(decoded.claims)

    def _check_claims(self, claims: dict[str, Any]) -> None:
        registry = jwt.JWTClaimsRegistry(
            leeway=self.leeway_seconds,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.audience},
            exp={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise InvalidToken("The token has expired (exp).") from None
        except MissingClaimError as error:
            raise InvalidToken(f"The token lacks the claim(s) {error.claim}.") from None
        except ClaimError as error:
            reason = CLAIM_REASONS.get(error.claim, f"The token's {error.claim} is not valid.")
            raise InvalidToken(reason) from None

    async def _key(self, kid: str | None, algorithm: str) -> Key:
        keys = await self._key_set(wanted_kid=kid)
        key = _find_key(keys, kid, algorithm)
        if key is None:
            raise InvalidToken(
                "The token is signed with a key the identity provider does not publish (kid)."
            )
        return key

    async def _key_set(self, *, wanted_kid: str | None) -> KeySet:
        async with self._lock:
            now = self.clock()
            if self._needs_fetch(now, wanted_kid):
                self._attempted_at = now
                try:
                    self._keys = await self._fetch_keys()
                    self._fetched_at = now
                except ProviderError as error:
                    # With keys already fetched, an outage of the provider is no outage of ours.
                    log.log(
                        logging.ERROR if self._keys is None else logging.WARNING,
                        "identity provider unreachable",
                        extra={"reason": str(error), "keeping_previous_keys": bool(self._keys)},
                    )
            if self._keys is None:
                raise IdentityProviderUnavailable(
                    "The identity provider's keys cannot be fetched; try again later.",
                    retry_after_seconds=max(1, self.min_refetch_seconds),
                )
            return self._keys

    def _needs_fetch(self, now: float, wanted_kid: str | None) -> bool:
        if self._attempted_at is not None and now - self._attempted_at < self.min_refetch_seconds:
            return False  # rate limit, whatever the reason for wanting the keys again
        if self._keys is None or self._fetched_at is None:
            return True
        if now - self._fetched_at >= self.keys_ttl_seconds:
            return True
        return wanted_kid is not None and not _has_kid(self._keys, wanted_kid)

    async def _fetch_keys(self) -> KeySet:
        try:
            async with httpx.AsyncClient(timeout=FETCH_TIMEOUT) as client:
                discovery = await _get_json(client, self.discovery_url)
                if discovery.get("issuer") != self.issuer:
                    raise ProviderError(
                        f"discovery names the issuer {discovery.get('issuer')!r}, "
                        f"not {self.issuer!r}"
                    )
                jwks_uri = discovery.get("jwks_uri")
                if not isinstance(jwks_uri, str):
                    raise ProviderError("discovery has no jwks_uri")
                return KeySet.import_key_set(await _get_json(client, jwks_uri))  # type: ignore[arg-type]
        except (httpx.HTTPError, JoseError, ValueError, KeyError, TypeError) as error:
            raise ProviderError(f"{type(error).__name__}: {error}") from error


async def _get_json(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    response = await client.get(url, headers={"Accept": "application/json"})
    response.raise_for_status()
    document = response.json()
    if not isinstance(document, dict):
        raise ProviderError(f"{url} is not a JSON object")
    return document


def _header(token: str) -> dict[str, Any]:
    try:
        return dict(jws.extract_compact(token.encode()).headers())
    except (JoseError, ValueError):
        raise InvalidToken("The token is not a readable JWT.") from None


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keys.keys)


def _find_key(keys: KeySet, kid: str | None, algorithm: str) -> Key | None:
    try:
        return keys.get_by_kid(kid, {"alg": algorithm, "use": "sig"})
    except InvalidKeyIdError:
        return None


def _identity(claims: dict[str, Any]) -> Identity:
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise InvalidToken("The token carries no email claim; ask for the `email` scope.")
    verified = claims.get("email_verified", True)
    if verified not in (True, "true"):
        raise InvalidToken("The identity provider has not verified this email (email_verified).")
    subject = claims.get("sub")
    return Identity(email=email, subject=subject if isinstance(subject, str) else None)
