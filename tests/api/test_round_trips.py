"""An authenticated read of children costs at most three round trips to PostgreSQL, counted
on the wire, with its authentication, scope and audit events intact; a pooled connection the
server closed is replaced at checkout without a round trip of its own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.engine import URL

from mentorat.app import create_app
from mentorat.auth.tokens import display_prefix, hash_token, new_token
from mentorat.kit.db import Database, sync_url
from mentorat.models import ApiToken, AuditEvent, Child
from mentorat.models import Principal as PrincipalRow
from mentorat.settings import Settings
from tests.factories import create_child
from tests.wire import CountingProxy

MAX_ROUND_TRIPS = 3


@dataclass
class Committed:
    """Rows committed for a test on its own pool, and removed after it."""

    database: Database
    client: httpx.AsyncClient
    proxy: CountingProxy
    headers: dict[str, str]
    token_id: uuid.UUID
    child_ids: list[uuid.UUID]
    request_prefix: str


@pytest.fixture
async def committed(settings: Settings, database_url: URL) -> AsyncIterator[Committed]:
    """The app on its own engine (real pool, no test transaction), reaching PostgreSQL through
    a proxy that counts round trips; a child of 53 and a 75 one, and an educator of 53."""
    proxy = CountingProxy(database_url)
    await proxy.start()
    database = Database.from_url(proxy.url, settings)
    secret = new_token()
    async with database.sessionmaker() as session:
        children = [
            await create_child(session, departement="53", offer=None),
            await create_child(session, departement="75", offer=None),
        ]
        holder = PrincipalRow(name="Round trips educator", role="educator", departement_code="53")
        token = ApiToken(
            principal=holder, token_hash=hash_token(secret), prefix=display_prefix(secret)
        )
        session.add(token)
        await session.commit()
    prefix = f"round-trips-{uuid.uuid4().hex[:12]}"
    app = create_app(settings, database=database)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Committed(
                database,
                client,
                proxy,
                {"Authorization": f"Bearer {secret}"},
                token.id,
                [child.id for child in children],
                prefix,
            )
    finally:
        async with database.sessionmaker() as session:
            # The trail is append-only but for retention; these events are the test's own.
            await session.execute(text("SET LOCAL mentorat.retention = on"))
            await session.execute(
                delete(AuditEvent).where(AuditEvent.request_id.startswith(prefix))
            )
            await session.execute(delete(Child).where(Child.id.in_([c.id for c in children])))
            await session.execute(delete(PrincipalRow).where(PrincipalRow.id == holder.id))
            await session.commit()
        await database.engine.dispose()
        await proxy.stop()


async def read_events(committed: Committed, request_id: str) -> list[tuple[str, str | None]]:
    async with committed.database.sessionmaker() as session:
        rows = await session.execute(
            select(AuditEvent.entity_id, AuditEvent.departement_code).where(
                AuditEvent.request_id == request_id, AuditEvent.action == "read"
            )
        )
        return [tuple(row) for row in rows]


class TestRoundTripsOfAuthenticatedReads:
    @pytest.mark.parametrize("listed", [False, True], ids=["one child", "a page"])
    async def test_at_most_three_with_the_read_audited(
        self, committed: Committed, listed: bool
    ) -> None:
        child_53, child_75 = committed.child_ids
        path = "/v1/children?limit=50" if listed else f"/v1/children/{child_53}"
        # The first request opens the connection and prepares the statements.
        warm_up = {**committed.headers, "X-Request-ID": f"{committed.request_prefix}-warm"}
        assert (await committed.client.get(path, headers=warm_up)).status_code == 200

        committed.proxy.reset()
        request_id = f"{committed.request_prefix}-counted"
        response = await committed.client.get(
            path, headers={**committed.headers, "X-Request-ID": request_id}
        )
        trips = committed.proxy.round_trips()

        assert response.status_code == 200
        assert len(trips) <= MAX_ROUND_TRIPS, trips
        shown = [item["id"] for item in response.json()["items"]] if listed else [str(child_53)]
        assert str(child_53) in shown
        assert str(child_75) not in shown  # the educator's scope is 53
        events = await read_events(committed, request_id)
        assert sorted(events) == sorted((child_id, "53") for child_id in shown)

    async def test_out_of_scope_is_a_404_and_audits_nothing(self, committed: Committed) -> None:
        request_id = f"{committed.request_prefix}-75"
        response = await committed.client.get(
            f"/v1/children/{committed.child_ids[1]}",
            headers={**committed.headers, "X-Request-ID": request_id},
        )
        assert response.status_code == 404
        assert await read_events(committed, request_id) == []

    async def test_the_token_last_use_is_recorded(self, committed: Committed) -> None:
        async with committed.database.sessionmaker() as session:
            token = await session.get(ApiToken, committed.token_id)
            assert token is not None and token.last_used_at is None
        headers = {**committed.headers, "X-Request-ID": f"{committed.request_prefix}-use"}
        assert (await committed.client.get("/v1/children", headers=headers)).status_code == 200
        async with committed.database.sessionmaker() as session:
            token = await session.get(ApiToken, committed.token_id)
            assert token is not None and token.last_used_at is not None


class TestPooledConnectionClosedByTheServer:
    async def test_is_replaced_at_checkout(self, committed: Committed, database_url: URL) -> None:
        headers = {**committed.headers, "X-Request-ID": f"{committed.request_prefix}-pool"}
        path = f"/v1/children/{committed.child_ids[0]}"
        assert (await committed.client.get(path, headers=headers)).status_code == 200
        # As in a restart of PostgreSQL: the server ends the idle pooled connections.
        admin = await asyncpg.connect(sync_url(database_url).render_as_string(hide_password=False))
        try:
            pids = await admin.fetch(
                "SELECT pg_terminate_backend(pid), pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = 'mentorat'"
            )
            assert pids, "the pool should hold a connection"
            for _ in range(100):
                alive = await admin.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])",
                    [row["pid"] for row in pids],
                )
                if alive == 0:
                    break
                await asyncio.sleep(0.05)
        finally:
            await admin.close()
        await asyncio.sleep(0.1)  # the event loop reads the end of the socket

        committed.proxy.reset()
        assert (await committed.client.get(path, headers=headers)).status_code == 200
        # A new connection (its start-up is no Sync), then the two statements: no ping.
        assert len(committed.proxy.round_trips()) <= MAX_ROUND_TRIPS + 2
