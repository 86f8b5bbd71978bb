"""Verifying a supplier's document bundle, and tokenizing it on chain only when every rule passes.

Verification collects *every* failing rule with its code. The submission is checked first (base64,
UBL parsing, signatures, attachments); then the rule engine (``domain.rules.verify_bundle``) judges
the parsed bundle with a :class:`GatewayContext`: the registry and claims in the database, the
debtor's credit and the chain's clock from the ledger. The gateway's own rules (:data:`GATEWAY_RULES`:
a delivery is financed once) run inside the engine as ``extra_rules``. Tokenization then:

1. claims the invoice's fingerprints and document hash in the database (unique keys: of many
   concurrent submissions of one invoice exactly one wins) and stores the encrypted documents;
2. sends ``registerInvoice`` from the verifier account (the contract refuses a duplicate too); the
   tokenizations that wait meanwhile go out together as one ``registerInvoices``
   (``api.services.registrar``), and ``POST /bundles/batch`` registers its bundles together too;
3. on any chain failure removes what step 1 wrote, so a failed request leaves nothing behind.

The bundle hash anchored on chain is the SHA-256 of a canonical JSON manifest of the documents'
and attachments' SHA-256 digests (see ``docs/gateway.md``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import or_, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select
from web3.types import TxReceipt

from api import journal
from api.errors import ApiError
from api.models import (
    Bundle,
    CertificateRevocation,
    Document,
    Participant,
    PartyIdentifier,
    QuantityConsumption,
    TokenizationClaim,
)
from api.schemas.bundles import (
    BundleBatchItem,
    BundleBatchOut,
    BundleIn,
    BundleOut,
    BundleSummary,
    ItemError,
    ViolationOut,
)
from api.services import bundle_reads, consumption, recovery, registrar
from api.services.ledger_view import LedgerView, ledger_view
from api.services.lifecycle import tx_hash
from api.services.txerrors import on_chain
from api.state import AppState
from chain.contracts import InvoiceTerms
from domain.documents.errors import DocumentError
from domain.documents.model import DespatchAdvice, DocumentKind, Invoice, Order, PartyRef, ReceiptAdvice
from domain.documents.model import Document as UblDocument
from domain.documents.ubl import parse_document
from domain.fingerprint import (
    chain_fingerprint,
    claim_keys,
    document_claim_key,
    fingerprint_claim_key,
    invoice_fingerprints,
)
from domain.identity import (
    IdentityError,
    VerifiedSignature,
    derive_blob_key,
    encrypt_blob,
    sha256_hex,
    verify_detached,
)
from domain.roles import Role
from domain.rules import Bundle as RuleBundle
from domain.rules import Rule, Violation, verify_bundle
from domain.rules.amounts import face_value_minor
from domain.rules.lines import LineUse, line_uses
from domain.rules.parties import resolve_party

KIND_ORDER = {"Order": 0, "DespatchAdvice": 1, "ReceiptAdvice": 2, "Invoice": 3}

#: Codes the gateway adds to the parse codes (``domain.documents.errors.PARSE_ERROR_CODES``), the
#: signature codes (``domain.identity.ErrorCode``) and the rules (``domain.rules.RULE_CODES``): the
#: submission's own checks, and its rules (:data:`GATEWAY_RULES`). A defect has one code: a document
#: over the size limit is ``XML_TOO_LARGE``, a credit note ``INVOICE_NOT_FINANCEABLE``, a buyer that
#: is no active core enterprise ``PARTY_BUYER_NOT_CORE_ENTERPRISE``.
GATEWAY_CODES: dict[str, str] = {
    "DOCUMENT_ENCODING_INVALID": "A document or attachment is not valid base64.",
    "SIG_SIGNER_UNKNOWN": "The signing certificate belongs to no onboarded participant.",
    "SIG_SIGNER_SUSPENDED": "The signer is suspended.",
    "SIG_SIGNER_NOT_ISSUER": "The signer is not the party that issues this kind of document.",
    "ATTACHMENT_NOT_BOUND": "An attachment's SHA-256 appears in no document signature.",
    "ATTACHMENT_DUPLICATE_NAME": "Two attachments have the same name; each must be bound on its own.",
    **consumption.CONSUMPTION_CODES,
}


@dataclass
class PreparedDocument:
    name: str
    data: bytes
    sha256: str
    parsed: UblDocument
    signature: str
    signer: Participant | None = None
    bound: dict[str, str] = field(default_factory=dict)  # attachment name -> SHA-256, as verified


@dataclass
class PreparedAttachment:
    name: str
    media_type: str
    data: bytes
    sha256: str


@dataclass
class Prepared:
    supplier: Participant
    violations: list[ViolationOut] = field(default_factory=list)
    documents: list[PreparedDocument] = field(default_factory=list)
    attachments: list[PreparedAttachment] = field(default_factory=list)
    invoice: Invoice | None = None
    debtor: Participant | None = None
    face_value: int | None = None
    fingerprints: list[bytes] = field(default_factory=list)
    chain_fingerprint: bytes | None = None
    bundle_hash: bytes | None = None
    uses: tuple[LineUse, ...] = ()  # what the invoice finances of each order line, and its deliveries
    lookup: ParticipantLookup | None = None  # the registry as read for this submission

    def add(self, code: str, message: str, document: str | None = None, **extra: Any) -> None:
        self.violations.append(ViolationOut(code=code, message=message, document=document, **extra))

    def summary(self) -> BundleSummary:
        inv = self.invoice
        return BundleSummary(
            invoice_number=inv.id if inv else None,
            currency=inv.currency if inv else None,
            face_value_minor=self.face_value,
            issue_date=inv.issue_date if inv else None,
            due_date=inv.due_date if inv else None,
            debtor_participant_id=self.debtor.id if self.debtor else None,
            bundle_hash="0x" + self.bundle_hash.hex() if self.bundle_hash else None,
            fingerprint="0x" + self.chain_fingerprint.hex() if self.chain_fingerprint else None,
        )


def party_refs(session: Session, participant_id: str) -> frozenset[PartyRef]:
    rows = session.exec(select(PartyIdentifier).where(PartyIdentifier.participant_id == participant_id)).all()
    return frozenset(PartyRef(r.scheme, r.value) for r in rows)


class ParticipantLookup:
    """The registry as one request reads it: identifier -> participant id, asked once per identifier;
    the revoked certificates and the signers by certificate serial, read once. A batch of bundles
    shares one (its bundles mostly name the same parties).

    ``preload`` answers every identifier a bundle names, and every identifier of the participants
    verification looks at (supplier, signers), in one query; an identifier asked later is looked up
    on its own."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._cache: dict[PartyRef, str | None] = {}
        self._held: dict[str, set[PartyRef]] = {}
        self._revoked: set[int] | None = None
        self._signers: dict[str, Participant | None] = {}
        self._loaded: set[str] = set()  # participants read into the session

    def revoked(self) -> set[int]:
        """Serial numbers of the revoked certificates."""
        if self._revoked is None:
            rows = self._session.exec(select(CertificateRevocation.serial)).all()
            self._revoked = {int(serial) for serial in rows}
        return self._revoked

    def signers(self, serials: Iterable[str]) -> dict[str, Participant]:
        """The participants holding these certificate serials (those that one holds)."""
        wanted = sorted(set(serials) - set(self._signers))
        if wanted:
            query = select(Participant).where(col(Participant.certificate_serial).in_(wanted))
            for found in self._session.exec(query).all():
                self._signers[found.certificate_serial] = found
                self._loaded.add(found.id)
            for serial in wanted:
                self._signers.setdefault(serial, None)
        return {s: signer for s in serials if (signer := self._signers.get(s)) is not None}

    def load_participants(self, ids: Iterable[str]) -> None:
        """Read these participants into the session in one query (the rules ask for role and status)."""
        wanted = sorted(set(ids) - self._loaded)
        if wanted:
            self._session.exec(select(Participant).where(col(Participant.id).in_(wanted))).all()
            self._loaded.update(wanted)

    def preload(self, refs: Iterable[PartyRef], participant_ids: Iterable[str]) -> None:
        wanted = {ref for ref in refs if ref not in self._cache}
        ids = sorted(set(participant_ids) - set(self._held))
        if not wanted and not ids:
            return
        conditions = []
        if wanted:
            pairs = sorted({(r.scheme, r.id) for r in wanted})
            conditions.append(tuple_(col(PartyIdentifier.scheme), col(PartyIdentifier.value)).in_(pairs))
        if ids:
            conditions.append(col(PartyIdentifier.participant_id).in_(ids))
        for row in self._session.exec(select(PartyIdentifier).where(or_(*conditions))).all():
            ref = PartyRef(row.scheme, row.value)
            self._cache[ref] = row.participant_id
            self._held.setdefault(row.participant_id, set()).add(ref)
        for ref in wanted:
            self._cache.setdefault(ref, None)  # (scheme, value) is unique: not found is no participant
        for pid in ids:
            self._held.setdefault(pid, set())

    def known_participants(self) -> set[str]:
        """The participants the identifiers looked up so far belong to."""
        return {pid for pid in self._cache.values() if pid is not None}

    def refs_of(self, participant_id: str) -> frozenset[PartyRef]:
        """Every identifier registered to the participant (``party_refs``)."""
        if participant_id not in self._held:
            self._held[participant_id] = set(party_refs(self._session, participant_id))
        return frozenset(self._held[participant_id])

    def __call__(self, ref: PartyRef) -> str | None:
        if ref not in self._cache:
            row = self._session.exec(
                select(PartyIdentifier).where(
                    PartyIdentifier.scheme == ref.scheme, PartyIdentifier.value == ref.id
                )
            ).first()  # (scheme, value) is unique: at most one row
            self._cache[ref] = None if row is None else row.participant_id
        return self._cache[ref]


