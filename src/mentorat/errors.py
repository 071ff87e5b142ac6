"""Domain errors, each carrying its HTTP status, rendered as RFC 9457 problem details."""

from __future__ import annotations

from typing import Any, ClassVar


class MentoratError(Exception):
    """Base of every error a caller can cause. Subclasses set status, slug and title."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra
        self.headers: dict[str, str] = {}


class NotAuthenticated(MentoratError):
    status = 401
    slug = "not-authenticated"
    title = "Authentication required"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers["WWW-Authenticate"] = 'Bearer realm="mentorat"'


class InvalidToken(NotAuthenticated):
    """A bearer was sent but is not acceptable (RFC 6750 `invalid_token`)."""

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers["WWW-Authenticate"] = 'Bearer realm="mentorat", error="invalid_token"'


class IdentityProviderUnavailable(MentoratError):
    """The OpenID Connect provider's keys cannot be had: a retry later may succeed."""

    status = 503
    slug = "identity-provider-unavailable"
    title = "The identity provider is unreachable"

    def __init__(self, detail: str | None = None, *, retry_after_seconds: int = 30) -> None:
        super().__init__(detail)
        self.headers["Retry-After"] = str(retry_after_seconds)


class Forbidden(MentoratError):
    status = 403
    slug = "forbidden"
    title = "Not allowed for your role"


class NotFound(MentoratError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(MentoratError):
    status = 409
    slug = "conflict"
    title = "Conflict with the current state"


class PreconditionFailed(MentoratError):
    status = 412
    slug = "precondition-failed"
    title = "The record changed since you read it"


class PayloadTooLarge(MentoratError):
    status = 413
    slug = "payload-too-large"
    title = "Request body too large"


class UnsupportedMediaType(MentoratError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class InvalidInput(MentoratError):
    """Input that passes the schema but breaks a rule, or a malformed parameter."""

    status = 422
    slug = "validation-error"
    title = "Invalid input"

    def __init__(self, detail: str, *, field: str | tuple[str | int, ...]) -> None:
        location = (field,) if isinstance(field, str) else field
        super().__init__(
            detail, errors=[{"loc": list(location), "msg": detail, "type": "value_error"}]
        )


class NotAcceptable(MentoratError):
    """The Accept header names no media type the endpoint can answer in."""

    status = 406
    slug = "not-acceptable"
    title = "No acceptable media type"
