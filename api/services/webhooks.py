"""Webhook notifications (docs/webhooks.md): subscriptions, the outbox, Standard Webhooks signatures and
the delivery worker.

- **Subscriptions** belong to one owner (a participant's id, or ``operator``); another owner's answers
  404. The signing secret is made here, shown once, and kept sealed (``domain.identity.encrypt_blob``
  under a key derived from the master secret, the subscription's id as associated data).
- **The outbox**: ``enqueue`` writes one ``pending`` message per active subscription that wants the event,
  in the caller's transaction, so an event goes out exactly when the change that causes it commits;
  ``event_key`` makes it idempotent (one message per subscription and key).
- **Delivery**: ``deliver_due`` claims due messages in the database (``UPDATE ... WHERE state='pending'
  AND next_attempt_at <= now`` with a claim token and a lease), POSTs them signed, and records each
  attempt; several gateway processes may run it at once and never send one attempt twice at the same
  time. ``start_webhook_worker`` runs it in a thread of its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpx
from sqlalchemy import Engine, and_, func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from api.db import database_fault
from api.errors import ApiError
from api.models import WebhookAttempt, WebhookMessage, WebhookSubscription
from api.schemas.common import Page
from api.schemas.webhooks import (
    DeliveryAttemptOut,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    WebhookPingOut,
    WebhookSecretOut,
)
from api.services.pages import page
from api.settings import Settings
from domain.identity import DecryptionError, decrypt_blob, derive_blob_key, encrypt_blob

log = logging.getLogger(__name__)


class EventType(StrEnum):
    """Every event a webhook may receive: the one closed list."""

    PING = "webhook.ping"
    WAREHOUSE_ALERT_RECORDED = "warehouse.alert.recorded"
    WAREHOUSE_ALERT_CLEARED = "warehouse.alert.cleared"
    WAREHOUSE_RECEIPT_FROZEN = "warehouse.receipt.frozen"
    WAREHOUSE_LOAN_MARGIN_CALLED = "warehouse.loan.margin_called"
    WAREHOUSE_LOAN_MARGIN_CURED = "warehouse.loan.margin_cured"
    WAREHOUSE_LOAN_DEFAULTED = "warehouse.loan.defaulted"


EVENT_TYPES: frozenset[str] = frozenset(e.value for e in EventType)

SECRET_PREFIX = "whsec_"  # noqa: S105  # nosec B105 (the format's prefix, not a secret)
SECRET_BYTES = 32
#: how much later than ``webhook-timestamp`` (or earlier) a receiver accepts a delivery by default
DEFAULT_TOLERANCE_S = 300.0
#: each retry waits this many times longer than the one before
RETRY_FACTOR = 4
#: a retry waits up to this share longer than its nominal delay (never less)
RETRY_JITTER = 0.25
ACTIVE = "active"
DISABLED = "disabled"
USER_AGENT = "scf-gateway-webhooks/1"
_SEAL_PURPOSE = "webhook-secrets"
_random = secrets.SystemRandom()


# ---------------------------------------------------------------------------------------------- signing


class WebhookSignatureError(Exception):
    """A delivery that does not verify; ``code`` says why (``missing_header``, ``invalid_timestamp``,
    ``timestamp_out_of_tolerance``, ``invalid_secret``, ``no_matching_signature``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def new_secret() -> str:
    """A signing secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _hmac_key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except ValueError as exc:
        raise WebhookSignatureError("invalid_secret", "the secret is not whsec_ + base64") from exc


def sign(secret: str, message_id: str, timestamp: int, body: bytes | str) -> str:
    """``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` with the secret's decoded bytes."""
    raw = body.encode() if isinstance(body, str) else body
    mac = hmac.new(_hmac_key(secret), f"{message_id}.{timestamp}.".encode() + raw, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def signed_headers(
    secrets_: Sequence[str], message_id: str, timestamp: int, body: bytes | str
) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt: one signature per secret, space-separated."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, message_id, timestamp, body) for s in secrets_),
    }


def verify_signature(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    *,
    now: float | None = None,
) -> None:
    """Check a delivery as a receiver must: the three headers present, ``webhook-timestamp`` within
    ``tolerance_s`` of ``now`` (replays), and one ``v1`` signature of ``webhook-signature`` equal (in
    constant time) to the HMAC of the exact raw ``body``. Raises ``WebhookSignatureError``."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        message_id, stamp, signatures = (
            lower[h] for h in ("webhook-id", "webhook-timestamp", "webhook-signature")
        )
    except KeyError as exc:
        raise WebhookSignatureError("missing_header", f"no {exc.args[0]} header") from None
    try:
        timestamp = int(stamp)
    except ValueError:
        raise WebhookSignatureError("invalid_timestamp", "webhook-timestamp is not Unix seconds") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise WebhookSignatureError("timestamp_out_of_tolerance", "webhook-timestamp is too old or too new")
    expected = sign(secret, message_id, timestamp, body).encode()
    for candidate in signatures.split():
        if candidate.startswith("v1,") and hmac.compare_digest(candidate.encode(), expected):
            return
    raise WebhookSignatureError("no_matching_signature", "no signature matches")


def _seal_key(settings: Settings) -> bytes:
    return derive_blob_key(settings.effective_secret_key, purpose=_SEAL_PURPOSE)


def _seal(key: bytes, subscription_id: str, secret: str) -> bytes:
    return encrypt_blob(key, secret.encode(), associated_data=subscription_id.encode())


def _unseal(key: bytes, subscription_id: str, sealed: bytes) -> str:
    return decrypt_blob(key, sealed, associated_data=subscription_id.encode()).decode()


# ----------------------------------------------------------------------------------- URLs (SSRF guard)


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


class UrlRefused(Exception):
    """A URL the gateway will not POST to; ``reason`` is a short machine-readable word."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _resolve(host: str, port: int) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def _address_allowed(ip: IPAddress, allow_loopback: bool) -> str | None:
    """Why ``ip`` is refused, or None."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if allow_loopback else "loopback"
    if ip.is_multicast or not ip.is_global:
        return "private"
    return None


@dataclass(frozen=True)
class Target:
    """A checked URL: its parts and the addresses it may be reached at (all of them allowed)."""

    parts: SplitResult
    addresses: tuple[IPAddress, ...]

    @property
    def port(self) -> int:
        return self.parts.port or (443 if self.parts.scheme == "https" else 80)


def check_url(url: str, *, allow_loopback: bool, resolve: Resolver = _resolve) -> Target:
    """``url`` if the gateway may POST to it: http(s) only, no credentials, no fragment, and every address
    its host resolves to public (loopback too while ``allow_loopback``); plain http only to loopback.
    Raises ``UrlRefused``. Checked when a webhook is made and again before every attempt (DNS may have
    changed), and the attempt connects to the address checked."""
    if len(url) > 2048 or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise UrlRefused("malformed", "The URL is too long or has spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused("malformed", f"The URL cannot be read ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise UrlRefused("scheme", "A webhook URL is https (or http to this host in local setups).")
    if "@" in parts.netloc:
        raise UrlRefused("credentials", "A webhook URL carries no user name or password.")
    if parts.fragment or url.endswith("#"):
        raise UrlRefused("fragment", "A webhook URL has no #fragment.")
    host = parts.hostname
    if not host:
        raise UrlRefused("malformed", "The URL names no host.")
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            found = resolve(host, port or (443 if scheme == "https" else 80))
        except (OSError, UnicodeError):
            raise UrlRefused("unresolvable", f"The host {host} does not resolve.") from None
        addresses = list(dict.fromkeys(ipaddress.ip_address(a.split("%", 1)[0]) for a in found))
    if not addresses:
        raise UrlRefused("unresolvable", f"The host {host} does not resolve.")
    for ip in addresses:
        why = _address_allowed(ip, allow_loopback)
        if why is not None:
            raise UrlRefused(why, f"The host {host} is (or resolves to) a {why} address, {ip}.")
    if scheme == "http" and not (allow_loopback and all(_loopback(ip) for ip in addresses)):
        raise UrlRefused("insecure", "A webhook URL is https (plain http only to this host in local setups).")
    return Target(parts._replace(scheme=scheme), tuple(addresses))


def _loopback(ip: IPAddress) -> bool:
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return (mapped or ip).is_loopback


def _url_refused(exc: UrlRefused) -> ApiError:
    return ApiError(422, "WEBHOOK_URL_INVALID", str(exc), {"reason": exc.reason})


# ------------------------------------------------------------------------------------ subscriptions


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without their zone; every one stored here is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _out(row: WebhookSubscription) -> WebhookOut:
    return WebhookOut(
        id=row.id,
        url=row.url,
        events=json.loads(row.events),
        status=row.status,
        disabled_reason=row.disabled_reason,
        created_at=_utc(row.created_at) or row.created_at,
        updated_at=_utc(row.updated_at) or row.updated_at,
    )


def _check_events(events: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(events))
    unknown = [e for e in wanted if e not in EVENT_TYPES]
    if unknown:
        raise ApiError(
            422,
            "WEBHOOK_EVENT_UNKNOWN",
            f"Unknown event type(s): {', '.join(unknown)}.",
            {"unknown": unknown, "known": sorted(EVENT_TYPES)},
        )
    return wanted


def _own(session: Session, owner_id: str, webhook_id: str) -> WebhookSubscription:
    row = session.get(WebhookSubscription, webhook_id)
    if row is None or row.owner_id != owner_id:
        raise ApiError(404, "WEBHOOK_NOT_FOUND", f"No webhook {webhook_id} of yours.")
    return row


def _active(row: WebhookSubscription) -> WebhookSubscription:
    if row.status != ACTIVE:
        raise ApiError(409, "WEBHOOK_DISABLED", f"Webhook {row.id} is disabled ({row.disabled_reason}).")
    return row


def create_subscription(
    settings: Settings, session: Session, owner_id: str, body: WebhookIn
) -> WebhookCreated:
    """A new webhook of ``owner_id`` and its secret (the only time it is shown). Refusals write nothing:
    422 ``WEBHOOK_EVENT_UNKNOWN``/``WEBHOOK_URL_INVALID``, 409 ``WEBHOOK_EXISTS`` (an active webhook of
    the owner already has this URL: a retried request finds it here; rotate its secret if it was lost)
    and 409 ``WEBHOOK_LIMIT_REACHED``."""
    events = _check_events(body.events)
    try:
        check_url(body.url, allow_loopback=settings.webhook_allow_insecure_loopback)
    except UrlRefused as exc:
        raise _url_refused(exc) from None
    mine = session.exec(
        select(WebhookSubscription).where(
            WebhookSubscription.owner_id == owner_id, WebhookSubscription.status == ACTIVE
        )
    ).all()
    same = [s for s in mine if s.url == body.url]
    if same:
        raise ApiError(
            409,
            "WEBHOOK_EXISTS",
            f"Your webhook {same[0].id} already posts to this URL.",
            {"id": same[0].id},
        )
    if len(mine) >= settings.webhook_max_subscriptions:
        limit = settings.webhook_max_subscriptions
        raise ApiError(409, "WEBHOOK_LIMIT_REACHED", f"At most {limit} active webhooks per participant.")
    secret = new_secret()
    webhook_id = str(uuid.uuid4())
    now = _now()
    row = WebhookSubscription(
        id=webhook_id,
        owner_id=owner_id,
        url=body.url,
        events=json.dumps(events),
        sealed_secret=_seal(_seal_key(settings), webhook_id, secret),
        status=ACTIVE,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return WebhookCreated(**_out(row).model_dump(), secret=secret)


def list_subscriptions(session: Session, owner_id: str, limit: int, offset: int) -> Page[WebhookOut]:
    """The owner's webhooks, active and disabled, oldest first."""
    query = select(WebhookSubscription).where(WebhookSubscription.owner_id == owner_id)
    order = (col(WebhookSubscription.created_at), col(WebhookSubscription.id))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(*order).offset(offset).limit(limit)).all()
    return Page(items=[_out(r) for r in rows], total=total, limit=limit, offset=offset)


def read_subscription(session: Session, owner_id: str, webhook_id: str) -> WebhookOut:
    return _out(_own(session, owner_id, webhook_id))


def _disable(session: Session, row: WebhookSubscription, reason: str, now: datetime) -> None:
    """Disable a webhook and cancel what it has not yet been sent (in the caller's transaction)."""
    row.status, row.disabled_reason, row.updated_at = DISABLED, reason, now
    session.add(row)
    session.execute(
        update(WebhookMessage)
        .where(
            col(WebhookMessage.subscription_id) == row.id,
            col(WebhookMessage.state).in_(("pending", "sending")),
        )
        .values(state="cancelled", claim_token=None, claim_until=None, next_attempt_at=None, finished_at=now)
    )


def delete_subscription(session: Session, owner_id: str, webhook_id: str) -> WebhookOut:
    """Deactivate a webhook (kept, with its delivery log): nothing more is sent, pending messages are
    cancelled. Deleting a disabled webhook again changes nothing."""
    row = _own(session, owner_id, webhook_id)
    if row.status == ACTIVE:
        _disable(session, row, "deleted", _now())
        session.commit()
        session.refresh(row)
    return _out(row)


def rotate_secret(settings: Settings, session: Session, owner_id: str, webhook_id: str) -> WebhookSecretOut:
    """A new secret for an active webhook, shown once. For ``webhook_secret_overlap_seconds`` deliveries
    carry a signature with the previous secret as well, so receivers can switch without losing any."""
    row = _active(_own(session, owner_id, webhook_id))
    secret = new_secret()
    now = _now()
    overlap = settings.webhook_secret_overlap_seconds
    row.sealed_previous_secret = row.sealed_secret if overlap > 0 else None
    row.previous_secret_until = now + timedelta(seconds=overlap) if overlap > 0 else None
    row.sealed_secret = _seal(_seal_key(settings), row.id, secret)
    row.updated_at = now
    session.add(row)
    session.commit()
    return WebhookSecretOut(id=row.id, secret=secret, previous_secret_expires_at=row.previous_secret_until)


def ping(session: Session, owner_id: str, webhook_id: str) -> WebhookPingOut:
    """Queue a ``webhook.ping`` to one active webhook (whatever events it asked for)."""
    row = _active(_own(session, owner_id, webhook_id))
    now = _now()
    message_id = _message_id()
    data = {"webhook_id": row.id}
    session.add(
        WebhookMessage(
            id=message_id,
            subscription_id=row.id,
            event_key=f"ping:{message_id}",
            event_type=EventType.PING.value,
            body=_body(EventType.PING.value, data, now),
            state="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    session.commit()
    return WebhookPingOut(message_id=message_id, event_type=EventType.PING.value, state="pending")


def deliveries(
    session: Session, owner_id: str, webhook_id: str, message_id: str | None, limit: int, offset: int
) -> Page[DeliveryAttemptOut]:
    """The webhook's delivery log, newest attempt first (optionally of one message)."""
    _own(session, owner_id, webhook_id)
    query = select(WebhookAttempt).where(WebhookAttempt.subscription_id == webhook_id)
    if message_id is not None:
        query = query.where(WebhookAttempt.message_id == message_id)
    out = page(session, query, col(WebhookAttempt.id).desc(), limit, offset, lambda r: r)
    ids = {a.message_id for a in out.items}
    types = dict(
        session.exec(
            select(WebhookMessage.id, WebhookMessage.event_type).where(col(WebhookMessage.id).in_(ids))
        ).all()
    )
    items = [
        DeliveryAttemptOut(
            id=a.id or 0,
            message_id=a.message_id,
            event_type=types.get(a.message_id, ""),
            attempt=a.attempt,
            started_at=_utc(a.started_at) or a.started_at,
            duration_ms=a.duration_ms,
            status_code=a.status_code,
            error=a.error,
            outcome=a.outcome,
            next_attempt_at=_utc(a.next_attempt_at),
        )
        for a in out.items
    ]
    return Page(items=items, total=out.total, limit=limit, offset=offset)


# ---------------------------------------------------------------------------------------------- outbox


def _message_id() -> str:
    return "msg_" + uuid.uuid4().hex


def _body(event_type: str, payload: Mapping[str, Any], now: datetime) -> str:
    stamp = now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return json.dumps(
        {"type": event_type, "timestamp": stamp, "data": dict(payload)},
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def enqueue(
    session: Session,
    recipients: Iterable[str],
    event_type: str,
    payload: Mapping[str, Any],
    event_key: str,
    *,
    now: datetime | None = None,
) -> int:
    """Queue ``event_type`` with ``payload`` (JSON: integers, strings, lists, objects; minor units for
    money) for every active webhook of ``recipients`` (participant ids, or ``operator``) that asked for
    it, **in the caller's transaction**: nothing is sent unless the caller commits. ``event_key``
    (at most 200 characters) identifies the event: a second ``enqueue`` with the same key queues nothing
    more for a webhook that has it. Returns how many messages were queued. No commit here."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    if not event_key or len(event_key) > 200:
        raise ValueError("event_key must be 1 to 200 characters")
    owners = sorted(set(recipients))
    if not owners:
        return 0
    now = now or _now()
    body = _body(event_type, payload, now)
    subscriptions = session.exec(
        select(WebhookSubscription).where(
            col(WebhookSubscription.owner_id).in_(owners), WebhookSubscription.status == ACTIVE
        )
    ).all()
    rows = [
        {
            "id": _message_id(),
            "subscription_id": s.id,
            "event_key": event_key,
            "event_type": event_type,
            "body": body,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for s in subscriptions
        if event_type in json.loads(s.events)
    ]
    if not rows:
        return 0
    table = WebhookMessage.__table__  # type: ignore[attr-defined]
    # the gateway runs on SQLite or PostgreSQL: both skip a row whose (subscription, event_key) exists
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    keys = ["subscription_id", "event_key"]
    result = session.execute(insert(table).values(rows).on_conflict_do_nothing(index_elements=keys))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------- delivery


@dataclass(frozen=True)
class DeliveryConfig:
    """What the delivery worker needs from the settings (tests replace single fields)."""

    seal_key: bytes = field(repr=False)
    timeout_s: float = 5.0
    max_attempts: int = 8
    retry_base_s: float = 5.0
    retry_max_s: float = 6 * 3600.0
    allow_insecure_loopback: bool = True
    concurrency: int = 4
    interval_s: float = 1.0

    @property
    def lease(self) -> timedelta:
        """How long a claim holds: longer than any attempt (connect, send, read) can take."""
        return timedelta(seconds=self.timeout_s * 3 + 30)


def delivery_config(settings: Settings) -> DeliveryConfig:
    return DeliveryConfig(
        seal_key=_seal_key(settings),
        timeout_s=settings.webhook_timeout_seconds,
        max_attempts=settings.webhook_max_attempts,
        retry_base_s=settings.webhook_retry_base_seconds,
        retry_max_s=settings.webhook_retry_max_seconds,
        allow_insecure_loopback=settings.webhook_allow_insecure_loopback,
        concurrency=settings.webhook_concurrency,
        interval_s=settings.webhook_worker_interval_seconds,
    )


def retry_delay(config: DeliveryConfig, attempt: int, jitter: float | None = None) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): ``base x 4^(attempt-1)``, at
    most ``retry_max_s``, then up to 25 % longer at random (``jitter`` in [0, 1) fixes the share)."""
    nominal = min(config.retry_base_s * RETRY_FACTOR ** (attempt - 1), config.retry_max_s)
    share = _random.random() if jitter is None else jitter
    return float(nominal * (1 + RETRY_JITTER * share))


@dataclass(frozen=True)
class _Claimed:
    message_id: str
    token: str
    attempt: int
    body: str
    subscription_id: str
    url: str
    secrets: tuple[str, ...] = field(repr=False)


@dataclass(frozen=True)
class _Result:
    started_at: datetime
    duration_ms: int
    status_code: int | None = None
    error: str | None = None


def _due(now: datetime) -> Any:
    return or_(
        and_(col(WebhookMessage.state) == "pending", col(WebhookMessage.next_attempt_at) <= now),
        and_(col(WebhookMessage.state) == "sending", col(WebhookMessage.claim_until) < now),
    )


def _claim_one(engine: Engine, config: DeliveryConfig, now: datetime) -> _Claimed | bool | None:
    """Claim the most overdue message: the claimed message; None when nothing is due; False when another
    process took the one found first, or the claimed one cannot be sent (its webhook was disabled, its
    secret cannot be unsealed: it is closed here)."""
    token = str(uuid.uuid4())
    with Session(engine) as session:
        # a read first: an idle worker takes no write lock (SQLite has one for the whole database)
        first = session.exec(
            select(WebhookMessage.id).where(_due(now)).order_by(col(WebhookMessage.next_attempt_at)).limit(1)
        ).first()
        if first is None:
            return None
        result = session.execute(
            update(WebhookMessage)
            .where(col(WebhookMessage.id) == first, _due(now))  # still due: nobody claimed it meanwhile
            .values(
                state="sending",
                claim_token=token,
                claim_until=now + config.lease,
                attempts=WebhookMessage.attempts + 1,
            )
        )
        session.commit()
        if not result.rowcount:  # type: ignore[attr-defined]
            return False
        message = session.exec(select(WebhookMessage).where(WebhookMessage.claim_token == token)).one()
        sub = session.get(WebhookSubscription, message.subscription_id)
        if sub is None or sub.status != ACTIVE:  # disabled since it was queued
            message.state, message.claim_token, message.finished_at = "cancelled", None, now
            session.add(message)
            session.commit()
            return False
        try:
            keys = [_unseal(config.seal_key, sub.id, sub.sealed_secret)]
            until = _utc(sub.previous_secret_until)
            if sub.sealed_previous_secret is not None and until is not None and until > now:
                keys.append(_unseal(config.seal_key, sub.id, sub.sealed_previous_secret))
        except DecryptionError:  # sealed under another master secret: it can never be signed
            log.error("webhook %s: its secret cannot be unsealed (another SCF_SECRET_KEY?)", sub.id)
            message.state, message.claim_token, message.finished_at = "failed", None, now
            session.add(message)
            session.add(_log_row(message, now, outcome="failed", error="the secret cannot be unsealed"))
            session.commit()
            return False
        return _Claimed(message.id, token, message.attempts, message.body, sub.id, sub.url, tuple(keys))


def _log_row(message: WebhookMessage, now: datetime, *, outcome: str, error: str) -> WebhookAttempt:
    return WebhookAttempt(
        message_id=message.id,
        subscription_id=message.subscription_id,
        attempt=message.attempts,
        started_at=now,
        duration_ms=0,
        error=error,
        outcome=outcome,
    )


def _claim(engine: Engine, config: DeliveryConfig, now: datetime, wanted: int) -> list[_Claimed]:
    claimed: list[_Claimed] = []
    misses = 0
    while len(claimed) < wanted and misses < 3:
        got = _claim_one(engine, config, now)
        if got is None:
            break
        if got is False:
            misses += 1
            continue
        assert isinstance(got, _Claimed)
        claimed.append(got)
    return claimed


def _attempt(client: httpx.Client, config: DeliveryConfig, job: _Claimed, now: datetime) -> _Result:
    """POST one message to the address its URL was just checked at; the answer's body is not read."""
    started = time.monotonic()

    def done(status: int | None = None, error: str | None = None) -> _Result:
        ms = int((time.monotonic() - started) * 1000)
        return _Result(now, ms, status, None if error is None else error[:300])

    try:
        target = check_url(job.url, allow_loopback=config.allow_insecure_loopback)
    except UrlRefused as exc:
        return done(error=f"refused: {exc}")
    parts = target.parts
    headers = {
        **signed_headers(job.secrets, job.message_id, int(time.time()), job.body),
        "content-type": "application/json",
        "host": parts.netloc,
        "user-agent": USER_AGENT,
    }
    # to the address just checked (a second DNS answer could point elsewhere); TLS still checks the name
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    try:
        url = httpx.URL(parts.geturl()).copy_with(host=str(target.addresses[0]))
        content = job.body.encode()
        with client.stream("POST", url, content=content, headers=headers, extensions=extensions) as answer:
            return done(status=answer.status_code)
    except httpx.TimeoutException:
        return done(error=f"timeout after {config.timeout_s:g} s")
    except Exception as exc:  # connection refused or reset, TLS, a URL httpx cannot send to: a failed attempt
        return done(error=f"{type(exc).__name__}: {exc}")


def _finish(engine: Engine, config: DeliveryConfig, job: _Claimed, result: _Result, now: datetime) -> str:
    """Record the attempt and the message's next state; the outcome."""
    status = result.status_code
    next_at: datetime | None = None
    if status is not None and 200 <= status < 300:
        outcome, state = "delivered", "delivered"
    elif status == 410:
        outcome, state = "disabled", "failed"
    elif job.attempt >= config.max_attempts:
        outcome, state = "failed", "failed"
    else:
        outcome, state = "retrying", "pending"
        next_at = now + timedelta(seconds=retry_delay(config, job.attempt))
    with Session(engine) as session:
        changed = session.execute(
            update(WebhookMessage)
            .where(
                col(WebhookMessage.id) == job.message_id,
                col(WebhookMessage.claim_token) == job.token,
                col(WebhookMessage.state) == "sending",
            )
            .values(
                state=state,
                claim_token=None,
                claim_until=None,
                next_attempt_at=next_at,
                finished_at=None if state == "pending" else now,
            )
        ).rowcount  # type: ignore[attr-defined]
        if not changed:  # cancelled meanwhile, or the claim ran out and another process took it
            outcome, next_at = "superseded", None
        if status == 410:
            sub = session.get(WebhookSubscription, job.subscription_id)
            if sub is not None and sub.status == ACTIVE:
                _disable(session, sub, "gone", now)
        session.add(
            WebhookAttempt(
                message_id=job.message_id,
                subscription_id=job.subscription_id,
                attempt=job.attempt,
                started_at=result.started_at,
                duration_ms=result.duration_ms,
                status_code=status,
                error=result.error,
                outcome=outcome,
                next_attempt_at=next_at,
            )
        )
        session.commit()
    return outcome


def deliver_due(
    engine: Engine,
    config: DeliveryConfig,
    now: datetime | None = None,
    *,
    stop: threading.Event | None = None,
) -> int:
    """One pass of the delivery worker: claim what is due (``config.concurrency`` at a time), POST it,
    record each attempt, until nothing is due or ``stop`` is set. Returns the attempts made. ``now``
    fixes the pass's clock (what is due, the log's times, the next attempt's time); the
    ``webhook-timestamp`` header is always the wall clock. Safe to run in several threads and processes
    at once: each message attempt is claimed by one of them."""
    attempts = 0
    client: httpx.Client | None = None
    pool: ThreadPoolExecutor | None = None
    try:
        while stop is None or not stop.is_set():
            moment = now or _now()
            jobs = _claim(engine, config, moment, config.concurrency)
            if not jobs:
                break
            if client is None:
                client = httpx.Client(
                    timeout=config.timeout_s, trust_env=False, follow_redirects=False, verify=True
                )
            if len(jobs) == 1:
                results = [_attempt(client, config, jobs[0], moment)]
            else:
                pool = pool or ThreadPoolExecutor(config.concurrency, thread_name_prefix="scf-webhook")
                results = list(
                    pool.map(_attempt, [client] * len(jobs), [config] * len(jobs), jobs, [moment] * len(jobs))
                )
            for job, result in zip(jobs, results, strict=True):
                _finish(engine, config, job, result, moment)
            attempts += len(jobs)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
        if client is not None:
            client.close()
    return attempts


def start_webhook_worker(
    engine: Engine, settings: Settings, stop: threading.Event, interval: float | None = None
) -> threading.Thread:
    """Deliver webhooks in the background: ``deliver_due`` every ``interval`` seconds (the setting
    ``webhook_worker_interval_seconds`` by default) until ``stop`` is set. Every gateway process runs one;
    the claims in the database keep them from sending one attempt twice."""
    config = delivery_config(settings)
    wait = config.interval_s if interval is None else interval

    def loop() -> None:
        while not stop.is_set():
            try:
                deliver_due(engine, config, stop=stop)
            except Exception as exc:
                fault = database_fault(exc)
                if fault is not None:  # locked or unreachable: an expected state, tried again next turn
                    log.warning("webhook worker: the database is %s; retrying in %.1fs", fault.reason, wait)
                else:
                    log.exception("webhook worker: a delivery pass failed; retrying in %.1fs", wait)
            stop.wait(wait)

    thread = threading.Thread(target=loop, name="scf-webhooks", daemon=True)
    thread.start()
    return thread


def stop_webhook_worker(stop: threading.Event, thread: threading.Thread, timeout: float = 30.0) -> None:
    """Stop the loop of ``start_webhook_worker`` and wait for its attempts in flight (each at most the
    attempt timeout) to be recorded."""
    stop.set()
    thread.join(timeout)
