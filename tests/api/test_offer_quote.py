"""``GET /offers/{id}/quote``: the price the portal shows before a holder accepts. It is the price the
contract pays (``domain.maths.discount_price`` at the quote's block time; accepted in a block of the same
day count, exactly the amount ``acceptOffer`` pays), it is shown only to the offer's maker and the
receivable's holders, and an offer that can no longer be accepted for the amount is refused with the
reason ``acceptOffer`` would revert with."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from domain.maths import discount_price
from tests.api.harness import (
    Actor,
    Gateway,
    appoint_issuer,
    bundle_body,
    distinct_trade,
    onboard,
    start_gateway,
    trade_parties,
)


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = start_gateway(Path(tmp_path_factory.mktemp("quote")), timeout=120)
    try:
        yield gateway
    finally:
        gateway.stop()


def _ok(gw: Gateway, actor: Actor | str, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
    key = actor if isinstance(actor, str) else actor.api_key
    resp = gw.request(method, path, key, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert resp.status_code == expect, (path, resp.text)
    return resp.json()


@pytest.fixture(scope="module")
def world(gw: Gateway) -> dict[str, Any]:
    core, supplier = trade_parties(gw, custodial=True)
    bank = onboard(gw, "financier", "Quote Bank AG", "DE000QUOTE1", [], custodial=True)
    other = onboard(gw, "supplier", "Bystander AB", "SE000BYSTAND", [], custodial=True)
    appoint_issuer(gw, bank.participant_id)
    _ok(
        gw,
        bank,
        "POST",
        "/settlement/mint",
        {"currency": "EUR", "to_participant_id": bank.participant_id, "amount": 10**9},
    )
    body = bundle_body(
        distinct_trade("QUOTE"), {"Order": core, "DespatchAdvice": supplier, "Invoice": supplier}
    )
    rid = _ok(gw, supplier, "POST", "/bundles", body, expect=201)["receivable_id"]
    _ok(gw, core, "POST", f"/receivables/{rid}/endorse", {"accept": True})
    # a credit note: the units now claim less than their face value, and the price follows
    _ok(gw, core, "POST", f"/receivables/{rid}/disputes", {"reason": "two pallets short"})
    _ok(
        gw,
        gw.operator_key,
        "POST",
        f"/receivables/{rid}/resolution",
        {"action": "credit_note", "amount": 10_051},
    )
    now = int(gw.state.chain_now())
    offer = {"receivable_id": rid, "max_amount": 200_000, "rate_bps": 725, "expiry": now + 7 * 86_400}
    oid = _ok(gw, bank, "POST", "/offers", offer, expect=201)["offer_id"]
    return {"core": core, "supplier": supplier, "bank": bank, "other": other, "rid": rid, "oid": oid}


def test_the_quote_is_the_price_accepting_pays(gw: Gateway, world: dict[str, Any]) -> None:
    supplier, oid, rid = world["supplier"], world["oid"], world["rid"]
    r = gw.state.chain().platform.ledger.receivable(rid)
    due, face, open_ = r.due_date, r.face_value, r.face_value - r.diluted - r.repaid
    assert open_ == face - 10_051
    claim = 123_457 * open_ // face  # what the units still claim after the credit note
    quote = _ok(gw, supplier, "GET", f"/offers/{oid}/quote?amount=123457")
    assert quote["claim_minor"] == claim < 123_457
    assert (quote["price_minor"], quote["days_to_maturity"]) == discount_price(
        claim, 725, due, quote["as_of"]
    )
    assert quote["discount_minor"] == claim - quote["price_minor"] and quote["rate_bps"] == 725
    assert (
        _ok(gw, world["bank"], "GET", f"/offers/{oid}/quote?amount=123457")["price_minor"]
        == quote["price_minor"]
    )
    accepted = _ok(gw, supplier, "POST", f"/offers/{oid}/accept", {"amount": 123_457})
    mined = int(gw.state.chain().w3.eth.get_block(accepted["block_number"])["timestamp"])
    assert accepted["amount"] == discount_price(claim, 725, due, mined)[0]
    if discount_price(claim, 725, due, mined)[1] == quote["days_to_maturity"]:  # not across a day's end
        assert accepted["amount"] == quote["price_minor"]


def test_no_quote_for_those_who_neither_made_the_offer_nor_hold_the_receivable(
    gw: Gateway, world: dict[str, Any]
) -> None:
    oid = world["oid"]
    stranger = _ok(gw, world["other"], "GET", f"/offers/{oid}/quote?amount=1000", expect=404)
    missing = _ok(gw, world["supplier"], "GET", "/offers/999999/quote?amount=1000", expect=404)
    assert stranger["error"]["code"] == missing["error"]["code"] == "OFFER_NOT_FOUND"
    core = _ok(
        gw, world["core"], "GET", f"/offers/{oid}/quote?amount=1000", expect=404
    )  # the debtor holds none
    assert core["error"]["code"] == "OFFER_NOT_FOUND"


def test_a_holder_is_never_paid_less_than_its_floor(gw: Gateway, world: dict[str, Any]) -> None:
    """``min_price`` (the price the portal showed) is enforced by the ledger: below it nothing moves."""
    supplier, oid, rid = world["supplier"], world["oid"], world["rid"]
    platform = gw.state.chain().platform
    address = supplier.address
    quote = _ok(gw, supplier, "GET", f"/offers/{oid}/quote?amount=1000")
    units, cash, filled = (
        platform.ledger.balance_of(address, rid),
        platform.tokens["EUR"].balance_of(address),
        platform.market.offer(oid).filled,
    )
    body = {"amount": 1000, "min_price": quote["price_minor"] + 1}
    refused = _ok(gw, supplier, "POST", f"/offers/{oid}/accept", body, expect=409)
    assert refused["error"]["code"] == "CHAIN_PRICE_BELOW_MINIMUM", refused
    assert (
        platform.ledger.balance_of(address, rid) == units
        and platform.tokens["EUR"].balance_of(address) == cash
    )
    assert platform.market.offer(oid).filled == filled
    sold = _ok(
        gw, supplier, "POST", f"/offers/{oid}/accept", {"amount": 1000, "min_price": quote["price_minor"]}
    )
    assert sold["amount"] >= quote["price_minor"]  # time only raises the price
    assert platform.tokens["EUR"].balance_of(address) == cash + sold["amount"]


def test_an_offer_that_cannot_be_accepted_for_the_amount_is_refused_with_the_reason(
    gw: Gateway, world: dict[str, Any]
) -> None:
    supplier, bank, oid = world["supplier"], world["bank"], world["oid"]
    offer = gw.state.chain().platform.market.offer(oid)
    unfilled = offer.max_amount - offer.filled
    too_much = _ok(gw, supplier, "GET", f"/offers/{oid}/quote?amount={unfilled + 1}", expect=409)
    assert too_much["error"]["code"] == "OFFER_EXCEEDED" and too_much["error"]["details"] == {
        "unfilled": unfilled
    }
    assert _ok(gw, supplier, "GET", f"/offers/{oid}/quote?amount={unfilled}")["amount_minor"] == unfilled
    bad = _ok(gw, supplier, "GET", f"/offers/{oid}/quote?amount=0", expect=422)
    assert bad["error"]["code"] == "REQUEST_INVALID"
    _ok(gw, bank, "POST", f"/offers/{oid}/cancel")
    cancelled = _ok(gw, supplier, "GET", f"/offers/{oid}/quote?amount=1000", expect=409)
    assert cancelled["error"]["code"] == "OFFER_CANCELLED"
