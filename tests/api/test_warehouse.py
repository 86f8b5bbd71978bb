"""Warehouse receipts through the gateway (issue 13): appoint, issue, pledge request, loan offer within the
loan-to-value limit, accept (principal paid out), signed prices, a margin call on a price drop, repay,
release, goods-out; and the refusals, each with its code and nothing left behind.

Real parts: Anvil, the deployed contracts, the gateway over HTTP, real keys and certificates from the
platform CA. Amounts are exact: every figure is computed from the statement of the maths (docs/warehouse.md)
and compared with ``==``.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from chain.node import rpc
from domain.maths import PRICE_QUANTITY, loan_due
from domain.warehouse.prices import encode_price_observation
from readmodel.projector import rebuild_projections
from readmodel.reconcile import compare_with_chain
from readmodel.tables import RmLoan, RmWarehouseReceipt
from tests.api.harness import Gateway
from tests.api.warehouse_world import (
    DAY,
    PRICE,
    PRINCIPAL,
    QUANTITY,
    VALUE,
    World,
    chain_now,
    get,
    ok,
    post,
    refused,
)


@pytest.fixture(scope="module")
def world(gw: Gateway) -> World:
    w = World(gw)
    ok(w.price(PRICE), 201)
    return w


def test_a_receipt_is_issued_once_and_seen_by_its_parties_only(world: World) -> None:
    gw = world.gw
    issued = ok(world.issue(lot="DL-2026-A1"), 201)
    rid = issued["receipt_id"]
    # the same lot number, written differently, at the same warehouse: refused by the ledger
    refused(world.issue(lot="dl 2026 a1"), 409, "CHAIN_DUPLICATE_LOT")
    # a logistics participant the operator did not appoint can't issue
    refused(world.issue(by=world.carrier), 409, "CHAIN_NOT_WAREHOUSE")
    # a supplier can't issue at all
    refused(post(gw, "/warehouse/receipts", world.owner, {}), 403, "FORBIDDEN_ROLE")
    receipt = ok(get(gw, f"/warehouse/receipts/{rid}", world.owner))
    assert (receipt["quantity"], receipt["unit"], receipt["commodity"]) == (QUANTITY, "KGM", "SOYBEAN")
    assert receipt["owner"]["participant_id"] == world.owner.participant_id
    assert receipt["warehouse"]["participant_id"] == world.warehouse.participant_id
    assert receipt["valuation"] == {
        "price_per_thousand": PRICE,
        "price_observed_at": receipt["valuation"]["price_observed_at"],
        "value": VALUE,
        "currency": "CNY",  # the warehouse's token
    }
    for who in (world.warehouse, world.regulator, None):
        assert ok(get(gw, f"/warehouse/receipts/{rid}", who))["id"] == rid
    # another supplier, and a bank nobody asked, don't see it
    for who in (world.other, world.bank2):
        refused(get(gw, f"/warehouse/receipts/{rid}", who), 404, "RECEIPT_NOT_FOUND")
        assert rid not in [r["id"] for r in ok(get(gw, "/warehouse/receipts?limit=500", who))["items"]]
    # a pledge request lets the bank see it
    refused(get(gw, f"/warehouse/receipts/{rid}", world.bank), 404, "RECEIPT_NOT_FOUND")
    body = {"financier_id": world.bank.participant_id, "principal": PRINCIPAL, "note": "180 days"}
    ok(post(gw, f"/warehouse/receipts/{rid}/pledge-requests", world.owner, body), 201)
    assert ok(get(gw, f"/warehouse/receipts/{rid}", world.bank))["id"] == rid
    requests = ok(get(gw, "/warehouse/pledge-requests", world.bank))["items"]
    assert [r["receipt_id"] for r in requests] == [rid]
    # someone else's receipt can't be the subject of a pledge request
    refused(
        post(gw, f"/warehouse/receipts/{rid}/pledge-requests", world.other, body), 404, "RECEIPT_NOT_FOUND"
    )


def test_loan_life_pledge_price_drop_margin_call_repay_release_goods_out(world: World) -> None:
    gw = world.gw
    rid = ok(world.issue(), 201)["receipt_id"]
    # a financier the owner did not ask can't offer (nor learn of the receipt by trying ids)
    refused(world.offer(rid, ask=False), 404, "RECEIPT_NOT_FOUND")
    # above the 70 % limit at 4,500.00 a tonne: refused, nothing offered
    refused(world.offer(rid, VALUE * 7000 // 10_000 + 1), 409, "CHAIN_LOAN_TO_VALUE_TOO_HIGH")
    loan_id = ok(world.offer(rid), 201)["loan_id"]
    # the owner sees the offer on its receipt (it has no borrower yet), another participant does not
    offered = ok(get(gw, f"/warehouse/loans/{loan_id}", world.owner))
    assert (offered["state"], offered["borrower"], offered["principal"]) == ("OFFERED", None, PRINCIPAL)
    assert loan_id in [lo["id"] for lo in ok(get(gw, "/warehouse/loans?limit=500", world.owner))["items"]]
    refused(get(gw, f"/warehouse/loans/{loan_id}", world.other), 404, "LOAN_NOT_FOUND")
    # only the receipt's owner accepts
    refused(post(gw, f"/warehouse/loans/{loan_id}/accept", world.other), 404, "LOAN_NOT_FOUND")
    before = world.balance(world.owner)
    accepted = ok(post(gw, f"/warehouse/loans/{loan_id}/accept", world.owner))
    assert world.balance(world.owner) == before + PRINCIPAL
    block = rpc(gw.anvil.url, "eth_getBlockByNumber", [hex(accepted["block_number"]), False])
    loan = ok(get(gw, f"/warehouse/loans/{loan_id}", world.bank))
    maturity = loan["maturity"]
    due = loan_due(PRINCIPAL, 800, maturity, int(block["timestamp"], 16))
    assert (loan["state"], loan["due"], loan["outstanding"], loan["collateral"]) == (
        "ACTIVE",
        due,
        due,
        [rid],
    )
    assert loan["collateral_value"] == VALUE
    assert loan["ltv_bps"] == -(-due * 10_000 // VALUE)
    # pledged: it can't move, be surrendered or pledged again
    refused(
        post(
            gw,
            f"/warehouse/receipts/{rid}/transfer",
            world.owner,
            {"to_participant_id": world.other.participant_id},
        ),
        409,
        "CHAIN_RECEIPT_LOCKED",
    )
    refused(post(gw, f"/warehouse/receipts/{rid}/surrender", world.owner), 409, "CHAIN_RECEIPT_LOCKED")
    second = ok(world.offer(rid, 1_00), 201)["loan_id"]
    refused(post(gw, f"/warehouse/loans/{second}/accept", world.owner), 409, "CHAIN_RECEIPT_LOCKED")
    # the price falls to 3,500.00: 1,750,000.00 x 80 % = 1,400,000.00 < outstanding: the margin is called
    ok(world.price(3_500_00), 201)
    loan = ok(get(gw, f"/warehouse/loans/{loan_id}", world.owner))
    assert loan["collateral_value"] == QUANTITY * 3_500_00 // PRICE_QUANTITY
    assert loan["margin_deadline"] is not None and loan["margin_callable"] is False
    # the owner repays enough to be within the threshold: the call is cured
    target = QUANTITY * 3_500_00 // PRICE_QUANTITY * 8000 // 10_000
    part = due - target
    ok(post(gw, f"/warehouse/loans/{loan_id}/repay", world.owner, {"amount": part}))
    loan = ok(get(gw, f"/warehouse/loans/{loan_id}", world.owner))
    assert (loan["repaid"], loan["outstanding"], loan["margin_deadline"]) == (part, due - part, None)
    # more than what is still due: refused, nothing repaid
    refused(
        post(gw, f"/warehouse/loans/{loan_id}/repay", world.owner, {"amount": due - part + 1}),
        422,
        "CHAIN_AMOUNT_TOO_LARGE",
    )
    lender_before = world.balance(world.bank)
    ok(post(gw, f"/warehouse/loans/{loan_id}/repay", world.owner, {"amount": due - part}))
    assert world.balance(world.bank) == lender_before + due - part
    loan = ok(get(gw, f"/warehouse/loans/{loan_id}", world.regulator))
    assert (loan["state"], loan["repaid"], loan["outstanding"]) == ("REPAID", due, 0)
    assert ok(get(gw, f"/warehouse/receipts/{rid}", world.owner))["loan_id"] is None
    # goods-out
    ok(post(gw, f"/warehouse/receipts/{rid}/surrender", world.owner))
    assert ok(get(gw, f"/warehouse/receipts/{rid}", world.owner))["surrendered"] is True
    # its provenance, in chain order, for its owner and the regulator alike
    events = [e["event"] for e in ok(get(gw, f"/warehouse/receipts/{rid}/history", world.regulator))["items"]]
    assert events == [
        "ReceiptIssued",
        "Transfer",  # minted to the owner
        "LoanOffered",
        "LoanStarted",
        "LoanOffered",  # the second offer, never accepted
        "MarginCalled",
        "LoanRepaid",
        "MarginCallCured",
        "LoanRepaid",
        "PledgeEnded",
        "ReceiptSurrendered",
        "Transfer",  # burned
    ]
    assert ok(get(gw, f"/warehouse/receipts/{rid}/history", world.owner)) == ok(
        get(gw, f"/warehouse/receipts/{rid}/history", world.regulator)
    )
    refused(get(gw, f"/warehouse/receipts/{rid}/history", world.other), 404, "RECEIPT_NOT_FOUND")


def test_freeze_release_and_who_may_act_on_a_loan(world: World) -> None:
    gw = world.gw
    rid = ok(world.issue(), 201)["receipt_id"]
    loan_id = ok(world.offer(rid, 1_000_00), 201)["loan_id"]
    ok(post(gw, f"/warehouse/loans/{loan_id}/accept", world.owner))
    # only the pledgee freezes; the freeze ends with the pledge
    refused(
        post(gw, f"/warehouse/receipts/{rid}/freeze", world.bank2, {"frozen": True}), 404, "RECEIPT_NOT_FOUND"
    )
    ok(post(gw, f"/warehouse/receipts/{rid}/freeze", world.bank, {"frozen": True}))
    assert ok(get(gw, f"/warehouse/receipts/{rid}", world.owner))["frozen"] is True
    refused(post(gw, f"/warehouse/loans/{loan_id}/release", world.bank2), 404, "LOAN_NOT_FOUND")
    refused(post(gw, f"/warehouse/loans/{loan_id}/claim", world.bank), 409, "CHAIN_NOT_IN_DEFAULT")
    ok(post(gw, f"/warehouse/loans/{loan_id}/release", world.bank))
    receipt = ok(get(gw, f"/warehouse/receipts/{rid}", world.owner))
    assert (receipt["frozen"], receipt["loan_id"]) == (False, None)
    assert ok(get(gw, f"/warehouse/loans/{loan_id}", world.owner))["state"] == "RELEASED"
    # a loan is seen by its lender and borrower, and the overseers only
    refused(get(gw, f"/warehouse/loans/{loan_id}", world.bank2), 404, "LOAN_NOT_FOUND")
    refused(get(gw, f"/warehouse/loans/{loan_id}", world.other), 404, "LOAN_NOT_FOUND")


def test_price_observations_are_refused_with_their_codes_and_change_nothing(world: World) -> None:
    gw = world.gw
    before = ok(get(gw, "/warehouse/prices", world.regulator))
    now = chain_now(gw)
    # signed by a price source, submitted by another (a bank has no right to submit at all)
    refused(post(gw, "/warehouse/prices", world.bank, {"observation": "x"}), 403, "FORBIDDEN_ROLE")
    # malformed, stale, from the future
    refused(post(gw, "/warehouse/prices", world.prices, {"observation": "not.a.jws"}), 422, "PRICE_MALFORMED")
    refused(world.price(PRICE, at=now - 2 * DAY), 422, "PRICE_STALE")
    refused(world.price(PRICE, at=now + 3600), 422, "PRICE_FROM_FUTURE")
    # a supplier's certificate is not a price source's
    token = encode_price_observation(
        world.owner.key,
        world.owner.certificate,
        commodity="SOYBEAN",
        unit="KGM",
        per_thousand=1,
        currency="CNY",
        observed_at=now,
        source=world.owner.address.lower(),
    )
    refused(
        post(gw, "/warehouse/prices", world.prices, {"observation": token}), 422, "PRICE_SOURCE_UNTRUSTED"
    )
    assert ok(get(gw, "/warehouse/prices", world.regulator)) == before


def test_the_read_model_agrees_with_the_chain_row_by_row(world: World) -> None:
    """After every flow above: each projected receipt, loan, collateral and price equals the contract's
    views (``readmodel.reconcile``), and a replay of the stored events rebuilds the same rows."""
    state = world.gw.state
    state.catch_up()
    platform = state.chain().platform
    assert compare_with_chain(platform, state.engine) == []
    with Session(state.engine) as s:
        before = [r.model_dump() for r in s.exec(select(RmWarehouseReceipt)).all()]
        loans = [r.model_dump() for r in s.exec(select(RmLoan)).all()]
        rebuild_projections(s)
        s.commit()
    with Session(state.engine) as s:
        assert [r.model_dump() for r in s.exec(select(RmWarehouseReceipt)).all()] == before
        assert [r.model_dump() for r in s.exec(select(RmLoan)).all()] == loans
    # run after the flows above (the module's order), every kind of row is there
    assert before and {loan["state"] for loan in loans} <= {"OFFERED", "ACTIVE", "REPAID", "RELEASED"}
