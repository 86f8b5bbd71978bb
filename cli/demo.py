"""The story of the platform through the HTTP API only: `scf demo` runs it on a fresh local chain, and
`scf conformance` (``cli.conformance``) runs the same steps against any JSON-RPC node.

The story is told in one market profile's terms (``DemoProfile``, one per ``domain.profiles`` profile):
``cn`` (the default) in CNY between a Chinese core enterprise, its suppliers and banks, identified by
their unified social credit codes (``domain.identifiers``), on the trade in ``demo_data/cn``; ``eu`` in
EUR between Swedish and German parties identified by GLN, on the trade in ``demo_data``.

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
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from domain.documents.model import DocumentKind
from domain.documents.money import format_minor, from_minor_units
from domain.identifiers import USCC_SCHEME, uscc_with_check
from domain.identity import sign_detached
from domain.profiles import ProfileName

DATA = Path(__file__).resolve().parent / "demo_data"
#: The EU sample trade (``demo_data``): order, despatch advice and invoice between these two parties. It is
#: the trade ``cli.sample`` renumbers for the tests and benchmarks.
BUYER_GLN = "7350000000019"
SELLER_GLN = "7350000000026"
SAMPLE_INVOICE_NUMBER = "INV-2026/0815"
SAMPLE_INVOICE_DATE = date(2026, 9, 15)
SAMPLE_PAYABLE_MINOR = 309_050
DAY = 86_400


class DemoFailure(RuntimeError):
    """A step did not do what it should."""


@dataclass(frozen=True)
class Cast:
    """A participant of a profile's story, as written: the story onboards it as a ``Member``.

    ``name`` is the legal name as registered (a Chinese company's is in Chinese; it becomes the signing
    certificate's commonName, 64 characters at most); ``short`` is the name the story's lines use
    (default: the legal name) and ``english`` the legal name's English form, shown at onboarding."""

    name: str
    role: str
    registration_id: str
    party_ids: tuple[tuple[str, str], ...] = ()
    short: str = ""
    english: str = ""

    def member(self) -> Member:
        return Member(
            self.name,
            self.role,
            self.registration_id,
            list(self.party_ids),
            short=self.short,
            english=self.english,
        )


@dataclass(frozen=True)
class DemoProfile:
    """One market's story: its trade (the UBL documents in ``documents``: their currency, invoice number and
    date, payable amount) and its participants, with the amounts the story grants, caps and mints."""

    name: ProfileName
    currency: str
    documents: Path
    invoice_number: str
    invoice_date: date
    payable_minor: int
    #: what the forged bundle of step 2 raises the payable amount to
    forged_payable_minor: int
    core: Cast
    tier1: Cast
    tier2: Cast
    bank_a: Cast
    bank_b: Cast
    credit_line_minor: int
    issuer_cap_minor: int
    #: what the discounting bank mints for itself before it offers
    funding_minor: int

    def amount(self, minor: int) -> str:
        """``minor`` minor units as a decimal amount with thousands separators (``1,234.50``)."""
        return self.money(minor).removesuffix(f" {self.currency}")

    def stated(self, minor: int) -> bytes:
        """``minor`` as a UBL amount element states it (``>1234.50<``), to find it in a document."""
        return f">{from_minor_units(minor, self.currency)}<".encode()

    def money(self, minor: int) -> str:
        return format_minor(minor, self.currency)


def _uscc_cast(name: str, role: str, first16: str, short: str, english: str) -> Cast:
    """A Chinese participant: its unified social credit code (check characters computed from its first 16
    characters) is its registration id and its party identifier (scheme ``USCC``)."""
    code = uscc_with_check(first16)
    return Cast(name, role, code, ((USCC_SCHEME, code),), short, english)


EU = DemoProfile(
    name="eu",
    currency="EUR",
    documents=DATA,
    invoice_number=SAMPLE_INVOICE_NUMBER,
    invoice_date=SAMPLE_INVOICE_DATE,
    payable_minor=SAMPLE_PAYABLE_MINOR,
    forged_payable_minor=909_050,
    core=Cast("Nordvik Retail AB", "core_enterprise", "SE5566778899", (("0088", BUYER_GLN),)),
    tier1=Cast("Fabrikant Metall AB", "supplier", "SE5561234567", (("0088", SELLER_GLN),)),
    tier2=Cast("Smedja Komponent AB", "supplier", "SE5569988776", (("0088", "7350000000033"),)),
    bank_a=Cast("Hansa Trade Finance", "financier", "DE811234567"),
    bank_b=Cast("Nordic Deposit Bank", "financier", "SE5024681357"),
    credit_line_minor=100_000_000,
    issuer_cap_minor=1_000_000_000,
    funding_minor=1_000_000,
)
"""Today's EUR story: a Swedish retailer, its Swedish suppliers, a German and a Nordic bank."""

CN = DemoProfile(
    name="cn",
    currency="CNY",
    documents=DATA / "cn",
    invoice_number="INV-CN-2026-0915",
    invoice_date=date(2026, 9, 15),
    payable_minor=2_800_400,
    forged_payable_minor=8_800_400,
    core=_uscc_cast(
        "华东装备制造集团有限公司",
        "core_enterprise",
        "91310115MA1GK8Q3",
        "华东装备 East China Equipment",
        "East China Equipment Manufacturing Group",
    ),
    tier1=_uscc_cast(
        "苏州精密液压件有限公司",
        "supplier",
        "91320505MA1NT4W2",
        "苏州精密 Suzhou Precision",
        "Suzhou Precision Hydraulics Co., Ltd.",
    ),
    tier2=_uscc_cast(
        "无锡铸锻配件有限公司",
        "supplier",
        "91320214MA1XH7R5",
        "无锡铸锻 Wuxi Forging",
        "Wuxi Casting & Forging Parts Co., Ltd.",
    ),
    bank_a=_uscc_cast(
        "浦江商业银行股份有限公司",
        "financier",
        "91310000MA1FP6C8",
        "浦江银行 Pujiang Bank",
        "Pujiang Commercial Bank Co., Ltd.",
    ),
    bank_b=_uscc_cast(
        "长三角储蓄银行股份有限公司",
        "financier",
        "91320000MA1QY9D6",
        "长三角储蓄 Delta Savings",
        "Yangtze Delta Savings Bank Co., Ltd.",
    ),
    credit_line_minor=1_000_000_000,
    issuer_cap_minor=10_000_000_000,
    funding_minor=10_000_000,
)
"""The default story, in CNY: a core enterprise in Shanghai, its suppliers in Suzhou and Wuxi, two banks;
every party identified by its unified social credit code (invented companies: the codes are made with
``uscc_with_check``)."""

DEMO_PROFILES: Mapping[str, DemoProfile] = MappingProxyType({"cn": CN, "eu": EU})
DEFAULT_PROFILE = "cn"


def demo_profile(profile: str | DemoProfile) -> DemoProfile:
    """The story of the profile named ``profile`` (``cn`` or ``eu``); a ``DemoProfile`` is returned as is."""
    if isinstance(profile, DemoProfile):
        return profile
    try:
        return DEMO_PROFILES[profile]
    except KeyError:
        raise ValueError(
            f"no demo story for the profile {profile!r}; there is one for {', '.join(DEMO_PROFILES)}"
        ) from None


def trade_documents(
    invoice_number: str | None = None,
    invoice_date: date | None = None,
    due_date: date | None = None,
    *,
    profile: DemoProfile = EU,
) -> dict[str, bytes]:
    """A profile's trade as UBL bytes (order, despatch advice, invoice), renumbered and with every date moved
    so the invoice is dated ``invoice_date`` (default: two days ago), keeping the documents' relative dates;
    ``due_date`` replaces the invoice's due date (default: as far after the invoice as in its documents, 60
    days for ``eu``, 90 for ``cn``). The default profile is ``eu``: the sample trade of ``cli.sample``."""
    invoice_date = invoice_date or (datetime.now(UTC).date() - timedelta(days=2))
    shift = invoice_date - profile.invoice_date

    def move(m: re.Match[str]) -> str:
        return (date.fromisoformat(m.group(0)) + shift).isoformat()

    docs = {}
    for kind, name in (
        ("Order", "order.xml"),
        ("DespatchAdvice", "despatch-advice.xml"),
        ("Invoice", "invoice.xml"),
    ):
        text = re.sub(r"\b20\d\d-\d\d-\d\d\b", move, (profile.documents / name).read_text(encoding="utf-8"))
        if kind == "Invoice":
            if invoice_number is not None:
                text = text.replace(
                    f"<cbc:ID>{profile.invoice_number}</cbc:ID>", f"<cbc:ID>{invoice_number}</cbc:ID>", 1
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
    """A participant as the demo (its ERP) knows it; ``short`` is the name the story's lines use, ``english``
    the legal name's English form (see ``Cast``)."""

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
    short: str = ""
    english: str = ""

    @property
    def label(self) -> str:
        return self.short or self.name

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


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def ljust(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


def rjust(text: str, width: int) -> str:
    return " " * max(width - _width(text), 0) + text


def wall_clock() -> int:
    return int(datetime.now(UTC).timestamp())


def midnight(d: date) -> int:
    """``d``'s first second at UTC: the instant the ledger judges a due date by."""
    return int(datetime.combine(d, datetime.min.time(), tzinfo=UTC).timestamp())


@dataclass
class Story:
    """What the steps share: the gateway, the profile, the participants and what the story made so far.

    ``profile`` is the market whose story is told (its trade and participants; default ``cn``). ``clock``
    is the time the story dates its invoice and offers by (the demo: the wall clock; the conformance run:
    the chain's latest block). ``invoice_number`` empty: the profile's; ``invoice_date``/``due_date``
    unset: the trade's (dated two days ago, due as long after as in its documents). ``mature`` brings the
    receivable to maturity, or decides not to (returns a line to print)."""

    c: Client
    operator_key: str
    say: Callable[[str], None]
    mature: Callable[[Story], str]
    clock: Callable[[], int] = wall_clock
    profile: DemoProfile = CN
    invoice_number: str = ""
    invoice_date: date | None = None
    due_date: date | None = None
    core: Member = field(init=False)
    tier1: Member = field(init=False)
    tier2: Member = field(init=False)
    bank_a: Member = field(init=False)
    bank_b: Member = field(init=False)
    docs: dict[str, bytes] = field(default_factory=dict)
    rid: int = 0
    face: int = 0
    part: int = 0
    price: int = 0
    due: date | None = None
    received: dict[str, int] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        p = self.profile
        self.invoice_number = self.invoice_number or p.invoice_number
        self.core, self.tier1, self.tier2 = p.core.member(), p.tier1.member(), p.tier2.member()
        self.bank_a, self.bank_b = p.bank_a.member(), p.bank_b.member()

    @property
    def members(self) -> list[Member]:
        return [self.core, self.tier1, self.tier2, self.bank_a, self.bank_b]

    @property
    def currency(self) -> str:
        return self.profile.currency

    def money(self, minor: int) -> str:
        return self.profile.money(minor)


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
    c, say, p = s.c, s.say, s.profile
    width = max(24, *(_width(m.name) for m in s.members))
    for m in s.members:
        register(c, s.operator_key, m)
        say(f"   {m.role:<16} {ljust(m.name, width)} {m.address}")
        about = [m.english] if m.english else []
        if m.party_ids:
            about.append(f"identified by {', '.join(f'{scheme} {i}' for scheme, i in m.party_ids)}")
        if about:
            say(f"   {'':<16} {'; '.join(about)}")
    core, bank_a, bank_b = s.core, s.bank_a, s.bank_b
    c.call(
        "PUT",
        f"/credit-lines/{core.id}",
        bank_a.api_key,
        json={"currency": s.currency, "limit_minor": p.credit_line_minor},
    )
    say(f"   {bank_a.label} granted {core.label} a credit line of {s.money(p.credit_line_minor)}")
    for bank in (bank_a, bank_b):
        c.call(
            "PUT",
            f"/settlement/issuers/{bank.id}",
            s.operator_key,
            json={"currency": s.currency, "cap_minor": p.issuer_cap_minor},
        )
    say(
        f"   the operator appointed {bank_a.label} and {bank_b.label} issuers of t{s.currency}"
        f" (cap {s.money(p.issuer_cap_minor)} each)"
    )


def tokenize(s: Story) -> None:
    """A forged bundle refused with its reasons; the real one tokenized."""
    c, say, core, tier1, p = s.c, s.say, s.core, s.tier1, s.profile
    s.docs = docs = trade_documents(s.invoice_number, s.invoice_date, s.due_date, profile=p)
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
    forged_docs["Invoice"] = docs["Invoice"].replace(
        p.stated(p.payable_minor), p.stated(p.forged_payable_minor)
    )
    if forged_docs["Invoice"] == docs["Invoice"]:
        raise DemoFailure(f"the {p.name} invoice states no payable amount of {s.money(p.payable_minor)}")
    forged = bundle(forged_docs, {**signers, "Order": tier1})
    forged["documents"][2]["signature"] = tier1.sign(
        docs["Invoice"], "Invoice"
    )  # signature of the real bytes
    refused = c.call("POST", "/bundles", tier1.api_key, expect=422, json=forged)
    say(
        f"   a forged bundle (payable raised to {p.amount(p.forged_payable_minor)}, the order signed by the"
        " supplier) is refused:"
    )
    for v in refused["error"]["details"]:
        say(f"     - {v['code']}: {v['message']}")
    codes = {v["code"] for v in refused["error"]["details"]}
    if not {"SIG_INVALID", "SIG_ROLE_MISMATCH"} <= codes:
        raise DemoFailure(f"the forged bundle was refused for the wrong reasons: {sorted(codes)}")
    tokenized = c.call("POST", "/bundles", tier1.api_key, expect=201, json=bundle(docs, signers))
    s.rid, s.face = tokenized["receivable_id"], tokenized["face_value_minor"]
    if s.face != p.payable_minor:
        raise DemoFailure(f"the receivable's face value {s.face} is not the invoice's {p.payable_minor}")
    s.due = trade_due_date(docs)
    say(
        f"   receivable #{s.rid}: {s.money(s.face)} owed by {core.label}, due {s.due},"
        f" tx {tokenized['tx_hash']}"
    )
    say(f"   bundle hash {tokenized['bundle_hash']} anchored on chain")


def endorse(s: Story) -> None:
    s.c.call("POST", f"/receivables/{s.rid}/endorse", s.core.api_key, json={"accept": True})
    s.say(f"   {s.core.label} confirmed receivable #{s.rid} against its credit line")


def split(s: Story) -> None:
    s.part = s.face * 40 // 100
    s.c.call(
        "POST",
        f"/receivables/{s.rid}/transfers",
        s.tier1.api_key,
        json={"to_participant_id": s.tier2.id, "amount": s.part},
    )
    s.say(f"   {s.tier1.label} paid {s.tier2.label} with {s.money(s.part)} of the receivable")


def discount(s: Story) -> None:
    """The financier mints settlement tokens and offers; the tier-2 supplier accepts (DvP)."""
    c, bank_a, tier2, part = s.c, s.bank_a, s.tier2, s.part
    c.call(
        "POST",
        "/settlement/mint",
        bank_a.api_key,
        json={"currency": s.currency, "to_participant_id": bank_a.id, "amount": s.profile.funding_minor},
    )
    expiry = s.clock() + 7 * DAY
    offer = c.call(
        "POST",
        "/offers",
        bank_a.api_key,
        expect=201,
        json={
            "receivable_id": s.rid,
            "currency": s.currency,
            "max_amount": part,
            "rate_bps": 600,
            "expiry": expiry,
        },
    )
    accepted = c.call("POST", f"/offers/{offer['offer_id']}/accept", tier2.api_key, json={"amount": part})
    s.price = price = accepted["amount"]
    s.say(
        f"   {tier2.label} discounted {s.money(part)} with {bank_a.label} at 6.00 % p.a.:"
        f" received {s.money(price)}"
    )
    if not 0 < price < part:
        raise DemoFailure(f"discount price {price} is not below the face value {part}")


def holdings(s: Story) -> None:
    for m in (s.tier1, s.bank_a):
        for h in s.c.call("GET", "/holdings", m.api_key)["items"]:
            frm = (h["received_from"] or {}).get("name") or "tokenization"
            held = s.money(h["balance_minor"])
            s.say(f"   {m.label} holds {held} of #{h['receivable_id']} (from {frm}), due {h['due_date']}")


def maturity(s: Story) -> None:
    s.say(f"   {s.mature(s)}")


def repay(s: Story) -> None:
    c, core, face = s.c, s.core, s.face
    c.call(
        "POST",
        "/settlement/mint",
        s.bank_b.api_key,
        json={"currency": s.currency, "to_participant_id": core.id, "amount": face},
    )
    c.call(
        "POST",
        f"/receivables/{s.rid}/repayments",
        core.api_key,
        json={"currency": s.currency, "amount": face},
    )
    s.say(f"   {core.label} repaid {s.money(face)}")


def redeem(s: Story) -> None:
    for m in (s.tier1, s.bank_a):  # the holders at maturity (the tier-2 supplier sold its part)
        out = s.c.call("POST", f"/receivables/{s.rid}/redemptions", m.api_key)
        s.received[m.name] = out["amount"] or 0
        s.say(f"   {m.label} redeemed {s.money(s.received[m.name])}")
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
        m.name: c.call("GET", f"/settlement/balance?currency={s.currency}", m.api_key)[
            "settlement_balance_minor"
        ]
        for m in s.members
    }
    s.summary = {
        "profile": s.profile.name,
        "currency": s.currency,
        "receivable_id": s.rid,
        "face_value": face,
        "held": {tier1.name: face - part, tier2.name: 0, bank_a.name: part},
        "received": {tier2.name: price},
        "discount_price": price,
        "redeemed": received,
        "balances": balances,
    }
    rows = [
        (tier1.label, face - part, 0, received[tier1.name]),
        (tier2.label, 0, 0, price),
        (bank_a.label, part, price, received[bank_a.name]),
        (core.label, 0, face, 0),
    ]
    width = max(24, *(_width(name) + 2 for name, *_ in rows))
    say("\nSummary")
    say(f"   receivable #{s.rid}, face value {s.money(face)}, due {s.due}")
    say(f"   {ljust('participant', width)}{'held at maturity':>20}{'paid':>18}{'received':>18}")
    for name, held, paid, got in rows:
        say(f"   {ljust(name, width)}{s.money(held):>20}{s.money(paid):>18}{s.money(got):>18}")
    say(
        f"   {bank_a.label} earned {s.money(received[bank_a.name] - price)} for financing {tier2.label}"
        " early."
    )


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
    profile: str | DemoProfile = DEFAULT_PROFILE,
) -> dict[str, Any]:
    """Run the story of ``profile`` (``cn``, the default, or ``eu``) against a gateway; return the summary.
    Raises DemoFailure on misbehaviour.

    The trade's invoice is due 90 (``cn``) or 60 (``eu``) days after its date: ``advance_time`` moves the
    (local) chain's clock a day past it."""
    story_profile = demo_profile(profile)

    def move_clock(s: Story) -> str:
        assert s.due is not None
        seconds = midnight(s.due) - wall_clock() + DAY
        advance_time(seconds)
        return f"the chain's clock moved {seconds // DAY} days forward, past the due date {s.due}"

    say(f"the {story_profile.name} story, in {story_profile.currency}\n")
    story = Story(
        Client(base_url, operator_key, say), operator_key, say, mature=move_clock, profile=story_profile
    )
    return run_story(story)


def trade_due_date(docs: dict[str, bytes]) -> date:
    m = re.search(rb"<cbc:DueDate>(\d{4}-\d\d-\d\d)</cbc:DueDate>", docs["Invoice"])
    if m is None:
        raise DemoFailure("the sample invoice has no due date")
    return date.fromisoformat(m.group(1).decode())
