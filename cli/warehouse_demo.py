"""The warehouse story through the HTTP API only (``scf demo --story warehouse``; issue 13): soybeans in a
grain depot in Dalian, pledged by a food processor's supplier to its bank.

1. Onboard the depot (a warehouse), the soybean trader, its bank, a price source and the regulator; the
   operator appoints the depot; the price source signs the day's price (4,500.00 a tonne).
2. Goods in: the depot issues two receipts (500 t and 200 t) and installs a scale, a seal, a thermometer
   and a GPS tag on the first lot.
3. The trader asks the bank for a loan against the first receipt; the bank offers 1,500,000.00 at 6.50 %
   for 120 days within 70 % of the value; the trader accepts and is paid out on the spot.
4. Readings flow: ten rounds of normal signed readings, no alert.
5. The price falls to 3,500.00: the loan is above its 80 % threshold and its margin is called; the
   trader cures it by pledging the second receipt.
6. A theft: the scale shows 5 % less and the seal opens; both alerts are recorded on chain, and the bank
   freezes the receipt.
7. The trader repays the loan in full on the remaining goods: the pledge ends, the freeze with it.
8. Goods out: the trader surrenders both receipts.

Each step checks its result exactly and the story stops (``DemoFailure``, exit code 1) at the first one that
misbehaves.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chain.plan import WAREHOUSE_CURRENCY
from cli.demo import Client, DemoFailure, Member, register
from cli.iot import Lot, SimDevice, register_devices, simulate
from domain.documents.money import format_minor
from domain.maths import PRICE_QUANTITY
from domain.warehouse.prices import encode_price_observation

DAY = 86_400
CURRENCY = WAREHOUSE_CURRENCY  # the warehouse lends and prices in one settlement token
PRICE = 4_500_00
DROPPED = 3_500_00
LOT_A_KG = 500_000
LOT_B_KG = 200_000
PRINCIPAL = 1_500_000_00


def money(minor: int) -> str:
    return format_minor(minor, CURRENCY)


@dataclass
class WarehouseStory:
    c: Client
    operator_key: str
    say: Callable[[str], None]
    depot: Member = field(
        default_factory=lambda: Member(
            "Dalian North Grain Depot Co., Ltd.", "logistics", "91210200MA0DEPOT01"
        )
    )
    trader: Member = field(
        default_factory=lambda: Member("Heilongjiang Soy Trading Co., Ltd.", "supplier", "91230100MA0TRADE02")
    )
    bank: Member = field(default_factory=lambda: Member("Bank of Dalian", "financier", "91210200MA0BANK003"))
    prices: Member = field(
        default_factory=lambda: Member("Dalian Grain Price Service", "price_source", "91210200MA0PRICE04")
    )
    regulator: Member = field(
        default_factory=lambda: Member("Dalian Financial Regulator", "regulator", "REG-DL-01")
    )
    lot_a: int = 0
    lot_b: int = 0
    loan_id: int = 0
    due: int = 0
    observed: int = 0
    devices: list[SimDevice] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def members(self) -> list[Member]:
        return [self.depot, self.trader, self.bank, self.prices, self.regulator]


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise DemoFailure(what)


def chain_time(s: WarehouseStory) -> int:
    """The chain's clock (``/health``): what maturities and price times are judged by."""
    return int(s.c.call("GET", "/health", s.operator_key)["chain"]["latest_block_time"])


def _observation_time(s: WarehouseStory) -> int:
    """When the price service observes: now by the chain's clock, which the ledger judges a price's time by
    (the block that records it is no earlier). The ledger keeps only a newer price than the last."""
    now = chain_time(s)
    if now <= s.observed:
        raise DemoFailure("the chain's clock did not move past the last price's time")
    return now


def _price(s: WarehouseStory, per_thousand: int) -> None:
    m = s.prices
    assert m.certificate is not None
    token = encode_price_observation(
        m.signing_key,
        m.certificate,
        commodity="SOYBEAN",
        unit="KGM",
        per_thousand=per_thousand,
        currency=CURRENCY,
        observed_at=_observation_time(s),
        source=m.address.lower(),
    )
    out = s.c.call("POST", "/warehouse/prices", m.api_key, expect=201, json={"observation": token})
    s.observed = out["observed_at"]
    _check(out["per_thousand"] == per_thousand, "the price recorded is not the one signed")


