"""The CN demo trade (``cli/demo_data/cn``, the default story's): it passes every rule, its figures are
exact, and its parties are identified by valid unified social credit codes, the ones the demo onboards.

Built like ``test_rules.py``: the documents are parsed with ``parse_document`` and judged by
``verify_bundle`` with a ``StaticContext``; a failing variant changes one thing and expects exactly its
code.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from chain.plan import SETTLEMENT_CURRENCIES
from cli.demo import CN, DEMO_PROFILES, EU, trade_documents
from domain.documents.model import (
    DespatchAdvice,
    Document,
    Invoice,
    Order,
    PartyRef,
    ReceiptAdvice,
)
from domain.documents.ubl import parse_document
from domain.identifiers import USCC_SCHEME, is_valid_uscc
from domain.profiles import PROFILES
from domain.rules import Bundle, StaticContext, Violation, verify_bundle
from domain.rules.amounts import face_value_minor
from tests.domain.ubl_fixtures import CN_TRADE, fixture

FIXTURES = CN_TRADE

#: After every document was issued (the invoice on 2026-09-15), long before it is due (2026-12-14).
NOW = datetime(2026, 9, 20, 12, 0, tzinfo=UTC)

BUYER = PartyRef(USCC_SCHEME, "91310115MA1GK8Q340")
SELLER = PartyRef(USCC_SCHEME, "91320505MA1NT4W297")
PAYABLE_MINOR = 2_800_400


def order() -> Order:
    return fixture(FIXTURES, "order.xml", Order)


def invoice() -> Invoice:
    return fixture(FIXTURES, "invoice.xml", Invoice)


def despatch() -> DespatchAdvice:
    return fixture(FIXTURES, "despatch-advice.xml", DespatchAdvice)


def receipt() -> ReceiptAdvice:
    return fixture(FIXTURES, "receipt-advice.xml", ReceiptAdvice)


def context(**changes: Any) -> StaticContext:
    """The gateway's view under the ``cn`` profile: the buyer a core enterprise with enough credit, the
    seller the registered supplier who submits, the platform's settlement currencies."""
    base = StaticContext(
        supplier_ids=frozenset({SELLER}),
        max_tenor_days=PROFILES["cn"].max_tenor_days,
        unused_credit_minor=PAYABLE_MINOR,
        now=NOW,
        core_enterprises=frozenset({BUYER}),
        registered_suppliers=frozenset({SELLER}),
        participants={BUYER: "core", SELLER: "tier1"},
        settlement_currencies=frozenset(SETTLEMENT_CURRENCIES),
    )
    return replace(base, **changes)


def bundle(*, inv: Invoice | None = None, with_receipt: bool = False) -> Bundle:
    docs: list[Document] = [order(), despatch(), inv or invoice()]
    if with_receipt:
        docs.append(receipt())
    return Bundle.of(*docs)


def codes(violations: list[Violation]) -> set[str]:
    return {v.code for v in violations}


@pytest.mark.parametrize("with_receipt", [False, True], ids=["order+despatch+invoice", "with receipt"])
def test_the_cn_trade_passes_every_rule(with_receipt: bool) -> None:
    assert verify_bundle(bundle(with_receipt=with_receipt), context()) == []


def test_the_documents_are_in_cny_and_their_figures_are_exact() -> None:
    inv = invoice()
    assert {doc.currency for doc in (inv, order())} == {"CNY"}
    assert inv.amount_currencies == frozenset({"CNY"}) == order().amount_currencies
    total = inv.monetary_total
    assert (total.line_extension, total.allowance_total, total.charge_total) == (
        Decimal("24550.00"),
        Decimal("100.00"),
        Decimal("350.00"),
    )
    assert (total.tax_exclusive, total.tax_inclusive, inv.payable_amount) == (
        Decimal("24800.00"),
        Decimal("28004.00"),
        Decimal("28004.00"),
    )
    [tax] = inv.tax_totals
    assert tax.tax_amount == Decimal("3204.00")
    assert {(s.category.key, s.taxable_amount, s.tax_amount) for s in tax.subtotals} == {
        (("S", Decimal(13)), Decimal("24300.00"), Decimal("3159.00")),
        (("S", Decimal(9)), Decimal("500.00"), Decimal("45.00")),
    }
    assert [line.line_extension_amount for line in inv.lines] == [
        Decimal("12500.00"),
        Decimal("11800.00"),
        Decimal("500.00"),
        Decimal("-250.00"),
    ]
    assert face_value_minor(inv) == PAYABLE_MINOR == CN.payable_minor


def test_vat_is_chinas_standard_rate_with_category_s() -> None:
    rates = {line.tax_category.key for line in invoice().lines if line.tax_category is not None}
    assert rates == {("S", Decimal(13)), ("S", Decimal(9))}
    assert {ac.tax_category.key for ac in invoice().allowance_charges if ac.tax_category} == {
        ("S", Decimal(13))
    }


