"""Settlement in more than one currency through the gateway (issue 14, part 3; docs/currencies.md).

One gateway, one core enterprise, one supplier and one bank, with receivables in CNY and in EUR side by
side: a full story in each currency (tokenize, endorse, discount, repay, redeem) with every amount exact
and every movement in the receivable's own token; credit lines that never cover another currency; an
invoice in a currency without a token refused; a repayment or offer naming another currency refused before
anything is signed; sums answered per currency; the tenor rules of the default (cn) market profile.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from cli.sample import Actor, Gateway
from tests.api.harness import (
    BUYER_GLN,
    appoint_issuer,
    bundle_body,
    call_as,
    distinct_trade,
    ok_as,
    onboard,
)
from tests.conftest import make_settings

FACE = 309_050  # the sample trade's payable, 3,090.50 in minor units of whatever currency it is in
LINE = 10 * FACE


def in_currency(docs: dict[str, bytes], currency: str, due: date | None = None) -> dict[str, bytes]:
    """The sample trade's documents in ``currency`` (every amount's currencyID and the document
    currency), the invoice due on ``due`` if given."""
    out = {}
    for kind, data in docs.items():
        text = data.decode().replace('currencyID="EUR"', f'currencyID="{currency}"')
        text = text.replace(">EUR</cbc:DocumentCurrencyCode>", f">{currency}</cbc:DocumentCurrencyCode>")
        if due is not None and kind == "Invoice":
            text = re.sub(r"<cbc:DueDate>[^<]*</cbc:DueDate>", f"<cbc:DueDate>{due}</cbc:DueDate>", text)
        out[kind] = text.encode()
    return out


@pytest.fixture(scope="module")
def world(gw: Gateway) -> dict[str, Actor]:
    """A core enterprise with a CNY line only (the EUR line comes in the story), its supplier, a bank that
    issues CNY and EUR, and the operator's view."""
    core = onboard(
        gw, "core_enterprise", "Nordvik Retail AB", "SE5566778899", [("0088", BUYER_GLN)], custodial=True
    )
    supplier = onboard(
        gw,
        "supplier",
        "Fabrikant Metall AB",
        "SE5561234567",
        [("0088", "7350000000026"), ("VAT", "SE556123456701")],
        custodial=True,
    )
    bank = onboard(gw, "financier", "Bank of Two Currencies", "DE333333333", [], custodial=True)
    for currency in ("CNY", "EUR"):
        appoint_issuer(gw, bank.participant_id, currency=currency)
        for to in (bank, core):
            body = {"to_participant_id": to.participant_id, "currency": currency, "amount": 10**9}
            ok_as(gw, bank, "POST", "/settlement/mint", body)
    ok_as(gw, bank, "PUT", f"/credit-lines/{core.participant_id}", {"currency": "CNY", "limit_minor": LINE})
    return {"core": core, "supplier": supplier, "bank": bank}


def _bundle(gw: Gateway, w: dict[str, Actor], tag: str, currency: str, due: date | None = None) -> Any:
    signers = {"Order": w["core"], "DespatchAdvice": w["supplier"], "Invoice": w["supplier"]}
    docs = in_currency(distinct_trade(tag, BUYER_GLN), currency, due)
    return call_as(gw, w["supplier"], "POST", "/bundles", bundle_body(docs, signers))


def _used(gw: Gateway, w: dict[str, Actor], currency: str) -> int:
    path = f"/credit-lines/{w['core'].participant_id}?currency={currency}"
    return int(ok_as(gw, w["bank"], "GET", path)["used_minor"])


def _balance(gw: Gateway, who: Actor, currency: str) -> int:
    return int(ok_as(gw, who, "GET", f"/settlement/balance?currency={currency}")["settlement_balance_minor"])


