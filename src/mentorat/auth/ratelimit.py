"""Failed authentications are limited per client address, so that guessing tokens is slow.

After `limit` failures within `window` seconds, an address gets a 429 (with Retry-After) for
every authenticated request, good token or not, until its oldest failure leaves the window;
otherwise a guess that hits would still get through. Successful authentications never count.

The count lives in the memory of each API process (N processes allow N times the limit from
one address). The client address is the one the ASGI server reports: behind a reverse proxy,
tell uvicorn which proxies to believe (FORWARDED_ALLOW_IPS) so it takes X-Forwarded-For.

Why not the `limits` library: its in-memory storage reads the wall clock itself and expires
keys from a timer thread; a sliding log per address is a few lines, and takes an injected clock
so tests move time instead of sleeping.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from fastapi import Request

from mentorat.errors import MentoratError

Clock = Callable[[], float]


class TooManyFailedAuthentications(MentoratError):
    status = 429
    slug = "too-many-requests"
    title = "Too many failed authentications"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            "Too many failed authentications from your address; "
            f"try again in {retry_after_seconds} s."
        )
        self.headers["Retry-After"] = str(retry_after_seconds)


class AuthFailureLimiter:
    """A sliding log of failure times per address, bounded to `max_addresses` addresses."""

    def __init__(
        self,
        limit: int,
        window_seconds: float,
        clock: Clock = time.monotonic,
        max_addresses: int = 100_000,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self.max_addresses = max_addresses
        self._failures: dict[str, deque[float]] = {}

    def check(self, address: str) -> None:
        """Raise TooManyFailedAuthentications while the address is over the limit."""
        if self.limit == 0:
            return
        failures = self._recent(address)
        if failures is not None and len(failures) >= self.limit:
            wait = failures[0] + self.window - self.clock()
            raise TooManyFailedAuthentications(max(1, math.ceil(wait)))

    def record_failure(self, address: str) -> None:
        if self.limit == 0:
            return
        failures = self._recent(address)
        if failures is None:
            self._make_room()
            failures = self._failures[address] = deque(maxlen=self.limit)
        failures.append(self.clock())

    def _recent(self, address: str) -> deque[float] | None:
        failures = self._failures.get(address)
        if failures is None:
            return None
        horizon = self.clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[address]
            return None
        return failures

    def _make_room(self) -> None:
        if len(self._failures) < self.max_addresses:
            return
        horizon = self.clock() - self.window
        for address in [a for a, times in self._failures.items() if times[-1] <= horizon]:
            del self._failures[address]
        while len(self._failures) >= self.max_addresses:
            # Forget the address tracked longest, dicts keep insertion order.
            del self._failures[next(iter(self._failures))]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def limiter_of(request: Request) -> AuthFailureLimiter:
    return request.app.state.auth_failure_limiter  # type: ignore[no-any-return]
