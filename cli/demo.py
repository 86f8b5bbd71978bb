"""`scf demo`: the whole story on a fresh local chain, through the HTTP API only.

1. Onboard a core enterprise, two tiers of suppliers and two financiers; grant a credit line.
2. Tokenize an invoice from signed UBL documents; show a forged bundle refused with its reasons.
3. Endorse it; split a part to the tier-2 supplier; the tier-2 supplier discounts with a financier.
4. Move Anvil's clock to maturity; the core enterprise repays and every holder redeems.

The demo plays every participant's ERP: it holds their document-signing keys (P-256) and signs
the UBL documents; the gateway holds their chain keys (custodial accounts). Each step checks its
result and the demo stops with exit code 1 at the first one that misbehaves.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from domain.documents.model import DocumentKind
from domain.identity import sign_detached

DATA = Path(__file__).resolve().parent / "demo_data"
#: The sample trade: order, despatch advice and invoice between these two parties.
BUYER_GLN = "7350000000019"
SELLER_GLN = "7350000000026"
SAMPLE_INVOICE_NUMBER = "INV-2026/0815"
SAMPLE_INVOICE_DATE = date(2026, 9, 15)
SAMPLE_PAYABLE_MINOR = 309_050


class DemoFailure(RuntimeError):
    """A step did not do what it should."""


def trade_documents(
    invoice_number: str = SAMPLE_INVOICE_NUMBER, invoice_date: date | None = None
) -> dict[str, bytes]:
    """The sample trade as UBL bytes, renumbered and with every date moved so the invoice is dated
    ``invoice_date`` (default: two days ago), keeping the documents' relative dates."""
    invoice_date = invoice_date or (datetime.now(UTC).date() - timedelta(days=2))
    shift = invoice_date - SAMPLE_INVOICE_DATE

    def move(m: re.Match[str]) -> str:
        return (date.fromisoformat(m.group(0)) + shift).isoformat()

    docs = {}
    for kind, name in (
        ("Order", "order.xml"),
        ("DespatchAdvice", "despatch-advice.xml"),
        ("Invoice", "invoice.xml"),
    ):
        text = re.sub(r"\b20\d\d-\d\d-\d\d\b", move, (DATA / name).read_text())
        if kind == "Invoice":
            text = text.replace(
                f"<cbc:ID>{SAMPLE_INVOICE_NUMBER}</cbc:ID>", f"<cbc:ID>{invoice_number}</cbc:ID>", 1
            )
        docs[kind] = text.encode()
    return docs


@dataclass
class Member:
    """A participant as the demo (its ERP) knows it."""

    name: str
    role: str
    registration_id: str
    party_ids: list[tuple[str, str]] = field(default_factory=list)
    signing_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    api_key: str = ""
    id: str = ""
    address: str = ""
    certificate: x509.Certificate | None = None

    def sign(self, data: bytes, kind: str) -> str:
        assert self.certificate is not None
        return sign_detached(data, self.signing_key, self.certificate, DocumentKind(kind))