def unix_day(d: date) -> int:
    """A calendar date as the unix time of its midnight, UTC (dates on chain are day starts)."""
    return int(datetime.combine(d, time(0), tzinfo=UTC).timestamp())


def manifest_hash(entries: Iterable[tuple[str, str]]) -> bytes:
    """SHA-256 of the canonical manifest of (kind, sha256-hex) entries; kind ``Attachment`` for attachments.

    Canonical JSON (sorted keys, no spaces) of ``{"attachments": [sha256...], "documents":
    [{"kind", "sha256"}...]}``, documents in the order Order, DespatchAdvice, ReceiptAdvice,
    Invoice, attachments sorted by hash.
    """
    items = list(entries)
    manifest = {
        "documents": sorted(
            ({"kind": k, "sha256": h} for k, h in items if k != "Attachment"),
            key=lambda x: (KIND_ORDER.get(x["kind"], 9), x["sha256"]),
        ),
        "attachments": sorted(h for k, h in items if k == "Attachment"),
    }
    return hashlib.sha256(json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()).digest()


def bundle_manifest_hash(documents: list[PreparedDocument], attachments: list[PreparedAttachment]) -> bytes:
    return manifest_hash(
        [(d.parsed.kind.value, d.sha256) for d in documents] + [("Attachment", a.sha256) for a in attachments]
    )


