"""Database tables (SQLModel). Request/response models live in ``api/schemas/``, not here.

Changes to these tables go through an Alembic migration in ``api/db/migrations/versions/``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, Index, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

import readmodel.tables  # noqa: F401  (the read-model tables, so one Alembic history migrates every table)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Participant(SQLModel, table=True):
    """An onboarded participant: legal identity, role, chain address, certificate and API key hash."""

    id: str = Field(primary_key=True, max_length=36)
    legal_name: str = Field(max_length=200)
    registration_id: str = Field(max_length=64, unique=True, index=True)
    role: str = Field(max_length=32, index=True)
    chain_address: str = Field(max_length=42, unique=True, index=True)
    status: str = Field(default="active", max_length=16)
    certificate_pem: str = Field(sa_column=Column(Text, nullable=False))
    certificate_serial: str = Field(max_length=64, unique=True, index=True)
    identity_hash: str = Field(max_length=66)
    api_key_hash: str = Field(max_length=64, unique=True, index=True)
    onboard_tx: str | None = Field(default=None, max_length=66)
    created_at: datetime = Field(default_factory=utcnow)


class PartyIdentifier(SQLModel, table=True):
    """A UBL party identifier (scheme + id) that names a participant in documents."""

    __table_args__ = (UniqueConstraint("scheme", "value", name="uq_party_identifier"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: str = Field(foreign_key="participant.id", index=True, max_length=36)
    scheme: str = Field(max_length=32)
    value: str = Field(max_length=128)


class CertificateRevocation(SQLModel, table=True):
    """A revoked participant certificate (checked at every verification)."""

    serial: str = Field(primary_key=True, max_length=64)
    participant_id: str = Field(foreign_key="participant.id", max_length=36)
    reason: str = Field(max_length=32)
    revoked_at: datetime = Field(default_factory=utcnow)


class Bundle(SQLModel, table=True):
    """A tokenized (or tokenizing) document bundle and its receivable."""

    id: str = Field(primary_key=True, max_length=36)
    supplier_id: str = Field(foreign_key="participant.id", index=True, max_length=36)
    debtor_id: str = Field(foreign_key="participant.id", index=True, max_length=36)
    status: str = Field(max_length=16, index=True)  # tokenizing | tokenized | vanished
    invoice_number: str = Field(max_length=128)
    fingerprint: str = Field(max_length=66, unique=True, index=True)
    bundle_hash: str = Field(max_length=66)
    face_value: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    issue_date: int = Field(sa_column=Column(BigInteger, nullable=False))
    due_date: int = Field(sa_column=Column(BigInteger, nullable=False))
    # due later than the profile's tenor in principle (accepted up to the maximum): as judged at submission
    tenor_above_principle: bool = Field(default=False)
    receivable_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True, index=True))
    tx_hash: str | None = Field(default=None, max_length=66)
    block_number: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)


class TokenizationClaim(SQLModel, table=True):
    """A claim on a fingerprint or invoice document hash by a tokenizing/tokenized bundle.

    The primary key makes concurrent submissions of the same invoice race on one row: exactly one
    insert wins. ``key`` is ``fp:0x<keccak fingerprint>`` or ``doc:0x<keccak of the invoice bytes>``.
    """

    key: str = Field(primary_key=True, max_length=80)
    bundle_id: str = Field(foreign_key="bundle.id", index=True, max_length=36)


class QuantityLock(SQLModel, table=True):
    """One row per order or delivery document whose quantities are financed.

    Every claim on the document's quantities updates its row first, in key order, inside the
    claiming transaction: concurrent claims on one document run one after the other (a row lock on
    PostgreSQL, the database write lock on SQLite), so each sees what the previous one consumed.
    ``key`` is the document part of :attr:`QuantityConsumption.line_key`.
    """

    __tablename__ = "quantity_lock"

    key: str = Field(primary_key=True, max_length=300)
    claims: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))


class QuantityConsumption(SQLModel, table=True):
    """How much of an order line, or of a delivery's line, a tokenizing/tokenized bundle finances.

    ``line_key`` is ``order:<debtor id>:<normalized order id>#<order line id>`` or
    ``delivery:<debtor id>:<supplier id>:<kind>:<normalized delivery id>#<order line id>``;
    ``lock_key`` the part before ``#`` (a :class:`QuantityLock`). ``quantity`` is the exact decimal
    as stated in the invoice (text, never a float).
    """

    __tablename__ = "quantity_consumption"

    line_key: str = Field(primary_key=True, max_length=340)
    bundle_id: str = Field(primary_key=True, foreign_key="bundle.id", index=True, max_length=36)
    lock_key: str = Field(max_length=300, index=True)
    quantity: str = Field(max_length=64)


class Document(SQLModel, table=True):
    """A stored document or attachment: encrypted at rest (AES-GCM), with its signature."""

    id: str = Field(primary_key=True, max_length=36)
    bundle_id: str = Field(foreign_key="bundle.id", index=True, max_length=36)
    kind: str = Field(max_length=32)
    name: str = Field(max_length=200)
    sha256: str = Field(max_length=64, index=True)
    size: int
    media_type: str = Field(max_length=100)
    ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    signer_id: str | None = Field(default=None, foreign_key="participant.id", max_length=36)
    created_at: datetime = Field(default_factory=utcnow)


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a POST with an ``Idempotency-Key``, replayed on every retry."""

    participant_id: str = Field(primary_key=True, max_length=36)
    key: str = Field(primary_key=True, max_length=200)
    request_hash: str = Field(max_length=64)
    state: str = Field(max_length=16)  # in_progress | done
    status_code: int | None = None
    response_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    #: who runs it (``host:pid``) and until when its claim holds: a record ``in_progress`` past its lease,
    #: or whose process is gone, is recovered from the transaction journal (``api.services.recovery``)
    owner: str | None = Field(default=None, max_length=128)
    lease_until: datetime | None = Field(default=None)
    #: how to finish it from its transaction's receipt (``{"kind": ..., "out": {...}}``), noted before sending
    recovery_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class TxJournal(SQLModel, table=True):
    """Every transaction the gateway signs, written before it is sent: what a crash or a lost block
    leaves unknown is looked up here by hash (``api.journal``, ``api.services.recovery``)."""

    __table_args__ = (
        Index("ix_txjournal_request", "participant_id", "idem_key"),
        # a caller's newest mined block (reads wait for the read model to reach it: ``AppState.read_after``)
        Index("ix_txjournal_participant_block", "participant_id", "block_number"),
        Index("ix_txjournal_sender_block", "sender", "block_number"),
    )

    tx_hash: str = Field(primary_key=True, max_length=66)
    sender: str = Field(max_length=42, index=True)
    nonce: int = Field(sa_column=Column(BigInteger, nullable=False))
    #: the idempotent request that sent it (none for the platform's own housekeeping)
    participant_id: str | None = Field(default=None, max_length=36)
    idem_key: str | None = Field(default=None, max_length=200)
    #: sent | unsent (never reached the node) | mined | vanished (gone with lost blocks)
    state: str = Field(max_length=16, index=True)
    block_number: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True, index=True))
    block_hash: str | None = Field(default=None, max_length=66)
    created_at: datetime = Field(default_factory=utcnow)


