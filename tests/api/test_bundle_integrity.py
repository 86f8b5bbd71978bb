"""Gateway: a delivery is financed once, a party is one participant, a document says one thing.

One bundle per hole, refused with its code and leaving nothing behind, and the valid variants
still accepted (real Anvil, real SQLite, real HTTP, as in ``test_bundles``).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import httpx
import pytest
from sqlmodel import Session, col, select

from api.models import Bundle, Document, QuantityConsumption, TokenizationClaim
from chain.settings import PROJECT_ROOT
from tests.api.harness import (
    BUYER_GLN,
    Actor,
    Gateway,
    bundle_body,
    grant_credit,
    onboard,
    post_concurrently,
    trade,
)

#: The buyer of this module's trades: a custodial core enterprise (it endorses, rejects, disputes).
CORE_GLN = "7350000000309"
OTHER_CORE_GLN = "7350000000316"
UNKNOWN_GLN = "7350000000989"


@pytest.fixture(scope="module")
def buyer(gw: Gateway) -> Actor:
    actor = onboard(
        gw, "core_enterprise", "Integrity Retail AB", "SE5560000309", [("0088", CORE_GLN)], custodial=True
    )
    assert grant_credit(gw, actor.participant_id, 100_000_000).status_code == 200
    return actor


@pytest.fixture(scope="module")
def other_core(gw: Gateway) -> Actor:
    actor = onboard(gw, "core_enterprise", "Bystander Retail AB", "SE5560000316", [("0088", OTHER_CORE_GLN)])
    assert grant_credit(gw, actor.participant_id, 100_000_000).status_code == 200
    return actor


def _trade(
    tag: str, *, order: str | None = None, despatch: str | None = None, invoice_date: date | None = None
) -> dict[str, bytes]:
    """The sample trade bought by this module's core enterprise, with its own (or the given) order
    and despatch advice numbers."""
    docs = trade(f"INV-{tag}", order_number=order, despatch_number=despatch, invoice_date=invoice_date)
    return {kind: data.replace(BUYER_GLN.encode(), CORE_GLN.encode()) for kind, data in docs.items()}


#: The order's lines: item name, seller's item id, net price, base quantity, VAT rate.
ORDER_LINES = {
    "1": ("Steel widget", "W-100", Decimal("12.50"), Decimal(1), Decimal(25)),
    "2": ("Gadget (pack of 10)", "G-200", Decimal("300.00"), Decimal(10), Decimal(25)),
    "3": ("Printed manual", "M-1", Decimal("5.00"), Decimal(1), Decimal(6)),
}


def _cents(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def partial_invoice(docs: Mapping[str, bytes], quantities: Mapping[str, int]) -> dict[str, bytes]:
    """The trade with its invoice replaced by one for ``quantities`` (order line -> quantity), with
    every total recomputed (EN 16931) and no document-level allowance or charge."""
    text = docs["Invoice"].decode()
    head = text[: text.index("  <cac:AllowanceCharge>")]
    lines, line_total, taxable = [], Decimal(0), defaultdict(Decimal)
    for number, (order_line, quantity) in enumerate(quantities.items(), start=1):
        name, item_id, price, base, rate = ORDER_LINES[order_line]
        net = _cents(Decimal(quantity) * price / base)
        line_total += net
        taxable[rate] += net
        base_xml = "" if base == 1 else f'<cbc:BaseQuantity unitCode="C62">{base}</cbc:BaseQuantity>'
        lines.append(
            f"""  <cac:InvoiceLine>
    <cbc:ID>{number}</cbc:ID>
    <cbc:InvoicedQuantity unitCode="C62">{quantity}</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">{net}</cbc:LineExtensionAmount>
    <cac:OrderLineReference><cbc:LineID>{order_line}</cbc:LineID></cac:OrderLineReference>
    <cac:Item>
      <cbc:Name>{name}</cbc:Name>
      <cac:SellersItemIdentification><cbc:ID>{item_id}</cbc:ID></cac:SellersItemIdentification>
      <cac:ClassifiedTaxCategory>
        <cbc:ID>S</cbc:ID><cbc:Percent>{rate}</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:ClassifiedTaxCategory>
    </cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">{price}</cbc:PriceAmount>{base_xml}</cac:Price>
  </cac:InvoiceLine>