class GatewayContext:
    """``VerificationContext`` over the gateway's database and the ledger, and what the gateway's own
    rules need: the session, the prepared submission (supplier, debtor, line uses).

    The ledger is read as of its latest block (``api.services.ledger_view``: the clock, the debtor's
    credit line, the canonical fingerprint); the invoice's claims are read in one query."""

    def __init__(
        self,
        state: AppState,
        session: Session,
        prepared: Prepared,
        lookup: ParticipantLookup,
        ledger: LedgerView | None = None,
    ) -> None:
        settings = state.settings
        self.state = state
        self.session = session
        self.prepared = prepared
        self.participant_of = lookup
        self.supplier_ids = lookup.refs_of(prepared.supplier.id)
        self.supplier_registration_id: str | None = prepared.supplier.registration_id
        self.max_tenor_days = settings.effective_max_tenor_days
        self.issue_date_skew = timedelta(hours=settings.issue_date_skew_hours)
        tokens = state.chain().platform.tokens
        # an invoice is financeable in a currency the deployment has a settlement token for
        self.settlement_currencies: frozenset[str] | None = frozenset(tokens)
        self.unused_credit_minor = 0
        self.duplicate_found = False  # a duplicate rule found the invoice tokenized
        self.ledger = ledger if ledger is not None else ledger_view(state)
        self._now = datetime.fromtimestamp(self.ledger.timestamp, UTC)
        self._claims: dict[str, bool] = {}
        currency = prepared.invoice.currency if prepared.invoice is not None else None
        if prepared.debtor is not None and currency in tokens:
            # the debtor's line in the invoice's own currency: lines in other currencies never count
            limit, used = self.ledger.credit_line(prepared.debtor.chain_address, tokens[currency].address)
            self.unused_credit_minor = max(limit - used, 0)

    @property
    def now(self) -> datetime:
        """The chain's clock (the latest block's time when verification started): what the contracts
        judge maturity by, so the date rules never use this machine's clock."""
        return self._now

    def prefetch_claims(self, keys: Iterable[str]) -> None:
        """Read whether each claim key is held, in one query (the duplicate rules ask for each)."""
        wanted = sorted(set(keys) - set(self._claims))
        if wanted:
            held = set(
                self.session.exec(
                    select(TokenizationClaim.key).where(col(TokenizationClaim.key).in_(wanted))
                ).all()
            )
            self._claims.update((k, k in held) for k in wanted)

    def _claimed(self, key: str) -> bool:
        if key not in self._claims:
            self._claims[key] = self.session.get(TokenizationClaim, key) is not None
        return self._claims[key]

    def _active_role(self, ref: PartyRef, role: Role) -> bool:
        pid = self.participant_of(ref)
        p = None if pid is None else self.session.get(Participant, pid)
        return p is not None and p.role == role and p.status == "active"

    def is_core_enterprise(self, ref: PartyRef) -> bool:
        return self._active_role(ref, Role.CORE_ENTERPRISE)

    def is_registered_supplier(self, ref: PartyRef) -> bool:
        return self._active_role(ref, Role.SUPPLIER)

    def is_fingerprint_tokenized(self, fingerprint: bytes) -> bool:
        found = self._fingerprint_tokenized(fingerprint)
        self.duplicate_found |= found
        return found

    def _fingerprint_tokenized(self, fingerprint: bytes) -> bool:
        if self._claimed(fingerprint_claim_key(fingerprint)):
            return True
        if fingerprint != self.prepared.chain_fingerprint:
            return False  # only the canonical fingerprint is registered on chain
        return self.ledger.fingerprint_registered(fingerprint)

    def is_document_tokenized(self, document_hash: bytes) -> bool:
        found = self._claimed(document_claim_key(document_hash))
        self.duplicate_found |= found
        return found


def check_consumption(bundle: RuleBundle, ctx: GatewayContext) -> Iterator[Violation]:
    """A delivery is financed once: refuse quantities of the order or its deliveries that earlier
    receivables already finance (``ORDER_ALREADY_FINANCED``, ``DELIVERY_ALREADY_FINANCED``)."""
    p, session = ctx.prepared, ctx.session
    if p.invoice is None or p.debtor is None or not p.uses:
        return
    keys = consumption.line_keys_of(p.debtor.id, p.supplier.id, p.uses)
    recorded = session.exec(
        select(QuantityConsumption.line_key).where(col(QuantityConsumption.line_key).in_(keys)).limit(1)
    ).first()
    if recorded is None:
        taken: dict[str, consumption.Consumed] = {}  # no line recorded: nothing consumed, no more to read
    else:
        ctx.state.catch_up()  # the read model must know rejections and credit notes up to now
        taken = consumption.consumed(session, keys)
    shortfalls = consumption.plan(p.debtor.id, p.supplier.id, p.uses, taken).shortfalls
    if shortfalls and not ctx.duplicate_found and _invoice_claimed(session, p):
        # read after the duplicate rules: an identical submission may have committed in between; it
        # is a duplicate first (its quantities are taken because it is the same invoice)
        yield Violation(
            "DUPLICATE_INVOICE_NUMBER",
            f"Invoice number {p.invoice.id} is already tokenized.",
            "Invoice",
            p.invoice.id,
        )
    for short in shortfalls:
        yield Violation(
            short.code,
            short.message,
            "Invoice",
            p.invoice.id,
            field="cac:InvoiceLine/cbc:InvoicedQuantity",
            line=short.order_line,
        )


#: The gateway's own rules, run by the rule engine after the built-in ones (``extra_rules``).
GATEWAY_RULES: tuple[Rule[GatewayContext], ...] = (check_consumption,)


def _decode(b64: str) -> bytes | None:
    try:
        return base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        return None


def _issuer_refs(doc: UblDocument) -> frozenset[PartyRef]:
    """Identifiers of the parties that may issue (sign) this document."""
    if isinstance(doc, Order):
        return doc.buyer.refs
    if isinstance(doc, Invoice):
        return doc.seller.refs
    if isinstance(doc, DespatchAdvice):
        return doc.despatch_supplier.refs | (doc.seller.refs if doc.seller else frozenset())
    if isinstance(doc, ReceiptAdvice):
        return doc.delivery_customer.refs | (doc.buyer.refs if doc.buyer else frozenset())
    return frozenset()