def _refused(resp: Any, status: int, code: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["code"] == code, resp.text


def test_the_currencies_are_listed_with_their_tokens_and_minor_units(
    gw: Gateway, world: dict[str, Actor]
) -> None:
    platform = gw.state.chain().platform
    listed = ok_as(gw, world["supplier"], "GET", "/settlement/currencies")
    assert [(c["currency"], c["minor_unit"]) for c in listed] == [("CNY", 2), ("EUR", 2), ("USD", 2)]
    for c in listed:  # each token states its own currency on chain
        token = platform.tokens[c["currency"]]
        assert c["token"] == token.address and token.currency() == c["currency"] and token.decimals() == 2
    assert len({c["token"] for c in listed}) == 3


def test_an_invoice_in_a_currency_without_a_token_is_refused_and_changes_nothing(
    gw: Gateway, world: dict[str, Actor]
) -> None:
    ledger = gw.state.chain().platform.ledger
    count, used = ledger.receivable_count(), _used(gw, world, "CNY")
    resp = _bundle(gw, world, "JPY-1", "JPY")
    assert resp.status_code == 422, resp.text
    codes = {v["code"] for v in resp.json()["error"]["details"]}
    assert "CURRENCY_NOT_SETTLEABLE" in codes, resp.text
    assert ledger.receivable_count() == count and _used(gw, world, "CNY") == used
    assert ok_as(gw, world["supplier"], "GET", "/bundles")["total"] == 0
    # the same through the settlement and credit-line endpoints: a code, no transaction
    bank, core = world["bank"], world["core"]
    for method, path, body in (
        (
            "POST",
            "/settlement/mint",
            {"to_participant_id": bank.participant_id, "currency": "JPY", "amount": 1},
        ),
        ("PUT", f"/credit-lines/{core.participant_id}", {"currency": "JPY", "limit_minor": 1}),
        ("GET", "/settlement/balance?currency=JPY", None),
    ):
        _refused(call_as(gw, bank, method, path, body), 422, "CURRENCY_NOT_SETTLEABLE")


def test_a_line_in_one_currency_never_covers_an_invoice_in_another(
    gw: Gateway, world: dict[str, Actor]
) -> None:
    """The core enterprise has a CNY line of ten invoices and no EUR line: an EUR invoice is refused by the
    gateway's own credit check, and the ledger refuses it too (per-token credit on chain)."""
    assert _used(gw, world, "CNY") == 0
    resp = _bundle(gw, world, "EUR-NOLINE", "EUR")
    assert resp.status_code == 422, resp.text
    codes = {v["code"] for v in resp.json()["error"]["details"]}
    assert "CREDIT_LIMIT_EXCEEDED" in codes, resp.text
    platform = gw.state.chain().platform
    core = world["core"].address
    assert platform.ledger.credit_line(core, platform.tokens["EUR"].address) == (0, 0)
    assert platform.ledger.credit_line(core, platform.tokens["CNY"].address) == (LINE, 0)


def test_a_cny_and_an_eur_story_side_by_side(gw: Gateway, world: dict[str, Actor]) -> None:
    """Tokenize, endorse, discount half, repay in full and redeem, in CNY and in EUR at once: every amount
    exact, every movement in the receivable's own token, nothing in the other currency's."""
    core, supplier, bank = world["core"], world["supplier"], world["bank"]
    platform = gw.state.chain().platform
    ok_as(gw, bank, "PUT", f"/credit-lines/{core.participant_id}", {"currency": "EUR", "limit_minor": FACE})
    due = (datetime.fromtimestamp(gw.state.chain_now(), UTC) + timedelta(days=90)).date()
    rids: dict[str, int] = {}
    for currency in ("CNY", "EUR"):
        resp = _bundle(gw, world, f"STORY-{currency}", currency, due)
        assert resp.status_code == 201, resp.text
        out = resp.json()
        assert out["currency"] == currency and out["face_value_minor"] == FACE
        rids[currency] = out["receivable_id"]
        # registered in its currency's token, its face reserved on that currency's line only
        assert platform.ledger.receivable(rids[currency]).token == platform.tokens[currency].address
        assert _used(gw, world, currency) == FACE
    # the EUR line is full: a second EUR invoice does not fit, whatever room the CNY line has
    assert _bundle(gw, world, "STORY-EUR-2", "EUR", due).status_code == 422
    for currency, rid in rids.items():
        ok_as(gw, core, "POST", f"/receivables/{rid}/endorse", {"accept": True})
        got = ok_as(gw, supplier, "GET", f"/receivables/{rid}")
        assert got["currency"] == currency and got["outstanding_minor"] == FACE
    # the debtor's calendar: one due date, one entry per currency, never one sum of both
    days = ok_as(gw, core, "GET", "/payables/calendar")["items"]
    assert sorted((d["currency"], d["outstanding_minor"], d["receivables"]) for d in days) == [
        ("CNY", FACE, 1),
        ("EUR", FACE, 1),
    ]
    assert {d["due_date"] for d in days} == {due.isoformat()}

    before = {c: (_balance(gw, supplier, c), _balance(gw, bank, c)) for c in ("CNY", "EUR")}
    half = FACE // 2
    for currency, rid in rids.items():
        offer = {
            "receivable_id": rid,
            "max_amount": half,
            "rate_bps": 600,
            "expiry": gw.state.chain_now() + 86_400,
        }
        made = ok_as(gw, bank, "POST", "/offers", {**offer, "currency": currency}, 201)
        ok_as(gw, supplier, "POST", f"/offers/{made['offer_id']}/accept", {"amount": half})
        offers = [o for o in ok_as(gw, bank, "GET", "/offers")["items"] if o["receivable_id"] == rid]
        assert [o["currency"] for o in offers] == [currency]
    for currency in ("CNY", "EUR"):
        gained = _balance(gw, supplier, currency) - before[currency][0]
        spent = before[currency][1] - _balance(gw, bank, currency)
        assert gained == spent > 0  # the price moved in the receivable's token, from the bank to the supplier
        assert gained < half  # discounted: less than the face value sold
    folio = ok_as(gw, bank, "GET", "/portfolio")
    assert [t["currency"] for t in folio["totals"]] == ["CNY", "EUR"]
    for t in folio["totals"]:
        assert t["total_face_minor"] == half
        assert t["total_purchase_price_minor"] == before[t["currency"]][1] - _balance(gw, bank, t["currency"])
    assert {line["currency"] for line in folio["lines"]} == {"CNY", "EUR"}

    # repayment in full, each in its own currency; the holders redeem exactly their units
    for currency, rid in rids.items():
        debtor_before = _balance(gw, core, currency)
        other = "EUR" if currency == "CNY" else "CNY"
        other_before = _balance(gw, core, other)
        ok_as(gw, core, "POST", f"/receivables/{rid}/repayments", {"amount": FACE, "currency": currency})
        assert _balance(gw, core, currency) == debtor_before - FACE
        assert _balance(gw, core, other) == other_before  # the other token is never touched
        assert _used(gw, world, currency) == 0
    for currency, rid in rids.items():
        for holder, units in ((supplier, FACE - half), (bank, half)):
            held_before = _balance(gw, holder, currency)
            redeemed = ok_as(gw, holder, "POST", f"/receivables/{rid}/redemptions")
            assert int(redeemed["amount"]) == units
            assert _balance(gw, holder, currency) == held_before + units
        assert ok_as(gw, supplier, "GET", f"/receivables/{rid}")["status"] == "SETTLED"


def test_a_repayment_or_offer_in_another_currency_is_refused_before_anything_is_signed(
    gw: Gateway, world: dict[str, Actor]
) -> None:
    core, bank = world["core"], world["bank"]
    platform = gw.state.chain().platform
    resp = _bundle(gw, world, "MISMATCH-CNY", "CNY")
    assert resp.status_code == 201, resp.text
    rid = resp.json()["receivable_id"]
    ok_as(gw, core, "POST", f"/receivables/{rid}/endorse", {"accept": True})
    cny, eur = platform.tokens["CNY"], platform.tokens["EUR"]
    state = (cny.nonce(core.address), eur.nonce(core.address), cny.balance_of(core.address))
    refused = call_as(
        gw, core, "POST", f"/receivables/{rid}/repayments", {"amount": 1_000, "currency": "EUR"}
    )
    _refused(refused, 422, "CURRENCY_MISMATCH")
    assert "CNY" in refused.json()["error"]["message"]
    assert (cny.nonce(core.address), eur.nonce(core.address), cny.balance_of(core.address)) == state
    assert platform.ledger.receivable(rid).repaid == 0
    offer = {
        "receivable_id": rid,
        "max_amount": 1_000,
        "rate_bps": 500,
        "expiry": gw.state.chain_now() + 86_400,
    }
    count = platform.market.offer_count()
    _refused(call_as(gw, bank, "POST", "/offers", {**offer, "currency": "USD"}), 422, "CURRENCY_MISMATCH")
    assert platform.market.offer_count() == count
    # named rightly, or not at all, it goes through
    ok_as(gw, core, "POST", f"/receivables/{rid}/repayments", {"amount": 1_000, "currency": "CNY"})
    ok_as(gw, core, "POST", f"/receivables/{rid}/repayments", {"amount": 1_000})
    assert platform.ledger.receivable(rid).repaid == 2_000


def test_the_cn_profile_accepts_up_to_a_year_and_flags_what_is_due_after_six_months(
    gw: Gateway, world: dict[str, Actor]
) -> None:
    settings = gw.state.settings
    assert settings.profile == "cn"
    assert (settings.effective_principle_tenor_days, settings.effective_max_tenor_days) == (183, 365)
    bundles = {
        b["invoice_number"]: b for b in ok_as(gw, world["supplier"], "GET", "/bundles?limit=500")["items"]
    }
    short = bundles["INV-STORY-CNY"]
    assert short["tenor_days"] < 183 and short["tenor_above_principle"] is False
    issued = date.fromisoformat(
        re.search(r"<cbc:IssueDate>([^<]+)<", distinct_trade("X")["Invoice"].decode()).group(1)  # type: ignore[union-attr]
    )
    long = _bundle(gw, world, "TENOR-300", "CNY", issued + timedelta(days=300))
    assert long.status_code == 201, long.text
    assert (long.json()["tenor_days"], long.json()["tenor_above_principle"]) == (300, True)
    too_long = _bundle(gw, world, "TENOR-366", "CNY", issued + timedelta(days=366))
    assert too_long.status_code == 422, too_long.text
    codes = {v["code"] for v in too_long.json()["error"]["details"]}
    assert "DATE_TENOR_EXCEEDED" in codes


def test_the_profiles_tenor_rules_and_their_overrides(tmp_path: Path) -> None:
    cn = make_settings(tmp_path)
    assert (cn.market.currency, cn.effective_principle_tenor_days, cn.effective_max_tenor_days) == (
        "CNY",
        183,
        365,
    )
    eu = make_settings(tmp_path, profile="eu")
    assert (eu.market.currency, eu.effective_principle_tenor_days, eu.effective_max_tenor_days) == (
        "EUR",
        180,
        180,
    )
    # one value overridden, the other the profile's; the principle never above the maximum
    tighter = make_settings(tmp_path, max_tenor_days=120)
    assert (tighter.effective_principle_tenor_days, tighter.effective_max_tenor_days) == (120, 120)
    with pytest.raises(ValidationError):
        make_settings(tmp_path, profile="us")
