"""API keys: made once, shown once, stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets

from sqlmodel import Session, select

from api.models import Participant


def new_api_key() -> tuple[str, str]:
    """A fresh API key and the hash to store."""
    key = "scf_" + secrets.token_urlsafe(32)
    return key, hash_api_key(key)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def participant_by_api_key(session: Session, key: str) -> Participant | None:
    return session.exec(select(Participant).where(Participant.api_key_hash == hash_api_key(key))).first()
