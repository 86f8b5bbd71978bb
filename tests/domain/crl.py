"""Revocation lists and X.509 CRLs, for tests only.

The gateway keeps revocations in its database (``api.models.CertificateRevocation``) and hands the
verifier the set of revoked serials; it neither exports nor reads CRLs. The tests use these to check
that the platform root can sign a CRL (``cRLSign``) whose reasons are the ``RevocationReason`` codes,
and to give the signature tests revocations with times (``is_revoked(serial, at=...)``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from domain.identity import CertificateAuthority, RevocationReason
from domain.identity.ca import _require_aware, _utc

_REASON_FLAGS: dict[RevocationReason, x509.ReasonFlags] = {
    RevocationReason.UNSPECIFIED: x509.ReasonFlags.unspecified,
    RevocationReason.KEY_COMPROMISE: x509.ReasonFlags.key_compromise,
    RevocationReason.AFFILIATION_CHANGED: x509.ReasonFlags.affiliation_changed,
    RevocationReason.SUPERSEDED: x509.ReasonFlags.superseded,
    RevocationReason.CESSATION_OF_OPERATION: x509.ReasonFlags.cessation_of_operation,
    RevocationReason.PRIVILEGE_WITHDRAWN: x509.ReasonFlags.privilege_withdrawn,
}


@dataclass(frozen=True)
class Revocation:
    """One revoked certificate: its serial number, when it was revoked, and why."""

    serial_number: int
    revoked_at: datetime
    reason: RevocationReason = RevocationReason.UNSPECIFIED

    def __post_init__(self) -> None:
        _require_aware(self.revoked_at, "revoked_at")
        object.__setattr__(self, "revoked_at", self.revoked_at.astimezone(UTC))
        object.__setattr__(self, "reason", RevocationReason(self.reason))


class RevocationList:
    """Serializable set of revocations, keyed by certificate serial number.

    ``serial in revocations`` is True for any recorded revocation, which is what signature
    verification uses (a certificate revoked now is refused now). Persist it with
    :meth:`to_json` / :meth:`from_json`, or keep the rows in a database and pass the verifier a
    callable instead.
    """

    def __init__(self, revocations: Iterable[Revocation] = ()) -> None:
        self._entries: dict[int, Revocation] = {}
        for r in revocations:
            self.add(r)

    def add(self, revocation: Revocation) -> Revocation:
        """Record ``revocation``; if the serial is already revoked, keep the earlier record."""
        existing = self._entries.get(revocation.serial_number)
        if existing is not None and existing.revoked_at <= revocation.revoked_at:
            return existing
        self._entries[revocation.serial_number] = revocation
        return revocation

    def revoke(
        self,
        serial_number: int,
        *,
        revoked_at: datetime,
        reason: RevocationReason = RevocationReason.UNSPECIFIED,
    ) -> Revocation:
        return self.add(Revocation(serial_number, revoked_at, reason))

    def get(self, serial_number: int) -> Revocation | None:
        return self._entries.get(serial_number)

    def is_revoked(self, serial_number: int, *, at: datetime | None = None) -> bool:
        """Revoked at all (``at=None``), or revoked at or before ``at``."""
        entry = self._entries.get(serial_number)
        if entry is None:
            return False
        if at is None:
            return True
        return entry.revoked_at <= _require_aware(at, "at")

    def __contains__(self, serial_number: object) -> bool:
        return serial_number in self._entries

    def __iter__(self) -> Iterator[Revocation]:
        return iter(sorted(self._entries.values(), key=lambda r: (r.revoked_at, r.serial_number)))

    def __len__(self) -> int:
        return len(self._entries)

    def to_json(self) -> str:
        """JSON list of ``{"serial": "<decimal>", "revoked_at": "<ISO 8601>", "reason": "..."}``.

        Serials are decimal strings: they are up to 159 bits, beyond JSON-safe integers.
        """
        return json.dumps(
            [
                {
                    "serial": str(r.serial_number),
                    "revoked_at": r.revoked_at.isoformat(),
                    "reason": r.reason.value,
                }
                for r in self
            ]
        )

    @classmethod
    def from_json(cls, text: str) -> RevocationList:
        rows = json.loads(text)
        if not isinstance(rows, list):
            raise ValueError("revocation list JSON must be a list")
        return cls(
            Revocation(
                serial_number=int(row["serial"]),
                revoked_at=datetime.fromisoformat(row["revoked_at"]),
                reason=RevocationReason(row["reason"]),
            )
            for row in rows
        )

    @classmethod
    def from_crl(
        cls, crl: x509.CertificateRevocationList, ca_certificate: x509.Certificate
    ) -> RevocationList:
        """Read a CRL signed by the platform CA (raises ``ValueError`` if it is not)."""
        ca_key = ca_certificate.public_key()
        if crl.issuer != ca_certificate.subject or not isinstance(ca_key, ec.EllipticCurvePublicKey):
            raise ValueError("CRL was not issued by this CA")
        if not crl.is_signature_valid(ca_key):
            raise ValueError("CRL signature is not valid")
        out = cls()
        for rc in crl:
            reason = RevocationReason.UNSPECIFIED
            try:
                flag = rc.extensions.get_extension_for_class(x509.CRLReason).value.reason
                reason = next(
                    (r for r in RevocationReason if _REASON_FLAGS[r] == flag), RevocationReason.UNSPECIFIED
                )
            except x509.ExtensionNotFound:
                pass
            out.add(Revocation(rc.serial_number, rc.revocation_date_utc, reason))
        return out


def sign_crl(
    ca: CertificateAuthority,
    revocations: RevocationList,
    *,
    crl_number: int,
    this_update: datetime | None = None,
    next_update: datetime | None = None,
) -> x509.CertificateRevocationList:
    """Export ``revocations`` as an X.509 CRL signed by ``ca`` (``.public_bytes(DER)`` to store).

    ``crl_number`` must increase with every CRL the CA publishes. ``next_update`` defaults to
    seven days after ``this_update``.
    """
    start = _utc(this_update, "this_update")
    end = _utc(next_update, "next_update") if next_update is not None else start + timedelta(days=7)
    if end <= start:
        raise ValueError("next_update must be after this_update")
    ca_ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(start)
        .next_update(end)
        .add_extension(x509.CRLNumber(crl_number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
    )
    for r in revocations:
        entry = x509.RevokedCertificateBuilder().serial_number(r.serial_number).revocation_date(r.revoked_at)
        if r.reason is not RevocationReason.UNSPECIFIED:  # RFC 5280: omit rather than write unspecified
            entry = entry.add_extension(x509.CRLReason(_REASON_FLAGS[r.reason]), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(ca.private_key, hashes.SHA256())