class TxRequest(SQLModel, table=True):
    """The requests one transaction serves when it serves several: concurrent tokenizations registered
    together (``api.services.registrar``). Its ``TxJournal`` row then names no request itself."""

    __tablename__ = "txrequest"
    __table_args__ = (
        Index("ix_txrequest_request", "participant_id", "idem_key"),
        # a caller's newest mined block (``AppState.read_after``), as ``txjournal`` has it
        Index("ix_txrequest_participant_block", "participant_id", "block_number"),
    )

    tx_hash: str = Field(primary_key=True, max_length=66)
    participant_id: str = Field(primary_key=True, max_length=36)
    idem_key: str = Field(primary_key=True, max_length=200)
    #: the transaction's block while ``txjournal`` says it is mined (kept with it by ``api.journal.mark``
    #: and the lost-block reconciliation), else none
    block_number: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class ChainIncident(SQLModel, table=True):
    """The node lost blocks the gateway had seen (a restore from an older state, a deep reorg), and
    what the gateway did about it; ``/health`` shows the latest."""

    id: int | None = Field(default=None, primary_key=True)
    detected_at: datetime = Field(default_factory=utcnow)
    #: the highest block of ours that the chain still has, and the chain's head when it was found
    fork_block: int = Field(sa_column=Column(BigInteger, nullable=False))
    chain_head: int = Field(sa_column=Column(BigInteger, nullable=False))
    vanished_transactions: int
    released_bundles: int
    resynced_accounts: int
    details: str = Field(sa_column=Column(Text, nullable=False))


