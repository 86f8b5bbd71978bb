"""``/docs`` and ``/redoc`` render with the network cut off: every request to another origin is refused
by the browser, as on a bank's network without internet. FastAPI's defaults loaded Swagger UI and ReDoc
from a CDN and were blank pages here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser

from tests.api.harness import Gateway, start_gateway
from tests.portal.browser import browser, portal

__all__ = ["browser"]


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = start_gateway(Path(tmp_path_factory.mktemp("docs")))
    try:
        yield gateway
    finally:
        gateway.stop()


def test_swagger_ui_renders_every_operation_offline(gw: Gateway, browser: Browser) -> None:
    seen = portal(browser, gw.url, "anyone", bypass_csp=False)
    try:
        seen.page.goto(f"{gw.url}/docs")
        seen.page.wait_for_selector(".opblock", timeout=30_000)
        operations = len(gw.request("GET", "/openapi.json", None).json()["paths"])
        shown = seen.page.locator(".opblock-summary-path").count()
        assert shown >= operations, (shown, operations)
        assert seen.page.get_by_text("/bundles/verify", exact=True).count() >= 1
        seen.shot("docs")
        assert seen.offsite == [], seen.offsite
        assert seen.errors == [], seen.errors
    finally:
        seen.close()


def test_redoc_renders_offline(gw: Gateway, browser: Browser) -> None:
    seen = portal(browser, gw.url, "anyone", bypass_csp=False)
    try:
        seen.page.goto(f"{gw.url}/redoc")
        seen.page.wait_for_selector('h1:has-text("SCF gateway")', timeout=30_000)
        assert seen.page.locator("h2").count() > 10  # one heading per operation
        seen.shot("redoc")
        assert seen.offsite == [], seen.offsite
    finally:
        seen.close()


def test_the_pages_name_no_other_origin(gw: Gateway) -> None:
    """Not even a font or a favicon: every URL in the pages is the gateway's own."""
    for path in ("/docs", "/redoc", "/app/sign-in"):
        html = httpx.get(f"{gw.url}{path}").text
        assert "cdn." not in html and "https://" not in html and "http://" not in html.replace(gw.url, ""), (
            path
        )


def test_only_the_listed_vendor_files_are_served(gw: Gateway) -> None:
    assert httpx.get(f"{gw.url}/vendor/swagger-ui-bundle.js").status_code == 200
    for name in ("package.json", "..%2Fpackage.json", "swagger-ui-dist%2Fpackage.json"):
        answer = httpx.get(f"{gw.url}/vendor/{name}")
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "NOT_FOUND", name