def _verify_signature(
    state: AppState, doc: PreparedDocument, revoked: set[int]
) -> VerifiedSignature | IdentityError:
    """The document's signature verified (ES256, the platform CA, time, revocation), or why not."""
    kind = doc.parsed.kind  # a credit note is verified too; the rules refuse it (INVOICE_NOT_FINANCEABLE)
    try:
        return verify_detached(
            doc.data,
            doc.signature,
            ca_cert=state.ca().certificate,
            is_revoked=revoked,
            expected_kind=kind,
            expected_signer=None,  # the issuer is checked below against the document's parties
            max_signature_age=timedelta(hours=state.settings.max_signature_age_hours),
        )
    except IdentityError as exc:
        return exc


def _check_signer(
    p: Prepared,
    doc: PreparedDocument,
    verified: VerifiedSignature,
    signer: Participant | None,
    lookup: ParticipantLookup,
) -> None:
    """The verified signer is an onboarded, active participant that issues this kind of document."""
    if signer is None:
        p.add(
            "SIG_SIGNER_UNKNOWN", f"{doc.name}: the signing certificate belongs to no participant.", doc.name
        )
        return
    doc.signer = signer
    if signer.status != "active":
        p.add("SIG_SIGNER_SUSPENDED", f"{doc.name}: the signer {signer.legal_name} is suspended.", doc.name)
    if signer.role == Role.LOGISTICS and isinstance(doc.parsed, DespatchAdvice | ReceiptAdvice):
        pass  # a carrier or warehouse signs delivery evidence on behalf of the parties
    elif lookup.refs_of(signer.id).isdisjoint(_issuer_refs(doc.parsed)):
        kind = doc.parsed.kind
        p.add(
            "SIG_SIGNER_NOT_ISSUER",
            f"{doc.name}: signed by {signer.legal_name}, who is not the issuing party of this {kind.value}.",
            doc.name,
        )
    doc.bound = dict(verified.attachments)
    for name, digest in verified.attachments.items():
        match = [a for a in p.attachments if a.name == name]
        if match and match[0].sha256 != digest:
            p.add(
                "ATTACHMENT_HASH_MISMATCH",
                f"Attachment {name} does not have the SHA-256 signed in {doc.name}.",
                name,
            )


def _named_refs(doc: UblDocument) -> set[PartyRef]:
    """Every identifier of every party the document names."""
    refs: set[PartyRef] = set()
    for role in ("buyer", "seller", "despatch_supplier", "delivery_customer"):
        party = getattr(doc, role, None)
        if party is not None:
            refs |= party.refs
    return refs


def _check_signatures(state: AppState, session: Session, p: Prepared, lookup: ParticipantLookup) -> None:
    """Verify every document's signature, then its signer, in document order; the registry is read in
    a few queries for the whole bundle (revocations, signers, identifiers, participants)."""
    revoked = lookup.revoked()
    outcomes = [_verify_signature(state, doc, revoked) for doc in p.documents]
    signers = lookup.signers({str(o.serial_number) for o in outcomes if isinstance(o, VerifiedSignature)})
    lookup.preload(
        (ref for doc in p.documents for ref in _named_refs(doc.parsed)),
        [p.supplier.id, *(s.id for s in signers.values())],
    )
    # every participant the identifiers name, into the session (the rules ask for their role and status)
    lookup.load_participants(lookup.known_participants() - {s.id for s in signers.values()} - {p.supplier.id})
    for doc, outcome in zip(p.documents, outcomes, strict=True):
        if isinstance(outcome, IdentityError):
            p.add(outcome.code.value, f"{doc.name}: {outcome.message}", doc.name)
        else:
            _check_signer(p, doc, outcome, signers.get(str(outcome.serial_number)), lookup)


def prepare(
    state: AppState, session: Session, supplier: Participant, body: BundleIn, ledger: LedgerView | None = None
) -> Prepared:
    """Decode, parse and check a bundle; every violation is collected, nothing is written. ``ledger``:
    the ledger as of a block already read (a batch is judged against one block), else the latest."""
    p = read_submission(state, session, supplier, body)
    judge(state, session, p, ledger)
    return p


def read_submission(
    state: AppState,
    session: Session,
    supplier: Participant,
    body: BundleIn,
    lookup: ParticipantLookup | None = None,
) -> Prepared:
    """The submission's own checks (base64, parsing, signatures, attachments) and what the rules and
    a tokenization need of its invoice (debtor, face value, fingerprint). ``lookup``: the registry as
    read by the request so far (a batch shares one)."""
    p = Prepared(supplier=supplier)
    settings = state.settings
    names = [a.name for a in body.attachments]
    for name in sorted({n for n in names if names.count(n) > 1}):
        p.add(
            "ATTACHMENT_DUPLICATE_NAME",
            f"{names.count(name)} attachments are named {name}; a signature binds one attachment per name.",
            name,
        )
    for a in body.attachments:
        data = _decode(a.content_base64)
        if data is None:
            p.add("DOCUMENT_ENCODING_INVALID", f"Attachment {a.name} is not valid base64.", a.name)
            continue
        p.attachments.append(PreparedAttachment(a.name, a.media_type, data, sha256_hex(data)))
    for d in body.documents:
        data = _decode(d.content_base64)
        if data is None:
            p.add("DOCUMENT_ENCODING_INVALID", f"{d.name} is not valid base64.", d.name)
            continue
        try:  # a document over the size limit is XML_TOO_LARGE, before any parsing
            parsed = parse_document(data, max_bytes=settings.max_document_bytes)
        except DocumentError as exc:
            p.add(exc.code, f"{d.name}: {exc.message}", d.name, field=exc.field)
            continue
        p.documents.append(PreparedDocument(d.name, data, sha256_hex(data), parsed, d.signature))

    lookup = p.lookup = lookup if lookup is not None else ParticipantLookup(session)
    _check_signatures(state, session, p, lookup)
    signed = {name for doc in p.documents for name in doc.bound}  # bound by a valid signature only
    for att in p.attachments:
        if att.name not in signed:
            p.add(
                "ATTACHMENT_NOT_BOUND", f"Attachment {att.name} is bound by no document signature.", att.name
            )

    bundle = RuleBundle(tuple(d.parsed for d in p.documents))
    if len(bundle.invoices) == 1:
        inv = p.invoice = bundle.invoices[0]
        # the debtor is the one participant every registered identifier of the buyer names (a buyer
        # naming several is refused by the rules with PARTY_IDENTIFIERS_CONFLICT, one that is no
        # active core enterprise with PARTY_BUYER_NOT_CORE_ENTERPRISE)
        buyer = resolve_party(inv.buyer, lookup)
        debtor = session.get(Participant, buyer.participant) if buyer.participant is not None else None
        p.debtor = debtor if debtor is not None and debtor.role == Role.CORE_ENTERPRISE else None
        p.face_value = face_value_minor(inv)
        p.chain_fingerprint = chain_fingerprint(supplier.registration_id, inv.id)
        if p.debtor is not None:
            p.uses = line_uses(bundle)
    return p


