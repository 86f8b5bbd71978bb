"""The warehouse tests' world: a gateway with an appointed warehouse, an owner, two banks, a price source and
a regulator, and helpers to issue, offer and price (issue 13)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from chain.node import rpc
from domain.maths import PRICE_QUANTITY
from domain.warehouse.prices import encode_price_observation
from tests.api.harness import Actor, Gateway, appoint_issuer, onboard

DAY = 86_400
QUANTITY = 500_000  # kg of soybeans
PRICE = 4_500_00  # 4,500.00 a tonne
VALUE = QUANTITY * PRICE // PRICE_QUANTITY  # 2,250,000.00
PRINCIPAL = 1_500_000_00  # 1,500,000.00: 66.67 % of the value


def signed_price(source: Actor, per_thousand: int, observed_at: int) -> str:
    """``source``'s signed observation of soybeans (KGM) at ``per_thousand`` CNY minor units a tonne
    (the warehouse lends in CNY)."""
    assert source.certificate is not None
    return encode_price_observation(
        source.key,
        source.certificate,
        commodity="SOYBEAN",
        unit="KGM",
        per_thousand=per_thousand,
        currency="CNY",
        observed_at=observed_at,
        source=source.address.lower(),
    )


def post(gw: Gateway, path: str, actor: Actor | None, body: dict[str, Any] | None = None) -> httpx.Response:
    key = actor.api_key if actor is not None else gw.operator_key
    return gw.request("POST", path, key, json=body or {}, headers={"Idempotency-Key": str(uuid.uuid4())})


def get(gw: Gateway, path: str, actor: Actor | None) -> httpx.Response:
    return gw.request("GET", path, actor.api_key if actor is not None else gw.operator_key)


def ok(resp: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body: dict[str, Any] = resp.json()
    return body


def refused(resp: httpx.Response, status: int, code: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["code"] == code, resp.text


def chain_now(gw: Gateway) -> int:
    return int(rpc(gw.anvil.url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)


class World:
    def __init__(self, gw: Gateway) -> None:
        self.gw = gw
        self.warehouse = onboard(
            gw, "logistics", "Dalian Grain Depot Co.", "91210200MA0XYZ0001", [], custodial=True
        )
        self.carrier = onboard(
            gw, "logistics", "Not Appointed Logistics", "91210200MA0XYZ0002", [], custodial=True
        )
        self.owner = onboard(
            gw, "supplier", "Liaoning Soy Trading Co.", "91210100MA0XYZ0003", [], custodial=True
        )
        self.other = onboard(gw, "supplier", "Another Trader Co.", "91210100MA0XYZ0004", [], custodial=True)
        self.bank = onboard(gw, "financier", "Bank of Dalian", "91210200MA0XYZ0005", [], custodial=True)
        self.bank2 = onboard(gw, "financier", "Second Bank", "91210200MA0XYZ0006", [], custodial=True)
        self.prices = onboard(
            gw, "price_source", "Dalian Commodity Prices", "91210200MA0XYZ0007", [], custodial=True
        )
        self.regulator = onboard(gw, "regulator", "Regulator", "REG-1", [], custodial=True)
        appoint_issuer(gw, self.bank.participant_id, currency="CNY")
        ok(
            post(
                gw,
                "/settlement/mint",
                self.bank,
                {"currency": "CNY", "to_participant_id": self.bank.participant_id, "amount": 10**12},
            )
        )
        ok(
            post(
                gw,
                "/settlement/mint",
                self.bank,
                {"currency": "CNY", "to_participant_id": self.owner.participant_id, "amount": 10**10},
            )
        )
        resp = gw.request(
            "PUT",
            f"/warehouse/warehouses/{self.warehouse.participant_id}",
            gw.operator_key,
            json={"appointed": True},
        )
        ok(resp)
        self.lots = 0
        self.observed = 0

    def price(
        self, per_thousand: int, *, at: int | None = None, source: Actor | None = None
    ) -> httpx.Response:
        who = source or self.prices
        if at is None:  # now, by the chain's clock, after the last price recorded (only a newer one counts)
            at = chain_now(self.gw)
            if at <= self.observed:
                rpc(self.gw.anvil.url, "evm_mine", [self.observed + 1])
                at = self.observed + 1
            self.observed = at
        return post(self.gw, "/warehouse/prices", who, {"observation": signed_price(who, per_thousand, at)})

    def issue(
        self, quantity: int = QUANTITY, *, lot: str | None = None, by: Actor | None = None
    ) -> httpx.Response:
        self.lots += 1
        body = {
            "owner_id": self.owner.participant_id,
            "lot_number": lot or f"DL-2026-{self.lots:04d}",
            "commodity": "SOYBEAN",
            "grade": "GB 1352 No. 2",
            "quantity": quantity,
            "unit": "KGM",
            "location": "SILO-3",
            "evidence_hash": "0x" + "ab" * 32,
        }
        return post(self.gw, "/warehouse/receipts", by or self.warehouse, body)

    def offer(
        self, rid: int, principal: int = PRINCIPAL, *, ask: bool = True, **terms: int
    ) -> httpx.Response:
        """The bank's offer against ``rid``, after (``ask``) the owner asked the bank for a loan."""
        if ask:
            request = {"financier_id": self.bank.participant_id, "principal": principal, "note": ""}
            ok(post(self.gw, f"/warehouse/receipts/{rid}/pledge-requests", self.owner, request), 201)
        body = {
            "receipt_id": rid,
            "principal": principal,
            "rate_bps": 800,
            "maturity": chain_now(self.gw) + 180 * DAY,
            "ltv_limit_bps": 7000,
            "margin_call_bps": 8000,
            **terms,
        }
        return post(self.gw, "/warehouse/loans", self.bank, body)

    def balance(self, actor: Actor) -> int:
        return int(ok(get(self.gw, "/settlement/balance?currency=CNY", actor))["settlement_balance_minor"])
