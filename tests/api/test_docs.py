"""/docs and /redoc work on a closed network: every asset comes from this service."""

from __future__ import annotations

import re

import httpx
import pytest

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""")
EXPECTED_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


def referenced_urls(html: str) -> list[str]:
    return [src or url for src, url in ASSET.findall(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_pages_load_only_local_assets(client: httpx.AsyncClient, page: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "cdn" not in response.text.lower()
    assert "fonts.googleapis" not in response.text
    urls = referenced_urls(response.text)
    assert any(url.endswith(".js") for url in urls), urls
    for url in urls:
        assert url.startswith("/"), f"{page} loads {url} from elsewhere"
        asset = await client.get(url)
        assert asset.status_code == 200, url
        suffix = next((s for s in EXPECTED_TYPES if url.endswith(s)), None)
        if suffix is not None:
            assert EXPECTED_TYPES[suffix] in asset.headers["content-type"], url
            assert len(asset.content) > 1000, url


async def test_swagger_ui_gets_the_openapi_document(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert "/openapi.json" in referenced_urls(response.text)
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "mentorat"