def judge(state: AppState, session: Session, p: Prepared, ledger: LedgerView | None = None) -> None:
    """Run every rule over the read submission ``p`` (violations added to it) and hash its manifest."""
    assert p.lookup is not None
    bundle = RuleBundle(tuple(d.parsed for d in p.documents))
    context = GatewayContext(state, session, p, p.lookup, ledger)
    if p.invoice is not None:  # what a tokenization claims: every fingerprint the duplicate rule looks up
        p.fingerprints = list(
            invoice_fingerprints(p.invoice, context.supplier_ids, context.supplier_registration_id)
        )
        context.prefetch_claims(_claim_keys(p))
    for v in verify_bundle(bundle, context, extra_rules=GATEWAY_RULES):
        p.violations.append(
            ViolationOut(
                code=v.code,
                message=v.message,
                document=v.document,
                document_id=v.document_id,
                field=v.field,
                line=v.line,
            )
        )
    p.bundle_hash = bundle_manifest_hash(p.documents, p.attachments)


def tokenize(state: AppState, session: Session, p: Prepared) -> Bundle:
    """Claim, store, then register on chain; undo the claim and storage if the chain refuses."""
    bundle_id = str(uuid.uuid4())
    journal.note(session, "tokenize", bundle_id=bundle_id)  # committed with the claims, before sending
    bundle = store_claimed(state, session, p, bundle_id)
    return register_stored(state, session, bundle, invoice_terms(state, p, bundle))


def register_stored(state: AppState, session: Session, bundle: Bundle, terms: InvoiceTerms) -> Bundle:
    """Register the stored ``bundle`` on chain and record it; undo its claims and storage if the chain
    refuses (the ``ApiError`` is raised on)."""
    try:  # with the other tokenizations waiting in this process, in one transaction
        rid, receipt = registrar.register(state, terms)
    except ApiError as exc:
        # refused (a revert: nothing happened on chain), or unknown: the registration may have reached
        # the chain, and then the claims stay until recovery learns the outcome (``api.services.recovery``)
        if exc.status < 500 or not journal.in_flight():
            _undo(session, bundle.id)
        raise
    except BaseException:
        if not journal.in_flight():
            _undo(session, bundle.id)
        raise
    return _tokenized(session, bundle, rid, receipt)


def store_claimed(state: AppState, session: Session, p: Prepared, bundle_id: str) -> Bundle:
    """Claim the invoice (its fingerprints, its document, the order's and deliveries' quantities) and
    store the bundle (``tokenizing``) with its documents encrypted, in one transaction; 409 if another
    bundle holds a claim."""
    inv, debtor = p.invoice, p.debtor
    assert inv is not None and debtor is not None
    if p.uses:
        _claim_quantities(session, p, bundle_id, debtor)
    bundle, _docs = _stage(
        session, p, bundle_id, _documents_key(state), state.settings.effective_principle_tenor_days
    )
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise _claimed_by_another(inv.id) from exc
    return bundle


def _documents_key(state: AppState) -> bytes:
    return derive_blob_key(state.settings.effective_secret_key, purpose="documents")


def _stage(
    session: Session, p: Prepared, bundle_id: str, key: bytes, principle_tenor_days: int
) -> tuple[Bundle, list[Document]]:
    """Add the bundle (``tokenizing``), its claims and its documents, encrypted, to the open transaction;
    the bundle is flagged when its invoice is due later than ``principle_tenor_days`` after its issue."""
    inv, debtor = p.invoice, p.debtor
    assert inv is not None and debtor is not None and p.face_value is not None and inv.due_date is not None
    assert inv.currency is not None  # CURRENCY_NOT_SETTLEABLE refused any other
    fingerprint, bundle_hash = p.chain_fingerprint, p.bundle_hash
    assert fingerprint is not None and bundle_hash is not None
    bundle = Bundle(
        id=bundle_id,
        supplier_id=p.supplier.id,
        debtor_id=debtor.id,
        status="tokenizing",
        invoice_number=inv.id,
        fingerprint="0x" + fingerprint.hex(),
        bundle_hash="0x" + bundle_hash.hex(),
        face_value=p.face_value,
        currency=inv.currency,
        issue_date=unix_day(inv.issue_date),
        due_date=unix_day(inv.due_date),
        tenor_above_principle=(inv.due_date - inv.issue_date).days > principle_tenor_days,
    )
    session.add(bundle)
    for claim_key in _claim_keys(p):
        session.add(TokenizationClaim(key=claim_key, bundle_id=bundle_id))
    docs: list[Document] = []
    for d in p.documents:
        doc_id = str(uuid.uuid4())
        docs.append(
            Document(
                id=doc_id,
                bundle_id=bundle_id,
                kind=d.parsed.kind.value,
                name=d.name,
                sha256=d.sha256,
                size=len(d.data),
                media_type="application/xml",
                ciphertext=encrypt_blob(key, d.data, associated_data=doc_id.encode()),
                signature=d.signature,
                signer_id=d.signer.id if d.signer else None,
            )
        )
    for a in p.attachments:
        doc_id = str(uuid.uuid4())
        docs.append(
            Document(
                id=doc_id,
                bundle_id=bundle_id,
                kind="Attachment",
                name=a.name,
                sha256=a.sha256,
                size=len(a.data),
                media_type=a.media_type,
                ciphertext=encrypt_blob(key, a.data, associated_data=doc_id.encode()),
            )
        )
    session.add_all(docs)
    return bundle, docs


