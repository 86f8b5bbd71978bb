"""A real browser for the portal's tests: Debian's Chromium driven by Playwright (its own browser
download is not reachable here; ``make setup`` installs the Debian package).

``Portal`` is one signed-in browser context: it opens pages the way a person does, waits until their
script has filled them, runs axe-core (npm, pinned) in them, and keeps a screenshot of every page it
opened in ``reports/portal/`` (not committed).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from chain.settings import PROJECT_ROOT

CHROMIUM = os.environ.get("SCF_CHROMIUM", "/usr/bin/chromium")
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = PROJECT_ROOT / "reports" / "portal"
#: axe-core impacts that fail a page
BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: `make setup` installs the Debian package")
    with sync_playwright() as p:
        yield _launch(p)


def _launch(p: Playwright) -> Browser:
    return p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])


@dataclass
class Portal:
    """One person's browser (its own cookies) on the gateway at ``base``."""

    context: BrowserContext
    page: Page
    base: str
    who: str
    errors: list[str] = field(default_factory=list)
    offsite: list[str] = field(default_factory=list)

    def sign_in(self, api_key: str) -> None:
        self.page.goto(f"{self.base}/app/sign-in")
        self.page.fill("#api-key", api_key)
        self.page.click("#sign-in button[type=submit]")
        self.page.wait_for_url("**/app/home")
        self.wait()

    def open(self, path: str) -> Page:
        """Open ``/app/<path>`` and wait until its script has filled it (or failed)."""
        self.page.goto(f"{self.base}/app/{path}")
        self.wait()
        return self.page

    def wait(self) -> None:
        if self.page.locator("#page").count():
            self.page.wait_for_selector("#page[aria-busy=false]")

    def axe(self) -> list[dict[str, Any]]:
        """axe-core's serious and critical violations on the open page."""
        self.page.add_script_tag(path=str(AXE))
        found: list[dict[str, Any]] = self.page.evaluate(
            "axe.run().then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " targets: v.nodes.map(n => n.target.join(' '))})))"
        )
        return [v for v in found if v["impact"] in BLOCKING]

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{self.who}-{name}.png"), full_page=True)

    def flash(self) -> str:
        return self.page.inner_text("#flash")

    def rendering_defects(self) -> list[str]:
        """Values a page script failed to turn into words ("[object HTMLSpanElement]", "undefined", "NaN")."""
        text = self.page.inner_text("main")
        return [marker for marker in ("[object ", "undefined", "NaN") if marker in text]

    def page_errors(self) -> list[str]:
        """What the open page says went wrong (its error boxes with text)."""
        return [t for t in self.page.locator("#page .error").all_inner_texts() if t.strip()]

    def close(self) -> None:
        self.context.close()


def portal(browser: Browser, base: str, who: str, *, width: int = 1280, bypass_csp: bool = True) -> Portal:
    """A fresh browser context (no cookies) that refuses every request to another origin and records
    it, and records every script error of its pages. axe-core is injected by Playwright, past the
    pages' Content-Security-Policy (``bypass_csp``): the pages themselves never load a script inline.
    Without ``bypass_csp`` the pages' policies hold, as in a person's browser."""
    context = browser.new_context(bypass_csp=bypass_csp, viewport={"width": width, "height": 900})
    page = context.new_page()
    seen = Portal(context, page, base, who)
    origin = urlsplit(base).netloc

    def gate(route: Any) -> None:
        if urlsplit(route.request.url).netloc == origin or route.request.url.startswith("data:"):
            route.continue_()
        else:
            seen.offsite.append(route.request.url)
            route.abort()

    context.route("**/*", gate)
    page.on("pageerror", lambda exc: seen.errors.append(str(exc)))
    # the browser's own log line for an answer of 4xx (a refusal a test asked for) is not a script error
    page.on(
        "console",
        lambda msg: (
            seen.errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    return seen
