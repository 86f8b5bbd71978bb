"""Web portal sessions: an API key exchanged for a cookie, so the key never stays in the browser.

The browser gets a random token (an HttpOnly cookie, ``api.routes.portal``); the database keeps its
SHA-256, who signed in, the hash of the API key used, and a CSRF token that the portal's scripts send
back in ``X-CSRF-Token`` on every state-changing request (``api.auth``). A session ends on sign-out,
after ``portal_idle_minutes`` without a request, ``portal_max_hours`` after its sign-in, and when the
participant's API key is replaced (the hash no longer matches). Every request authenticated by a
session is then authorized exactly as one with the key itself: same roles, same suspension rules.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col

from api.errors import ApiError
from api.models import Participant, PortalSession
from api.services.api_keys import hash_api_key, participant_by_api_key
from api.settings import Settings

#: how stale ``last_seen`` may get before a request writes it again (a read does not write every time)
TOUCH_EVERY = timedelta(seconds=30)


@dataclass(frozen=True)
class Opened:
    """A new session: the cookie's token (shown once, to the browser) and what the pages need."""

    token: str
    csrf_token: str
    participant: Participant | None  # None: the operator
    expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; every one stored here is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def open_session(settings: Settings, session: Session, api_key: str) -> Opened:
    """Sign in with an API key (a participant's, or the operator's). A suspended participant may sign
    in: it may still repay and redeem, as with its key; every other action refuses it as the API does.
    Expired sessions of anyone are removed on the way."""
    now = datetime.now(UTC)
    session.exec(delete(PortalSession).where(col(PortalSession.expires_at) < now))
    participant: Participant | None = None
    if hmac.compare_digest(api_key.encode(), settings.effective_operator_api_key.encode()):
        key_hash = hash_api_key(settings.effective_operator_api_key)
    else:
        participant = participant_by_api_key(session, api_key)
        if participant is None or participant.status not in ("active", "suspended"):
            raise ApiError(401, "UNAUTHENTICATED", "The API key is not valid.")
        key_hash = participant.api_key_hash
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    row = PortalSession(
        token_hash=_hash(token),
        participant_id=participant.id if participant else None,
        key_hash=key_hash,
        csrf_token=csrf,
        created_at=now,
        last_seen=now,
        expires_at=now + timedelta(hours=settings.portal_max_hours),
    )
    session.add(row)
    session.commit()
    return Opened(token, csrf, participant, row.expires_at)


def session_of(settings: Settings, session: Session, token: str) -> PortalSession:
    """The live session of a cookie's token, its ``last_seen`` moved on; 401 ``SESSION_EXPIRED`` when
    there is none (signed out, idle too long, past its end, or its API key replaced)."""
    row = session.get(PortalSession, _hash(token))
    now = datetime.now(UTC)
    expired = session_expired()
    if row is None:
        raise expired
    idle_end = _aware(row.last_seen) + timedelta(minutes=settings.portal_idle_minutes)
    if now >= _aware(row.expires_at) or now >= idle_end or not _key_still_valid(settings, session, row):
        session.delete(row)
        session.commit()
        raise expired
    if now - _aware(row.last_seen) >= TOUCH_EVERY:
        row.last_seen = now
        session.add(row)
        session.commit()
    return row


def _key_still_valid(settings: Settings, session: Session, row: PortalSession) -> bool:
    if row.participant_id is None:
        return hmac.compare_digest(row.key_hash, hash_api_key(settings.effective_operator_api_key))
    participant = session.get(Participant, row.participant_id)
    return participant is not None and hmac.compare_digest(row.key_hash, participant.api_key_hash)


def session_expired() -> ApiError:
    """401 ``SESSION_EXPIRED``: the answer to a cookie whose session is gone."""
    return ApiError(401, "SESSION_EXPIRED", "Your portal session has ended. Sign in again.")


def require_csrf(row: PortalSession, sent: str | None) -> None:
    """403 ``CSRF_TOKEN_INVALID`` unless a request's ``X-CSRF-Token`` is its session's."""
    if sent is None or not hmac.compare_digest(row.csrf_token.encode(), sent.encode()):
        raise ApiError(
            403,
            "CSRF_TOKEN_INVALID",
            "This request did not come from a portal page. Reload the page and retry.",
        )


def close_session(session: Session, token: str) -> None:
    """Sign out: the session is gone (a second sign-out does nothing)."""
    session.exec(delete(PortalSession).where(col(PortalSession.token_hash) == _hash(token)))
    session.commit()


def sign_out(settings: Settings, session: Session, token: str, csrf: str | None) -> None:
    """End the session of ``token`` when the request carries its CSRF token (403 otherwise: a page of
    another site must not sign a user out)."""
    require_csrf(session_of(settings, session, token), csrf)
    close_session(session, token)