def invoice_terms(state: AppState, p: Prepared, bundle: Bundle) -> InvoiceTerms:
    """What the ledger records of the stored ``bundle``."""
    assert p.debtor is not None and p.chain_fingerprint is not None and p.bundle_hash is not None
    return InvoiceTerms(
        creditor=p.supplier.chain_address,
        debtor=p.debtor.chain_address,
        face_value=bundle.face_value,
        token=state.chain().platform.tokens[bundle.currency].address,
        issue_date=bundle.issue_date,
        due_date=bundle.due_date,
        bundle_hash=p.bundle_hash,
        delivery_hash=delivery_document_hash(p),
        fingerprint=p.chain_fingerprint,
    )


def _tokenized(session: Session, bundle: Bundle, rid: int, receipt: TxReceipt) -> Bundle:
    """Record the registration, if the bundle is still ``tokenizing``: the node may have lost the block
    meanwhile (``api.chainwatch`` then marked it vanished), and a vanished bundle is not brought back."""
    updated = session.exec(
        update(Bundle)
        .where(col(Bundle.id) == bundle.id)
        .where(col(Bundle.status) == "tokenizing")
        .values(
            status="tokenized",
            receivable_id=rid,
            tx_hash=tx_hash(receipt),
            block_number=receipt["blockNumber"],
        )
    )
    session.commit()
    if updated.rowcount != 1:
        raise _registration_lost()
    session.refresh(bundle)
    return bundle


def _registration_lost() -> ApiError:
    return ApiError(
        503,
        "CHAIN_REORGANIZED",
        "The ledger lost the block of this registration; send the request again to learn its outcome.",
    )


def _finish_tokenize(state: AppState, session: Session, receipt: TxReceipt, out: dict[str, Any]) -> BaseModel:
    """Recovery: the registration was mined, the request that sent it did not record it."""
    bundle = session.get(Bundle, out["bundle_id"])
    if bundle is None:
        raise ApiError(500, "BUNDLE_LOST", f"Bundle {out['bundle_id']} of a mined registration is missing.")
    if bundle.status != "tokenized":  # its registration may have shared the transaction with others
        fingerprint = bytes.fromhex(bundle.fingerprint.removeprefix("0x"))
        (event,) = [
            e
            for e in state.chain().platform.ledger.events(receipt, "InvoiceRegistered")
            if bytes(e["fingerprint"]) == fingerprint
        ]
        bundle = _tokenized(session, bundle, int(event["id"]), receipt)
    return bundle_reads.bundle_out(session, bundle)


def _release_tokenize(_state: AppState, session: Session, out: dict[str, Any]) -> None:
    """Recovery: the registration never ran; free the invoice's claims for a new submission."""
    _undo(session, out["bundle_id"])


recovery.register("tokenize", recovery.Recoverer(finish=_finish_tokenize, release=_release_tokenize))


def _claimed_by_another(invoice_number: str) -> ApiError:
    """A concurrent or earlier submission holds this invoice's claim."""
    return ApiError(
        409,
        "DUPLICATE_INVOICE_NUMBER",
        f"Invoice {invoice_number} of this seller is already tokenized or being tokenized.",
        [{"code": "DUPLICATE_INVOICE_NUMBER", "message": "claimed by another submission"}],
    )


def delivery_document_hash(p: Prepared) -> bytes:
    """SHA-256 of the delivery document (despatch advice, else receipt advice) the invoice rests on,
    anchored on chain with the bundle; 32 zero bytes if the bundle has none."""
    for kind in (DocumentKind.DESPATCH_ADVICE, DocumentKind.RECEIPT_ADVICE):
        for d in p.documents:
            if d.parsed.kind.value == kind.value:
                return bytes.fromhex(d.sha256)
    return bytes(32)


def _claim_keys(p: Prepared) -> list[str]:
    """The invoice's claim keys (``domain.fingerprint.claim_keys``)."""
    assert p.invoice is not None
    return claim_keys(p.fingerprints, p.invoice.source_hash)


def _invoice_claimed(session: Session, p: Prepared) -> bool:
    """Whether another bundle already claims this invoice (read now, not when the rules ran)."""
    query = select(TokenizationClaim).where(col(TokenizationClaim.key).in_(_claim_keys(p)))
    return session.exec(query).first() is not None


def _claim_quantities(session: Session, p: Prepared, bundle_id: str, debtor: Participant) -> None:
    """Lock the order and deliveries, then claim their quantities (or roll back and refuse)."""
    inv = p.invoice
    assert inv is not None
    consumption.lock(session, debtor.id, p.supplier.id, p.uses)
    # a resubmitted invoice is a duplicate first: look at the invoice claims under the same locks
    if _invoice_claimed(session, p):
        session.rollback()
        raise _claimed_by_another(inv.id)
    fresh = consumption.claim(session, bundle_id, debtor.id, p.supplier.id, p.uses)
    if fresh.shortfalls:
        session.rollback()
        raise _over_consumed(fresh)


def _over_consumed(fresh: consumption.Plan) -> ApiError:
    """409: a concurrent tokenization took the quantities the invoice finances."""
    first = fresh.shortfalls[0]
    return ApiError(
        409,
        first.code,
        first.message,
        [{"code": s.code, "message": s.message, "line": s.order_line} for s in fresh.shortfalls],
    )