"""
        )
    subtotals = [(rate, amount, _cents(amount * rate / 100)) for rate, amount in sorted(taxable.items())]
    tax = sum((t for _, _, t in subtotals), Decimal(0))
    sub_xml = "".join(
        f"""    <cac:TaxSubtotal>
      <cbc:TaxableAmount currencyID="EUR">{amount}</cbc:TaxableAmount>
      <cbc:TaxAmount currencyID="EUR">{t}</cbc:TaxAmount>
      <cac:TaxCategory>
        <cbc:ID>S</cbc:ID><cbc:Percent>{rate}</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:TaxCategory>
    </cac:TaxSubtotal>
"""
        for rate, amount, t in subtotals
    )
    body = f"""  <cac:TaxTotal>
    <cbc:TaxAmount currencyID="EUR">{tax}</cbc:TaxAmount>
{sub_xml}  </cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">{line_total}</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="EUR">{line_total}</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="EUR">{line_total + tax}</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="EUR">{line_total + tax}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
{"".join(lines)}</Invoice>
"""
    return {**docs, "Invoice": (head + body).encode()}


def _signers(buyer: Actor, supplier: Actor) -> dict[str, Actor]:
    return {"Order": buyer, "DespatchAdvice": supplier, "Invoice": supplier}


def _submit(gw: Gateway, who: Actor, body: dict[str, object]) -> httpx.Response:
    return gw.request(
        "POST", "/bundles", who.api_key, json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
    )


def _post(gw: Gateway, key: str, path: str, body: dict[str, object]) -> httpx.Response:
    return gw.request("POST", path, key, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})


def _codes(resp: httpx.Response) -> set[str]:
    err = resp.json()["error"]
    return {err["code"]} | {v["code"] for v in err["details"] or []}


def _messages(resp: httpx.Response) -> str:
    return " ".join(v["message"] for v in resp.json()["error"]["details"] or [])


def _state(gw: Gateway) -> tuple[int, int, int, int, int]:
    """Receivables on chain, and bundles, documents, claims and consumption rows in the database."""
    with Session(gw.state.engine) as s:
        return (
            gw.state.chain().platform.ledger.receivable_count(),
            len(s.exec(select(Bundle)).all()),
            len(s.exec(select(Document)).all()),
            len(s.exec(select(TokenizationClaim)).all()),
            len(s.exec(select(QuantityConsumption)).all()),
        )


FINANCED = {"ORDER_ALREADY_FINANCED", "DELIVERY_ALREADY_FINANCED"}


# --------------------------------------------------------------------------------------------------
# 1. A delivery is financed once
# --------------------------------------------------------------------------------------------------


def test_the_same_order_and_delivery_under_a_new_invoice_number_is_refused(
    gw: Gateway, buyer: Actor, supplier: Actor
) -> None:
    first = _submit(gw, supplier, bundle_body(_trade("TWICE-1"), _signers(buyer, supplier)))
    assert first.status_code == 201, first.text
    rid = first.json()["receivable_id"]
    before = _state(gw)
    again = bundle_body(
        _trade("TWICE-2", order="PO-INV-TWICE-1", despatch="DA-INV-TWICE-1"), _signers(buyer, supplier)
    )
    dry = gw.request("POST", "/bundles/verify", supplier.api_key, json=again)
    assert {v["code"] for v in dry.json()["violations"]} == FINANCED
    resp = _submit(gw, supplier, again)
    assert resp.status_code == 422 and _codes(resp) == {"BUNDLE_REJECTED", *FINANCED}, resp.text
    assert f"receivable {rid}" in _messages(resp)
    assert _state(gw) == before
    # the despatch advice in look-alike spelling is the same delivery
    look_alike = bundle_body(
        _trade("TWICE-3", order="PO-INV-TWICE-1", despatch="da inv\u2013tw\u0456ce 1"),
        _signers(buyer, supplier),
    )
    assert "DELIVERY_ALREADY_FINANCED" in _codes(_submit(gw, supplier, look_alike))
    assert _state(gw) == before


def test_partial_invoicing_of_one_delivery_over_two_invoices_then_nothing_more(
    gw: Gateway, buyer: Actor, supplier: Actor
) -> None:
    order, despatch = "PO-PART", "DA-PART"
    first = partial_invoice(_trade("PART-1", order=order, despatch=despatch), {"1": 60, "3": 4})
    second = partial_invoice(_trade("PART-2", order=order, despatch=despatch), {"1": 40, "2": 40, "3": 6})
    for docs in (first, second):
        resp = _submit(gw, supplier, bundle_body(docs, _signers(buyer, supplier)))
        assert resp.status_code == 201, resp.text
    before = _state(gw)
    one_more = partial_invoice(_trade("PART-3", order=order, despatch=despatch), {"3": 1})
    resp = _submit(gw, supplier, bundle_body(one_more, _signers(buyer, supplier)))
    assert resp.status_code == 422 and FINANCED <= _codes(resp), resp.text
    assert _state(gw) == before


def test_a_rejected_receivable_gives_its_quantities_back(gw: Gateway, buyer: Actor, supplier: Actor) -> None:
    first = _submit(gw, supplier, bundle_body(_trade("REJ-1"), _signers(buyer, supplier)))
    assert first.status_code == 201, first.text
    second = bundle_body(
        _trade("REJ-2", order="PO-INV-REJ-1", despatch="DA-INV-REJ-1"), _signers(buyer, supplier)
    )
    assert FINANCED <= _codes(_submit(gw, supplier, second))
    rid = first.json()["receivable_id"]
    assert _post(gw, buyer.api_key, f"/receivables/{rid}/endorse", {"accept": False}).status_code == 200
    resp = _submit(gw, supplier, second)
    assert resp.status_code == 201, resp.text


def test_a_credit_note_gives_back_its_share_rounded_down(gw: Gateway, buyer: Actor, supplier: Actor) -> None:
    order, despatch = "PO-CN", "DA-CN"
    docs = partial_invoice(_trade("CN-1", order=order, despatch=despatch), {"3": 10})  # 53.00 EUR
    first = _submit(gw, supplier, bundle_body(docs, _signers(buyer, supplier)))
    assert first.status_code == 201, first.text
    rid = first.json()["receivable_id"]
    assert _post(gw, buyer.api_key, f"/receivables/{rid}/endorse", {"accept": True}).status_code == 200
    assert (
        _post(gw, buyer.api_key, f"/receivables/{rid}/disputes", {"reason": "half returned"}).status_code
        == 200
    )
    # a credit note of 26.51 of 53.00: 10 x 26.49 / 53.00 = 4.998 still financed, rounded up to 5
    resolved = _post(
        gw, gw.operator_key, f"/receivables/{rid}/resolution", {"action": "credit_note", "amount": 2651}
    )
    assert resolved.status_code == 200, resolved.text
    six = partial_invoice(_trade("CN-2", order=order, despatch=despatch), {"3": 6})
    assert FINANCED <= _codes(_submit(gw, supplier, bundle_body(six, _signers(buyer, supplier))))
    five = partial_invoice(_trade("CN-3", order=order, despatch=despatch), {"3": 5})
    resp = _submit(gw, supplier, bundle_body(five, _signers(buyer, supplier)))
    assert resp.status_code == 201, resp.text


def test_concurrent_bundles_over_one_delivery_never_finance_more_than_delivered(
    gw: Gateway, buyer: Actor, supplier: Actor
) -> None:
    # the delivery carries 10 manuals; 8 suppliers' requests each invoice 3 of them at once
    order, despatch = "PO-RACE", "DA-RACE"
    bodies = [
        bundle_body(
            partial_invoice(_trade(f"RACE-{i}", order=order, despatch=despatch), {"3": 3}),
            _signers(buyer, supplier),
        )
        for i in range(8)
    ]
    count = gw.state.chain().platform.ledger.receivable_count()

    results = post_concurrently(gw, supplier.api_key, bodies, workers=8)
    won = [r for r in results if r.status_code == 201]
    assert len(won) == 3, [r.text for r in results]
    for r in results:
        if r.status_code != 201:
            assert r.status_code in (409, 422) and _codes(r) & FINANCED, r.text
    assert gw.state.chain().platform.ledger.receivable_count() == count + 3
    with Session(gw.state.engine) as s:
        rows = s.exec(
            select(QuantityConsumption).where(col(QuantityConsumption.lock_key).contains(":DespatchAdvice:"))
        ).all()
        financed = sum((Decimal(r.quantity) for r in rows if r.lock_key.endswith(":darace")), Decimal(0))
    assert financed == 9


# --------------------------------------------------------------------------------------------------
# 2. A party is one participant
# --------------------------------------------------------------------------------------------------


def _with_party_id(docs: dict[str, bytes], endpoint: str, extra_gln: str) -> dict[str, bytes]:
    """The invoice with a PartyIdentification added to the party whose EndpointID is ``endpoint``."""
    anchor = f'<cbc:EndpointID schemeID="0088">{endpoint}</cbc:EndpointID>'
    added = (
        f'{anchor}<cac:PartyIdentification><cbc:ID schemeID="0088">{extra_gln}</cbc:ID>'
        "</cac:PartyIdentification>"
    )
    text = docs["Invoice"].decode()
    assert text.count(anchor) == 1
    return {**docs, "Invoice": text.replace(anchor, added).encode()}


def test_a_buyer_carrying_another_core_enterprises_identifier_is_refused(
    gw: Gateway, buyer: Actor, supplier: Actor, other_core: Actor
) -> None:
    before = _state(gw)
    docs = _with_party_id(_trade("DEBTOR-2"), CORE_GLN, OTHER_CORE_GLN)
    resp = _submit(gw, supplier, bundle_body(docs, _signers(buyer, supplier)))
    assert resp.status_code == 422 and "PARTY_IDENTIFIERS_CONFLICT" in _codes(resp), resp.text
    assert OTHER_CORE_GLN in _messages(resp)
    assert _state(gw) == before


def test_a_seller_carrying_another_suppliers_identifier_is_refused(
    gw: Gateway, buyer: Actor, supplier: Actor, other_supplier: Actor
) -> None:
    before = _state(gw)
    docs = _with_party_id(_trade("SELLER-2"), "7350000000026", "6410000000017")
    resp = _submit(gw, supplier, bundle_body(docs, _signers(buyer, supplier)))
    assert resp.status_code == 422 and "PARTY_IDENTIFIERS_CONFLICT" in _codes(resp), resp.text
    assert _state(gw) == before


def test_a_party_with_one_known_and_one_unknown_identifier_is_accepted(
    gw: Gateway, buyer: Actor, supplier: Actor
) -> None:
    docs = _with_party_id(_trade("KNOWN-UNKNOWN"), CORE_GLN, UNKNOWN_GLN)
    resp = _submit(gw, supplier, bundle_body(docs, _signers(buyer, supplier)))
    assert resp.status_code == 201, resp.text
    assert resp.json()["debtor_id"] == buyer.participant_id


def test_party_resolution_is_the_same_under_every_hash_seed(
    gw: Gateway, buyer: Actor, supplier: Actor, other_core: Actor
) -> None:
    conflicting = bundle_body(
        _with_party_id(_trade("SEED-1"), CORE_GLN, OTHER_CORE_GLN), _signers(buyer, supplier)
    )
    fine = bundle_body(_with_party_id(_trade("SEED-2"), CORE_GLN, UNKNOWN_GLN), _signers(buyer, supplier))
    settings = {
        name: str(getattr(gw.settings, name))
        for name in ("data_dir", "deployments_dir", "artifacts_dir", "anvil_port", "project_root")
    }
    answers: set[str] = set()
    job = json.dumps(
        {
            "settings": settings,
            "supplier_id": supplier.participant_id,
            "bodies": {"conflicting": conflicting, "fine": fine},
        }
    )
    # one process a seed, both bundles in it; the processes run side by side (their start-up dominates)
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.api.party_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            text=True,
        )
        for seed in ("0", "1", "31337")  # 0: no randomization; two different orders besides
    ]
    for run in runs:
        stdout, stderr = run.communicate(job, timeout=120)
        assert run.returncode == 0, stderr[-2000:]
        answers.add(stdout)
    assert len(answers) == 1, answers
    both = json.loads(answers.pop())
    conflict = both["conflicting"]
    assert "PARTY_IDENTIFIERS_CONFLICT" in conflict["codes"] and conflict["debtor"] is None
    assert both["fine"] == {"codes": [], "messages": [], "debtor": buyer.participant_id}


# --------------------------------------------------------------------------------------------------
# 3. A document says one thing
# --------------------------------------------------------------------------------------------------


def _refused(gw: Gateway, supplier: Actor, body: dict[str, object], code: str) -> httpx.Response:
    before = _state(gw)
    resp = _submit(gw, supplier, body)
    assert resp.status_code == 422 and code in _codes(resp), resp.text
    assert _state(gw) == before
    return resp


def test_an_element_allowed_once_stated_twice_is_refused(gw: Gateway, buyer: Actor, supplier: Actor) -> None:
    docs = _trade("TWICE-DATE")
    text = docs["Invoice"].decode()
    issue = text[text.index("<cbc:IssueDate>") : text.index("</cbc:IssueDate>") + len("</cbc:IssueDate>")]
    docs["Invoice"] = text.replace(issue, issue + "<cbc:IssueDate>2020-01-01</cbc:IssueDate>", 1).encode()
    resp = _refused(gw, supplier, bundle_body(docs, _signers(buyer, supplier)), "UBL_REPEATED_ELEMENT")
    assert any(v.get("field") == "/Invoice/cbc:IssueDate" for v in resp.json()["error"]["details"])


def test_two_attachments_with_one_name_are_refused(gw: Gateway, buyer: Actor, supplier: Actor) -> None:
    signed = b"%PDF-1.7 the rendering that was signed"
    digest = hashlib.sha256(signed).hexdigest()
    body = bundle_body(
        _trade("ATT-TWICE"),
        _signers(buyer, supplier),
        attachments=[("invoice.pdf", signed), ("invoice.pdf", b"%PDF-1.7 something never signed")],
        bound={"invoice.pdf": digest},
    )
    _refused(gw, supplier, body, "ATTACHMENT_DUPLICATE_NAME")
    # one attachment of that name is fine
    ok = bundle_body(
        _trade("ATT-ONCE"),
        _signers(buyer, supplier),
        attachments=[("invoice.pdf", signed)],
        bound={"invoice.pdf": digest},
    )
    assert _submit(gw, supplier, ok).status_code == 201


def test_an_invoice_dated_in_the_future_is_refused(gw: Gateway, buyer: Actor, supplier: Actor) -> None:
    today = datetime.now(UTC).date()
    future = _trade("FUTURE", invoice_date=today + timedelta(days=2))
    _refused(gw, supplier, bundle_body(future, _signers(buyer, supplier)), "DATE_ISSUE_IN_FUTURE")
    dated_today = _trade("TODAY", invoice_date=today)
    assert _submit(gw, supplier, bundle_body(dated_today, _signers(buyer, supplier))).status_code == 201


def test_vat_rates_and_charges_the_order_does_not_carry_are_refused(
    gw: Gateway, buyer: Actor, supplier: Actor
) -> None:
    docs = _trade("VAT-12")
    docs["Order"] = docs["Order"].replace(b"<cbc:Percent>6</cbc:Percent>", b"<cbc:Percent>12</cbc:Percent>")
    _refused(gw, supplier, bundle_body(docs, _signers(buyer, supplier)), "MATCH_VAT_NOT_ORDERED")
    # the order states its charges (none): the invoice's freight is not agreed
    docs = _trade("NO-FREIGHT")
    payable = b'<cbc:PayableAmount currencyID="EUR">3115.50</cbc:PayableAmount>'
    assert payable in docs["Order"]
    docs["Order"] = docs["Order"].replace(
        payable, b'<cbc:ChargeTotalAmount currencyID="EUR">0.00</cbc:ChargeTotalAmount>' + payable
    )
    _refused(gw, supplier, bundle_body(docs, _signers(buyer, supplier)), "MATCH_CHARGE_NOT_ORDERED")


def test_look_alike_invoice_numbers_are_one_number(gw: Gateway, buyer: Actor, supplier: Actor) -> None:
    first = _trade("LOOK-10", order="PO-LOOK-A", despatch="DA-LOOK-A")
    assert _submit(gw, supplier, bundle_body(first, _signers(buyer, supplier))).status_code == 201
    # letter O for digit zero and digit zero for letter O; then small capitals
    for n, number in enumerate(("L0OK-1O", "\u029f\u1d0f\u1d0f\u1d0b-10")):
        docs = _trade(number, order=f"PO-LOOK-{n}", despatch=f"DA-LOOK-{n}")
        resp = _refused(
            gw, supplier, bundle_body(docs, _signers(buyer, supplier)), "DUPLICATE_INVOICE_NUMBER"
        )
        assert _codes(resp) == {"BUNDLE_REJECTED", "DUPLICATE_INVOICE_NUMBER"}


NEW_CODES = {
    "ORDER_ALREADY_FINANCED",
    "DELIVERY_ALREADY_FINANCED",
    "PARTY_IDENTIFIERS_CONFLICT",
    "UBL_REPEATED_ELEMENT",
    "ATTACHMENT_DUPLICATE_NAME",
    "DATE_ISSUE_IN_FUTURE",
    "MATCH_VAT_NOT_ORDERED",
    "MATCH_CHARGE_NOT_ORDERED",
}


def test_the_new_codes_are_listed_by_get_rules_and_in_the_gateway_docs(gw: Gateway) -> None:
    listed = {r["code"]: r["description"] for r in gw.request("GET", "/rules", None).json()}
    assert NEW_CODES <= set(listed) and all(listed[c] for c in NEW_CODES)
    docs = (PROJECT_ROOT / "docs" / "gateway.md").read_text()
    assert all(f"`{code}`" in docs for code in NEW_CODES)
