"""Per role, in a real browser: another role's page is refused, a participant never sees another's
objects, every page of the role is accessible and usable at phone width, and the page scripts' money is
exact (the same figures as Python's ``Decimal``)."""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from api.services.portal import PAGES, navigation
from domain.roles import Role
from tests.api.harness import (
    Actor,
    Gateway,
    appoint_issuer,
    bundle_body,
    distinct_trade,
    green_attestation,
    onboard,
    start_gateway,
    trade_parties,
)
from tests.api.warehouse_world import signed_price
from tests.portal.browser import Portal, browser, portal

__all__ = ["browser"]

OTHER_BUYER_GLN = "7350000000507"
OTHER_SELLER_GLN = "7350000000606"


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = start_gateway(Path(tmp_path_factory.mktemp("roles")), timeout=120)
    try:
        yield gateway
    finally:
        gateway.stop()


def _tokenize(gw: Gateway, core: Actor, supplier: Actor, docs: dict[str, bytes]) -> int:
    body = bundle_body(docs, {"Order": core, "DespatchAdvice": supplier, "Invoice": supplier})
    made = gw.request(
        "POST", "/bundles", supplier.api_key, json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    assert made.status_code == 201, made.text
    return int(made.json()["receivable_id"])


def _in_currency(docs: dict[str, bytes], currency: str) -> dict[str, bytes]:
    """The sample trade's documents (in EUR) in ``currency``: every amount's currencyID and the document
    currency code."""
    return {
        kind: data.replace(b'currencyID="EUR"', f'currencyID="{currency}"'.encode()).replace(
            b">EUR</cbc:DocumentCurrencyCode>", f">{currency}</cbc:DocumentCurrencyCode>".encode()
        )
        for kind, data in docs.items()
    }


def _trade_between(buyer_gln: str, seller_gln: str, tag: str) -> dict[str, bytes]:
    """The sample trade between two other parties (their GLNs; the seller's VAT number is left out)."""
    return {
        kind: data.replace(b"7350000000019", buyer_gln.encode())
        .replace(b"7350000000026", seller_gln.encode())
        .replace(b"SE556123456701", b"DE000" + seller_gln[-9:].encode())
        for kind, data in distinct_trade(tag).items()
    }


@pytest.fixture(scope="module")
def world(gw: Gateway) -> dict[str, Any]:
    """Two trades that share nobody: (core, supplier) and (core_b, supplier_b); a financier, a regulator
    and a logistics firm besides. (core, supplier) trade in two currencies: an EUR receivable (disputed)
    and a CNY one (endorsed), so every page of theirs shows amounts in both."""
    core, supplier = trade_parties(gw, custodial=True)
    core_b = onboard(
        gw, "core_enterprise", "Other Buyer AG", "DE000OTHERB", [("0088", OTHER_BUYER_GLN)], custodial=True
    )
    supplier_b = onboard(
        gw, "supplier", "Other Seller GmbH", "DE000OTHERS", [("0088", OTHER_SELLER_GLN)], custodial=True
    )
    credit = gw.request(
        "PUT",
        f"/credit-lines/{core_b.participant_id}",
        gw.credit_bank.api_key,
        json={"currency": "EUR", "limit_minor": 10**12},
    )  # type: ignore[union-attr]
    assert credit.status_code == 200, credit.text
    rid = _tokenize(gw, core, supplier, distinct_trade("ROLES-A"))
    rid_b = _tokenize(gw, core_b, supplier_b, _trade_between(OTHER_BUYER_GLN, OTHER_SELLER_GLN, "ROLES-B"))
    cny_line = {"currency": "CNY", "limit_minor": 10**12}
    credit = gw.request("PUT", f"/credit-lines/{core.participant_id}", gw.credit_bank.api_key, json=cny_line)  # type: ignore[union-attr]
    assert credit.status_code == 200, credit.text
    rid_cny = _tokenize(gw, core, supplier, _in_currency(distinct_trade("ROLES-CNY"), "CNY"))
    # a disputed receivable: its badges appear on the supplier's, the operator's and the regulator's pages
    for endorse in (rid, rid_cny):
        endorsed = gw.request(
            "POST",
            f"/receivables/{endorse}/endorse",
            core.api_key,
            json={"accept": True},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert endorsed.status_code == 200, endorsed.text
    disputed = gw.request(
        "POST",
        f"/receivables/{rid}/disputes",
        core.api_key,
        json={"reason": "goods damaged"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert disputed.status_code == 200, disputed.text
    actors = {
        "supplier": supplier,
        "core_enterprise": core,
        "financier": onboard(gw, "financier", "Role Bank AB", "SE000ROLEBANK", [], custodial=True),
        "regulator": onboard(gw, "regulator", "Role Regulator", "SE000ROLEREG", [], custodial=True),
        "logistics": onboard(gw, "logistics", "Role Logistics AB", "SE000ROLELOG", [], custodial=True),
        "price_source": onboard(gw, "price_source", "Role Prices AB", "SE000ROLEPRICE", [], custodial=True),
    }
    _warehouse(gw, actors)
    return {
        "actors": actors,
        "rid": rid,
        "rid_cny": rid_cny,
        "rid_b": rid_b,
        "core_b": core_b,
        "supplier_b": supplier_b,
    }


def _warehouse(gw: Gateway, actors: dict[str, Actor]) -> None:
    """The logistics firm appointed a warehouse, a signed soybean price, a receipt of the supplier's with
    an offer of the financier's against it (asked for) and one active loan with an open alert: every
    warehouse page has rows."""

    def post(actor: Actor | None, path: str, body: dict[str, Any], expect: int = 200) -> Any:
        key = actor.api_key if actor else gw.operator_key
        resp = gw.request("POST", path, key, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
        assert resp.status_code == expect, resp.text
        return resp.json()

    depot, owner, bank, prices = (actors[r] for r in ("logistics", "supplier", "financier", "price_source"))
    assert (
        gw.request(
            "PUT", f"/warehouse/warehouses/{depot.participant_id}", gw.operator_key, json={"appointed": True}
        ).status_code
        == 200
    )
    now = int(gw.state.chain().w3.eth.get_block("latest")["timestamp"])
    post(prices, "/warehouse/prices", {"observation": signed_price(prices, 450_000, now)}, 201)
    appoint_issuer(gw, bank.participant_id, currency="CNY")  # the warehouse lends in CNY
    post(
        bank,
        "/settlement/mint",
        {"currency": "CNY", "to_participant_id": bank.participant_id, "amount": 10**9},
    )
    loans = []
    for lot in ("ROLE-LOT-1", "ROLE-LOT-2"):
        rid = post(
            depot,
            "/warehouse/receipts",
            {
                "owner_id": owner.participant_id,
                "lot_number": lot,
                "commodity": "SOYBEAN",
                "grade": "No. 2",
                "quantity": 500_000,
                "unit": "KGM",
                "location": "SILO-1",
                "evidence_hash": "0x" + "ab" * 32,
            },
            201,
        )["receipt_id"]
        post(
            owner,
            f"/warehouse/receipts/{rid}/pledge-requests",
            {"financier_id": bank.participant_id, "principal": 100_000, "note": ""},
            201,
        )
        loans.append(
            post(
                bank,
                "/warehouse/loans",
                {
                    "receipt_id": rid,
                    "principal": 100_000,
                    "rate_bps": 800,
                    "maturity": now + 90 * 86_400,
                    "ltv_limit_bps": 7000,
                    "margin_call_bps": 8000,
                },
                201,
            )["loan_id"]
        )
    post(owner, f"/warehouse/loans/{loans[0]}/accept", {})


def _signed_in(browser: Browser, gw: Gateway, world: dict[str, Any], role: str, width: int = 1280) -> Portal:
    seen = portal(browser, gw.url, f"{role}-{width}", width=width)
    seen.sign_in(gw.operator_key if role == "operator" else world["actors"][role].api_key)
    return seen


ROLES = ["operator", "supplier", "core_enterprise", "financier", "regulator", "logistics", "price_source"]


@pytest.mark.parametrize("role", ROLES)
def test_another_roles_pages_are_refused_and_the_roles_own_are_accessible(
    gw: Gateway, browser: Browser, world: dict[str, Any], role: str
) -> None:
    seen = _signed_in(browser, gw, world, role)
    try:
        mine = {p.slug for p in navigation(Role(role))}
        shown = set(
            seen.page.locator("nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        )
        assert shown == {f"/app/{slug}" for slug in mine}
        for page in PAGES:
            if not page.nav:
                continue
            answer = seen.page.goto(f"{gw.url}/app/{page.slug}")
            assert answer is not None
            if Role(role) in page.roles:
                assert answer.status == 200, page.slug
                seen.wait()
                assert seen.page_errors() == [] and seen.rendering_defects() == [], page.slug
                assert seen.axe() == [], (page.slug, seen.axe())
            else:
                assert answer.status == 403, page.slug
                expect(seen.page.locator("#refused")).to_contain_text("not for your role")
                assert seen.page.locator("#page").count() == 0  # no script of that page runs
        assert seen.errors == [] and seen.offsite == [], (seen.errors, seen.offsite)
    finally:
        seen.close()


def test_a_participant_never_sees_anothers_receivable(
    gw: Gateway, browser: Browser, world: dict[str, Any]
) -> None:
    other_debtor = world["core_b"].legal_name
    for role in ("supplier", "core_enterprise", "logistics"):
        seen = _signed_in(browser, gw, world, role)
        try:
            page = seen.open(f"receivable?id={world['rid_b']}")
            expect(page.locator("#page .error")).to_contain_text("RECEIVABLE_NOT_FOUND")
            assert other_debtor not in page.inner_text("main"), role
            for slug in ("holdings", "payables", "bundles"):
                if Role(role) in next(p for p in PAGES if p.slug == slug).roles:
                    assert other_debtor not in seen.open(slug).inner_text("main"), (role, slug)
        finally:
            seen.close()
    # the regulator sees both, read-only: no action form on the receivable's page but the dispute it may raise
    seen = _signed_in(browser, gw, world, "regulator")
    try:
        page = seen.open(f"receivable?id={world['rid_b']}")
        expect(page.locator("#facts-h")).to_contain_text(other_debtor)
        assert page.locator("form").count() == 1 and page.locator("form[aria-label='Dispute']").count() == 1
    finally:
        seen.close()


@pytest.mark.parametrize("role", ["supplier", "core_enterprise", "financier", "operator"])
def test_the_pages_fit_a_phone(gw: Gateway, browser: Browser, world: dict[str, Any], role: str) -> None:
    """At 390 px nothing makes the page scroll sideways (wide tables scroll inside their own region)."""
    seen = _signed_in(browser, gw, world, role, width=390)
    try:
        for item in navigation(Role(role)):
            page = seen.open(item.slug)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (item.slug, width)
            seen.shot(item.slug)
    finally:
        seen.close()


def test_the_page_scripts_money_is_exact(gw: Gateway, browser: Browser) -> None:
    """``decimalOf`` and ``parseMoney`` against Python's exact decimals, amounts past 2^53 included, in
    currencies of 2, 0 (JPY) and 3 (KWD) minor digits (the browser's ISO 4217 data); what a person may
    type, and what is refused; ``money`` formats each amount in its own currency (en-US)."""
    rng = random.Random(12)
    minors = [0, 1, 99, 100, 309_050, 2**53 - 1, 2**53 + 1, 10**20 + 7] + [
        rng.randrange(10**18) for _ in range(40)
    ]
    seen = portal(browser, gw.url, "money")
    try:
        seen.page.goto(f"{gw.url}/app/sign-in")
        got = seen.page.evaluate(
            """async (minors) => {
                const m = await import('/app/static/portal.js');
                const of = (code) => minors.map((x) => m.decimalOf(BigInt(x), code));
                const digits = ['EUR', 'CNY', 'JPY', 'KWD'].map((code) => m.minorDigits(code));
                return {digits, EUR: of('EUR'), JPY: of('JPY'), KWD: of('KWD')};
            }""",
            [str(x) for x in minors],
        )
        assert got["digits"] == [2, 2, 0, 3]
        assert got["EUR"] == [f"{Decimal(x) / 100:.2f}" for x in minors]
        assert got["JPY"] == [str(x) for x in minors]
        assert got["KWD"] == [f"{Decimal(x) / 1000:.3f}" for x in minors]
        typed = {
            "1234.56": 123456,
            "1234,56": 123456,
            "1 234,56": 123456,
            "1,234.56": 123456,
            "1.234,56": 123456,
            "1,234": 123400,
            "1.001": 100100,  # one separator before three digits groups them (a decimal has at most 2)
            "1.234.567": 123456700,
            "0.05": 5,
            "12": 1200,
            "92233720368547758.07": 9223372036854775807,
        }
        refused = [
            "",
            "0",
            "0.00",
            "-5",
            "1.234.56",
            "0.5.5",
            "1.2.3",
            "12.345,67.8",
            "1e3",
            "1.",
            "abc",
            "1.0001",
        ]
        # (text, currency): minor units, or None for refused
        other = {
            ("1234", "JPY"): 1234,
            ("1,234", "JPY"): 1234,
            ("1.234.567", "JPY"): 1234567,
            ("1234.5", "JPY"): None,  # JPY has no decimals
            ("12.5", "KWD"): 12500,
            ("12.500", "KWD"): 12500,  # three decimals: en-US's decimal point before three digits
            ("12,500", "KWD"): 12500000,  # and its group separator
            ("1,234.567", "KWD"): 1234567,
            ("1.2345", "KWD"): None,
            ("3090.50", "CNY"): 309050,
        }
        answers = seen.page.evaluate(
            """async ([good, bad, other]) => {
                const m = await import('/app/static/portal.js');
                const one = (t, code = 'EUR') => {
                    try { return m.parseMoney(t, code).toString(); } catch (e) { return 'refused:' + e.code; }
                };
                const theirs = other.map(([t, code]) => one(t, code));
                return [good.map((t) => one(t)), bad.map((t) => one(t)), theirs];
            }""",
            [list(typed), refused, list(other)],
        )
        assert answers[0] == [str(v) for v in typed.values()]
        assert answers[1] == ["refused:AMOUNT_INVALID"] * len(refused), list(
            zip(refused, answers[1], strict=True)
        )
        assert answers[2] == ["refused:AMOUNT_INVALID" if v is None else str(v) for v in other.values()], (
            list(zip(other, answers[2], strict=True))
        )
        shown = seen.page.evaluate(
            """async () => {
                const m = await import('/app/static/portal.js');
                let missing;
                try { m.money(1n); } catch (e) { missing = e.code; }
                return [m.money(309050n, 'EUR'), m.money(309050n, 'CNY'), m.money(309050n, 'JPY'),
                        m.money(1234567n, 'KWD'), m.money(2n ** 64n + 1n, 'JPY'), m.money(-5n, 'EUR'),
                        missing];
            }"""
        )
        assert [s.replace("\xa0", " ") for s in shown[:6]] == [
            "€3,090.50",
            "CN¥3,090.50",
            "¥309,050",  # JPY: no decimals, every minor unit a yen
            "KWD 1,234.567",
            "¥18,446,744,073,709,551,617",  # past 2^64, exactly
            "-€0.05",
        ]
        assert shown[6] == "CURRENCY_UNKNOWN"  # an amount without its currency is never formatted
    finally:
        seen.close()


def test_amounts_in_two_currencies_side_by_side_each_in_its_own(
    gw: Gateway, browser: Browser, world: dict[str, Any]
) -> None:
    """The supplier holds an EUR receivable and a CNY one of the same face (3,090.50): each row shows its
    own currency; the core enterprise's calendar sums each currency apart, never across them."""
    rid, rid_cny = world["rid"], world["rid_cny"]
    seen = _signed_in(browser, gw, world, "supplier")
    try:
        page = seen.open("holdings")
        eur = page.locator("tr", has=page.locator(f"a[href='/app/receivable?id={rid}']"))
        cny = page.locator("tr", has=page.locator(f"a[href='/app/receivable?id={rid_cny}']"))
        expect(eur).to_contain_text("€3,090.50")
        expect(cny).to_contain_text("CN¥3,090.50")
        assert "€" not in cny.inner_text().replace("CN¥", "") and "CN¥" not in eur.inner_text()
        page = seen.open(f"receivable?id={rid_cny}")
        expect(page.locator("#facts-h")).to_contain_text("CN¥3,090.50 owed by")
        expect(page.locator("#currency")).to_have_text("CNY")
        assert seen.errors == [], seen.errors
    finally:
        seen.close()
    core = _signed_in(browser, gw, world, "core_enterprise")
    try:
        page = core.open("calendar")
        totals = page.locator("#calendar-totals strong")
        expect(totals).to_have_count(2)
        assert totals.all_inner_texts() == ["CN¥3,090.50", "€3,090.50"]  # by code, never added up
        expect(page.locator("figure figcaption")).to_have_count(2)  # a chart per currency
        page = core.open("payables")
        expect(page.locator("#balances li")).to_have_count(3)  # one balance per settlement currency
        assert core.errors == [], core.errors
    finally:
        core.close()


def test_a_core_enterprise_with_its_own_key_endorses_by_signing_in_the_page(
    gw: Gateway, browser: Browser, world: dict[str, Any]
) -> None:
    """A non-custodial core enterprise (the gateway holds no key of it) decides with its chain key: the
    page signs the EIP-712 endorsement (ethers, served by the gateway), the gateway relays it. A wrong
    key changes nothing."""
    core = onboard(gw, "core_enterprise", "Own Key Buyer AB", "SE000OWNKEY1", [("0088", "7350000000705")])
    supplier = onboard(
        gw, "supplier", "Own Key Seller AB", "SE000OWNKEY2", [("0088", "7350000000804")], custodial=True
    )
    line = {"currency": "EUR", "limit_minor": 10**12}
    credit = gw.request("PUT", f"/credit-lines/{core.participant_id}", gw.credit_bank.api_key, json=line)  # type: ignore[union-attr]
    assert credit.status_code == 200, credit.text
    rid = _tokenize(gw, core, supplier, _trade_between("7350000000705", "7350000000804", "OWNKEY"))
    ledger = gw.state.chain().platform.ledger
    seen = portal(browser, gw.url, "own-key")
    try:
        seen.sign_in(core.api_key)
        page = seen.open("payables")
        page.click("button:has-text('Decide with my key')")
        page.get_by_label(re.compile("My chain private key")).fill("0x" + "11" * 32)  # not its key
        page.click("form[aria-label^='Decide on receivable'] button[type=submit]")
        expect(page.locator("form[aria-label^='Decide on receivable'] .error")).not_to_be_empty(
            timeout=30_000
        )
        assert ledger.receivable(rid).status.name == "PENDING"
        page.get_by_label(re.compile("My chain private key")).fill(core.chain_key)
        page.click("form[aria-label^='Decide on receivable'] button[type=submit]")
        expect(page.locator("#flash")).to_contain_text("with your own key", timeout=30_000)
        assert ledger.receivable(rid).status.name == "CONFIRMED"
        assert seen.offsite == [] and seen.errors == [], (seen.offsite, seen.errors)
    finally:
        seen.close()


def test_sign_in_and_navigation_work_from_the_keyboard(
    gw: Gateway, browser: Browser, world: dict[str, Any]
) -> None:
    """Tab to the key, type it, Enter; Tab to a page in the navigation, Enter: no mouse."""
    seen = portal(browser, gw.url, "keyboard")
    page = seen.page

    def tab_to(check: str, limit: int = 25) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(check):
                return
        raise AssertionError(f"Tab never reached: {check}")

    try:
        page.goto(f"{gw.url}/app/sign-in")
        tab_to("document.activeElement.id === 'api-key'")
        page.keyboard.type(world["actors"]["supplier"].api_key)
        page.keyboard.press("Enter")
        page.wait_for_url("**/app/home")
        seen.wait()
        tab_to("document.activeElement.getAttribute('href') === '/app/holdings'")
        page.keyboard.press("Enter")
        page.wait_for_url("**/app/holdings")
        seen.wait()
        expect(page.locator("nav a[aria-current=page]")).to_have_text("Holdings")
        tab_to("document.activeElement.id === 'sign-out'", limit=40)
        page.keyboard.press("Enter")
        page.wait_for_url("**/app/sign-in")
    finally:
        seen.close()


def test_the_warehouse_page_accepts_a_loan_and_freezes_a_receipt(
    gw: Gateway, browser: Browser, world: dict[str, Any]
) -> None:
    """The supplier accepts the financier's offer against its receipt by one click (paid out 1,000.00);
    the financier then freezes the pledged receipt; the regulator sees both, with no action."""
    owner = _signed_in(browser, gw, world, "supplier")
    try:
        page = owner.open("warehouse")
        accept = page.locator("form[aria-label^='Accept loan'] button")
        expect(accept).to_have_count(1)
        assert "1,000.00" in accept.inner_text()
        accept.dblclick()  # one transaction, whatever the clicks
        expect(page.locator("#flash")).to_contain_text("accepted")
        owner.wait()
        expect(page.locator("form[aria-label^='Accept loan']")).to_have_count(0)
        expect(page.locator("form[aria-label^='Repay loan']")).to_have_count(2)
    finally:
        owner.close()
    bank = _signed_in(browser, gw, world, "financier")
    try:
        page = bank.open("warehouse")
        freeze = page.locator("form[aria-label^='Freeze receipt'] button")
        expect(freeze).to_have_count(2)
        freeze.first.click()
        expect(page.locator("#flash")).to_contain_text("frozen")
        bank.wait()
        expect(page.locator("form[aria-label^='Freeze receipt']")).to_have_count(1)
    finally:
        bank.close()
    regulator = _signed_in(browser, gw, world, "regulator")
    try:
        page = regulator.open("warehouse")
        assert page.locator("#page form").count() == 0
        expect(page.locator("main")).to_contain_text("frozen")
    finally:
        regulator.close()


def _profile(gw: Gateway, key: str, participant_id: str) -> dict[str, Any]:
    answer = gw.request("GET", f"/credit/profiles/{participant_id}", key)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _shows_the_profile(seen: Portal, want: dict[str, Any]) -> None:
    """The open profile page shows the API's profile: name, block, score, grade, each factor and the top
    reasons; its amounts are plain integers of minor units across currencies, never in a currency."""
    page = seen.page
    card = want["scorecard"]
    expect(page.locator("main h1")).to_have_text(f"Credit profile: {want['participant']['name']}")
    expect(page.locator("#as-of-block")).to_have_text(str(want["as_of_block"]))
    expect(page.locator("#score")).to_have_text(str(card["score"]))
    expect(page.locator("#grade")).to_have_text(card["grade"])
    rows = page.locator("[aria-label='Scorecard factors'] tbody tr")
    expect(rows).to_have_count(len(card["factors"]))
    for row, factor in zip(rows.all(), card["factors"], strict=True):
        expect(row).to_contain_text(factor["reason_code"])
        expect(row.locator("td").nth(3)).to_have_text(str(factor["points"]))
    reasons = page.locator("#top-reasons li")
    expect(reasons).to_have_count(len(card["top_reasons"]))
    for item, factor in zip(reasons.all(), card["top_reasons"], strict=True):
        expect(item).to_contain_text(factor["reason_code"])
    expect(page.locator("main")).to_contain_text("minor units, all currencies")
    record = page.locator("#record-debtor, #record-supplier").inner_text()
    assert not re.search(r"[€¥$]|EUR|CNY", record), record
    seen.shot(f"profile-{want['role']}")
    assert seen.page_errors() == [] and seen.rendering_defects() == []
    assert seen.axe() == [], seen.axe()


def test_the_market_links_grades_to_credit_profiles_that_show_the_apis_scorecard(
    gw: Gateway, browser: Browser, world: dict[str, Any]
) -> None:
    """The financier follows the debtor's and the supplier's grade in the market to their credit profiles
    (the API's score, grade, factors and reasons); a party it has no business with shows the API's 404
    message; a supplier opening the page without an id sees its own."""
    bank = world["actors"]["financier"]
    core, supplier = world["actors"]["core_enterprise"], world["actors"]["supplier"]
    seen = _signed_in(browser, gw, world, "financier")
    try:
        for who, column in ((core, 2), (supplier, 4)):
            want = _profile(gw, bank.api_key, who.participant_id)
            page = seen.open("market")
            row = page.locator("tr", has=page.locator(f"a[href='/app/receivable?id={world['rid_cny']}']"))
            link = row.locator("td").nth(column).locator("a")
            expect(link).to_have_attribute("href", f"/app/profile?id={who.participant_id}")
            expect(link).to_have_text(f"{want['scorecard']['grade']}, {want['scorecard']['score']}")
            link.click()
            page.wait_for_url(f"**/app/profile?id={who.participant_id}")
            seen.wait()
            _shows_the_profile(seen, want)
        page = seen.open(f"profile?id={world['core_b'].participant_id}")
        expect(page.locator("#page .error")).to_contain_text("CREDIT_PROFILE_NOT_FOUND")
        assert world["core_b"].legal_name not in page.inner_text("main")
        assert seen.errors == [] and seen.offsite == [], (seen.errors, seen.offsite)
    finally:
        seen.close()
    own = _signed_in(browser, gw, world, "supplier")
    try:
        own.open("profile")
        _shows_the_profile(own, _profile(gw, supplier.api_key, supplier.participant_id))
        assert own.errors == [], own.errors
    finally:
        own.close()


def test_the_receivable_page_shows_its_green_label_and_attestation(
    gw: Gateway, browser: Browser, world: dict[str, Any]
) -> None:
    """A certifier labels the CNY receivable: its page shows the label and offers the signed attestation
    as a file (the API's answer); the unlabelled receivable's page has no green section."""
    rid, supplier = world["rid_cny"], world["actors"]["supplier"]
    certifier = onboard(gw, "certifier", "Role Green Assessors", "91110000MA01ROLES1", [], custodial=True)
    fingerprint = gw.request("GET", f"/receivables/{rid}", supplier.api_key).json()["fingerprint"]
    today = datetime.fromtimestamp(gw.state.chain_now(), UTC).date()
    body = green_attestation(
        certifier, rid, fingerprint, today, benefit={"kg_co2e": 50_000, "method": "GHG Protocol"}
    )
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    labelled = gw.request("POST", f"/green/labels/{rid}", certifier.api_key, json=body, headers=headers)
    assert labelled.status_code == 200, labelled.text
    label = gw.request("GET", f"/green/labels/{rid}", supplier.api_key).json()
    attestation = gw.request("GET", f"/green/labels/{rid}/attestation", supplier.api_key).json()
    seen = _signed_in(browser, gw, world, "supplier")
    try:
        page = seen.open(f"receivable?id={world['rid']}")
        expect(page.locator("#facts-h")).to_be_visible()
        expect(page.locator("#green-label")).to_have_count(0)
        page = seen.open(f"receivable?id={rid}")
        section = page.locator("#green-label")
        expect(page.locator("#green-catalogue")).to_have_text(label["catalogue"])
        expect(page.locator("#green-category")).to_have_text(label["category"])
        expect(page.locator("#green-certifier")).to_have_text("Role Green Assessors")
        expect(page.locator("#green-benefit")).to_have_text("50,000 kg CO2e")
        expect(page.locator("#green-state")).to_have_text("live")
        expect(section).to_contain_text(label["attestation_hash"])
        page.click("#attestation-show")
        expect(page.locator("#attestation-sha256")).to_have_text(attestation["sha256"])
        expect(page.locator("#attestation-content")).to_contain_text(fingerprint)
        seen.shot("receivable-green")
        with page.expect_download() as got:
            page.click("#attestation-download")
        saved = json.loads(Path(got.value.path()).read_text())
        assert saved == attestation
        assert seen.page_errors() == [] and seen.rendering_defects() == []
        assert seen.axe() == [], seen.axe()
        assert seen.errors == [] and seen.offsite == [], (seen.errors, seen.offsite)
    finally:
        seen.close()