def _undo(session: Session, bundle_id: str) -> None:
    session.rollback()
    session.exec(delete(QuantityConsumption).where(col(QuantityConsumption.bundle_id) == bundle_id))
    session.exec(delete(Document).where(col(Document.bundle_id) == bundle_id))
    session.exec(delete(TokenizationClaim).where(col(TokenizationClaim.bundle_id) == bundle_id))
    session.exec(delete(Bundle).where(col(Bundle.id) == bundle_id))
    session.commit()


def submit_bundle(state: AppState, session: Session, supplier: Participant, body: BundleIn) -> Bundle:
    """Verify the bundle and tokenize it only if every rule passes (422 ``BUNDLE_REJECTED`` with every
    violation in ``details`` otherwise; nothing is stored then)."""
    p = prepare(state, session, supplier, body)
    if p.violations:
        raise rejected_by_rules(p)
    return tokenize(state, session, p)


# ------------------------------------------------------------------ many bundles in one request


def submit_bundles(
    state: AppState, session: Session, supplier: Participant, bodies: list[BundleIn]
) -> BundleBatchOut:
    """Verify each bundle on its own; register the verified ones together, ``registerInvoices`` of up to
    the ledger's batch size per transaction. Each bundle is answered as a single ``POST /bundles`` would
    answer it (its rule violations, a duplicate, a refusal of the ledger). A batch the ledger refuses as
    a whole (one invoice over the credit line, say) is registered again one by one, so that only the
    refused ones fail.

    The whole batch is judged against one block of the ledger (its fingerprints asked in one JSON-RPC
    batch request), stored in one database transaction, and its registrations recorded in another."""
    items: dict[int, BundleBatchItem] = {}
    ids = {i: str(uuid.uuid4()) for i in range(len(bodies))}
    lookup = ParticipantLookup(session)
    read = [read_submission(state, session, supplier, body, lookup) for body in bodies]
    view = ledger_view(state)
    view.prefetch_fingerprints([p.chain_fingerprint for p in read if p.chain_fingerprint is not None])
    prepared: dict[int, Prepared] = {}
    for i, p in enumerate(read):
        judge(state, session, p, view)
        if p.violations:
            items[i] = _rejected(i, rejected_by_rules(p))
        else:
            prepared[i] = p
    # before anything is stored: how recovery finishes this request if it is interrupted
    journal.describe(
        "tokenize_batch", bundle_ids=ids, rejected={i: it.model_dump(mode="json") for i, it in items.items()}
    )
    stored, refused = _store_batch(state, session, prepared, ids)
    items.update((i, _rejected(i, exc)) for i, exc in refused.items())
    size = state.chain().platform.ledger.max_batch()
    transactions: list[str] = []
    for start in range(0, len(stored), size):
        items.update(_register_chunk(state, session, stored[start : start + size], transactions))
    ordered = [items[i] for i in range(len(bodies))]
    return BundleBatchOut(
        items=ordered,
        tokenized=sum(1 for it in ordered if it.status == "tokenized"),
        rejected=sum(1 for it in ordered if it.status == "rejected"),
        transactions=transactions,
    )


@dataclass
class _Staged:
    """A stored bundle of a batch: what its registration sends and its answer so far (``tokenizing``),
    taken before the commit expires the rows."""

    index: int
    bundle_id: str
    bundle: Bundle
    terms: InvoiceTerms
    out: BundleOut


def _store_batch(
    state: AppState, session: Session, prepared: dict[int, Prepared], ids: dict[int, str]
) -> tuple[list[_Staged], dict[int, ApiError]]:
    """Claim and store every verified bundle of a batch in one transaction: the orders and deliveries of
    the whole batch locked first, in key order (so concurrent batches cannot deadlock on them), the
    invoice claims read once, then each bundle claimed in turn (a later one sees the earlier ones'
    claims and quantities). A claim a concurrent request took between the read and the commit makes the
    commit fail; the batch is then stored bundle by bundle (``store_claimed``)."""
    staged: list[_Staged] = []
    refused: dict[int, ApiError] = {}
    locks = sorted(
        {
            k
            for p in prepared.values()
            if p.debtor is not None and p.uses
            for k in consumption.lock_keys_of(p.debtor.id, p.supplier.id, p.uses)
        }
    )
    consumption.lock_documents(session, locks)
    quantities = consumption.Claims(
        session,
        [
            k
            for p in prepared.values()
            if p.debtor is not None and p.uses
            for k in consumption.line_keys_of(p.debtor.id, p.supplier.id, p.uses)
        ],
    )
    keys = {i: _claim_keys(p) for i, p in prepared.items()}
    wanted = sorted({k for ks in keys.values() for k in ks})
    held = set(
        session.exec(select(TokenizationClaim.key).where(col(TokenizationClaim.key).in_(wanted))).all()
        if wanted
        else []
    )
    blob_key = _documents_key(state)
    principle = state.settings.effective_principle_tenor_days
    for i, p in prepared.items():
        assert p.invoice is not None and p.debtor is not None
        if held.intersection(keys[i]):  # a resubmitted invoice is a duplicate first
            refused[i] = _claimed_by_another(p.invoice.id)
            continue
        if p.uses:
            fresh = quantities.claim(ids[i], p.debtor.id, p.supplier.id, p.uses)
            if fresh.shortfalls:
                refused[i] = _over_consumed(fresh)
                continue
        held.update(keys[i])
        bundle, docs = _stage(session, p, ids[i], blob_key, principle)
        terms = invoice_terms(state, p, bundle)
        staged.append(_Staged(i, ids[i], bundle, terms, bundle_reads.bundle_view(bundle, docs)))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return _store_one_by_one(state, session, prepared, ids)
    return staged, refused