class ChainAccount(SQLModel, table=True):
    """A custodial chain account the gateway holds for a participant (key sealed, never plain)."""

    participant_id: str = Field(primary_key=True, foreign_key="participant.id", max_length=36)
    address: str = Field(max_length=42, unique=True, index=True)
    sealed_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class PlatformSecret(SQLModel, table=True):
    """Sealed platform material (e.g. the CA's private key), encrypted under the master secret."""

    name: str = Field(primary_key=True, max_length=64)
    value: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class TxNonce(SQLModel, table=True):
    """The next nonce of a sending account, shared by every gateway process (``services.nonces``)."""

    __tablename__ = "tx_nonce"

    address: str = Field(primary_key=True, max_length=42)
    next_nonce: int = Field(sa_column=Column(BigInteger, nullable=False))


class TxNonceGap(SQLModel, table=True):
    """A nonce whose transaction never reached the node: handed out again first."""

    __tablename__ = "tx_nonce_gap"

    address: str = Field(primary_key=True, max_length=42)
    nonce: int = Field(sa_column=Column(BigInteger, primary_key=True))


class PortalSession(SQLModel, table=True):
    """A web portal sign-in (``api.services.portal_sessions``): the browser holds a random token in an
    HttpOnly cookie, the gateway only its SHA-256. The API key it was opened with is kept as its hash:
    a new key (rotation) ends every session of the old one."""

    __tablename__ = "portal_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    #: the participant signed in; none for the platform operator
    participant_id: str | None = Field(default=None, max_length=36, index=True)
    key_hash: str = Field(max_length=64)
    #: sent back by the portal's scripts in ``X-CSRF-Token`` on every state-changing request
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    #: the absolute end (``portal_session_max_hours`` after the sign-in), whatever the activity
    expires_at: datetime = Field(index=True)


class PledgeRequest(SQLModel, table=True):
    """An owner's request to a financier for a loan against a warehouse receipt (``api.services.
    warehouse``): it lets the financier see the receipt, to offer terms on chain."""

    __tablename__ = "pledge_request"

    id: int | None = Field(default=None, primary_key=True)
    receipt_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    owner_id: str = Field(max_length=36, index=True)
    financier_id: str = Field(max_length=36, index=True)
    #: minor units asked for, decimal text
    principal: str = Field(max_length=78)
    note: str = Field(default="", max_length=500)
    #: unix seconds (the gateway's clock)
    created_at: int = Field(sa_column=Column(BigInteger, nullable=False))


class WarehouseDevice(SQLModel, table=True):
    """A device a warehouse registered (``api.services.devices``): its certificate from the platform CA
    binds it to the warehouse, one storage location and the receipts it watches. ``last_seq`` is the
    counter of its last accepted reading (a reading is accepted only by raising it: no replay)."""

    __tablename__ = "warehouse_device"

    device_id: str = Field(primary_key=True, max_length=64)
    warehouse_id: str = Field(foreign_key="participant.id", max_length=36, index=True)
    kind: str = Field(max_length=16)
    location: str = Field(max_length=64)
    #: the receipt ids it is bound to, a JSON list
    receipt_ids: str = Field(sa_column=Column(Text, nullable=False))
    certificate_pem: str = Field(sa_column=Column(Text, nullable=False))
    #: ``x5t#S256`` of the certificate: how a reading names it
    thumbprint: str = Field(max_length=64, unique=True)
    serial: str = Field(max_length=64)
    #: active | suspended | revoked
    status: str = Field(max_length=16)
    last_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    #: ``iat`` of its last accepted reading (unix seconds); none before the first
    last_seen: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    heartbeat_s: int
    created_at: datetime = Field(default_factory=utcnow)


class WarehouseReadingDay(SQLModel, table=True):
    """Accepted readings of one device on one receipt, aggregated per day (UTC) of their ``iat``: count,
    first and last, and per measurement its least, greatest and last value (a JSON object)."""

    __tablename__ = "warehouse_reading_day"

    receipt_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    device_id: str = Field(primary_key=True, max_length=64)
    day: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    count: int = 0
    first_iat: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_iat: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    #: ``{"weight_kg": {"min": 1, "max": 2, "last": 2}, "seal": {"last": "closed"}}``
    measurements: str = Field(sa_column=Column(Text, nullable=False))


class WarehouseAlert(SQLModel, table=True):
    """What the gateway knows of an alert it recorded on chain beyond the chain's code and hash: the rule's
    message, the device and the signed reading that raised it, and the warehouse's signed explanation."""

    __tablename__ = "warehouse_alert"

    alert_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    receipt_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    code: str = Field(max_length=32)
    message: str = Field(max_length=500)
    device_id: str | None = Field(default=None, max_length=64)
    evidence: str = Field(sa_column=Column(Text, nullable=False))
    evidence_hash: str = Field(max_length=66)
    created_at: datetime = Field(default_factory=utcnow)
    explanation: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    cleared_at: datetime | None = None


