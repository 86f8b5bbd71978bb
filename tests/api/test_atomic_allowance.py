"""Approval and action are one transaction (issue 10, "partial state changes").

Through the real gateway on a real Anvil: an offer or a repayment that the chain refuses leaves the
participant's allowance (and its permit nonce) exactly as it was; a successful one leaves exactly the
expected allowance. On the old code (``approve`` in a transaction of its own, then the action) the
refused cases left the allowance raised.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from chain.compiler import Artifact
from chain.contracts import Platform
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
)


@dataclass
class World:
    gw: Gateway
    core: Actor
    supplier: Actor
    bank: Actor

    @property
    def platform(self) -> Platform:
        return self.gw.state.chain().platform

    def post(self, who: Actor, path: str, json: object = None, expect: int = 200) -> dict[str, Any]:
        resp = self.gw.request(
            "POST", path, who.api_key, json=json, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        assert resp.status_code == expect, resp.text
        body: dict[str, Any] = resp.json()
        return body

    def receivable(self, tag: str, *, endorsed: bool) -> int:
        signers = {"Order": self.core, "DespatchAdvice": self.supplier, "Invoice": self.supplier}
        made = self.post(self.supplier, "/bundles", bundle_body(distinct_trade(tag), signers), expect=201)
        rid = int(made["receivable_id"])
        if endorsed:
            self.post(self.core, f"/receivables/{rid}/endorse", {"accept": True})
        return rid

    def now(self) -> int:
        return int(self.gw.state.chain().w3.eth.get_block("latest")["timestamp"])

    def market_allowance(self) -> int:
        return self.platform.tokens["EUR"].allowance(self.bank.address, self.platform.market.address)

    def ledger_allowance(self) -> int:
        return self.platform.tokens["EUR"].allowance(self.core.address, self.platform.ledger.address)

    def offer(self, rid: int, max_amount: int, expect: int, expiry: int | None = None) -> dict[str, Any]:
        body = {
            "receivable_id": rid,
            "max_amount": max_amount,
            "rate_bps": 500,
            "expiry": expiry or self.now() + 86_400,
        }
        return self.post(self.bank, "/offers", body, expect=expect)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, artifacts: dict[str, Artifact]) -> Iterator[World]:
    gw = start_gateway(tmp_path_factory.mktemp("atomic"))
    o = lambda *a: onboard(gw, *a, custodial=True)  # noqa: E731
    core = o("core_enterprise", "Nordvik Retail AB", "SE5566778899", [("0088", BUYER_GLN)])
    supplier = o("supplier", "Fabrikant Metall AB", "SE5561234567", [("0088", SELLER_GLN)])
    bank = o("financier", "Hansa Trade Finance", "DE811234567", [])
    granted = gw.request(
        "PUT",
        f"/credit-lines/{core.participant_id}",
        bank.api_key,
        json={"currency": "EUR", "limit_minor": 10**10},
    )
    assert granted.status_code == 200, granted.text
    appoint_issuer(gw, bank.participant_id)
    w = World(gw, core, supplier, bank)
    w.post(
        bank,
        "/settlement/mint",
        {"currency": "EUR", "to_participant_id": core.participant_id, "amount": 10**8},
    )
    yield w
    gw.stop()


def test_a_refused_offer_changes_no_allowance(world: World) -> None:
    w = world
    pending = w.receivable("ATOM-OFFER-1", endorsed=False)
    before, nonce = w.market_allowance(), w.platform.tokens["EUR"].nonce(w.bank.address)
    offers = w.platform.market.offer_count()
    # not endorsed: the market refuses it on chain (the gateway does not check this before sending)
    refused = w.offer(pending, 50_000, expect=409)
    assert refused["error"]["code"] == "CHAIN_NOT_DISCOUNTABLE"
    # an expiry in the past, and one beyond what an offer stores (2^40 - 1): refused by the market
    for expiry in (1, 2**40):
        refused = w.offer(pending, 50_000, expect=422, expiry=expiry)
        assert refused["error"]["code"] == "CHAIN_INVALID_EXPIRY"
    assert w.market_allowance() == before
    assert w.platform.tokens["EUR"].nonce(w.bank.address) == nonce
    assert w.platform.market.offer_count() == offers


def test_a_successful_offer_raises_the_allowance_by_its_amount(world: World) -> None:
    w = world
    rid = w.receivable("ATOM-OFFER-2", endorsed=True)
    before, nonce = w.market_allowance(), w.platform.tokens["EUR"].nonce(w.bank.address)
    made = w.offer(rid, 40_000, expect=201)
    assert w.platform.market.offer(made["offer_id"]).max_amount == 40_000
    assert w.market_allowance() == before + 40_000
    assert w.platform.tokens["EUR"].nonce(w.bank.address) == nonce + 1
    w.offer(rid, 2_500, expect=201)
    assert w.market_allowance() == before + 42_500


def test_concurrent_offers_of_one_financier_each_raise_the_allowance(world: World) -> None:
    w = world
    rid = w.receivable("ATOM-OFFER-3", endorsed=True)
    before = w.market_allowance()
    expiry = w.now() + 86_400

    def offer(_: int) -> httpx.Response:
        with httpx.Client(base_url=w.gw.url, timeout=120) as c:
            return c.post(
                "/offers",
                json={"receivable_id": rid, "max_amount": 1_000, "rate_bps": 500, "expiry": expiry},
                headers={"Authorization": f"Bearer {w.bank.api_key}", "Idempotency-Key": str(uuid.uuid4())},
            )

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(offer, range(6)))
    assert [r.status_code for r in answers] == [201] * 6, [r.text for r in answers if r.status_code != 201][
        :2
    ]
    assert w.market_allowance() == before + 6 * 1_000


def _race(w: World, monkeypatch: pytest.MonkeyPatch, times: int) -> None:
    """Another gateway process uses the financier's next permit nonce (a permit that changes nothing)
    after this process has read it and signed, ``times`` times."""
    from chain.contracts import SettlementTokenClient

    sign = SettlementTokenClient.sign_permit
    left = [times]

    def racing(
        self: SettlementTokenClient,
        account: Any,
        spender: str,
        value: int,
        deadline: int,
        nonce: int | None = None,
    ) -> Any:
        mine = sign(self, account, spender, value, deadline, nonce)
        if left[0] > 0:
            left[0] -= 1
            theirs = sign(self, account, spender, self.allowance(account.address, spender), deadline)
            self.permit(w.gw.state.chain().operator, account.address, spender, theirs)
        return mine

    monkeypatch.setattr(SettlementTokenClient, "sign_permit", racing)


def test_an_offer_that_loses_a_permit_race_is_retried_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world
    rid = w.receivable("ATOM-OFFER-4", endorsed=True)
    before, nonce = w.market_allowance(), w.platform.tokens["EUR"].nonce(w.bank.address)
    _race(w, monkeypatch, times=1)
    w.offer(rid, 3_000, expect=201)
    assert w.market_allowance() == before + 3_000
    assert w.platform.tokens["EUR"].nonce(w.bank.address) == nonce + 2  # theirs, then ours
    # losing twice is a conflict the client may retry; nothing of ours was applied
    _race(w, monkeypatch, times=2)
    lost = w.offer(rid, 3_000, expect=409)
    assert lost["error"]["code"] == "PERMIT_CONFLICT"
    assert lost["error"]["details"]["error"] == "ERC2612InvalidSigner"
    assert w.market_allowance() == before + 3_000


def test_a_refused_repayment_changes_no_allowance(world: World) -> None:
    w = world
    rid = w.receivable("ATOM-REPAY-1", endorsed=True)
    outstanding = w.platform.ledger.outstanding(rid)
    before, nonce = w.ledger_allowance(), w.platform.tokens["EUR"].nonce(w.core.address)
    balance = w.platform.tokens["EUR"].balance_of(w.core.address)
    # more than is owed: the ledger refuses it on chain
    refused = w.post(w.core, f"/receivables/{rid}/repayments", {"amount": outstanding + 1}, expect=409)
    assert refused["error"]["code"] == "CHAIN_REPAYMENT_EXCEEDS_OUTSTANDING"
    # disputed: refused too
    w.post(w.core, f"/receivables/{rid}/disputes", {"reason": "short delivery"})
    refused = w.post(w.core, f"/receivables/{rid}/repayments", {"amount": 1_000}, expect=409)
    assert refused["error"]["code"] == "CHAIN_RECEIVABLE_DISPUTED"
    assert w.ledger_allowance() == before
    assert w.platform.tokens["EUR"].nonce(w.core.address) == nonce
    assert w.platform.tokens["EUR"].balance_of(w.core.address) == balance
    assert w.platform.ledger.outstanding(rid) == outstanding


def test_a_repayment_spends_exactly_what_it_permits(world: World) -> None:
    w = world
    rid = w.receivable("ATOM-REPAY-2", endorsed=True)
    outstanding = w.platform.ledger.outstanding(rid)
    balance = w.platform.tokens["EUR"].balance_of(w.core.address)
    nonce = w.platform.tokens["EUR"].nonce(w.core.address)
    w.post(w.core, f"/receivables/{rid}/repayments", {"amount": 12_345})
    assert w.ledger_allowance() == 0
    assert w.platform.tokens["EUR"].nonce(w.core.address) == nonce + 1
    assert w.platform.tokens["EUR"].balance_of(w.core.address) == balance - 12_345
    assert w.platform.ledger.outstanding(rid) == outstanding - 12_345
    w.post(w.core, f"/receivables/{rid}/repayments", {"amount": outstanding - 12_345})
    assert w.ledger_allowance() == 0
    assert w.platform.ledger.outstanding(rid) == 0