def _store_one_by_one(
    state: AppState, session: Session, prepared: dict[int, Prepared], ids: dict[int, str]
) -> tuple[list[_Staged], dict[int, ApiError]]:
    staged: list[_Staged] = []
    refused: dict[int, ApiError] = {}
    for i, p in prepared.items():
        try:
            bundle = store_claimed(state, session, p, ids[i])
        except ApiError as exc:
            refused[i] = exc
            continue
        out = bundle_reads.bundle_out(session, bundle)
        staged.append(_Staged(i, ids[i], bundle, invoice_terms(state, p, bundle), out))
    return staged, refused


def _register_chunk(
    state: AppState, session: Session, chunk: list[_Staged], transactions: list[str]
) -> dict[int, BundleBatchItem]:
    """Register ``chunk`` in one transaction; if the ledger refuses it, one by one."""
    chain = state.chain()
    try:
        rids, receipt = on_chain(
            lambda: chain.platform.ledger.register_invoices(chain.verifier, [s.terms for s in chunk])
        )
    except ApiError as exc:
        if exc.status >= 500:  # unknown outcome: recovery finishes it (the claims stay while it may run)
            if not journal.in_flight():
                for s in chunk:
                    _undo(session, s.bundle_id)
            raise
        return {
            s.index: _register_one(state, session, s.bundle, s.terms, s.index, transactions) for s in chunk
        }
    transactions.append(tx_hash(receipt))
    recorded = _record_registered(
        session, [(s.bundle_id, rid) for s, rid in zip(chunk, rids, strict=True)], receipt
    )
    return {
        s.index: BundleBatchItem(
            index=s.index,
            status="tokenized",
            bundle=s.out.model_copy(update=recorded[s.bundle_id]),
            http_status=201,
        )
        for s in chunk
    }


def _record_registered(
    session: Session, registered: list[tuple[str, int]], receipt: TxReceipt
) -> dict[str, dict[str, Any]]:
    """Record the registrations of one transaction (bundle id, receivable id) in one database
    transaction, each only if its bundle is still ``tokenizing`` (see ``_tokenized``); what each
    bundle's answer changes."""
    done = {"status": "tokenized", "tx_hash": tx_hash(receipt), "block_number": receipt["blockNumber"]}
    lost = False
    for bundle_id, rid in registered:
        updated = session.exec(
            update(Bundle)
            .where(col(Bundle.id) == bundle_id)
            .where(col(Bundle.status) == "tokenizing")
            .values(receivable_id=rid, **done)
        )
        lost |= updated.rowcount != 1
    session.commit()
    if lost:
        raise _registration_lost()
    return {bundle_id: {**done, "receivable_id": rid} for bundle_id, rid in registered}


def _register_one(
    state: AppState,
    session: Session,
    bundle: Bundle,
    terms: InvoiceTerms,
    index: int,
    transactions: list[str],
) -> BundleBatchItem:
    try:
        recorded = register_stored(state, session, bundle, terms)
    except ApiError as exc:
        if exc.status >= 500:
            raise
        return _rejected(index, exc)
    assert recorded.tx_hash is not None
    transactions.append(recorded.tx_hash)
    return _tokenized_item(index, session, recorded)


def _tokenized_item(index: int, session: Session, bundle: Bundle) -> BundleBatchItem:
    session.add(bundle)
    session.flush()
    return BundleBatchItem(
        index=index, status="tokenized", bundle=bundle_reads.bundle_out(session, bundle), http_status=201
    )


def rejected_by_rules(p: Prepared) -> ApiError:
    """422 ``BUNDLE_REJECTED`` with every violation of ``p`` in ``details``."""
    return ApiError(
        422,
        "BUNDLE_REJECTED",
        f"The bundle fails {len(p.violations)} rule(s); nothing was tokenized.",
        [v.model_dump() for v in p.violations],
    )


def _rejected(index: int, exc: ApiError) -> BundleBatchItem:
    return BundleBatchItem(
        index=index,
        status="rejected",
        error=ItemError(code=exc.code, message=exc.message, details=exc.details),
        http_status=exc.status,
    )


def _finish_batch(state: AppState, session: Session, _receipt: TxReceipt, out: dict[str, Any]) -> BaseModel:
    """Recovery of an interrupted batch: each stored bundle is what the ledger says of its fingerprint
    (registered: tokenized; not: released); the rejections are the ones noted before sending."""
    ledger = state.chain().platform.ledger
    items = {int(i): BundleBatchItem.model_validate(v) for i, v in out.get("rejected", {}).items()}
    for key, bundle_id in out["bundle_ids"].items():
        i = int(key)
        if i in items:
            continue
        bundle = session.get(Bundle, bundle_id)
        if bundle is None:  # never stored: refused as a duplicate while the request ran
            items[i] = _rejected(i, _claimed_by_another("?"))
            continue
        if bundle.status != "tokenized":
            rid = ledger.receivable_id_by_fingerprint(bytes.fromhex(bundle.fingerprint[2:]))
            if rid == 0:
                _undo(session, bundle.id)
                items[i] = _rejected(
                    i, ApiError(409, "TOKENIZATION_INTERRUPTED", "Not registered; send it again.")
                )
                continue
            bundle = _tokenized(session, bundle, rid, _receipt)
        items[i] = _tokenized_item(i, session, bundle)
    ordered = [items[i] for i in sorted(items)]
    return BundleBatchOut(
        items=ordered,
        tokenized=sum(1 for it in ordered if it.status == "tokenized"),
        rejected=sum(1 for it in ordered if it.status == "rejected"),
        transactions=sorted({it.bundle.tx_hash for it in ordered if it.bundle and it.bundle.tx_hash}),
    )


def _release_batch(state: AppState, session: Session, out: dict[str, Any]) -> None:
    for bundle_id in out["bundle_ids"].values():
        _undo(session, bundle_id)


recovery.register(
    "tokenize_batch", recovery.Recoverer(finish=_finish_batch, release=_release_batch, judges_itself=True)
)
