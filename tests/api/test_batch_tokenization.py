"""``POST /bundles/batch``: many bundles in one request, each answered on its own, the verified ones
registered in one ``registerInvoices`` transaction (or one by one when the ledger refuses the batch)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from api.models import Bundle, TokenizationClaim
from tests.api.harness import (
    Actor,
    Gateway,
    bundle_body,
    distinct_trade,
    grant_credit,
    start_gateway,
    trade_parties,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, Actor, Actor]]:
    gw = start_gateway(Path(tmp_path_factory.mktemp("batch")))
    core, supplier = trade_parties(gw)
    try:
        yield gw, core, supplier
    finally:
        gw.stop()


def _batch(gw: Gateway, supplier: Actor, bodies: list[dict[str, Any]], key: str | None = None) -> Any:
    r = gw.request(
        "POST",
        "/bundles/batch",
        supplier.api_key,
        json={"bundles": bodies},
        headers={"Idempotency-Key": key or str(uuid.uuid4())},
    )
    assert r.status_code == 200, r.text
    return r.json()


def _signers(core: Actor, supplier: Actor) -> dict[str, Actor]:
    return {"Order": core, "DespatchAdvice": supplier, "Invoice": supplier}


def test_each_bundle_is_answered_on_its_own_and_the_good_ones_share_one_transaction(
    world: tuple[Gateway, Actor, Actor],
) -> None:
    gw, core, supplier = world
    signers = _signers(core, supplier)
    good = [bundle_body(distinct_trade(f"BATCH-{n}"), signers) for n in range(4)]
    earlier = bundle_body(distinct_trade("BATCH-EARLIER"), signers)
    first = gw.request("POST", "/bundles", supplier.api_key, json=earlier, headers={"Idempotency-Key": "e1"})
    assert first.status_code == 201, first.text
    forged = bundle_body(distinct_trade("BATCH-FORGED"), signers)
    doc = forged["documents"][2]
    doc["content_base64"] = base64.b64encode(base64.b64decode(doc["content_base64"]) + b" ").decode()
    key = str(uuid.uuid4())
    out = _batch(gw, supplier, [good[0], forged, good[1], earlier, good[2], good[3], good[0]], key)

    statuses = [(it["index"], it["status"], it["http_status"]) for it in out["items"]]
    assert statuses == [
        (0, "tokenized", 201),
        (1, "rejected", 422),
        (2, "tokenized", 201),
        (3, "rejected", 422),  # tokenized before: its rules see the claim, as a single POST's would
        (4, "tokenized", 201),
        (5, "tokenized", 201),
        (6, "rejected", 409),  # the same invoice twice in one request: the second is a duplicate
    ]
    assert out["items"][1]["error"]["code"] == "BUNDLE_REJECTED"
    assert out["items"][3]["error"]["code"] == "BUNDLE_REJECTED"
    assert "DUPLICATE_INVOICE_NUMBER" in {v["code"] for v in out["items"][3]["error"]["details"]}
    assert out["items"][6]["error"]["code"] == "DUPLICATE_INVOICE_NUMBER"
    assert (out["tokenized"], out["rejected"]) == (4, 3)
    assert len(out["transactions"]) == 1  # four invoices, one registerInvoices
    ledger = gw.state.chain().platform.ledger
    for it in out["items"]:
        if it["status"] == "tokenized":
            b = it["bundle"]
            assert b["tx_hash"] == out["transactions"][0]
            assert (
                ledger.receivable_id_by_fingerprint(bytes.fromhex(b["fingerprint"][2:])) == b["receivable_id"]
            )
            assert ledger.receivable(b["receivable_id"]).face_value == b["face_value_minor"]
    with Session(gw.state.engine) as s:  # the refused ones left nothing
        numbers = [b.invoice_number for b in s.exec(select(Bundle)).all()]
    assert "INV-BATCH-FORGED" not in numbers and numbers.count("INV-BATCH-0") == 1
    again = gw.request(
        "POST",
        "/bundles/batch",
        supplier.api_key,
        json={"bundles": [good[0], forged, good[1], earlier, good[2], good[3], good[0]]},
        headers={"Idempotency-Key": key},
    )
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == out


def test_a_batch_the_ledger_refuses_is_registered_one_by_one(world: tuple[Gateway, Actor, Actor]) -> None:
    """The sum of the batch exceeds the debtor's credit: the ledger refuses ``registerInvoices`` whole;
    registered one by one, those that fit are tokenized and only the one over the line is refused."""
    gw, core, supplier = world
    ledger = gw.state.chain().platform.ledger
    one = _batch(gw, supplier, [bundle_body(distinct_trade("BATCH-PROBE"), _signers(core, supplier))])
    face_value = one["items"][0]["bundle"]["face_value_minor"]  # every sample invoice has the same
    _, used = ledger.credit_line(core.address, gw.state.chain().platform.tokens["EUR"].address)
    fits = 2
    assert (
        grant_credit(gw, core.participant_id, used + fits * face_value + face_value // 2).status_code == 200
    )
    bodies = [
        bundle_body(distinct_trade(f"BATCH-CREDIT-{n}"), _signers(core, supplier)) for n in range(fits + 1)
    ]
    out = _batch(gw, supplier, bodies)
    assert [it["status"] for it in out["items"]] == ["tokenized"] * fits + ["rejected"]
    assert out["items"][-1]["error"]["code"] == "CHAIN_CREDIT_LINE_EXCEEDED"
    assert len(out["transactions"]) == fits  # the batch refused, then one transaction each
    with Session(gw.state.engine) as s:
        last = s.exec(select(Bundle).where(col(Bundle.invoice_number) == f"INV-BATCH-CREDIT-{fits}")).all()
        claims = s.exec(select(TokenizationClaim)).all()
    assert last == []
    assert len({c.bundle_id for c in claims}) == ledger.receivable_count()


def test_bundles_of_one_batch_draw_on_one_delivery_in_turn(world: tuple[Gateway, Actor, Actor]) -> None:
    """Two invoices of one batch over the same order and delivery, each invoicing all of it: the rules
    of both pass (nothing is stored when they run), but the batch is stored in one transaction where
    the second sees the first's quantities, so only the first is tokenized."""
    gw, core, supplier = world
    _, used = gw.state.chain().platform.ledger.credit_line(
        core.address, gw.state.chain().platform.tokens["EUR"].address
    )
    assert grant_credit(gw, core.participant_id, used + 10**12).status_code == 200
    signers = _signers(core, supplier)
    first = distinct_trade("BATCH-DRAW-A")
    second = {**first, "Invoice": first["Invoice"].replace(b">INV-BATCH-DRAW-A<", b">INV-BATCH-DRAW-B<")}
    out = _batch(gw, supplier, [bundle_body(first, signers), bundle_body(second, signers)])
    assert [(it["status"], it["http_status"]) for it in out["items"]] == [
        ("tokenized", 201),
        ("rejected", 409),
    ]
    assert out["items"][1]["error"]["code"] == "ORDER_ALREADY_FINANCED"
    with Session(gw.state.engine) as s:
        numbers = [b.invoice_number for b in s.exec(select(Bundle)).all()]
    assert numbers.count("INV-BATCH-DRAW-A") == 1 and "INV-BATCH-DRAW-B" not in numbers
