"""The whole demo story through the portal only, in a real browser: the operator onboards everyone, a
forged bundle is refused with its reasons, the real one is signed in the browser and tokenized, the core
enterprise endorses, the supplier pays part to its own supplier (a double click makes one transfer), a
financier offers, the tier-2 supplier sees the price and sells, the chain's clock moves past maturity
(local tooling: the one step outside the browser), the core enterprise repays, the holders redeem, and
the regulator reads the provenance picture. Every page each role opens is checked with axe-core and kept
as a screenshot in ``reports/portal/``.

The ledger is read directly (``ledger``) to check what the pages did: money is compared exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import Browser, expect

from api.services.portal import navigation
from cli.sample import BUYER_GLN, SELLER_GLN, trade
from domain.documents.model import DocumentKind
from domain.identity import sign_detached
from domain.roles import Role
from tests.api.harness import Gateway, start_gateway
from tests.portal.browser import Portal, browser, portal

__all__ = ["browser"]

TIER2_GLN = "7350000000033"
DAY = 86_400


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = start_gateway(Path(tmp_path_factory.mktemp("story")), timeout=120)
    try:
        yield gateway
    finally:
        gateway.stop()


class Person:
    """A participant as the story knows it: its signing key (kept by itself), and what the operator's
    page showed once (API key, certificate)."""

    def __init__(self, name: str, registration: str, role: str, identifiers: str = "") -> None:
        self.name, self.registration, self.role, self.identifiers = name, registration, role, identifiers
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.api_key = ""
        self.certificate_pem = ""
        self.id = ""

    @property
    def public_pem(self) -> str:
        return (
            self.key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def private_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


def _money(text: str) -> int:
    """Minor units of an amount the page showed in en-US ("€1,236.20")."""
    found = re.search(r"€([\d,]+)\.(\d{2})", text)
    assert found, text
    return int(found.group(1).replace(",", "")) * 100 + int(found.group(2))


def _check(seen: Portal, name: str) -> None:
    """The page is accessible (no serious axe-core violation), raised no script error, asked nothing of
    another origin; its screenshot is kept."""
    seen.shot(name)
    assert seen.rendering_defects() == [], name
    assert seen.axe() == [], (name, seen.axe())
    assert seen.errors == [], (name, seen.errors)
    assert seen.offsite == [], (name, seen.offsite)


def _onboard(op: Portal, person: Person) -> None:
    page = op.open("participants")
    page.fill("input[name=legal_name]", person.name)
    page.fill("input[name=registration_id]", person.registration)
    page.select_option("select[name=role]", person.role)
    page.fill("textarea[name=party_identifiers]", person.identifiers)
    page.fill("textarea[name=signing_key]", person.public_pem)
    page.click("button:has-text('Onboard participant')")
    box = page.locator("section:has(h2:has-text('Onboarded'))")
    expect(box).to_be_visible(timeout=30_000)
    person.api_key = box.locator("p.secret").first.inner_text().strip()
    person.certificate_pem = box.locator("textarea.secret").first.input_value()
    person.id = re.search(r"Participant id ([0-9a-f-]{36})", box.inner_text()).group(1)  # type: ignore[union-attr]
    assert person.api_key.startswith("scf_") and "BEGIN CERTIFICATE" in person.certificate_pem
    box.locator("button:has-text('I have saved them: hide')").click()
    expect(page.locator("p.secret")).to_have_count(0)


def test_the_whole_story_through_the_portal(gw: Gateway, browser: Browser, tmp_path: Path) -> None:
    ledger = gw.state.chain().platform.ledger
    token = gw.state.chain().platform.tokens["EUR"]
    core = Person("Nordvik Retail AB", "SE5566778899", "core_enterprise", f"0088:{BUYER_GLN}")
    tier1 = Person("Fabrikant Metall AB", "SE5561234567", "supplier", f"0088:{SELLER_GLN}")
    tier2 = Person("Smedja Komponent AB", "SE5569988776", "supplier", f"0088:{TIER2_GLN}")
    bank = Person("Hansa Trade Finance", "DE811234567", "financier")
    regulator = Person("Finansinspektionen", "SE2021000001", "regulator")

    # -- the operator onboards everyone and appoints the financier an issuer of settlement tokens
    op = portal(browser, gw.url, "operator")
    op.sign_in(gw.operator_key)
    for person in (core, tier1, tier2, bank, regulator):
        _onboard(op, person)
    _check(op, "participants")
    page = op.open("settlement")
    page.get_by_label("Financier's participant id").fill(bank.id)
    page.get_by_label("Currency", exact=True).select_option("EUR")  # the trade's invoices are in EUR
    page.get_by_role("textbox", name="Cap").fill("10000000")
    page.click("button:has-text('Save the cap')")
    expect(page.locator("#flash")).to_contain_text("in EUR: cap €10,000,000.00")

    # -- the financier grants the core enterprise a credit line and books deposits
    fin = portal(browser, gw.url, "financier")
    fin.sign_in(bank.api_key)
    page = fin.open("portfolio")
    page.get_by_label("Core enterprise's participant id").fill(core.id)
    page.get_by_label("Currency of the line").select_option("EUR")
    page.get_by_label("My line (limit)").fill("1000000")
    page.click("button:has-text('Set my line')")
    expect(page.locator("#credit-line")).to_contain_text("€1,000,000.00", timeout=30_000)
    for to, amount in ((bank.id, "50000"), (core.id, "10000")):
        page = fin.open("settlement")
        page.get_by_label("To participant id").fill(to)
        expect(page.get_by_label("Currency", exact=True)).to_have_value("EUR")  # the one it may issue in
        page.get_by_label("Amount").fill(amount)
        page.click("#mint button[type=submit]")
        expect(page.locator("#flash")).to_contain_text("Issued")
    assert token.balance_of(ledger_address(gw, core.id)) == 1_000_000

    # -- the supplier: a forged bundle is refused with its reasons, the real one is tokenized
    docs = trade("INV-PORTAL-1")
    folder = tmp_path / "erp"
    folder.mkdir()
    core_cert = _cert(core.certificate_pem)
    (folder / "Order.xml").write_bytes(docs["Order"])
    (folder / "Order.xml.jws").write_text(
        sign_detached(docs["Order"], core.key, core_cert, DocumentKind.ORDER)
    )
    (folder / "DespatchAdvice.xml").write_bytes(docs["DespatchAdvice"])
    (folder / "key.pem").write_bytes(tier1.private_pem())
    (folder / "certificate.pem").write_text(tier1.certificate_pem)
    forged = folder / "forged"
    forged.mkdir()
    (forged / "Invoice.xml").write_bytes(docs["Invoice"].replace(b">3090.50<", b">9090.50<"))
    tier1_cert = _cert(tier1.certificate_pem)
    (forged / "Invoice.xml.jws").write_text(
        sign_detached(docs["Invoice"], tier1.key, tier1_cert, DocumentKind.INVOICE)
    )
    (folder / "Invoice.xml").write_bytes(docs["Invoice"])

    sup = portal(browser, gw.url, "supplier")
    sup.sign_in(tier1.api_key)
    page = sup.open("upload")
    page.set_input_files(
        "#files", [folder / "Order.xml", folder / "Order.xml.jws", folder / "DespatchAdvice.xml"]
    )
    page.set_input_files("#files", [forged / "Invoice.xml", forged / "Invoice.xml.jws"])
    page.set_input_files("#signing-key", folder / "key.pem")
    page.set_input_files("#certificate", folder / "certificate.pem")
    page.click("#check")
    expect(page.locator("#result h2")).to_have_text("The documents were refused", timeout=30_000)
    reasons = page.inner_text("#violations")
    assert "SIG_" in reasons and "Invoice.xml" in reasons, reasons
    expect(page.locator("#doc-list li.failing")).to_contain_text("Invoice.xml")
    assert page.is_disabled("#tokenize")
    _check(sup, "upload-refused")
    page.click("button[aria-label='Remove Invoice.xml.jws']")
    page.set_input_files("#files", [folder / "Invoice.xml"])  # the real invoice, signed here
    page.click("#check")
    expect(page.locator("#result h2")).to_have_text("All checks passed", timeout=30_000)
    page.click("#tokenize")
    expect(page.locator("#tokenized")).to_be_visible(timeout=60_000)
    rid = int(re.search(r"#(\d+)", page.inner_text("#tokenized")).group(1))  # type: ignore[union-attr]
    face = ledger.receivable(rid).face_value
    assert face == 309_050
    _check(sup, "upload-tokenized")

    # -- the core enterprise reads the documents and endorses
    ce = portal(browser, gw.url, "core")
    ce.sign_in(core.api_key)
    page = ce.open("payables")
    _check(ce, "payables-pending")
    page.click(f"form[aria-label='Endorse receivable {rid}'] button")
    expect(page.locator("#flash")).to_contain_text("You endorsed", timeout=30_000)
    assert ledger.receivable(rid).status.name == "CONFIRMED"
    ce.open("calendar")
    _check(ce, "calendar")

    # -- the supplier pays 40 % to its own supplier; a double click makes one transfer
    part = face * 40 // 100
    page = sup.open("holdings")
    page.click("button:has-text('Pay a part')")
    page.get_by_label("Pay to").select_option(label=tier2.name)  # the directory, by name
    page.get_by_label(re.compile("^Amount")).fill(f"{part // 100}.{part % 100:02d}")
    page.dblclick("button:has-text('Pay this part')")
    expect(page.locator("#flash")).to_contain_text("Paid", timeout=30_000)
    assert ledger.balance_of(ledger_address(gw, tier2.id), rid) == part
    assert ledger.balance_of(ledger_address(gw, tier1.id), rid) == face - part
    _check(sup, "holdings")

    # -- the financier offers on the market; the tier-2 supplier sees the price, then sells
    page = fin.open("market")
    page.click(f"button[aria-label='Make an offer… on receivable #{rid}']")
    page.get_by_label("Most face value to buy").fill(f"{part // 100}.{part % 100:02d}")
    page.get_by_label("Annual discount rate (%)").fill("6.00")
    page.click("button:has-text('Make the offer')")
    expect(page.locator("#flash")).to_contain_text(re.compile(r"Offer #\d+ made"), timeout=30_000)
    _check(fin, "market")
    t2 = portal(browser, gw.url, "tier2")
    t2.sign_in(tier2.api_key)
    page = t2.open("offers")
    page.click("button:has-text('Show the price')")
    accept = page.locator("button:has-text('Accept and sell for')")
    expect(accept).to_be_enabled(timeout=30_000)
    shown = _money(accept.inner_text())
    _check(t2, "offers-quoted")
    before = token.balance_of(ledger_address(gw, tier2.id))
    accept.click()
    expect(page.locator("#flash")).to_contain_text("€", timeout=30_000)
    paid = token.balance_of(ledger_address(gw, tier2.id)) - before
    assert paid == shown  # the price shown before accepting is the price paid, to the cent
    fin.open("portfolio")
    _check(fin, "portfolio")

    # -- maturity: the local chain's clock moves (Anvil tooling, the one step outside the browser)
    due = ledger.receivable(rid).due_date
    gw.advance_time(due - int(gw.state.chain_now()) + DAY)

    # -- the core enterprise repays; the holders redeem every cent
    page = ce.open("payables")
    page.click("button:has-text('Repay…')")
    page.get_by_label("Amount").fill(f"{face // 100}.{face % 100:02d}")
    page.click("form[aria-label^='Repay receivable'] button[type=submit]")
    expect(page.locator("#flash")).to_contain_text("You repaid", timeout=30_000)
    redeemed = 0
    for seen in (sup, fin):
        holder = tier1 if seen is sup else bank
        before = token.balance_of(ledger_address(gw, holder.id))
        page = seen.open("holdings")
        page.click("button:has-text('Redeem')")
        expect(page.locator("#flash")).to_contain_text("Redeemed", timeout=30_000)
        redeemed += token.balance_of(ledger_address(gw, holder.id)) - before
    assert redeemed == face

    # -- the regulator reads the provenance picture; each node links to its transaction
    reg = portal(browser, gw.url, "regulator")
    reg.sign_in(regulator.api_key)
    page = reg.open(f"receivable?id={rid}")
    picture = page.locator("#provenance-picture")
    expect(picture.locator("a")).to_have_count(3)  # tokenized to tier 1, transferred to tier 2, discounted
    text = picture.text_content() or ""
    for who in (tier1.name, tier2.name, bank.name):
        assert who in text
    link = picture.locator("a").nth(2)
    target = link.get_attribute("href")
    assert target and target.startswith("#tx-0x")
    link.click()
    assert page.evaluate("location.hash") == target
    expect(page.locator(target.replace("#", "#", 1))).to_be_visible()
    _check(reg, "provenance")

    # -- no key, token or secret is left in the browser: the cookie is HttpOnly, nothing is stored
    for seen in (op, sup, ce, fin, t2, reg):
        kept = seen.page.evaluate("[localStorage.length, sessionStorage.length, document.cookie]")
        assert kept == [0, 0, ""], (seen.who, kept)

    # -- every page of every role: accessible, no script error, screenshot (docs/portal.md shows these)
    for seen, role in (
        (op, Role.OPERATOR),
        (sup, Role.SUPPLIER),
        (ce, Role.CORE_ENTERPRISE),
        (fin, Role.FINANCIER),
        (reg, Role.REGULATOR),
    ):
        for item in navigation(role):
            seen.open(item.slug)
            _check(seen, item.slug)
    for seen in (op, sup, ce, fin, t2, reg):
        seen.close()


def ledger_address(gw: Gateway, participant_id: str) -> str:
    found = gw.request("GET", f"/participants/{participant_id}", gw.operator_key)
    assert found.status_code == 200, found.text
    return str(found.json()["chain_address"])


def _cert(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())
