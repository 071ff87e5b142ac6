"""Who may call what: 401 without a valid token, 403 for a role, 404 outside one's scope."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat import vocabulary_router
from mentorat.associations.router import router as associations_router
from mentorat.audit.router import router as audit_router
from mentorat.auth.principal import Role
from mentorat.auth.tokens import hash_token
from mentorat.children.router import router as children_router
from mentorat.departements.router import router as departements_router
from mentorat.mentors.router import router as mentors_router
from mentorat.models import ApiToken
from mentorat.openapi import openapi_document
from mentorat.tokens.router import principals_router
from mentorat.tokens.router import router as tokens_router
from tests.api.support import assert_problem, audit_count, random_id, row_counts, token_row
from tests.factories import (
    ACTOR_NAMES,
    Actors,
    bearer,
    child_body,
    create_child,
    mentor_body,
    token_for,
)

FAMILIES = (
    "/v1/departements",
    "/v1/associations",
    "/v1/children",
    "/v1/mentors",
    "/v1/tokens",
    "/v1/principals",
    "/v1/audit-events",
    "/v1/vocabulary/goals",
    "/v1/vocabulary/languages",
)
# Every /v1 operation of the app, whoever wrote it: all of them need a valid token.
OPERATIONS = sorted(
    (method.upper(), path)
    for path, operations in openapi_document()["paths"].items()
    if path.startswith("/v1/")
    for method in operations
)
# The operations the role and scope matrix below must cover, one case at least each.
FOUNDATION_OPERATIONS = sorted(
    (method, route.path)
    for router in (
        departements_router,
        associations_router,
        children_router,
        mentors_router,
        tokens_router,
        principals_router,
        audit_router,
        vocabulary_router.router,
    )
    for route in router.routes
    if isinstance(route, APIRoute)
    for method in route.methods
)
CREDENTIALS = ("missing", "garbage", "basic-scheme", "empty-bearer", "expired", "revoked")


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda match: "53" if match[0] == "{code}" else random_id(), path)


async def _unusable_token(session: AsyncSession, **values: Any) -> dict[str, str]:
    secret = await token_for(session, Role.admin)
    await session.execute(
        update(ApiToken).where(ApiToken.token_hash == hash_token(secret)).values(values)
    )
    await session.commit()
    return bearer(secret)


class TestAuthentication:
    """Every /v1 operation answers 401 before anything else, and writes nothing."""

    @pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[" ".join(o) for o in OPERATIONS])
    async def test_answers_401_with_a_bearer_challenge(
        self, client: httpx.AsyncClient, session: AsyncSession, method: str, path: str
    ) -> None:
        credentials: dict[str, dict[str, str]] = {
            "missing": {},
            "garbage": bearer("mnt_not-a-real-token"),
            "basic-scheme": {"Authorization": "Basic YWRtaW46YWRtaW4="},
            "empty-bearer": {"Authorization": "Bearer "},
            "expired": await _unusable_token(
                session,
                created_at=func.now() - timedelta(days=2),
                expires_at=func.now() - timedelta(days=1),
            ),
            "revoked": await _unusable_token(session, revoked_at=func.now()),
        }
        assert set(credentials) == set(CREDENTIALS)
        before = await row_counts(session)
        body = {} if method in ("POST", "PATCH", "PUT") else None
        for credential, headers in credentials.items():
            response = await client.request(method, _concrete(path), headers=headers, json=body)
            assert response.status_code == 401, (credential, response.text)
            assert_problem(response, 401)
            assert response.headers["www-authenticate"].startswith("Bearer"), credential
        assert await row_counts(session) == before

    def test_every_endpoint_family_is_covered(self) -> None:
        for family in FAMILIES:
            assert any(path.startswith(family) for _, path in OPERATIONS), family


def expect(default: int, **statuses: int) -> dict[str, int]:
    assert set(statuses) <= set(ACTOR_NAMES)
    return {name: statuses.get(name, default) for name in ACTOR_NAMES}


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    expected: dict[str, int]
    body: Callable[[Actors], dict[str, Any]] | None = field(default=None)


CHILD_53_READERS = {"admin": 200, "manager_53": 200, "educator_53": 200, "educator_75": 404}
CHILD_75_READERS = {"admin": 200, "manager_53": 404, "educator_53": 404, "educator_75": 200}
MENTOR_A1_READERS = {
    "admin": 200, "manager_53": 200, "educator_53": 200, "educator_75": 404,
    "coordinator_a": 200, "coordinator_b": 404, "mentor_a": 200,
}  # fmt: skip
MENTOR_B1_READERS = {
    "admin": 200, "manager_53": 404, "educator_53": 404, "educator_75": 200,
    "coordinator_a": 404, "coordinator_b": 200, "mentor_a": 404,
}  # fmt: skip


def _with(readers: dict[str, int], status: int) -> dict[str, int]:
    return {name: status if code == 200 else code for name, code in readers.items()}


CASES = [
    # Départements: everyone reads, only an admin writes.
    Case("list départements", "GET", "/v1/departements", expect(200)),
    Case("get département", "GET", "/v1/departements/{departement_53}", expect(200)),
    Case(
        "create département",
        "POST",
        "/v1/departements",
        expect(403, admin=201),
        lambda a: {"code": "975", "name": "Saint-Pierre-et-Miquelon"},
    ),
    Case(
        "rename département",
        "PATCH",
        "/v1/departements/{departement_53}",
        expect(403, admin=200),
        lambda a: {"name": "Mayenne (53)"},
    ),
    Case(
        "delete département", "DELETE", "/v1/departements/{departement_976}", expect(403, admin=204)
    ),
    # Associations: scoped reads; coordinators edit their own; admins create and delete.
    Case("list associations", "GET", "/v1/associations", expect(200)),
    Case(
        "get association A",
        "GET",
        "/v1/associations/{association_a}",
        expect(200, educator_75=404, coordinator_b=404),
    ),
    Case(
        "get association B",
        "GET",
        "/v1/associations/{association_b}",
        expect(404, admin=200, educator_75=200, coordinator_b=200),
    ),
    Case(
        "create association",
        "POST",
        "/v1/associations",
        expect(403, admin=201),
        lambda a: {"name": "Les Ombres 53", "departements": ["53"]},
    ),
    Case(
        "edit association A",
        "PATCH",
        "/v1/associations/{association_a}",
        expect(403, admin=200, coordinator_a=200, coordinator_b=404),
        lambda a: {"contact_name": "Camille Roux"},
    ),
    # Association A still has a mentor: the admin gets past authorization to the 409.
    Case(
        "delete association A",
        "DELETE",
        "/v1/associations/{association_a}",
        expect(403, admin=409),
    ),
    # Children: only admins and départements, each in their own département.
    Case(
        "list children",
        "GET",
        "/v1/children",
        expect(403, admin=200, manager_53=200, educator_53=200, educator_75=200),
    ),
    Case(
        "create child in 53",
        "POST",
        "/v1/children",
        expect(403, admin=201, manager_53=201, educator_53=201, educator_75=404),
        lambda a: child_body(departement_code="53"),
    ),
    Case("get child 53", "GET", "/v1/children/{child_53}", expect(403, **CHILD_53_READERS)),
    Case("get child 75", "GET", "/v1/children/{child_75}", expect(403, **CHILD_75_READERS)),
    Case(
        "edit child 53",
        "PATCH",
        "/v1/children/{child_53}",
        expect(403, **CHILD_53_READERS),
        lambda a: {"first_name": "Renommé"},
    ),
    Case(
        "edit child 75",
        "PATCH",
        "/v1/children/{child_75}",
        expect(403, **CHILD_75_READERS),
        lambda a: {"first_name": "Renommé"},
    ),
    Case(
        "delete child 53",
        "DELETE",
        "/v1/children/{child_53}",
        expect(403, **_with(CHILD_53_READERS, 204)),
    ),
    Case(
        "delete child 75",
        "DELETE",
        "/v1/children/{child_75}",
        expect(403, **_with(CHILD_75_READERS, 204)),
    ),
    Case("purge child", "DELETE", "/v1/children/{child_53}/purge", expect(403, admin=204)),
    # Imports: scope first (404), then the body (a JSON body is a 415).
    Case(
        "import children into 53",
        "POST",
        "/v1/children/import?departement=53&dry_run=true",
        expect(403, admin=415, manager_53=415, educator_53=415, educator_75=404),
        lambda a: {},
    ),
    # Mentors: everyone reads within scope; admins and coordinators write.
    Case("list mentors", "GET", "/v1/mentors", expect(200)),
    Case(
        "create mentor in A",
        "POST",
        "/v1/mentors",
        expect(403, admin=201, coordinator_a=201, coordinator_b=404),
        lambda a: mentor_body(association_id=str(a.association_a.id)),
    ),
    Case("get mentor A1", "GET", "/v1/mentors/{mentor_a1}", expect(200, **MENTOR_A1_READERS)),
    Case("get mentor B1", "GET", "/v1/mentors/{mentor_b1}", expect(200, **MENTOR_B1_READERS)),
    Case(
        "edit mentor A1",
        "PATCH",
        "/v1/mentors/{mentor_a1}",
        expect(403, admin=200, coordinator_a=200, coordinator_b=404),
        lambda a: {"capacity": 2},
    ),
    Case(
        "edit mentor B1",
        "PATCH",
        "/v1/mentors/{mentor_b1}",
        expect(403, admin=200, coordinator_a=404, coordinator_b=200),
        lambda a: {"capacity": 2},
    ),
    Case(
        "delete mentor A1",
        "DELETE",
        "/v1/mentors/{mentor_a1}",
        expect(403, admin=204, coordinator_a=204, coordinator_b=404),
    ),
    Case("purge mentor", "DELETE", "/v1/mentors/{mentor_a1}/purge", expect(403, admin=204)),
    Case(
        "import mentors into A",
        "POST",
        "/v1/mentors/import?association={association_a}&dry_run=true",
        expect(403, admin=415, coordinator_a=415, coordinator_b=404),
        lambda a: {},
    ),
    # Tokens: administrators only.
    Case("list tokens", "GET", "/v1/tokens", expect(403, admin=200)),
    Case(
        "create token",
        "POST",
        "/v1/tokens",
        expect(403, admin=201),
        lambda a: {"name": "Éducatrice 53", "role": "educator", "departement_code": "53"},
    ),
    Case("revoke token", "DELETE", "/v1/tokens/{token_75}", expect(403, admin=204)),
    # Principals signing in with OpenID Connect: administrators only.
    Case("list principals", "GET", "/v1/principals", expect(403, admin=200)),
    Case(
        "create principal",
        "POST",
        "/v1/principals",
        expect(403, admin=201),
        lambda a: {
            "name": "Agent 53",
            "role": "educator",
            "departement_code": "53",
            "email": "agent@ase53.example.fr",
        },
    ),
    # Audit trail: administrators and département managers.
    Case("audit events", "GET", "/v1/audit-events", expect(403, admin=200, manager_53=200)),
    # Vocabulary: anyone with a token.
    Case("goals", "GET", "/v1/vocabulary/goals", expect(200)),
    Case("languages", "GET", "/v1/vocabulary/languages", expect(200)),
]


def _generic(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path.split("?")[0])


UUID_IN_PATH = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def _targets(session: AsyncSession, actors: Actors) -> dict[str, str]:
    return {
        "child_53": str(actors.child_53.id),
        "child_75": str(actors.child_75.id),
        "mentor_a1": str(actors.mentor_a1.id),
        "mentor_b1": str(actors.mentor_b1.id),
        "association_a": str(actors.association_a.id),
        "association_b": str(actors.association_b.id),
        "token_75": str((await token_row(session, actors.educator_75)).id),
        "departement_53": "53",
        "departement_976": "976",
    }


class TestRolesAndScopes:
    @pytest.mark.parametrize("actor", ACTOR_NAMES)
    @pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
    async def test_status(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        actors: Actors,
        case: Case,
        actor: str,
    ) -> None:
        headers = actors.everyone[actor]
        path = case.path.format(**await _targets(session, actors))
        body = case.body(actors) if case.body else None
        before = await audit_count(session)

        response = await client.request(case.method, path, headers=headers, json=body)

        expected = case.expected[actor]
        assert response.status_code == expected, response.text
        if expected >= 400:
            problem = assert_problem(response, expected)
            assert await audit_count(session) == before, "a refused request left an audit row"
            if expected == 404 and UUID_IN_PATH.search(path):
                # Out of scope looks exactly like a record that does not exist.
                missing = await client.request(
                    case.method, UUID_IN_PATH.sub(random_id(), path), headers=headers, json=body
                )
                assert missing.status_code == 404
                assert missing.json()["detail"] == problem["detail"]
                assert missing.json()["title"] == problem["title"]

    def test_every_family_has_cases(self) -> None:
        for family in FAMILIES:
            assert any(case.path.startswith(family) for case in CASES), family

    def test_every_foundation_operation_has_a_case(self) -> None:
        covered = {(case.method, _generic(case.path)) for case in CASES}
        operations = {(method, _generic(path)) for method, path in FOUNDATION_OPERATIONS}
        assert operations == covered


class TestListScope:
    async def test_educator_never_sees_another_departements_children(
        self, client: httpx.AsyncClient, session: AsyncSession, actors: Actors
    ) -> None:
        extra_75 = await create_child(session, departement="75")
        await session.commit()
        response = await client.get("/v1/children", headers=actors.educator_53)
        assert response.status_code == 200
        assert [item["id"] for item in response.json()["items"]] == [str(actors.child_53.id)]
        response = await client.get("/v1/children", headers=actors.educator_75)
        ids = {item["id"] for item in response.json()["items"]}
        assert ids == {str(actors.child_75.id), str(extra_75.id)}

    async def test_departement_filter_outside_scope_returns_nothing(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.get("/v1/children?departement=75", headers=actors.educator_53)
        assert response.status_code == 200
        assert response.json() == {"items": [], "next_cursor": None}
        response = await client.get("/v1/mentors?departement=75", headers=actors.coordinator_a)
        assert response.json() == {"items": [], "next_cursor": None}

    async def test_admin_sees_every_departement(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.get("/v1/children", headers=actors.admin)
        ids = {item["id"] for item in response.json()["items"]}
        assert ids == {str(actors.child_53.id), str(actors.child_75.id)}
        response = await client.get("/v1/children?departement=75", headers=actors.admin)
        assert [item["id"] for item in response.json()["items"]] == [str(actors.child_75.id)]

    @pytest.mark.parametrize(
        ("actor", "visible"),
        [
            ("admin", {"mentor_a1", "mentor_b1"}),
            ("manager_53", {"mentor_a1"}),
            ("educator_53", {"mentor_a1"}),
            ("educator_75", {"mentor_b1"}),
            ("coordinator_a", {"mentor_a1"}),
            ("coordinator_b", {"mentor_b1"}),
            ("mentor_a", {"mentor_a1"}),
        ],
    )
    async def test_mentor_lists_are_scoped(
        self, client: httpx.AsyncClient, actors: Actors, actor: str, visible: set[str]
    ) -> None:
        response = await client.get("/v1/mentors", headers=actors.everyone[actor])
        assert response.status_code == 200
        ids = {item["id"] for item in response.json()["items"]}
        assert ids == {str(getattr(actors, name).id) for name in visible}

    @pytest.mark.parametrize(
        ("actor", "visible"),
        [
            ("admin", {"association_a", "association_b"}),
            ("manager_53", {"association_a"}),
            ("educator_53", {"association_a"}),
            ("educator_75", {"association_b"}),
            ("coordinator_a", {"association_a"}),
            ("coordinator_b", {"association_b"}),
            ("mentor_a", {"association_a"}),
        ],
    )
    async def test_association_lists_are_scoped(
        self, client: httpx.AsyncClient, actors: Actors, actor: str, visible: set[str]
    ) -> None:
        response = await client.get("/v1/associations", headers=actors.everyone[actor])
        assert response.status_code == 200
        ids = {item["id"] for item in response.json()["items"]}
        assert ids == {str(getattr(actors, name).id) for name in visible}

    async def test_manager_reads_only_own_departements_audit_events(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        await client.get(f"/v1/children/{actors.child_53.id}", headers=actors.educator_53)
        await client.get(f"/v1/children/{actors.child_75.id}", headers=actors.educator_75)
        response = await client.get("/v1/audit-events?entity_type=child", headers=actors.manager_53)
        assert response.status_code == 200
        events = response.json()["items"]
        assert [event["entity_id"] for event in events] == [str(actors.child_53.id)]
        assert {event["departement_code"] for event in events} == {"53"}
        response = await client.get("/v1/audit-events?entity_type=child", headers=actors.admin)
        ids = [event["entity_id"] for event in response.json()["items"]]
        assert ids == [str(actors.child_53.id), str(actors.child_75.id)]
