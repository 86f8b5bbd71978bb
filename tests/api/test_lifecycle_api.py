"""The receivable lifecycle through the HTTP API: roles, object-level refusals, reverts, concurrency."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import httpx
import pytest

from chain.client import TransactionReverted
from chain.compiler import Artifact
from tests.api.harness import (
    BUYER_GLN,
    SELLER_GLN,
    Actor,
    Gateway,
    appoint_issuer,
    bundle_body,
    distinct_trade,
    onboard,
    start_gateway,
    trade,
)


@dataclass
class World:
    gw: Gateway
    core: Actor
    other_core: Actor
    t1: Actor
    t2: Actor
    bank: Actor
    other_bank: Actor
    regulator: Actor
    rid: int

    def post(self, who: Actor | None, path: str, json: object = None, expect: int = 200) -> dict:  # type: ignore[type-arg]
        key = who.api_key if who else self.gw.operator_key
        resp = self.gw.request("POST", path, key, json=json, headers={"Idempotency-Key": str(uuid.uuid4())})
        assert resp.status_code == expect, resp.text
        return resp.json()  # type: ignore[no-any-return]

    def get(self, who: Actor | None, path: str, expect: int = 200) -> httpx.Response:
        resp = self.gw.request("GET", path, who.api_key if who else self.gw.operator_key)
        assert resp.status_code == expect, resp.text
        return resp


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, artifacts: dict[str, Artifact]) -> Iterator[World]:
    gw = start_gateway(tmp_path_factory.mktemp("lifecycle"))
    o = lambda *a, **k: onboard(gw, *a, custodial=True, **k)  # noqa: E731
    core = o("core_enterprise", "Nordvik Retail AB", "SE5566778899", [("0088", BUYER_GLN)])
    other_core = o("core_enterprise", "Other Buyer AB", "SE1111111111", [("0088", "7350000000200")])
    t1 = o("supplier", "Fabrikant Metall AB", "SE5561234567", [("0088", SELLER_GLN)])
    t2 = o("supplier", "Smedja Komponent AB", "SE5569988776", [("0088", "7350000000033")])
    bank = o("financier", "Hansa Trade Finance", "DE811234567", [])
    other_bank = o("financier", "Other Bank", "DE999999999", [])
    regulator = o("regulator", "Financial Supervisory Authority", "SE2021000000", [])
    granted = gw.request(
        "PUT",
        f"/credit-lines/{core.participant_id}",
        bank.api_key,
        json={"currency": "EUR", "limit_minor": 10**10},
    )
    assert granted.status_code == 200, granted.text
    appoint_issuer(gw, bank.participant_id)
    signers = {"Order": core, "DespatchAdvice": t1, "Invoice": t1}
    r = gw.request(
        "POST",
        "/bundles",
        t1.api_key,
        json=bundle_body(trade("INV-LC-1"), signers),
        headers={"Idempotency-Key": "x"},
    )
    assert r.status_code == 201, r.text
    w = World(gw, core, other_core, t1, t2, bank, other_bank, regulator, r.json()["receivable_id"])
    yield w
    gw.stop()


def test_endorse_refused_for_other_core_and_other_roles(world: World) -> None:
    w = world
    pending = w.get(w.core, "/payables?status=pending").json()["items"]
    assert [p["id"] for p in pending] == [w.rid]
    assert w.get(w.other_core, "/payables?status=pending").json()["items"] == []
    err = w.post(w.other_core, f"/receivables/{w.rid}/endorse", {"accept": True}, expect=404)
    assert err["error"]["code"] == "RECEIVABLE_NOT_FOUND"
    for who in (w.t1, w.bank, w.regulator, None):
        err = w.post(who, f"/receivables/{w.rid}/endorse", {"accept": True}, expect=403)
        assert err["error"]["code"] == "FORBIDDEN_ROLE"
    out = w.post(w.core, f"/receivables/{w.rid}/endorse", {"accept": True})
    assert out["receivable_id"] == w.rid and out["tx_hash"].startswith("0x")
    again = w.post(w.core, f"/receivables/{w.rid}/endorse", {"accept": True}, expect=409)
    assert again["error"]["code"] == "CHAIN_WRONG_STATUS"  # decoded from the custom error
    assert w.get(w.core, "/payables?status=confirmed").json()["items"][0]["status"] == "CONFIRMED"
    credit = w.get(w.core, f"/credit-lines/{w.core.participant_id}?currency=EUR").json()
    assert credit["used_minor"] == 309_050
    assert w.get(w.t1, f"/credit-lines/{w.core.participant_id}?currency=EUR", expect=404)


def test_transfer_offer_accept_and_views(world: World) -> None:
    w = world
    w.post(
        w.t1, f"/receivables/{w.rid}/transfers", {"to_participant_id": w.t2.participant_id, "amount": 100_000}
    )
    over = w.post(
        w.t2,
        f"/receivables/{w.rid}/transfers",
        {"to_participant_id": w.t1.participant_id, "amount": 10**9},
        expect=409,
    )
    assert over["error"]["code"].startswith("CHAIN_")
    holdings = w.get(w.t2, "/holdings").json()["items"]
    assert (
        holdings[0]["balance_minor"] == 100_000
        and holdings[0]["received_from"]["name"] == "Fabrikant Metall AB"
    )
    assert "receivable_id,currency,balance_minor" in w.get(w.t2, "/holdings?format=csv").text
    # financiers only: discountable and offers
    w.get(w.t1, "/discountable", expect=403)
    assert [d["receivable_id"] for d in w.get(w.bank, "/discountable").json()["items"]] == [w.rid]
    w.post(
        w.bank,
        "/settlement/mint",
        {"currency": "EUR", "to_participant_id": w.bank.participant_id, "amount": 10**8},
    )
    w.post(
        w.t1,
        "/settlement/mint",
        {"currency": "EUR", "to_participant_id": w.t1.participant_id, "amount": 1},
        expect=403,
    )
    expiry = int(w.gw.state.chain().w3.eth.get_block("latest")["timestamp"]) + 86_400
    offer = w.post(
        w.bank,
        "/offers",
        {"receivable_id": w.rid, "max_amount": 50_000, "rate_bps": 500, "expiry": expiry},
        expect=201,
    )
    w.post(
        w.t2,
        "/offers",
        {"receivable_id": w.rid, "max_amount": 1, "rate_bps": 1, "expiry": expiry},
        expect=403,
    )
    oid = offer["offer_id"]
    assert [o["offer_id"] for o in w.get(w.t2, "/offers").json()["items"]] == [oid]  # on my receivables
    assert w.get(w.other_bank, "/offers").json()["items"] == []  # only its own
    w.post(w.other_bank, f"/offers/{oid}/cancel", expect=404)
    accepted = w.post(w.t2, f"/offers/{oid}/accept", {"amount": 50_000})
    assert 0 < accepted["amount"] < 50_000
    over_fill = w.post(w.t2, f"/offers/{oid}/accept", {"amount": 1}, expect=409)
    assert over_fill["error"]["code"] == "CHAIN_OFFER_EXCEEDED"
    folio = w.get(w.bank, "/portfolio").json()
    (total,) = folio["totals"]  # one currency: one total
    assert total["currency"] == "EUR"
    assert total["total_face_minor"] == 50_000 and total["total_purchase_price_minor"] == accepted["amount"]
    assert folio["lines"][0]["yield_bps"] > 0
    folio_csv = w.get(w.bank, "/portfolio?format=csv")
    assert folio_csv.headers["content-type"].startswith("text/csv")
    header = "receivable_id,debtor,currency,bought_minor,purchase_price_minor,yield_bps,"
    assert folio_csv.text.startswith(header)
    w.get(w.t1, "/portfolio", expect=403)
    # past and present holders see the receivable in their list; a stranger does not
    for who in (w.t1, w.t2, w.bank, w.core, w.regulator, None):
        assert w.rid in [r["id"] for r in w.get(who, "/receivables").json()["items"]]
    assert w.get(w.other_bank, "/receivables").json()["items"] == []
    # provenance: a tree t1 -> t2 -> bank and the discount with its price
    prov = w.get(w.regulator, f"/receivables/{w.rid}/provenance").json()
    tree = prov["transfer_tree"]
    assert tree["holder"]["name"] == "Fabrikant Metall AB"
    assert tree["children"][0]["holder"]["name"] == "Smedja Komponent AB"
    assert tree["children"][0]["children"][0]["holder"]["name"] == "Hansa Trade Finance"
    kinds = [e["kind"] for e in prov["events"]]
    assert kinds[:2] == ["tokenized", "endorsed"] and "discount" in kinds
    assert Counter(kinds) == {"tokenized": 1, "endorsed": 1, "transfer": 2, "offer": 1, "discount": 1}
    # the yield is the exact one (ACT/365 over the fill's days), rounded once to 0.01 bp
    (fill,) = [e["details"] for e in prov["events"] if e["kind"] == "discount"]
    price, days = int(fill["price"]), int(fill["daysToMaturity"])
    assert price == accepted["amount"]
    exact = Fraction((50_000 - price) * 365 * 10_000, days * price)
    assert folio["lines"][0]["yield_bps"] == float(Decimal(round(exact * 100)) / 100)
    assert len(prov["documents"]) == 3
    w.get(w.other_core, f"/receivables/{w.rid}/provenance", expect=404)
    assert w.get(None, "/health/read-model").json()["in_sync"] is True


def test_twenty_parallel_transfers_and_offers_from_one_account(world: World) -> None:
    w = world
    w3 = w.gw.state.chain().w3
    t1_nonce = w3.eth.get_transaction_count(w.t1.address)
    bank_nonce = w3.eth.get_transaction_count(w.bank.address)
    expiry = int(w3.eth.get_block("latest")["timestamp"]) + 86_400

    def transfer(_: int) -> httpx.Response:
        with httpx.Client(base_url=w.gw.url, timeout=120) as c:
            return c.post(
                f"/receivables/{w.rid}/transfers",
                json={"to_participant_id": w.t2.participant_id, "amount": 1},
                headers={"Authorization": f"Bearer {w.t1.api_key}", "Idempotency-Key": str(uuid.uuid4())},
            )

    def offer(i: int) -> httpx.Response:
        with httpx.Client(base_url=w.gw.url, timeout=120) as c:
            return c.post(
                "/offers",
                json={"receivable_id": w.rid, "max_amount": 10 + i, "rate_bps": 100, "expiry": expiry},
                headers={"Authorization": f"Bearer {w.bank.api_key}", "Idempotency-Key": str(uuid.uuid4())},
            )

    before = w.gw.state.chain().platform.ledger.balance_of(w.t2.address, w.rid)
    with ThreadPoolExecutor(max_workers=40) as pool:
        transfers = list(pool.map(transfer, range(20)))
        offers = list(pool.map(offer, range(20)))
    assert [r.status_code for r in transfers] == [200] * 20, [
        r.text for r in transfers if r.status_code != 200
    ][:2]
    assert [r.status_code for r in offers] == [201] * 20, [r.text for r in offers if r.status_code != 201][:2]
    assert len({r.json()["offer_id"] for r in offers}) == 20
    # the list is paginated: 21 offers in all, in pages of 8
    page = w.get(w.bank, "/offers?limit=8&offset=16").json()
    assert page["total"] == 21 and len(page["items"]) == 5 and page["offset"] == 16
    assert w.gw.state.chain().platform.ledger.balance_of(w.t2.address, w.rid) == before + 20
    # no nonce gap and no duplicate: every nonce taken was mined, in order (an offer approves in the same
    # transaction, by permit)
    assert w3.eth.get_transaction_count(w.t1.address) == t1_nonce + 20
    assert w3.eth.get_transaction_count(w.bank.address) == bank_nonce + 20
    assert w3.eth.get_transaction_count(w.t1.address, "pending") == t1_nonce + 20


def test_a_retried_transfer_moves_value_once(world: World) -> None:
    w = world
    ledger = w.gw.state.chain().platform.ledger
    before = ledger.balance_of(w.t2.address, w.rid)
    key = str(uuid.uuid4())
    body = {"to_participant_id": w.t2.participant_id, "amount": 7}
    first = w.gw.request(
        "POST", f"/receivables/{w.rid}/transfers", w.t1.api_key, json=body, headers={"Idempotency-Key": key}
    )
    again = w.gw.request(
        "POST", f"/receivables/{w.rid}/transfers", w.t1.api_key, json=body, headers={"Idempotency-Key": key}
    )
    assert first.status_code == again.status_code == 200
    assert again.json()["tx_hash"] == first.json()["tx_hash"]
    assert ledger.balance_of(w.t2.address, w.rid) == before + 7
    other = w.gw.request(
        "POST",
        f"/receivables/{w.rid}/transfers",
        w.t1.api_key,
        json={**body, "amount": 8},
        headers={"Idempotency-Key": key},
    )
    assert other.status_code == 422 and other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_dispute_freezes_and_operator_resolves(world: World) -> None:
    w = world
    w.post(w.t1, f"/receivables/{w.rid}/disputes", {"reason": "x"}, expect=403)
    w.post(w.other_core, f"/receivables/{w.rid}/disputes", {"reason": "x"}, expect=404)
    w.post(w.regulator, f"/receivables/{w.rid}/disputes", {"reason": "goods damaged"})
    frozen = w.post(
        w.t1,
        f"/receivables/{w.rid}/transfers",
        {"to_participant_id": w.t2.participant_id, "amount": 1},
        expect=409,
    )
    assert frozen["error"]["code"] == "CHAIN_TRANSFER_NOT_ALLOWED"
    w.post(w.core, f"/receivables/{w.rid}/resolution", {"action": "lift"}, expect=403)
    w.post(None, f"/receivables/{w.rid}/resolution", {"action": "credit_note", "amount": 1_000})
    r = w.get(w.regulator, f"/receivables/{w.rid}").json()
    assert r["disputed"] is False and r["diluted_minor"] == 1_000
    assert w.get(None, "/health/read-model").json()["in_sync"] is True


def test_repay_and_redeem(world: World) -> None:
    w = world
    outstanding = w.get(w.core, f"/receivables/{w.rid}").json()["outstanding_minor"]
    w.post(w.other_core, f"/receivables/{w.rid}/repayments", {"amount": 1}, expect=404)
    w.post(
        w.bank,
        "/settlement/mint",
        {"currency": "EUR", "to_participant_id": w.core.participant_id, "amount": outstanding},
    )
    w.post(w.core, f"/receivables/{w.rid}/repayments", {"amount": outstanding})
    total = 0
    for holder in (w.t1, w.t2, w.bank):
        total += w.post(holder, f"/receivables/{w.rid}/redemptions")["amount"]
    # every cent repaid is paid out, none left in the ledger and none overpaid
    assert total == outstanding
    for holder in (w.t1, w.t2, w.bank):
        assert all(h["receivable_id"] != w.rid for h in w.get(holder, "/holdings").json()["items"])
    assert w.get(w.core, f"/credit-lines/{w.core.participant_id}?currency=EUR").json()["used_minor"] == 0
    assert w.get(w.core, f"/receivables/{w.rid}").json()["status"] == "SETTLED"
    assert w.get(None, "/health/read-model").json()["in_sync"] is True
    # provenance asks the database for this receivable's events only: the same as a scan of them all
    from sqlmodel import Session, col, select

    from api.services import provenance
    from readmodel.tables import RmEvent, RmOffer

    shown = w.get(w.regulator, f"/receivables/{w.rid}/provenance").json()["events"]

    def about_it(e: RmEvent, offers: set[int]) -> bool:
        args = json.loads(e.args)
        if e.event not in provenance.EVENT_KIND or not provenance.concerns(e.event, args, w.rid, offers):
            return False
        return e.event != "TransferSingle" or 0 not in (int(args["from"], 16), int(args["to"], 16))

    with Session(w.gw.state.engine) as s:
        offers = set(s.exec(select(RmOffer.offer_id).where(RmOffer.receivable_id == w.rid)).all())
        everything = s.exec(select(RmEvent).order_by(col(RmEvent.block_number), col(RmEvent.log_index))).all()
        scan = [(e.tx_hash, e.log_index) for e in everything if about_it(e, offers)]
    assert [(e["tx_hash"], e["log_index"]) for e in shown] == scan and len(scan) > 40


def test_unreachable_chain_is_503_and_records_nothing(
    tmp_path_factory: pytest.TempPathFactory, artifacts: dict[str, Artifact]
) -> None:
    gw = start_gateway(tmp_path_factory.mktemp("down"))
    try:
        bank = onboard(gw, "financier", "Bank Down", "DOWN0001", [], custodial=True)
        gw.anvil.stop()
        key = str(uuid.uuid4())
        body = {"to_participant_id": bank.participant_id, "currency": "EUR", "amount": 5}
        resp = gw.request(
            "POST", "/settlement/mint", bank.api_key, json=body, headers={"Idempotency-Key": key}
        )
        assert resp.status_code == 503 and resp.json()["error"]["code"] in (
            "CHAIN_UNAVAILABLE",
            "CHAIN_TIMEOUT",
        )
        from sqlmodel import Session, select

        from api.models import IdempotencyRecord

        with Session(gw.state.engine) as s:
            assert s.exec(select(IdempotencyRecord).where(IdempotencyRecord.key == key)).first() is None
    finally:
        gw.stop()


def test_endorsement_by_the_debtors_own_eip712_signature(world: World) -> None:
    w = world
    ext = onboard(
        w.gw, "core_enterprise", "Self Custody Buyer AB", "SE3333333333", [("0088", "7350000000309")]
    )
    # a financier may grant a credit line too
    granted = w.gw.request(
        "PUT",
        f"/credit-lines/{ext.participant_id}",
        w.bank.api_key,
        json={"currency": "EUR", "limit_minor": 10**9},
    )
    assert granted.status_code == 200 and granted.json()["limit_minor"] == 10**9
    docs = {k: v.replace(BUYER_GLN.encode(), b"7350000000309") for k, v in trade("INV-EXT-1").items()}
    r = w.gw.request(
        "POST",
        "/bundles",
        w.t1.api_key,
        json=bundle_body(docs, {"Order": ext, "DespatchAdvice": w.t1, "Invoice": w.t1}),
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    rid = r.json()["receivable_id"]
    # the gateway holds no key for this debtor: it must sign itself
    direct = w.post(ext, f"/receivables/{rid}/endorse", {"accept": True}, expect=409)
    assert direct["error"]["code"] == "NOT_CUSTODIAL"
    req = w.get(ext, f"/receivables/{rid}/endorsement-request").json()
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    signed = Account.sign_message(encode_typed_data(full_message=req["typed_data"]), ext.chain_key)
    deadline = req["typed_data"]["message"]["deadline"]
    body = {"accept": True, "deadline": deadline, "signature": "0x" + bytes(signed.signature).hex()}
    w.post(ext, f"/receivables/{rid}/endorsement-signature", body)
    assert w.get(ext, f"/receivables/{rid}").json()["status"] == "CONFIRMED"
    # a replay: the nonce was used, so the signature now recovers to someone else
    replay = w.post(ext, f"/receivables/{rid}/endorsement-signature", body, expect=422)
    assert replay["error"]["code"] == "CHAIN_INVALID_SIGNER"


def test_other_participants_objects_are_not_found(world: World) -> None:
    w = world
    # a receivable the caller is no party to, nor holder of
    w.get(w.other_core, f"/receivables/{w.rid}", expect=404)
    w.get(w.other_core, f"/receivables/{w.rid}/endorsement-request", expect=404)
    w.get(w.other_bank, f"/receivables/{w.rid}/provenance", expect=404)
    assert w.rid not in [r["id"] for r in w.get(w.other_core, "/receivables").json()["items"]]
    # another core enterprise's credit line, and a participant record
    w.get(w.other_core, f"/credit-lines/{w.core.participant_id}?currency=EUR", expect=404)
    w.get(w.t1, f"/participants/{w.t2.participant_id}", expect=404)
    # the overseers see it
    w.get(w.regulator, f"/receivables/{w.rid}")
    w.get(None, f"/participants/{w.t2.participant_id}")


def test_pending_receivables_count_against_the_credit_line(world: World) -> None:
    """Credit is reserved at tokenization: unendorsed receivables together never exceed the debtor's
    line, the gateway's check and the contract's agree, and a rejection gives the credit back."""
    w = world
    line = w.gw.request(
        "PUT",
        f"/credit-lines/{w.other_core.participant_id}",
        w.bank.api_key,
        json={"currency": "EUR", "limit_minor": 500_000},
    )
    assert line.status_code == 200, line.text
    signers = {"Order": w.other_core, "DespatchAdvice": w.t1, "Invoice": w.t1}

    def submit(tag: str, path: str = "/bundles") -> httpx.Response:
        body = bundle_body(distinct_trade(tag, "7350000000200"), signers)
        return w.gw.request("POST", path, w.t1.api_key, json=body, headers={"Idempotency-Key": tag + path})

    first = submit("CR-1")
    assert first.status_code == 201, first.text
    credit = w.get(w.other_core, f"/credit-lines/{w.other_core.participant_id}?currency=EUR").json()
    assert (credit["limit_minor"], credit["used_minor"], credit["available_minor"]) == (
        500_000,
        309_050,
        190_950,
    )
    dry = submit("CR-2", "/bundles/verify").json()
    assert [v["code"] for v in dry["violations"]] == ["CREDIT_LIMIT_EXCEEDED"]
    refused = submit("CR-2")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "BUNDLE_REJECTED"
    assert [d["code"] for d in refused.json()["error"]["details"]] == ["CREDIT_LIMIT_EXCEEDED"]
    # the contract agrees even if the gateway's check were skipped: a direct registration reverts
    chain = w.gw.state.chain()
    with pytest.raises(TransactionReverted) as direct:
        chain.platform.ledger.register_invoice(
            chain.verifier,
            creditor=w.t1.address,
            debtor=w.other_core.address,
            face_value=309_050,
            token=chain.platform.tokens["EUR"].address,
            issue_date=1,
            due_date=2**39,
            bundle_hash=b"\x01" * 32,
            delivery_hash=b"\x02" * 32,
            fingerprint=b"\x03" * 32,
        )
    assert direct.value.revert.name == "CreditLineExceeded"
    assert (
        w.get(w.other_core, f"/credit-lines/{w.other_core.participant_id}?currency=EUR").json()["used_minor"]
        == 309_050
    )
    # rejecting the first payable releases its credit; the second now fits
    w.post(w.other_core, f"/receivables/{first.json()['receivable_id']}/endorse", {"accept": False})
    assert (
        w.get(w.other_core, f"/credit-lines/{w.other_core.participant_id}?currency=EUR").json()["used_minor"]
        == 0
    )
    second = submit("CR-3")
    assert second.status_code == 201, second.text


def test_operator_cannot_grant_credit_or_issue_money(world: World) -> None:
    w = world
    line = w.gw.request(
        "PUT",
        f"/credit-lines/{w.core.participant_id}",
        w.gw.operator_key,
        json={"currency": "EUR", "limit_minor": 10**12},
    )
    assert line.status_code == 403 and line.json()["error"]["code"] == "FORBIDDEN_ROLE"
    # another financier's line is its own: setting it leaves the first financier's line untouched
    before = w.get(w.bank, f"/credit-lines/{w.core.participant_id}?currency=EUR").json()
    mine = w.gw.request(
        "PUT",
        f"/credit-lines/{w.core.participant_id}",
        w.other_bank.api_key,
        json={"currency": "EUR", "limit_minor": 7},
    ).json()
    assert mine["my_line_minor"] == 7 and mine["granted_minor"] == before["granted_minor"] + 7
    assert (
        w.get(w.bank, f"/credit-lines/{w.core.participant_id}?currency=EUR").json()["my_line_minor"]
        == before["my_line_minor"]
    )
    # the platform limit caps the sum
    capped = w.gw.request(
        "PUT",
        f"/credit-lines/{w.core.participant_id}/platform-limit",
        w.gw.operator_key,
        json={"currency": "EUR", "cap_minor": 10**6},
    ).json()
    assert capped["limit_minor"] == 10**6 and capped["platform_cap_minor"] == 10**6
    uncapped = w.gw.request(
        "PUT",
        f"/credit-lines/{w.core.participant_id}/platform-limit",
        w.gw.operator_key,
        json={"currency": "EUR", "cap_minor": None},
    ).json()
    assert uncapped["limit_minor"] == uncapped["granted_minor"]
    # a financier not appointed as issuer cannot mint
    refused = w.post(
        w.other_bank,
        "/settlement/mint",
        {"currency": "EUR", "to_participant_id": w.other_bank.participant_id, "amount": 1},
        expect=409,
    )
    assert refused["error"]["code"] == "CHAIN_ISSUER_CAP_EXCEEDED"
    assert w.get(None, "/health/read-model").json()["in_sync"] is True


def test_suspension_stops_new_dealings_not_the_settlement_of_debts(world: World) -> None:
    w = world
    signers = {"Order": w.core, "DespatchAdvice": w.t1, "Invoice": w.t1}
    body = bundle_body(distinct_trade("SUSP-1"), signers)
    made = w.gw.request("POST", "/bundles", w.t1.api_key, json=body, headers={"Idempotency-Key": "susp"})
    assert made.status_code == 201, made.text
    rid = made.json()["receivable_id"]
    w.post(w.core, f"/receivables/{rid}/endorse", {"accept": True})
    w.post(w.t1, f"/receivables/{rid}/transfers", {"to_participant_id": w.t2.participant_id, "amount": 1_001})
    w.post(
        w.bank,
        "/settlement/mint",
        {"currency": "EUR", "to_participant_id": w.core.participant_id, "amount": 309_050},
    )
    for who in (w.core, w.t2):
        w.post(None, f"/participants/{who.participant_id}/suspend")
    try:
        # no new transfers from a suspended holder ...
        moved = w.post(
            w.t2,
            f"/receivables/{rid}/transfers",
            {"to_participant_id": w.t1.participant_id, "amount": 1},
            expect=403,
        )
        assert moved["error"]["code"] == "PARTICIPANT_SUSPENDED"
        # ... but the suspended debtor repays, and the suspended holder redeems its share
        w.post(w.core, f"/receivables/{rid}/repayments", {"amount": 309_050})
        got = {
            who.participant_id: w.post(who, f"/receivables/{rid}/redemptions")["amount"]
            for who in (w.t1, w.t2)
        }
        assert got == {w.t1.participant_id: 309_050 - 1_001, w.t2.participant_id: 1_001}
    finally:
        for who in (w.core, w.t2):
            w.post(None, f"/participants/{who.participant_id}/reinstate")
    assert w.get(None, "/health/read-model").json()["in_sync"] is True


def test_the_delivery_document_is_anchored_with_the_receivable(world: World) -> None:
    """A financier sees from the chain's record which delivery a receivable rests on."""
    w = world
    despatch = trade("INV-LC-1")["DespatchAdvice"]
    shown = w.get(w.bank, f"/receivables/{w.rid}").json()["delivery_hash"]
    chain = w.gw.state.chain()
    (log,) = chain.platform.ledger.contract.events.InvoiceRegistered().get_logs(
        from_block=0, argument_filters={"id": w.rid}
    )
    assert (
        shown
        == "0x" + hashlib.sha256(despatch).hexdigest()
        == "0x" + bytes(log["args"]["deliveryHash"]).hex()
    )


