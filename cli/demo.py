"""The story of the platform through the HTTP API only: `scf demo` runs it on a fresh local chain, and
`scf conformance` (``cli.conformance``) runs the same steps against any JSON-RPC node.

1. Onboard a core enterprise, two tiers of suppliers and two financiers; grant a credit line.
2. Tokenize an invoice from signed UBL documents; show a forged bundle refused with its reasons.
3. Endorse it; split a part to the tier-2 supplier; the tier-2 supplier discounts with a financier.
4. Maturity (the demo moves Anvil's clock; the conformance run waits for the chain's own clock, or
   repays early); the core enterprise repays and every holder redeems.

The story plays every participant's ERP: it holds their document-signing keys (P-256) and signs the
UBL documents; the gateway holds their chain keys (custodial accounts). Each step checks its result
and the story stops (``DemoFailure``; exit code 1) at the first one that misbehaves. The steps are the
functions of ``STEPS``, each taking the ``Story`` they build up; a runner may time them one by one.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
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
DAY = 86_400


class DemoFailure(RuntimeError):
    """A step did not do what it should."""


def trade_documents(
    invoice_number: str = SAMPLE_INVOICE_NUMBER,
    invoice_date: date | None = None,
    due_date: date | None = None,
) -> dict[str, bytes]:
    """The sample trade as UBL bytes, renumbered and with every date moved so the invoice is dated
    ``invoice_date`` (default: two days ago), keeping the documents' relative dates; ``due_date``
    replaces the invoice's due date (default: 60 days after the invoice, as in the sample)."""
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
            if due_date is not None:
                text = re.sub(
                    r"<cbc:DueDate>[^<]*</cbc:DueDate>",
                    f"<cbc:DueDate>{due_date.isoformat()}</cbc:DueDate>",
                    text,
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
        #: every transaction the gateway answered with (hash, block number), in order
        self.transactions: list[tuple[str, int]] = []

    def call(self, method: str, path: str, key: str, expect: int = 200, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {key}", **kw.pop("headers", {})}
        if method == "POST":
            headers.setdefault("Idempotency-Key", str(uuid.uuid4()))
        resp = self.http.request(method, path, headers=headers, **kw)
        if resp.status_code != expect:
            raise DemoFailure(
                f"{method} {path} answered {resp.status_code}, expected {expect}: {resp.text[:400]}"
            )
        out = resp.json()
        if isinstance(out, dict) and isinstance(out.get("tx_hash"), str) and "block_number" in out:
            self.transactions.append((out["tx_hash"], int(out["block_number"])))
        return out


def money(minor: int) -> str:
    return f"{Decimal(minor) / 100:,.2f} EUR"


def wall_clock() -> int:
    return int(datetime.now(UTC).timestamp())


def midnight(d: date) -> int:
    """``d``'s first second at UTC: the instant the ledger judges a due date by."""
    return int(datetime.combine(d, datetime.min.time(), tzinfo=UTC).timestamp())


@dataclass
class Story:
    """What the steps share: the gateway, the participants and what the story made so far.

    ``clock`` is the time the story dates its invoice and offers by (the demo: the wall clock; the
    conformance run: the chain's latest block). ``invoice_date``/``due_date`` unset: the sample's (dated
    two days ago, due 60 days later). ``mature`` brings the receivable to maturity, or decides not to
    (returns a line to print)."""

    c: Client
    operator_key: str
    say: Callable[[str], None]
    mature: Callable[[Story], str]
    clock: Callable[[], int] = wall_clock
    invoice_number: str = SAMPLE_INVOICE_NUMBER
    invoice_date: date | None = None
    due_date: date | None = None
    core: Member = field(
        default_factory=lambda: Member(
            "Nordvik Retail AB", "core_enterprise", "SE5566778899", [("0088", BUYER_GLN)]
        )
    )
    tier1: Member = field(
        default_factory=lambda: Member(
            "Fabrikant Metall AB", "supplier", "SE5561234567", [("0088", SELLER_GLN)]
        )
    )
    tier2: Member = field(
        default_factory=lambda: Member(
            "Smedja Komponent AB", "supplier", "SE5569988776", [("0088", "7350000000033")]
        )
    )
    bank_a: Member = field(default_factory=lambda: Member("Hansa Trade Finance", "financier", "DE811234567"))
    bank_b: Member = field(default_factory=lambda: Member("Nordic Deposit Bank", "financier", "SE5024681357"))
    docs: dict[str, bytes] = field(default_factory=dict)
    rid: int = 0
    face: int = 0
    part: int = 0
    price: int = 0
    due: date | None = None
    received: dict[str, int] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def members(self) -> list[Member]:
        return [self.core, self.tier1, self.tier2, self.bank_a, self.bank_b]


def register(c: Client, operator_key: str, m: Member) -> None:
    """Onboard ``m`` as the operator (a custodial account); keep its API key, id, address and certificate."""
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
            "party_identifiers": [{"scheme": sch, "id": i} for sch, i in m.party_ids],
            "signing_key_pem": pem.decode(),
        },
    )
    m.api_key, m.id = out["api_key"], out["participant"]["id"]
    m.address = out["participant"]["chain_address"]
    m.certificate = x509.load_pem_x509_certificate(out["certificate_pem"].encode())


