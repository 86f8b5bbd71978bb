"""Quantity accounting without a database: what a receivable still consumes, and the allocation."""

from __future__ import annotations

from decimal import Decimal

from api.services.consumption import Consumed, line_keys_of, plan, remaining_quantity
from domain.rules.lines import DeliveryShare, LineUse, line_uses
from readmodel.tables import RmReceivable
from tests.domain.test_rules import bundle, despatch, with_line


def _receivable(status: str = "CONFIRMED", face: int = 5300, diluted: int = 0) -> RmReceivable:
    return RmReceivable(
        id=1,
        creditor="0x1",
        debtor="0x2",
        token="0x3",
        face_value=str(face),
        issue_date=0,
        due_date=0,
        status=status,
        diluted=str(diluted),
        bundle_hash="0x",
        fingerprint="0x",
        verifier="0x4",
        registered_block=1,
        registered_tx="0x",
    )


def test_what_a_receivable_still_consumes() -> None:
    ten = Decimal(10)
    assert remaining_quantity(ten, None) == ten  # still tokenizing, or not indexed yet
    assert remaining_quantity(ten, _receivable()) == ten  # endorsed, repaid ...: nothing freed
    assert remaining_quantity(ten, _receivable(status="REJECTED")) == 0
    assert remaining_quantity(ten, _receivable(diluted=5300)) == 0  # a full credit note
    assert remaining_quantity(ten, _receivable(diluted=2651)) == 5  # 4.998 rounded up: 5 stay financed
    assert remaining_quantity(ten, _receivable(diluted=2650)) == 5
    assert remaining_quantity(ten, _receivable(diluted=2649)) == 6  # 5.002 rounded up
    # rounded to the decimals the invoice stated the quantity with
    assert remaining_quantity(Decimal("2.5"), _receivable(face=1000, diluted=333)) == Decimal("1.7")


def test_allocation_over_two_deliveries_and_what_is_over_consumed() -> None:
    use = LineUse(
        "PO-1",
        "1",
        ordered=Decimal(100),
        invoiced=Decimal(50),
        deliveries=(
            DeliveryShare("DespatchAdvice", "DA-1", Decimal(60)),
            DeliveryShare("DespatchAdvice", "DA-2", Decimal(40)),
        ),
    )
    order_key, da1, da2 = line_keys_of("debtor", "supplier", [use])
    fresh = plan("debtor", "supplier", [use], {})
    assert [(d.line_key, d.quantity) for d in fresh.draws] == [(order_key, 50), (da1, 50)]
    taken = {da1: Consumed(Decimal(45), ["receivable 7"]), order_key: Consumed(Decimal(45), ["receivable 7"])}
    later = plan("debtor", "supplier", [use], taken)
    assert [(d.line_key, d.quantity) for d in later.draws] == [(order_key, 50), (da1, 15), (da2, 35)]
    assert later.shortfalls == ()
    taken[da2] = Consumed(Decimal(30), ["receivable 8"])
    short = plan("debtor", "supplier", [use], taken).shortfalls
    assert [s.code for s in short] == ["DELIVERY_ALREADY_FINANCED"]
    assert "receivable 7, receivable 8" in short[0].message
    taken[order_key] = Consumed(Decimal(60), ["receivable 7", "receivable 9"])
    codes = [s.code for s in plan("debtor", "supplier", [use], taken).shortfalls]
    assert codes == ["ORDER_ALREADY_FINANCED", "DELIVERY_ALREADY_FINANCED"]


def test_keys_fold_look_alike_document_ids() -> None:
    use = LineUse(
        "PO-2026-0042", "1", Decimal(1), Decimal(1), (DeliveryShare("DespatchAdvice", "DA-7781", Decimal(1)),)
    )
    other = LineUse(
        "po 2026 OO42",
        "1",
        Decimal(1),
        Decimal(1),
        (DeliveryShare("DespatchAdvice", "da\u20137781", Decimal(1)),),
    )
    assert line_keys_of("d", "s", [use]) == line_keys_of("d", "s", [other])
    # the order line is the buyer's, whoever invoices it; a delivery is the supplier's
    mine, theirs = line_keys_of("d", "s", [use]), line_keys_of("d", "another supplier", [use])
    assert mine[0] == theirs[0] and mine[1] != theirs[1]


def test_line_uses_of_the_fixture_trade() -> None:
    uses = line_uses(bundle(da=with_line(despatch(), "1", quantity=Decimal(99))))
    assert [(u.order_line, u.ordered, u.invoiced) for u in uses] == [
        ("1", 100, 98),
        ("2", 40, 40),
        ("3", 10, 10),
    ]
    assert uses[0].deliveries == (DeliveryShare("DespatchAdvice", "DA-7781", Decimal(99)),)