def onboard(s: WarehouseStory) -> None:
    c, say = s.c, s.say
    for m in s.members:
        register(c, s.operator_key, m)
        say(f"   {m.role:<13} {m.name:<38} {m.address}")
    c.call("PUT", f"/warehouse/warehouses/{s.depot.id}", s.operator_key, json={"appointed": True})
    c.call(
        "PUT",
        f"/settlement/issuers/{s.bank.id}",
        s.operator_key,
        json={"currency": CURRENCY, "cap_minor": 10**12},
    )
    c.call(
        "POST",
        "/settlement/mint",
        s.bank.api_key,
        json={"currency": CURRENCY, "to_participant_id": s.bank.id, "amount": 10**11},
    )
    _price(s, PRICE)
    say(
        f"   the operator appointed the depot; soybeans priced at {money(PRICE)} a tonne"
        " (signed by the price service)"
    )


def goods_in(s: WarehouseStory) -> None:
    c, say = s.c, s.say
    for attr, lot, kg, place in (
        ("lot_a", "DL-2026-SOY-0042", LOT_A_KG, "SILO-3"),
        ("lot_b", "DL-2026-SOY-0043", LOT_B_KG, "SILO-4"),
    ):
        out = c.call(
            "POST",
            "/warehouse/receipts",
            s.depot.api_key,
            expect=201,
            json={
                "owner_id": s.trader.id,
                "lot_number": lot,
                "commodity": "SOYBEAN",
                "grade": "GB 1352 Grade 2",
                "quantity": kg,
                "unit": "KGM",
                "location": place,
                "evidence_hash": "0x" + bytes(range(32)).hex(),
            },
        )
        setattr(s, attr, out["receipt_id"])
        say(f"   receipt {out['receipt_id']}: lot {lot}, {kg // 1000:,} t of soybeans in {place}")
    again = c.http.post(
        "/warehouse/receipts",
        headers={"Authorization": f"Bearer {s.depot.api_key}", "Idempotency-Key": "dup-" + str(time.time())},
        json={
            "owner_id": s.trader.id,
            "lot_number": "dl 2026 soy 0042",
            "commodity": "SOYBEAN",
            "grade": "x",
            "quantity": 1,
            "unit": "KGM",
            "location": "SILO-3",
            "evidence_hash": "0x" + "00" * 32,
        },
    )
    _check(
        again.status_code == 409 and again.json()["error"]["code"] == "CHAIN_DUPLICATE_LOT",
        "a lot was issued twice",
    )
    say("   the same lot written another way (dl 2026 soy 0042) is refused: CHAIN_DUPLICATE_LOT")
    s.devices = register_devices(c, s.depot.api_key, Lot(s.lot_a, LOT_A_KG, "SILO-3"))
    say("   devices on lot A: " + ", ".join(d.kind for d in s.devices) + " (certified by the platform CA)")


def pledge(s: WarehouseStory) -> None:
    c, say = s.c, s.say
    c.call(
        "POST",
        f"/warehouse/receipts/{s.lot_a}/pledge-requests",
        s.trader.api_key,
        expect=201,
        json={"financier_id": s.bank.id, "principal": PRINCIPAL, "note": "120 days, soybean crush season"},
    )
    offer = c.call(
        "POST",
        "/warehouse/loans",
        s.bank.api_key,
        expect=201,
        json={
            "receipt_id": s.lot_a,
            "principal": PRINCIPAL,
            "rate_bps": 650,
            "maturity": chain_time(s) + 120 * DAY,
            "ltv_limit_bps": 7000,
            "margin_call_bps": 8000,
        },
    )
    s.loan_id = offer["loan_id"]
    before = c.call("GET", f"/settlement/balance?currency={CURRENCY}", s.trader.api_key)[
        "settlement_balance_minor"
    ]
    c.call("POST", f"/warehouse/loans/{s.loan_id}/accept", s.trader.api_key)
    after = c.call("GET", f"/settlement/balance?currency={CURRENCY}", s.trader.api_key)[
        "settlement_balance_minor"
    ]
    _check(after - before == PRINCIPAL, f"the trader was paid {after - before}, not {PRINCIPAL}")
    loan = c.call("GET", f"/warehouse/loans/{s.loan_id}", s.bank.api_key)
    s.due = loan["due"]
    value = LOT_A_KG * PRICE // PRICE_QUANTITY
    _check(loan["collateral_value"] == value, "the collateral is not valued at quantity x price")
    say(
        f"   loan {s.loan_id}: {money(PRINCIPAL)} paid out against receipt {s.lot_a} (worth {money(value)},"
        f" loan-to-value {loan['ltv_bps'] / 100:.2f} %); due {money(s.due)}"
    )


def readings(s: WarehouseStory) -> None:
    result = simulate(s.c, s.devices, Lot(s.lot_a, LOT_A_KG, "SILO-3"), rounds=10, with_theft=False)
    _check(result.alerts == [], f"normal readings raised alerts: {result.alerts}")
    s.say(f"   {result.accepted} signed readings accepted, no alert")