def onboard(s: Story) -> None:
    """The five participants, a credit line for the core enterprise, two issuers of settlement tokens."""
    c, say = s.c, s.say
    for m in s.members:
        register(c, s.operator_key, m)
        say(f"   {m.role:<16} {m.name:<24} {m.address}")
    core, bank_a, bank_b = s.core, s.bank_a, s.bank_b
    c.call(
        "PUT",
        f"/credit-lines/{core.id}",
        bank_a.api_key,
        json={"currency": "EUR", "limit_minor": 100_000_000},
    )
    say(f"   {bank_a.name} granted {core.name} a credit line of {money(100_000_000)}")
    for bank in (bank_a, bank_b):
        c.call(
            "PUT",
            f"/settlement/issuers/{bank.id}",
            s.operator_key,
            json={"currency": "EUR", "cap_minor": 1_000_000_000},
        )
    say(
        f"   the operator appointed {bank_a.name} and {bank_b.name} issuers of tEUR"
        f" (cap {money(1_000_000_000)} each)"
    )


def tokenize(s: Story) -> None:
    """A forged bundle refused with its reasons; the real one tokenized."""
    c, say, core, tier1 = s.c, s.say, s.core, s.tier1
    s.docs = docs = trade_documents(s.invoice_number, s.invoice_date, s.due_date)
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
    s.rid, s.face = tokenized["receivable_id"], tokenized["face_value_minor"]
    s.due = trade_due_date(docs)
    say(
        f"   receivable #{s.rid}: {money(s.face)} owed by {core.name}, due {s.due}, tx {tokenized['tx_hash']}"
    )
    say(f"   bundle hash {tokenized['bundle_hash']} anchored on chain")


def endorse(s: Story) -> None:
    s.c.call("POST", f"/receivables/{s.rid}/endorse", s.core.api_key, json={"accept": True})
    s.say(f"   {s.core.name} confirmed receivable #{s.rid} against its credit line")


def split(s: Story) -> None:
    s.part = s.face * 40 // 100
    s.c.call(
        "POST",
        f"/receivables/{s.rid}/transfers",
        s.tier1.api_key,
        json={"to_participant_id": s.tier2.id, "amount": s.part},
    )
    s.say(f"   {s.tier1.name} paid {s.tier2.name} with {money(s.part)} of the receivable")


def discount(s: Story) -> None:
    """The financier mints settlement tokens and offers; the tier-2 supplier accepts (DvP)."""
    c, bank_a, tier2, part = s.c, s.bank_a, s.tier2, s.part
    c.call(
        "POST",
        "/settlement/mint",
        bank_a.api_key,
        json={"currency": "EUR", "to_participant_id": bank_a.id, "amount": 1_000_000},
    )
    expiry = s.clock() + 7 * DAY
    offer = c.call(
        "POST",
        "/offers",
        bank_a.api_key,
        expect=201,
        json={"receivable_id": s.rid, "max_amount": part, "rate_bps": 600, "expiry": expiry},
    )
    accepted = c.call("POST", f"/offers/{offer['offer_id']}/accept", tier2.api_key, json={"amount": part})
    s.price = price = accepted["amount"]
    s.say(
        f"   {tier2.name} discounted {money(part)} with {bank_a.name} at 6.00 % p.a.: received {money(price)}"
    )
    if not 0 < price < part:
        raise DemoFailure(f"discount price {price} is not below the face value {part}")


def holdings(s: Story) -> None:
    for m in (s.tier1, s.bank_a):
        for h in s.c.call("GET", "/holdings", m.api_key)["items"]:
            frm = (h["received_from"] or {}).get("name") or "tokenization"
            held = money(h["balance_minor"])
            s.say(f"   {m.name} holds {held} of #{h['receivable_id']} (from {frm}), due {h['due_date']}")


def maturity(s: Story) -> None:
    s.say(f"   {s.mature(s)}")


