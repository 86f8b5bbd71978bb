"""Warehouse devices: their kinds, their binding, and their platform-CA certificates.

A device (a scale, a counter, a camera that counts, a thermometer-hygrometer, an electronic seal, a GPS
tag) is registered by its warehouse and gets an end-entity certificate from the platform CA, signed by
the same root as participants' (profile: :mod:`domain.identity.ca`). The certificate binds it:

==============  ========================================================================================
device id       subject ``commonName``: ``dev-`` + lower-case letters, digits, inner hyphens (<= 64)
binding         extension ``DEVICE_BINDING_OID``: canonical JSON (below)
purpose         EKU exactly ``DEVICE_READING_EKU_OID`` (never the document-signing purpose)
==============  ========================================================================================

The binding is canonical JSON: keys sorted, no whitespace, ASCII only, receipt ids ascending without
repetition, e.g.::

    {"kind":"scale","location":"SILO-4","lots":[7,9],"warehouse":"0x52908400098527886e0f7030069857d2e4169ee7"}

- ``warehouse``: the warehouse's chain address, ``0x`` + 40 lower-case hex digits (the issuer of the
  receipts on ``WarehouseReceipts``);
- ``location``: the storage location the device watches, as the receipt's ``location`` (a ``bytes32`` on
  chain: 1-32 ASCII letters, digits and ``. _ : / -``, starting and ending with a letter or digit); for a
  ``gps_tag`` it is the id of the geofence the goods must stay in (same syntax);
- ``kind``: a :class:`DeviceKind` value;
- ``lots``: the receipt ids (``WarehouseReceipts`` token ids, integers ``1 .. 2**53 - 1``) the device
  reports on, at most :data:`MAX_BOUND_RECEIPTS`. Receipt ids, not lot references: the id is what the
  gateway knows once a receipt is issued, and what a reading (``rid``) and an alert name.

A binding changes (new lots, a lot surrendered, the device moved to another location):
:func:`reissue_device_certificate` issues a new certificate (same device id, kind and warehouse; same
key unless a new one is given) and the caller revokes the old serial with reason ``superseded``. The
replay counter of readings is the device's, not the certificate's, so it runs on across re-issues.

Revocation is the caller's, as for participants: a set-like of revoked serials or a callable
(:data:`domain.identity.signing.RevocationCheck`), asked at every verification.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from domain.identity.ca import DEVICE_ID_PATTERN, CertificateAuthority, device_certificate_fields
from domain.identity.errors import CertificateProfileError
from domain.identity.signing import RevocationCheck
from domain.warehouse.errors import DeviceCertificateError

__all__ = [
    "LOCATION_PATTERN",
    "MAX_BOUND_RECEIPTS",
    "MAX_RECEIPT_ID",
    "DeviceBinding",
    "DeviceIdentity",
    "DeviceKind",
    "binding_json",
    "certificate_thumbprint",
    "device_from_certificate",
    "is_revoked",
    "issue_device_certificate",
    "parse_binding",
    "reissue_device_certificate",
]

#: A storage location or geofence id: fits a ``bytes32`` (the receipt's ``location`` on chain).
LOCATION_PATTERN = r"\A[A-Za-z0-9](?:[A-Za-z0-9._:/-]{0,30}[A-Za-z0-9])?\Z"
#: The most receipts one device certificate binds.
MAX_BOUND_RECEIPTS = 256
#: Receipt ids, sequence numbers and times are JSON integers every parser reads exactly (RFC 7493 I-JSON).
MAX_RECEIPT_ID = 2**53 - 1

_DEVICE_ID_RE = re.compile(DEVICE_ID_PATTERN)
_LOCATION_RE = re.compile(LOCATION_PATTERN)
_WAREHOUSE_RE = re.compile(r"\A0x[0-9a-f]{40}\Z")
_BINDING_KEYS = frozenset({"kind", "location", "lots", "warehouse"})


class DeviceKind(StrEnum):
    """What a device is, and so what it may measure (``domain.warehouse.readings.KIND_MEASUREMENTS``)."""

    SCALE = "scale"
    COUNTER = "counter"
    CAMERA = "camera"  # counts pieces
    THERMOMETER = "thermometer"  # temperature and relative humidity
    SEAL = "seal"
    GPS_TAG = "gps_tag"


# --------------------------------------------------------------------------------------------------
# Binding
# --------------------------------------------------------------------------------------------------


def _check_receipt_id(value: object) -> int:
    if type(value) is not int or not 1 <= value <= MAX_RECEIPT_ID:
        raise ValueError(f"receipt ids are integers 1..{MAX_RECEIPT_ID}")
    return value


@dataclass(frozen=True)
class DeviceBinding:
    """What a device certificate binds a device to. Validated on creation (``ValueError``).

    ``warehouse`` is stored lower-case; ``receipt_ids`` becomes a ``frozenset``.
    """

    device_id: str
    kind: DeviceKind
    warehouse: str
    location: str
    receipt_ids: frozenset[int]

    def __post_init__(self) -> None:
        if not isinstance(self.device_id, str) or not _DEVICE_ID_RE.match(self.device_id):
            raise ValueError("device_id must be dev- followed by lower-case letters, digits and hyphens")
        object.__setattr__(self, "kind", DeviceKind(self.kind))
        warehouse = self.warehouse.lower() if isinstance(self.warehouse, str) else ""
        if not _WAREHOUSE_RE.match(warehouse):
            raise ValueError("warehouse must be a chain address, 0x followed by 40 hex digits")
        object.__setattr__(self, "warehouse", warehouse)
        if not isinstance(self.location, str) or not _LOCATION_RE.match(self.location):
            raise ValueError("location must be 1-32 ASCII letters, digits or . _ : / - (a bytes32 on chain)")
        ids = frozenset(_check_receipt_id(r) for r in self.receipt_ids)
        if len(ids) > MAX_BOUND_RECEIPTS:
            raise ValueError(f"a device is bound to at most {MAX_BOUND_RECEIPTS} receipts")
        object.__setattr__(self, "receipt_ids", ids)


def binding_json(binding: DeviceBinding) -> str:
    """The canonical JSON of ``binding`` as the certificate carries it (device id aside: it is the CN)."""
    return json.dumps(
        {
            "kind": binding.kind.value,
            "location": binding.location,
            "lots": sorted(binding.receipt_ids),
            "warehouse": binding.warehouse,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )


def parse_binding(text: str, device_id: str) -> DeviceBinding:
    """The binding of ``device_id`` in ``text``, which must be *exactly* its canonical JSON.

    Raises ``ValueError`` for anything else: other or missing keys, wrong types, a float, a duplicate
    key or receipt id, unsorted receipt ids, whitespace, non-ASCII escapes.
    """
    try:
        raw: Any = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("binding is not JSON") from None
    if not isinstance(raw, dict) or set(raw) != _BINDING_KEYS:
        raise ValueError(f"binding must be an object of exactly {sorted(_BINDING_KEYS)}")
    lots = raw["lots"]
    if not isinstance(lots, list) or not all(type(r) is int for r in lots):
        raise ValueError("binding lots must be a list of receipt ids (integers)")
    kind, location, warehouse = raw["kind"], raw["location"], raw["warehouse"]
    if not all(isinstance(v, str) for v in (kind, location, warehouse)):
        raise ValueError("binding kind, location and warehouse must be strings")
    try:
        kind = DeviceKind(kind)
    except ValueError:
        raise ValueError(f"binding kind {kind!r} is not a device kind") from None
    if warehouse != warehouse.lower():
        raise ValueError("binding warehouse must be lower-case")
    binding = DeviceBinding(device_id, kind, warehouse, location, frozenset(lots))
    if binding_json(binding) != text:
        raise ValueError("binding is not in canonical form (sorted keys and ids, no spaces, no repeats)")
    return binding


# --------------------------------------------------------------------------------------------------
# Identity read from a certificate
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceIdentity:
    """Who a device certificate names and binds, with the certificate's serial and validity (UTC)."""

    device_id: str
    kind: DeviceKind
    warehouse: str
    location: str
    receipt_ids: frozenset[int]
    serial: int
    not_before: datetime
    not_after: datetime

    @property
    def binding(self) -> DeviceBinding:
        """The binding alone (what a re-issue starts from)."""
        return DeviceBinding(self.device_id, self.kind, self.warehouse, self.location, self.receipt_ids)

    def valid_at(self, unix_seconds: int) -> bool:
        """Whether the certificate was valid at ``unix_seconds`` (both ends included, as RFC 5280)."""
        return self.not_before.timestamp() <= unix_seconds <= self.not_after.timestamp()