class Client:
    def __init__(self, base_url: str, operator_key: str, say: Callable[[str], None]) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=120)
        self.operator_key = operator_key
        self.say = say

    def call(self, method: str, path: str, key: str, expect: int = 200, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {key}", **kw.pop("headers", {})}
        if method == "POST":
            headers.setdefault("Idempotency-Key", str(uuid.uuid4()))
        resp = self.http.request(method, path, headers=headers, **kw)
        if resp.status_code != expect:
            raise DemoFailure(
                f"{method} {path} answered {resp.status_code}, expected {expect}: {resp.text[:400]}"
            )
        return resp.json()


def money(minor: int) -> str:
    return f"{Decimal(minor) / 100:,.2f} EUR"


def run_demo(
    base_url: str,
    operator_key: str,
    *,
    advance_time: Callable[[int], None],
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the story against a gateway; return the summary. Raises DemoFailure on misbehaviour."""
    c = Client(base_url, operator_key, say)
    say("1. Onboarding the participants")
    core = Member("Nordvik Retail AB", "core_enterprise", "SE5566778899", [("0088", BUYER_GLN)])
    tier1 = Member("Fabrikant Metall AB", "supplier", "SE5561234567", [("0088", SELLER_GLN)])
    tier2 = Member("Smedja Komponent AB", "supplier", "SE5569988776", [("0088", "7350000000033")])
    bank_a = Member("Hansa Trade Finance", "financier", "DE811234567")
    bank_b = Member("Nordic Deposit Bank", "financier", "SE5024681357")
    members = [core, tier1, tier2, bank_a, bank_b]
    for m in members:
        pem = m.signing_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        out = c.call(
            "POST",
            "/participants",
            operator_key,
            expect=201,
            json={
                "legal_name": m.name,
                "registration_id": m.registration_id,
                "role": m.role,
                "party_identifiers": [{"scheme": s, "id": i} for s, i in m.party_ids],
                "signing_key_pem": pem.decode(),
            },
        )
        m.api_key, m.id = out["api_key"], out["participant"]["id"]
        m.address = out["participant"]["chain_address"]
        m.certificate = x509.load_pem_x509_certificate(out["certificate_pem"].encode())
        say(f"   {m.role:<16} {m.name:<24} {m.address}")
    c.call("PUT", f"/credit-lines/{core.id}", bank_a.api_key, json={"limit_minor": 100_000_000})
    say(f"   {bank_a.name} granted {core.name} a credit line of {money(100_000_000)}")
    for bank in (bank_a, bank_b):
        c.call("PUT", f"/settlement/issuers/{bank.id}", operator_key, json={"cap_minor": 1_000_000_000})
    say(
        f"   the operator appointed {bank_a.name} and {bank_b.name} issuers of tEUR"
        f" (cap {money(1_000_000_000)} each)"
    )

    say("2. Tokenizing invoice INV-2026/0815 from signed UBL documents")
    docs = trade_documents()
    signers = {"Order": core, "DespatchAdvice": tier1, "Invoice": tier1}

    def bundle(documents: dict[str, bytes], by: dict[str, Member]) -> dict[str, Any]:
        return {
            "documents": [
                {
                    "name": f"{k}.xml",
                    "content_base64": base64.b64encode(d).decode(),
                    "signature": by[k].sign(d, k),
                }
                for k, d in documents.items()
            ]
        }

    forged_docs = dict(docs)
    forged_docs["Invoice"] = docs["Invoice"].replace(b">3090.50<", b">9090.50<")
    forged = bundle(forged_docs, {**signers, "Order": tier1})
    forged["documents"][2]["signature"] = tier1.sign(
        docs["Invoice"], "Invoice"
    )  # signature of the real bytes
    refused = c.call("POST", "/bundles", tier1.api_key, expect=422, json=forged)
    say("   a forged bundle (payable raised to 9,090.50, the order signed by the supplier) is refused:")
    for v in refused["error"]["details"]:
        say(f"     - {v['code']}: {v['message']}")
    codes = {v["code"] for v in refused["error"]["details"]}
    if not {"SIG_INVALID", "SIG_ROLE_MISMATCH"} <= codes:
        raise DemoFailure(f"the forged bundle was refused for the wrong reasons: {sorted(codes)}")
    tokenized = c.call("POST", "/bundles", tier1.api_key, expect=201, json=bundle(docs, signers))
    rid = tokenized["receivable_id"]
    face = tokenized["face_value_minor"]
    say(f"   receivable #{rid}: {money(face)} owed by {core.name}, tx {tokenized['tx_hash']}")
    say(f"   bundle hash {tokenized['bundle_hash']} anchored on chain")

    say("3. Endorsement, split and discounting")
    c.call("POST", f"/receivables/{rid}/endorse", core.api_key, json={"accept": True})
    say(f"   {core.name} confirmed receivable #{rid} against its credit line")
    part = face * 40 // 100
    c.call(
        "POST",
        f"/receivables/{rid}/transfers",
        tier1.api_key,
        json={"to_participant_id": tier2.id, "amount": part},
    )
    say(f"   {tier1.name} paid {tier2.name} with {money(part)} of the receivable")
    c.call(
        "POST", "/settlement/mint", bank_a.api_key, json={"to_participant_id": bank_a.id, "amount": 1_000_000}
    )
    expiry = int(datetime.now(UTC).timestamp()) + 7 * 86_400
    offer = c.call(
        "POST",
        "/offers",
        bank_a.api_key,
        expect=201,
        json={"receivable_id": rid, "max_amount": part, "rate_bps": 600, "expiry": expiry},
    )
    accepted = c.call("POST", f"/offers/{offer['offer_id']}/accept", tier2.api_key, json={"amount": part})
    price = accepted["amount"]
    say(
        f"   {tier2.name} discounted {money(part)} with {bank_a.name} at 6.00 % p.a.: received {money(price)}"
    )
    if not 0 < price < part:
        raise DemoFailure(f"discount price {price} is not below the face value {part}")

    for m in (tier1, bank_a):
        for h in c.call("GET", "/holdings", m.api_key)["items"]:
            frm = (h["received_from"] or {}).get("name") or "tokenization"
            held = money(h["balance_minor"])
            say(f"   {m.name} holds {held} of #{h['receivable_id']} (from {frm}), due {h['due_date']}")

    say("4. Maturity, repayment and redemption")
    receivable_due = trade_due_date(docs)
    seconds = (
        int(
            datetime.combine(receivable_due, datetime.min.time(), tzinfo=UTC).timestamp()
            - datetime.now(UTC).timestamp()
        )
        + 86_400
    )
    advance_time(seconds)
    say(f"   the chain's clock moved {seconds // 86_400} days forward, past the due date {receivable_due}")
    c.call("POST", "/settlement/mint", bank_b.api_key, json={"to_participant_id": core.id, "amount": face})
    c.call("POST", f"/receivables/{rid}/repayments", core.api_key, json={"amount": face})
    say(f"   {core.name} repaid {money(face)}")
    received: dict[str, int] = {}
    for m in (tier1, bank_a):  # the holders at maturity (the tier-2 supplier sold its part)
        out = c.call("POST", f"/receivables/{rid}/redemptions", m.api_key)
        received[m.name] = out["amount"] or 0
        say(f"   {m.name} redeemed {money(received[m.name])}")
    if sum(received.values()) != face:
        raise DemoFailure(f"holders redeemed {sum(received.values())}, the debtor repaid {face}")

    balances = {
        m.name: c.call("GET", "/settlement/balance", m.api_key)["settlement_balance_minor"] for m in members
    }
    summary = {
        "receivable_id": rid,
        "face_value": face,
        "held": {tier1.name: face - part, tier2.name: 0, bank_a.name: part},
        "received": {tier2.name: price},
        "discount_price": price,
        "redeemed": received,
        "balances": balances,
    }
    history = c.call("GET", f"/receivables/{rid}/provenance", core.api_key)
    n_docs, n_events = len(history["documents"]), len(history["events"])
    say(f"   provenance of #{rid}: {n_docs} anchored documents, {n_events} events:")
    for ev in history["events"]:
        say(f"     block {ev['block_number']:>4}  {ev['kind']:<18} tx {ev['tx_hash'][:18]}...")
    check = c.call("GET", "/health/read-model", operator_key)
    if not check["in_sync"]:
        raise DemoFailure(f"the read model differs from the chain: {check['differences'][:5]}")
    say(f"   the gateway's read model equals the chain's state (indexed to block {check['indexed_block']})")
    say("\nSummary")
    say(f"   receivable #{rid}, face value {money(face)}, due {receivable_due}")
    say(f"   {'participant':<24}{'held at maturity':>20}{'paid':>18}{'received':>18}")
    rows = [
        (tier1.name, face - part, 0, received[tier1.name]),
        (tier2.name, 0, 0, price),
        (bank_a.name, part, price, received[bank_a.name]),
        (core.name, 0, face, 0),
    ]
    for name, held, paid, got in rows:
        say(f"   {name:<24}{money(held):>20}{money(paid):>18}{money(got):>18}")
    say(f"   {bank_a.name} earned {money(received[bank_a.name] - price)} for financing {tier2.name} early.")
    return summary


def trade_due_date(docs: dict[str, bytes]) -> date:
    m = re.search(rb"<cbc:DueDate>(\d{4}-\d\d-\d\d)</cbc:DueDate>", docs["Invoice"])
    if m is None:
        raise DemoFailure("the sample invoice has no due date")
    return date.fromisoformat(m.group(1).decode())