def price_drop(s: WarehouseStory) -> None:
    c, say = s.c, s.say
    # the trader's buyer pays for soy meal: the bank credits the trader's account (a block later than the
    # morning's price, so the new price is newer by the chain's clock too)
    if chain_time(s) <= s.observed:
        time.sleep(1.1)
    sales = s.due - PRINCIPAL
    c.call(
        "POST",
        "/settlement/mint",
        s.bank.api_key,
        json={"currency": CURRENCY, "to_participant_id": s.trader.id, "amount": sales},
    )
    say(f"   the trader's buyer paid {money(sales)} for soy meal into the trader's account")
    _price(s, DROPPED)
    loan = c.call("GET", f"/warehouse/loans/{s.loan_id}", s.trader.api_key)
    _check(loan["margin_deadline"] is not None, "the price drop did not call the margin")
    say(
        f"   soybeans at {money(DROPPED)}: collateral worth {money(loan['collateral_value'])}, loan-to-value"
        f" {loan['ltv_bps'] / 100:.2f} % > 80 %: margin called"
    )
    c.call("POST", f"/warehouse/loans/{s.loan_id}/collateral", s.trader.api_key, json={"receipt_id": s.lot_b})
    loan = c.call("GET", f"/warehouse/loans/{s.loan_id}", s.trader.api_key)
    _check(
        loan["margin_deadline"] is None and loan["collateral"] == [s.lot_a, s.lot_b],
        "the top-up did not cure",
    )
    say(
        f"   the trader pledged receipt {s.lot_b} too: worth {money(loan['collateral_value'])},"
        " margin call cured"
    )


def theft(s: WarehouseStory) -> None:
    c, say = s.c, s.say
    result = simulate(c, s.devices, Lot(s.lot_a, LOT_A_KG, "SILO-3"), rounds=0, with_theft=True)
    codes = sorted(a["code"] for a in result.alerts)
    _check(codes == ["SEAL_OPENED", "WEIGHT_BELOW_RECEIPT"], f"the theft raised {codes}")
    for a in result.alerts:
        say(f"   alert {a['alert_id']} {a['code']}: {a['message']}")
    c.call("POST", f"/warehouse/receipts/{s.lot_a}/freeze", s.bank.api_key, json={"frozen": True})
    receipt = c.call("GET", f"/warehouse/receipts/{s.lot_a}", s.regulator.api_key)
    _check(
        receipt["frozen"] and receipt["open_alerts"] == 2, "the receipt is not frozen with two open alerts"
    )
    say(f"   the bank froze receipt {s.lot_a}; the regulator sees 2 open alerts on it")


def repay(s: WarehouseStory) -> None:
    c, say = s.c, s.say
    c.call("POST", f"/warehouse/loans/{s.loan_id}/repay", s.trader.api_key, json={"amount": s.due})
    loan = c.call("GET", f"/warehouse/loans/{s.loan_id}", s.regulator.api_key)
    _check(loan["state"] == "REPAID" and loan["repaid"] == s.due, "the loan is not repaid in full")
    receipt = c.call("GET", f"/warehouse/receipts/{s.lot_a}", s.trader.api_key)
    _check(receipt["loan_id"] is None and not receipt["frozen"], "the pledge or the freeze did not end")
    say(
        f"   the trader repaid {money(s.due)} (principal and 6.50 % interest): pledge released, freeze lifted"
    )
    s.summary["repaid"] = s.due


def goods_out(s: WarehouseStory) -> None:
    for rid in (s.lot_a, s.lot_b):
        s.c.call("POST", f"/warehouse/receipts/{rid}/surrender", s.trader.api_key)
        _check(
            s.c.call("GET", f"/warehouse/receipts/{rid}", s.trader.api_key)["surrendered"], "not surrendered"
        )
    s.say(f"   receipts {s.lot_a} and {s.lot_b} surrendered: the depot releases the goods")


STEPS: list[tuple[str, Callable[[WarehouseStory], None]]] = [
    ("1. onboard, appoint the depot, price soybeans", onboard),
    ("2. goods in: receipts issued, devices installed", goods_in),
    ("3. pledge: loan offered and paid out", pledge),
    ("4. readings flow", readings),
    ("5. the price falls: margin call, cured with more collateral", price_drop),
    ("6. theft: alerts recorded, receipt frozen", theft),
    ("7. repaid on the remaining goods", repay),
    ("8. goods out", goods_out),
]


def run_warehouse_demo(
    base_url: str, operator_key: str, *, say: Callable[[str], None] = print
) -> dict[str, Any]:
    """Run the warehouse story against a gateway; return its summary. Raises DemoFailure on misbehaviour."""
    s = WarehouseStory(Client(base_url, operator_key, say), operator_key, say)
    for name, step in STEPS:
        say(name)
        step(s)
    return s.summary