def device_from_certificate(certificate: x509.Certificate) -> DeviceIdentity:
    """Read and check the device profile of ``certificate`` strictly.

    Raises :class:`~domain.warehouse.errors.DeviceCertificateError` (``DEVICE_CERT_PROFILE_INVALID``)
    when it is not a device certificate (a CA, a participant's certificate, another key, a missing
    or extra extension, a wrong key usage or EKU) or its binding is not canonical JSON. Neither the
    issuer nor the validity nor revocation is checked here: :func:`domain.warehouse.readings.verify_reading`
    does.
    """
    try:
        device_id, text = device_certificate_fields(certificate)
        binding = parse_binding(text, device_id)
    except CertificateProfileError as exc:
        raise DeviceCertificateError(exc.message) from None
    except ValueError as exc:
        raise DeviceCertificateError(f"device binding is malformed: {exc}") from None
    return DeviceIdentity(
        device_id=binding.device_id,
        kind=binding.kind,
        warehouse=binding.warehouse,
        location=binding.location,
        receipt_ids=binding.receipt_ids,
        serial=certificate.serial_number,
        not_before=certificate.not_valid_before_utc.astimezone(UTC),
        not_after=certificate.not_valid_after_utc.astimezone(UTC),
    )


# --------------------------------------------------------------------------------------------------
# Issuing
# --------------------------------------------------------------------------------------------------