def test_a_tokenization_the_chain_refuses_leaves_nothing_behind(world: World) -> None:
    """Quantities, claims, bundle and documents are all undone when the ledger refuses the registration
    (here: the debtor was suspended on chain behind the gateway's back), and a retry learns the outcome."""
    from sqlmodel import Session, select

    from api.models import Bundle, Document, QuantityConsumption, TokenizationClaim

    w = world
    chain = w.gw.state.chain()

    def rows() -> tuple[int, int, int, int]:
        with Session(w.gw.state.engine) as s:
            return tuple(  # type: ignore[return-value]
                len(s.exec(select(m)).all())
                for m in (QuantityConsumption, TokenizationClaim, Bundle, Document)
            )

    before, count = rows(), chain.platform.ledger.receivable_count()
    chain.platform.registry.suspend(chain.operator, w.core.address)
    try:
        body = bundle_body(
            distinct_trade("UNDO-1"), {"Order": w.core, "DespatchAdvice": w.t1, "Invoice": w.t1}
        )
        refused = w.gw.request(
            "POST", "/bundles", w.t1.api_key, json=body, headers={"Idempotency-Key": "undo-1"}
        )
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "CHAIN_DEBTOR_NOT_ACTIVE_CORE_ENTERPRISE"
        assert rows() == before and chain.platform.ledger.receivable_count() == count
    finally:
        chain.platform.registry.reinstate(chain.operator, w.core.address)
    # the same bundle (same quantities, same invoice number) now goes through: nothing was left claimed
    again = w.gw.request("POST", "/bundles", w.t1.api_key, json=body, headers={"Idempotency-Key": "undo-2"})
    assert again.status_code == 201, again.text