def test_due_90_days_after_issue_within_the_cn_tenor() -> None:
    inv = invoice()
    assert inv.due_date is not None
    days = (inv.due_date - inv.issue_date).days
    assert days == 90 <= PROFILES["cn"].principle_tenor_days
    assert codes(verify_bundle(bundle(), context(max_tenor_days=89))) == {"DATE_TENOR_EXCEEDED"}
    assert verify_bundle(bundle(), context(max_tenor_days=90)) == []
    # and within the eu profile's 180 days too: the gateway accepts it under either profile
    assert verify_bundle(bundle(), context(max_tenor_days=PROFILES["eu"].max_tenor_days)) == []


def test_every_party_is_identified_by_a_valid_uscc() -> None:
    inv, po, da, ra = invoice(), order(), despatch(), receipt()
    parties = {
        "invoice seller": inv.seller,
        "invoice buyer": inv.buyer,
        "order buyer": po.buyer,
        "order seller": po.seller,
        "despatching party": da.despatch_supplier,
        "delivery customer": da.delivery_customer,
        "receipt supplier": ra.despatch_supplier,
        "receipt customer": ra.delivery_customer,
    }
    for role, party in parties.items():
        usccs = [ref for ref in party.refs if ref.scheme == USCC_SCHEME]
        assert usccs, role
        assert all(is_valid_uscc(ref.id) for ref in usccs), role
        assert all(is_valid_uscc(ref.id) for ref in party.refs), role  # its tax id is the same code
    # as PartyIdentification and as the legal entity's CompanyID; and as the taxpayer id (VAT)
    for party, ref in ((inv.seller, SELLER), (inv.buyer, BUYER)):
        assert party.identifiers == (ref,) and party.legal_ids == (ref,)
        assert party.tax_ids == (PartyRef("VAT", ref.id),)
        assert party.endpoint is None and party.country == "CN"
    assert {ref for ref in po.buyer.refs if ref.scheme == USCC_SCHEME} == {BUYER}
    assert {ref for ref in da.delivery_customer.refs} == {BUYER}


def test_the_demo_onboards_the_trades_parties() -> None:
    assert (USCC_SCHEME, BUYER.id) in CN.core.party_ids and CN.core.registration_id == BUYER.id
    assert (USCC_SCHEME, SELLER.id) in CN.tier1.party_ids and CN.tier1.registration_id == SELLER.id
    cast = (CN.core, CN.tier1, CN.tier2, CN.bank_a, CN.bank_b)
    assert CN.core.role == "core_enterprise" and CN.core.name == "华东装备制造集团有限公司"
    for member in cast:
        assert is_valid_uscc(member.registration_id) and member.party_ids == (
            (USCC_SCHEME, member.registration_id),
        )
        # the signing certificate's commonName holds 64 bytes of UTF-8 at most
        assert len(member.name.encode()) <= 64, member.name
    assert len({member.registration_id for member in cast}) == len(cast)
    assert invoice().buyer.registration_name == CN.core.name
    assert invoice().seller.registration_name == CN.tier1.name


def test_each_profiles_story_is_in_its_profiles_currency() -> None:
    assert set(DEMO_PROFILES) == set(PROFILES)
    for name, story in DEMO_PROFILES.items():
        assert story.name == name and story.currency == PROFILES[name].currency
        assert story.currency in SETTLEMENT_CURRENCIES
        inv = parse_document((story.documents / "invoice.xml").read_bytes())
        assert isinstance(inv, Invoice)
        assert inv.id == story.invoice_number and inv.issue_date == story.invoice_date
        assert inv.currency == story.currency and face_value_minor(inv) == story.payable_minor
    assert EU.payable_minor == 309_050


def test_refused_when_cny_has_no_settlement_token_or_the_credit_is_short() -> None:
    assert codes(verify_bundle(bundle(), context(settlement_currencies=frozenset({"EUR"})))) == {
        "CURRENCY_NOT_SETTLEABLE"
    }
    assert codes(verify_bundle(bundle(), context(unused_credit_minor=PAYABLE_MINOR - 1))) == {
        "CREDIT_LIMIT_EXCEEDED"
    }


def test_the_correction_line_matches_the_rejected_valves() -> None:
    # without line 4 (-2 valves) the invoice would bill 100 valves against the 98 the buyer accepted
    short = replace(invoice(), lines=invoice().lines[:3])
    found = verify_bundle(bundle(inv=short, with_receipt=True), context())
    assert "MATCH_INVOICED_EXCEEDS_DELIVERED" in codes(found)


def test_the_demos_redated_documents_pass_every_rule() -> None:
    # as `scf demo` sends them: dated two days before the day it runs, due 90 days later; and as the
    # conformance run sends them: its own number, due the next day
    today = date(2027, 3, 1)
    issued = today - timedelta(days=2)
    for number, due in ((None, issued + timedelta(days=90)), ("CONF-0123456789", issued + timedelta(days=1))):
        docs = trade_documents(number, issued, None if number is None else due, profile=CN)
        parsed = [parse_document(data) for data in docs.values()]
        inv = next(doc for doc in parsed if isinstance(doc, Invoice))
        assert (inv.id, inv.issue_date, inv.due_date) == (number or CN.invoice_number, issued, due)
        now = datetime.combine(issued, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
        assert verify_bundle(Bundle.of(*parsed), context(now=now)) == []
        # the forged bundle of the demo raises the payable amount where the invoice states it
        assert docs["Invoice"].count(b">28004.00<") == 2