def issue_device_certificate(
    ca: CertificateAuthority,
    public_key: ec.EllipticCurvePublicKey,
    binding: DeviceBinding,
    *,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> x509.Certificate:
    """Issue the certificate of a device registered by its warehouse.

    That the caller is that warehouse (an appointed, active ``Logistics`` participant whose chain
    address is ``binding.warehouse``) and that the receipts are its own is the gateway's to check.
    ``not_before`` defaults to now, ``not_after`` to a year later. Raises ``ValueError`` (key not
    P-256, validity outside the CA's).
    """
    return ca.issue_device_certificate(
        public_key, binding.device_id, binding_json(binding), not_before=not_before, not_after=not_after
    )


def reissue_device_certificate(
    ca: CertificateAuthority,
    certificate: x509.Certificate,
    *,
    location: str | None = None,
    receipt_ids: Iterable[int] | None = None,
    public_key: ec.EllipticCurvePublicKey | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> x509.Certificate:
    """A new certificate for the device of ``certificate`` with a changed binding.

    The device id, kind and warehouse stay (another warehouse or kind is another device); ``location``
    and ``receipt_ids`` replace the old ones when given; ``public_key`` defaults to the old key. The
    caller must then revoke ``certificate.serial_number`` (``RevocationReason.SUPERSEDED``): until it
    does, both certificates verify, each with its own binding. Raises
    :class:`~domain.warehouse.errors.DeviceCertificateError` if ``certificate`` is no device
    certificate, ``ValueError`` for a bad new binding.
    """
    old = device_from_certificate(certificate)
    key = public_key
    if key is None:
        old_key = certificate.public_key()
        assert isinstance(old_key, ec.EllipticCurvePublicKey)  # the profile checked it
        key = old_key
    binding = DeviceBinding(
        old.device_id,
        old.kind,
        old.warehouse,
        old.location if location is None else location,
        old.receipt_ids if receipt_ids is None else frozenset(receipt_ids),
    )
    return issue_device_certificate(ca, key, binding, not_before=not_before, not_after=not_after)


# --------------------------------------------------------------------------------------------------
# Helpers shared with the verifiers
# --------------------------------------------------------------------------------------------------


def certificate_thumbprint(certificate: x509.Certificate | bytes) -> str:
    """The RFC 7515 ``x5t#S256`` of a certificate: base64url (no padding) of the SHA-256 of its DER.

    The gateway indexes the device certificates it issued by this value; a reading names its
    certificate with it.
    """
    der = (
        certificate
        if isinstance(certificate, bytes)
        else certificate.public_bytes(serialization.Encoding.DER)
    )
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode("ascii")


def is_revoked(check: RevocationCheck, serial: int) -> bool:
    """Whether ``check`` (a set-like of serials, or a callable asked with the serial) says revoked.

    Exceptions of the callable propagate: nothing is accepted without an answer.
    """
    if callable(check):
        return bool(check(serial))
    return serial in check