def repay(s: Story) -> None:
    c, core, face = s.c, s.core, s.face
    c.call(
        "POST",
        "/settlement/mint",
        s.bank_b.api_key,
        json={"currency": "EUR", "to_participant_id": core.id, "amount": face},
    )
    c.call("POST", f"/receivables/{s.rid}/repayments", core.api_key, json={"amount": face})
    s.say(f"   {core.name} repaid {money(face)}")


def redeem(s: Story) -> None:
    for m in (s.tier1, s.bank_a):  # the holders at maturity (the tier-2 supplier sold its part)
        out = s.c.call("POST", f"/receivables/{s.rid}/redemptions", m.api_key)
        s.received[m.name] = out["amount"] or 0
        s.say(f"   {m.name} redeemed {money(s.received[m.name])}")
    if sum(s.received.values()) != s.face:
        raise DemoFailure(f"holders redeemed {sum(s.received.values())}, the debtor repaid {s.face}")


def provenance(s: Story) -> None:
    history = s.c.call("GET", f"/receivables/{s.rid}/provenance", s.core.api_key)
    n_docs, n_events = len(history["documents"]), len(history["events"])
    s.say(f"   provenance of #{s.rid}: {n_docs} anchored documents, {n_events} events:")
    for ev in history["events"]:
        s.say(f"     block {ev['block_number']:>4}  {ev['kind']:<18} tx {ev['tx_hash'][:18]}...")


def read_model(s: Story) -> None:
    check = s.c.call("GET", "/health/read-model", s.operator_key)
    if not check["in_sync"]:
        raise DemoFailure(f"the read model differs from the chain: {check['differences'][:5]}")
    s.say(f"   the gateway's read model equals the chain's state (indexed to block {check['indexed_block']})")


def summarize(s: Story) -> None:
    c, say, face, part, price, received = s.c, s.say, s.face, s.part, s.price, s.received
    tier1, tier2, bank_a, core = s.tier1, s.tier2, s.bank_a, s.core
    balances = {
        m.name: c.call("GET", "/settlement/balance?currency=EUR", m.api_key)["settlement_balance_minor"]
        for m in s.members
    }
    s.summary = {
        "receivable_id": s.rid,
        "face_value": face,
        "held": {tier1.name: face - part, tier2.name: 0, bank_a.name: part},
        "received": {tier2.name: price},
        "discount_price": price,
        "redeemed": received,
        "balances": balances,
    }
    say("\nSummary")
    say(f"   receivable #{s.rid}, face value {money(face)}, due {s.due}")
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


Step = tuple[str, Callable[[Story], None]]

#: The story, step by step: (name, step). A name that starts with a digit is also a heading of the demo.
STEPS: tuple[Step, ...] = (
    ("1. Onboarding the participants", onboard),
    ("2. Tokenizing an invoice from signed UBL documents", tokenize),
    ("3. Endorsement, split and discounting", endorse),
    ("split", split),
    ("discount", discount),
    ("holdings", holdings),
    ("4. Maturity, repayment and redemption", maturity),
    ("repayment", repay),
    ("redemption", redeem),
    ("provenance", provenance),
    ("read model", read_model),
    ("summary", summarize),
)


def run_story(s: Story, *, timed: Callable[[str, Callable[[], None]], None] | None = None) -> dict[str, Any]:
    """Every step of ``STEPS`` in order; ``timed(name, run)`` wraps each one (default: print headings)."""
    for name, step in STEPS:
        if timed is not None:
            timed(name, partial(step, s))
        else:
            if name[0].isdigit():
                s.say(name)
            step(s)
    return s.summary


def run_demo(
    base_url: str,
    operator_key: str,
    *,
    advance_time: Callable[[int], None],
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the story against a gateway; return the summary. Raises DemoFailure on misbehaviour.

    The sample invoice is due 60 days after its date: ``advance_time`` moves the (local) chain's clock
    a day past it."""

    def move_clock(s: Story) -> str:
        assert s.due is not None
        seconds = midnight(s.due) - wall_clock() + DAY
        advance_time(seconds)
        return f"the chain's clock moved {seconds // DAY} days forward, past the due date {s.due}"

    story = Story(Client(base_url, operator_key, say), operator_key, say, mature=move_clock)
    return run_story(story)


def trade_due_date(docs: dict[str, bytes]) -> date:
    m = re.search(rb"<cbc:DueDate>(\d{4}-\d\d-\d\d)</cbc:DueDate>", docs["Invoice"])
    if m is None:
        raise DemoFailure("the sample invoice has no due date")
    return date.fromisoformat(m.group(1).decode())
