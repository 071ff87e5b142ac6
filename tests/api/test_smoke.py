from __future__ import annotations

import httpx

from tests.factories import Actors


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200


async def test_readyz_reports_migrated_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["revision"] == response.json()["expected"]


async def test_educator_lists_children_of_own_departement(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    response = await client.get("/v1/children", headers=actors.educator_53)
    assert response.status_code == 200, response.text
    ids = {child["id"] for child in response.json()["items"]}
    assert ids == {str(actors.child_53.id)}