class WarehouseAlertClaim(SQLModel, table=True):
    """An open alert code on a receipt, claimed by the gateway process that records it: the primary key
    lets exactly one of several processes record the same code at once. Released when the alert is
    cleared, or when the recording failed; a claim without its alert older than a few minutes (a process
    died while recording) may be taken over."""

    __tablename__ = "warehouse_alert_claim"

    receipt_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    code: str = Field(primary_key=True, max_length=32)
    alert_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    claimed_at: datetime = Field(default_factory=utcnow)


class NotificationCursor(SQLModel, table=True):
    """How far ``api.services.notifications`` has turned chain events (``rm_event.id``) into webhooks."""

    __tablename__ = "notification_cursor"

    name: str = Field(primary_key=True, max_length=32)
    event_id: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class WebhookSubscription(SQLModel, table=True):
    """A participant's (or the operator's) webhook: where its events are POSTed, signed with its secret
    (``api.services.webhooks``). The secret is sealed (AES-256-GCM under a key derived from the master
    secret, the subscription id as associated data): the gateway needs it in clear to sign."""

    __tablename__ = "webhook_subscription"

    id: str = Field(primary_key=True, max_length=36)
    #: the participant id, or ``operator``
    owner_id: str = Field(max_length=36, index=True)
    url: str = Field(max_length=2048)
    #: the event types, a JSON list
    events: str = Field(sa_column=Column(Text, nullable=False))
    sealed_secret: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    #: the secret before the last rotation: payloads are signed with both until ``previous_secret_until``
    sealed_previous_secret: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    previous_secret_until: datetime | None = Field(default=None)
    #: active | disabled
    status: str = Field(max_length=16)
    #: deleted (by its owner) | gone (the receiver answered 410)
    disabled_reason: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class WebhookMessage(SQLModel, table=True):
    """The outbox: one event for one subscription, written in the transaction of the change that caused
    it, delivered by whichever gateway process claims it (``claim_token`` until ``claim_until``)."""

    __tablename__ = "webhook_message"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_key", name="uq_webhook_message_event"),
        Index("ix_webhook_message_due", "state", "next_attempt_at"),
    )

    #: ``webhook-id``: the same on every attempt
    id: str = Field(primary_key=True, max_length=40)
    subscription_id: str = Field(foreign_key="webhook_subscription.id", max_length=36)
    #: what makes the event once per subscription (a chain event's transaction and log index, ...)
    event_key: str = Field(max_length=200)
    event_type: str = Field(max_length=64)
    #: the exact JSON body sent, ``{type, timestamp, data}``, fixed when it is enqueued
    body: str = Field(sa_column=Column(Text, nullable=False))
    #: pending | sending (claimed) | delivered | failed (dead) | cancelled (its subscription was disabled)
    state: str = Field(max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None)
    claim_token: str | None = Field(default=None, max_length=36)
    claim_until: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = Field(default=None)


class WebhookAttempt(SQLModel, table=True):
    """The delivery log: one row per attempt to deliver a message."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (Index("ix_webhook_attempt_subscription", "subscription_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(foreign_key="webhook_message.id", max_length=40, index=True)
    subscription_id: str = Field(max_length=36)
    #: 1 for the first attempt
    attempt: int
    started_at: datetime
    duration_ms: int
    #: the receiver's HTTP status; none when there was no answer (``error`` says why)
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=300)
    #: delivered | retrying | failed (the last attempt) | disabled (410 Gone) | superseded (claim lost)
    outcome: str = Field(max_length=16)
    next_attempt_at: datetime | None = Field(default=None)


class CreditConsent(SQLModel, table=True):
    """A participant's consent that one financier may read its credit profile (``api.services.credit``),
    from ``granted_at`` until ``revoked_at``. A revoked consent stays on record; a new grant is a new
    row, and at most one row per pair is unrevoked."""

    __tablename__ = "credit_consent"
    __table_args__ = (
        Index(
            "uq_credit_consent_open",
            "subject_id",
            "financier_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_id: str = Field(foreign_key="participant.id", max_length=36)
    financier_id: str = Field(foreign_key="participant.id", max_length=36, index=True)
    granted_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class GreenAttestation(SQLModel, table=True):
    """A certifier's signed green attestation as the gateway received it (``api.services.green``), kept
    before its label is sent so that anyone who may read the label can read what was attested and check
    that its SHA-256 is the label's ``attestationHash`` on chain."""

    __tablename__ = "green_attestation"

    sha256: str = Field(primary_key=True, max_length=64)
    receivable_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    certifier_id: str = Field(foreign_key="participant.id", max_length=36)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
