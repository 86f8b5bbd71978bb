"""Alert rules over verified readings, and the clearing of an alert by its warehouse.

Pure functions: given the receipt's facts, a verified reading (which carries its device's identity) and
the receipt's open alert codes, they say which alerts to record (``recordAlert(receiptId, code,
evidenceHash)``). An alert whose code is already open on the receipt is not raised again.

- ``WEIGHT_BELOW_RECEIPT``: a scale weighs less than the receipt's quantity in kg (``KGM``: quantity;
  ``TNE``: quantity x 1,000) by more than ``weight_tolerance_bps`` (default 200 bps, 2 %, for scale
  noise), compared exactly in integers: ``weight * 10,000 < quantity_kg * (10,000 - tolerance)``;
- ``COUNT_BELOW_RECEIPT``: a counter or camera counts fewer pieces than an ``H87`` receipt's quantity by
  more than ``count_tolerance_bps`` (default 200 bps), the same comparison;
- ``SEAL_OPENED``: a seal reports ``"open"``;
- ``OUTSIDE_GEOFENCE``: a GPS tag reports ``"outside"`` its geofence;
- ``TEMPERATURE_OUT_OF_RANGE``: a thermometer's temperature *or relative humidity* is outside the
  commodity's :class:`ClimateRange` (:data:`COMMODITY_RANGES`, the caller's to override); a commodity
  without a range has no such rule. Humidity is part of the storage climate, so of this code;
- ``DEVICE_SILENT``: a device bound to the receipt has sent nothing for longer than its heartbeat
  interval (:func:`silent_devices`, :func:`silence_alerts`).

An alert's evidence hash is the digest of the reading that raised it (``VerifiedReading.digest``); for
``DEVICE_SILENT``, which no reading raises, the SHA-256 of the canonical JSON of the silence (device ids
and when each was last seen, the heartbeat, ``now``, the receipt), kept in the alert's ``facts``.

**Clearing.** The warehouse that issued the receipt clears an alert with a signed explanation and new
readings (``clearAlert(alertId, explanationHash)``):

- :func:`sign_explanation` / :func:`verify_explanation`: a compact JWS (ES256) by the warehouse's
  *participant* key, its certificate in ``x5c`` and checked against the platform root and the
  participant profile exactly as document signatures are (:mod:`domain.identity.signing`), role
  ``Logistics``, chain address the receipt's warehouse. It is not a
  :func:`~domain.identity.signing.sign_detached` signature because that profile binds a UBL
  :class:`~domain.documents.model.DocumentKind`; an explanation is no trade document, and signing it
  as one (say a ``ReceiptAdvice``) would let one be taken for the other. Its own ``typ``
  (``scf-clearance+jwt``) keeps it apart from readings and prices.
- :func:`explanation_digest`: the ``explanationHash`` recorded on chain.
- :func:`rule_cleared`: whether the new readings no longer trigger the rule.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, NoReturn

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from domain.identity.ca import ParticipantIdentity
from domain.identity.signing import RevocationCheck
from domain.roles import Role
from domain.text import check_text
from domain.warehouse.errors import ExplanationError, WarehouseErrorCode
from domain.warehouse.readings import (
    DEFAULT_MAX_AGE_S,
    DEFAULT_MAX_SKEW_S,
    MAX_INT,
    Measurement,
    ReceiptFacts,
    SignerCodes,
    VerifiedReading,
    anchors_of,
    jws_header,
    jws_sign,
    jws_split,
    strict_json,
    trusted_signer,
    x5c_entry,
)

__all__ = [
    "BPS",
    "COMMODITY_RANGES",
    "DEFAULT_RULE_SETTINGS",
    "EXPLANATION_TYP",
    "MAX_EXPLANATION_CHARS",
    "Alert",
    "AlertCode",
    "ClimateRange",
    "RuleSettings",
    "VerifiedExplanation",
    "code_bytes32",
    "evaluate_reading",
    "evaluate_readings",
    "explanation_digest",
    "rule_cleared",
    "sign_explanation",
    "silence_alerts",
    "silent_devices",
    "verify_explanation",
]

BPS: Final = 10_000


class AlertCode(StrEnum):
    """The rules' codes, written on chain as ``bytes32`` (:func:`code_bytes32`)."""

    WEIGHT_BELOW_RECEIPT = "WEIGHT_BELOW_RECEIPT"
    COUNT_BELOW_RECEIPT = "COUNT_BELOW_RECEIPT"
    SEAL_OPENED = "SEAL_OPENED"
    OUTSIDE_GEOFENCE = "OUTSIDE_GEOFENCE"
    TEMPERATURE_OUT_OF_RANGE = "TEMPERATURE_OUT_OF_RANGE"
    DEVICE_SILENT = "DEVICE_SILENT"


def code_bytes32(code: str) -> bytes:
    """An alert code as Solidity's ``bytes32("SEAL_OPENED")``: ASCII, left-aligned, zero-padded to 32."""
    raw = code.encode("ascii")
    if not raw or len(raw) > 32:
        raise ValueError("an alert code is 1-32 ASCII characters")
    return raw.ljust(32, b"\0")


@dataclass(frozen=True)
class ClimateRange:
    """Where a commodity may be stored: temperature in tenths of a degree Celsius, relative humidity
    per mille, bounds included."""

    min_temp_dc: int
    max_temp_dc: int
    min_rh_pm: int
    max_rh_pm: int

    def __post_init__(self) -> None:
        values = (self.min_temp_dc, self.max_temp_dc, self.min_rh_pm, self.max_rh_pm)
        if not all(type(v) is int for v in values):
            raise ValueError("climate bounds are integers (dC, per mille)")
        if self.min_temp_dc > self.max_temp_dc or self.min_rh_pm > self.max_rh_pm:
            raise ValueError("a climate range's minimum is at most its maximum")


#: Grain in storage: at most 25.0 degrees Celsius and 700 per mille relative humidity (no lower bound
#: of note: -60.0 degrees, the thermometer's own). The caller may pass another table.
_GRAIN = ClimateRange(min_temp_dc=-600, max_temp_dc=250, min_rh_pm=0, max_rh_pm=700)
COMMODITY_RANGES: Mapping[str, ClimateRange] = MappingProxyType(
    {"SOYBEAN": _GRAIN, "WHEAT": _GRAIN, "CORN": _GRAIN}
)


@dataclass(frozen=True)
class RuleSettings:
    """The rules' settings: tolerances in basis points (of the receipt's quantity) and climate ranges."""

    weight_tolerance_bps: int = 200
    count_tolerance_bps: int = 200
    commodity_ranges: Mapping[str, ClimateRange] = field(default_factory=lambda: COMMODITY_RANGES)

    def __post_init__(self) -> None:
        for bps in (self.weight_tolerance_bps, self.count_tolerance_bps):
            if type(bps) is not int or not 0 <= bps < BPS:
                raise ValueError("a tolerance is an integer 0..9,999 basis points")


DEFAULT_RULE_SETTINGS: Final = RuleSettings()


@dataclass(frozen=True)
class Alert:
    """An alert to record: its code, the receipt, a message for people, and the evidence.

    ``evidence_hash`` (32 bytes) is what ``recordAlert`` records; ``readings`` the digests of the
    readings that raised it (none for ``DEVICE_SILENT``), ``devices`` their devices, ``facts`` the
    numbers the rule compared.
    """

    code: AlertCode
    receipt_id: int
    message: str
    evidence_hash: bytes = field(repr=False)
    readings: tuple[bytes, ...] = field(repr=False)
    devices: tuple[str, ...]
    facts: Mapping[str, int | str]

    @property
    def code_bytes32(self) -> bytes:
        """The ``bytes32 code`` argument of ``recordAlert``."""
        return code_bytes32(self.code)


def _percent(bps: int) -> str:
    return f"{bps // 100}.{bps % 100:02d} %"


def _from_reading(
    code: AlertCode, reading: VerifiedReading, message: str, facts: Mapping[str, int | str]
) -> Alert:
    return Alert(
        code=code,
        receipt_id=reading.receipt_id,
        message=message,
        evidence_hash=reading.digest,
        readings=(reading.digest,),
        devices=(reading.device.device_id,),
        facts=MappingProxyType({"seq": reading.seq, "iat": reading.iat, **facts}),
    )


def _weight_short(receipt: ReceiptFacts, reading: VerifiedReading, tolerance_bps: int) -> Alert | None:
    weight = reading.measurements.get(Measurement.WEIGHT_KG)
    expected = receipt.quantity_kg
    if not isinstance(weight, int) or expected is None:
        return None
    if weight * BPS >= expected * (BPS - tolerance_bps):
        return None
    short_bps = (expected - weight) * BPS // expected
    return _from_reading(
        AlertCode.WEIGHT_BELOW_RECEIPT,
        reading,
        f"{reading.device.device_id} weighed {weight:,} kg on receipt {receipt.receipt_id}, "
        f"{_percent(short_bps)} below its {expected:,} kg (tolerance {_percent(tolerance_bps)})",
        {"weight_kg": weight, "expected_kg": expected, "tolerance_bps": tolerance_bps},
    )


def _count_short(receipt: ReceiptFacts, reading: VerifiedReading, tolerance_bps: int) -> Alert | None:
    count = reading.measurements.get(Measurement.COUNT)
    expected = receipt.quantity_pieces
    if not isinstance(count, int) or expected is None:
        return None
    if count * BPS >= expected * (BPS - tolerance_bps):
        return None
    short_bps = (expected - count) * BPS // expected
    return _from_reading(
        AlertCode.COUNT_BELOW_RECEIPT,
        reading,
        f"{reading.device.device_id} counted {count:,} pieces on receipt {receipt.receipt_id}, "
        f"{_percent(short_bps)} below its {expected:,} (tolerance {_percent(tolerance_bps)})",
        {"count": count, "expected": expected, "tolerance_bps": tolerance_bps},
    )


def _seal_opened(receipt: ReceiptFacts, reading: VerifiedReading) -> Alert | None:
    if reading.measurements.get(Measurement.SEAL) != "open":
        return None
    return _from_reading(
        AlertCode.SEAL_OPENED,
        reading,
        f"seal {reading.device.device_id} on receipt {receipt.receipt_id}'s goods reports open",
        {"seal": "open"},
    )


def _outside(receipt: ReceiptFacts, reading: VerifiedReading) -> Alert | None:
    if reading.measurements.get(Measurement.GEO) != "outside":
        return None
    return _from_reading(
        AlertCode.OUTSIDE_GEOFENCE,
        reading,
        f"{reading.device.device_id} reports receipt {receipt.receipt_id}'s goods outside geofence "
        f"{reading.location}",
        {"geo": "outside", "geofence": reading.location},
    )


def _climate(receipt: ReceiptFacts, reading: VerifiedReading, settings: RuleSettings) -> Alert | None:
    bounds = settings.commodity_ranges.get(receipt.commodity)
    if bounds is None:
        return None
    temp = reading.measurements.get(Measurement.TEMP_DC)
    rh = reading.measurements.get(Measurement.RH_PM)
    problems: list[str] = []
    facts: dict[str, int | str] = {}
    if isinstance(temp, int) and not bounds.min_temp_dc <= temp <= bounds.max_temp_dc:
        problems.append(f"temperature {temp} dC outside {bounds.min_temp_dc}..{bounds.max_temp_dc} dC")
        facts.update(temp_dc=temp, min_temp_dc=bounds.min_temp_dc, max_temp_dc=bounds.max_temp_dc)
    if isinstance(rh, int) and not bounds.min_rh_pm <= rh <= bounds.max_rh_pm:
        problems.append(f"relative humidity {rh} per mille outside {bounds.min_rh_pm}..{bounds.max_rh_pm}")
        facts.update(rh_pm=rh, min_rh_pm=bounds.min_rh_pm, max_rh_pm=bounds.max_rh_pm)
    if not problems:
        return None
    return _from_reading(
        AlertCode.TEMPERATURE_OUT_OF_RANGE,
        reading,
        f"{reading.device.device_id} on receipt {receipt.receipt_id} ({receipt.commodity}): "
        + "; ".join(problems),
        facts,
    )


def _triggered(receipt: ReceiptFacts, reading: VerifiedReading, settings: RuleSettings) -> list[Alert]:
    found = (
        _weight_short(receipt, reading, settings.weight_tolerance_bps),
        _count_short(receipt, reading, settings.count_tolerance_bps),
        _seal_opened(receipt, reading),
        _outside(receipt, reading),
        _climate(receipt, reading, settings),
    )
    return [a for a in found if a is not None]


def evaluate_reading(
    receipt: ReceiptFacts,
    reading: VerifiedReading,
    *,
    open_codes: Collection[str] = (),
    settings: RuleSettings = DEFAULT_RULE_SETTINGS,
) -> list[Alert]:
    """The alerts one verified reading raises on its receipt, leaving out codes already open there.

    @param receipt the facts of the receipt the reading reports on (``ValueError`` if another).
    @param reading a reading :func:`~domain.warehouse.readings.verify_reading` accepted.
    @param open_codes the codes of the receipt's open (recorded, not cleared) alerts.
    @param settings tolerances and climate ranges.
    @return at most one alert a code, in the order of the table above.
    """
    if reading.receipt_id != receipt.receipt_id:
        raise ValueError(f"reading is on receipt {reading.receipt_id}, not {receipt.receipt_id}")
    return [a for a in _triggered(receipt, reading, settings) if a.code not in open_codes]


def evaluate_readings(
    receipt: ReceiptFacts,
    readings: Iterable[VerifiedReading],
    *,
    open_codes: Collection[str] = (),
    settings: RuleSettings = DEFAULT_RULE_SETTINGS,
) -> list[Alert]:
    """:func:`evaluate_reading` over readings in order, each alert raised counted open for the next."""
    opened = set(open_codes)
    out: list[Alert] = []
    for reading in readings:
        for alert in evaluate_reading(receipt, reading, open_codes=opened, settings=settings):
            opened.add(alert.code)
            out.append(alert)
    return out


# --------------------------------------------------------------------------------------------------
# Silent devices
# --------------------------------------------------------------------------------------------------


def silent_devices(last_seen: Mapping[str, int], heartbeat_s: int, now: int) -> list[str]:
    """The devices (sorted ids) last seen more than ``heartbeat_s`` seconds before ``now``.

    ``last_seen`` maps a device id to the ``iat`` (unix seconds) of its last accepted reading; the
    gateway enters a new device with the time it registered it, so a device that never spoke falls
    silent too.
    """
    if heartbeat_s <= 0:
        raise ValueError("heartbeat_s must be positive")
    return sorted(device for device, seen in last_seen.items() if now - seen > heartbeat_s)


def silence_alerts(
    receipt: ReceiptFacts,
    last_seen: Mapping[str, int],
    heartbeat_s: int,
    now: int,
    *,
    open_codes: Collection[str] = (),
) -> list[Alert]:
    """One ``DEVICE_SILENT`` alert for ``receipt`` if any of its devices is silent and none is open.

    ``last_seen`` covers the devices bound to the receipt. The evidence hash is the SHA-256 of the
    canonical JSON (sorted keys, no spaces) of ``{"code", "devices": {id: last seen}, "heartbeat_s",
    "now", "rid"}``.
    """
    silent = silent_devices(last_seen, heartbeat_s, now)
    if not silent or AlertCode.DEVICE_SILENT in open_codes:
        return []
    statement = {
        "code": AlertCode.DEVICE_SILENT.value,
        "devices": {d: last_seen[d] for d in silent},
        "heartbeat_s": heartbeat_s,
        "now": now,
        "rid": receipt.receipt_id,
    }
    canonical = json.dumps(statement, sort_keys=True, separators=(",", ":"))
    longest = max(now - last_seen[d] for d in silent)
    return [
        Alert(
            code=AlertCode.DEVICE_SILENT,
            receipt_id=receipt.receipt_id,
            message=(
                f"{', '.join(silent)} on receipt {receipt.receipt_id} silent for up to {longest:,} s "
                f"(heartbeat {heartbeat_s:,} s)"
            ),
            evidence_hash=hashlib.sha256(canonical.encode("ascii")).digest(),
            readings=(),
            devices=tuple(silent),
            facts=MappingProxyType({"statement": canonical}),
        )
    ]


# --------------------------------------------------------------------------------------------------
# Clearing
# --------------------------------------------------------------------------------------------------

_RULE_MEASUREMENTS: Mapping[AlertCode, frozenset[str]] = MappingProxyType(
    {
        AlertCode.WEIGHT_BELOW_RECEIPT: frozenset({Measurement.WEIGHT_KG}),
        AlertCode.COUNT_BELOW_RECEIPT: frozenset({Measurement.COUNT}),
        AlertCode.SEAL_OPENED: frozenset({Measurement.SEAL}),
        AlertCode.OUTSIDE_GEOFENCE: frozenset({Measurement.GEO}),
        AlertCode.TEMPERATURE_OUT_OF_RANGE: frozenset({Measurement.TEMP_DC, Measurement.RH_PM}),
    }
)


def rule_cleared(
    code: str,
    receipt: ReceiptFacts,
    readings: Sequence[VerifiedReading],
    *,
    settings: RuleSettings = DEFAULT_RULE_SETTINGS,
    silent: Collection[str] = (),
) -> bool:
    """Whether new readings show that the rule of ``code`` no longer fires on ``receipt``.

    True when at least one of ``readings`` (all on ``receipt``) measures what the rule looks at, and
    none of them triggers it. ``DEVICE_SILENT``: every device of ``silent`` (the alert's ``devices``)
    has a reading among them (and at least one reading is given). A reading on another receipt:
    ``ValueError``; an unknown code: ``ValueError``.

    @param code the open alert's code.
    @param receipt the facts of its receipt.
    @param readings the new readings, each accepted by :func:`~domain.warehouse.readings.verify_reading`.
    @param settings the settings the alert was raised under.
    @param silent for ``DEVICE_SILENT``, the alert's ``devices``.
    @return whether the rule is cleared.
    """
    alert = AlertCode(code)
    if any(r.receipt_id != receipt.receipt_id for r in readings):
        raise ValueError(f"every reading must be on receipt {receipt.receipt_id}")
    if alert is AlertCode.DEVICE_SILENT:
        heard = {r.device.device_id for r in readings}
        return bool(readings) and set(silent) <= heard
    relevant = [r for r in readings if _RULE_MEASUREMENTS[alert] & r.measurements.keys()]
    if alert is AlertCode.TEMPERATURE_OUT_OF_RANGE and receipt.commodity not in settings.commodity_ranges:
        return bool(relevant)
    return bool(relevant) and not any(
        a.code is alert for r in relevant for a in _triggered(receipt, r, settings)
    )


def explanation_digest(explanation_jws: str, readings_digests: Sequence[bytes]) -> bytes:
    """The ``explanationHash`` of ``clearAlert``: 32 bytes,
    ``SHA-256( SHA-256(explanation token's ASCII bytes) || d_1 || ... || d_n )`` over the new readings'
    digests (32 bytes each) in the order given (the order of the explanation's ``readings``).

    @param explanation_jws the warehouse's signed explanation, as sent.
    @param readings_digests the ``VerifiedReading.digest`` of each new reading it cites.
    @return the 32-byte hash to pass to ``clearAlert(alertId, explanationHash)``.
    """
    if any(len(d) != 32 for d in readings_digests):
        raise ValueError("a reading digest is 32 bytes")
    head = hashlib.sha256(explanation_jws.encode("ascii")).digest()
    return hashlib.sha256(head + b"".join(readings_digests)).digest()


EXPLANATION_TYP: Final = "scf-clearance+jwt"
MAX_EXPLANATION_CHARS: Final = 2000
_MAX_EXPLANATION_READINGS: Final = 64
_MAX_EXPLANATION_TOKEN: Final = 32 * 1024
_HEADER = frozenset({"alg", "typ", "x5c"})
_CLAIMS = frozenset({"aid", "rid", "code", "text", "readings", "iat"})
_HEX64_RE = re.compile(r"\A[0-9a-f]{64}\Z")
_MAX_UINT256: Final = 2**256 - 1
_ALERT_CODES: Final = frozenset(c.value for c in AlertCode)


@dataclass(frozen=True)
class VerifiedExplanation:
    """A warehouse's explanation that verified; ``explanation_hash`` is ``clearAlert``'s argument."""

    signer: ParticipantIdentity
    serial: int
    alert_id: int
    receipt_id: int
    code: AlertCode
    text: str
    readings: tuple[bytes, ...] = field(repr=False)
    iat: int
    explanation_hash: bytes = field(repr=False)


def sign_explanation(
    key: ec.EllipticCurvePrivateKey,
    cert: x509.Certificate,
    *,
    alert_id: int,
    code: str,
    text: str,
    readings_digests: Sequence[bytes],
    iat: int,
) -> str:
    """The warehouse's signed explanation of alert ``alert_id`` (``receiptId << 16 | n``), citing the new
    readings by digest. Claims: ``aid``, ``rid`` (``alert_id >> 16``), ``code``, ``text``, ``readings``
    (lower-case hex), ``iat``. Raises ``ValueError`` if ``key`` is not the P-256 key of ``cert``.

    @param key, cert the warehouse's participant key and certificate (role ``Logistics``).
    @param alert_id the on-chain alert id; @param code its code; @param text the explanation for people.
    @param readings_digests the digests of the new readings it cites; @param iat when signed, unix s.
    @return the compact JWS.
    """
    cert_key = cert.public_key()
    if not isinstance(cert_key, ec.EllipticCurvePublicKey) or cert_key.public_numbers() != (
        key.public_key().public_numbers()
    ):
        raise ValueError("private key does not belong to the certificate")
    claims = {
        "aid": alert_id,
        "rid": alert_id >> 16,
        "code": str(code),
        "text": text,
        "readings": [d.hex() for d in readings_digests],
        "iat": iat,
    }
    header = {"alg": "ES256", "typ": EXPLANATION_TYP, "x5c": [x5c_entry(cert)]}
    return jws_sign(header, json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode(), key)


def _efail(code: WarehouseErrorCode, message: str) -> NoReturn:
    raise ExplanationError(code, message)


def _explanation_claims(payload: bytes) -> dict[str, Any]:
    malformed = WarehouseErrorCode.EXPLANATION_MALFORMED
    try:
        claims = strict_json(payload)
    except ValueError as exc:
        _efail(malformed, f"claims are not strict JSON: {exc}")
    if not isinstance(claims, dict) or set(claims) != _CLAIMS:
        _efail(malformed, f"claims must be an object of exactly {sorted(_CLAIMS)}")
    if type(claims["aid"]) is not int or not 1 <= claims["aid"] <= _MAX_UINT256:
        _efail(malformed, "aid must be an alert id (receipt id << 16 | its number)")
    for name in ("rid", "iat"):
        if type(claims[name]) is not int or not 0 <= claims[name] <= MAX_INT:
            _efail(malformed, f"{name} must be an integer 0..2**53-1")
    if claims["rid"] != claims["aid"] >> 16:
        _efail(malformed, "rid must be the receipt of the alert (aid >> 16)")
    if claims["code"] not in _ALERT_CODES:
        _efail(malformed, "code must be an alert code")
    text = claims["text"]
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_EXPLANATION_CHARS:
        _efail(malformed, f"text must be 1-{MAX_EXPLANATION_CHARS} characters")
    try:
        check_text(text, multiline=True)
    except ValueError as exc:
        _efail(malformed, f"text {exc}")
    digests = claims["readings"]
    if (
        not isinstance(digests, list)
        or len(digests) > _MAX_EXPLANATION_READINGS
        or not all(isinstance(d, str) and _HEX64_RE.match(d) for d in digests)
    ):
        _efail(malformed, f"readings must be at most {_MAX_EXPLANATION_READINGS} lower-case hex SHA-256")
    return claims


def verify_explanation(
    token: str,
    *,
    ca_root: x509.Certificate | Sequence[x509.Certificate],
    revoked: RevocationCheck,
    receipt: ReceiptFacts,
    alert_id: int,
    code: str,
    now: int,
    max_skew_s: int = DEFAULT_MAX_SKEW_S,
    max_age_s: int = DEFAULT_MAX_AGE_S,
) -> VerifiedExplanation:
    """Verify a warehouse's signed explanation of an open alert; raise
    :class:`~domain.warehouse.errors.ExplanationError` otherwise.

    Checks, in order: ``EXPLANATION_MALFORMED`` (structure, header ``{"alg":"ES256","typ":
    "scf-clearance+jwt","x5c":[...]}``, claims, text with control or invisible characters);
    ``EXPLANATION_SIGNER_UNTRUSTED`` (not from the platform CA, not a participant certificate, not a
    ``Logistics`` participant); ``EXPLANATION_SIG_INVALID``; ``EXPLANATION_SIGNER_REVOKED``;
    ``EXPLANATION_MISMATCH`` (signer is not the receipt's warehouse; ``aid``/``code`` are not the alert's);
    ``EXPLANATION_CLOCK_SKEW`` (``iat`` outside ``now - max_age_s .. now + max_skew_s``);
    ``EXPLANATION_SIGNER_UNTRUSTED`` (certificate not valid at ``iat``).

    Whether the cited readings verify and clear the rule is the caller's next step
    (:func:`~domain.warehouse.readings.verify_reading`, :func:`rule_cleared`), with the digests in
    ``VerifiedExplanation.readings``.
    """
    anchors = anchors_of(ca_root)
    malformed = WarehouseErrorCode.EXPLANATION_MALFORMED
    try:
        jws = jws_split(token, _MAX_EXPLANATION_TOKEN)
        header = jws_header(jws.header_b64)
    except ValueError as exc:
        _efail(malformed, str(exc))
    if set(header) != _HEADER or header["alg"] != "ES256" or header["typ"] != EXPLANATION_TYP:
        _efail(malformed, f'header must be exactly alg "ES256", typ "{EXPLANATION_TYP}" and x5c')
    x5c = header["x5c"]
    if not isinstance(x5c, list) or len(x5c) != 1 or not isinstance(x5c[0], str):
        _efail(malformed, "x5c must hold exactly the warehouse's certificate")
    claims = _explanation_claims(jws.payload)

    codes = SignerCodes(
        malformed,
        WarehouseErrorCode.EXPLANATION_SIGNER_UNTRUSTED,
        WarehouseErrorCode.EXPLANATION_SIG_INVALID,
        WarehouseErrorCode.EXPLANATION_SIGNER_REVOKED,
    )
    signer, trust = trusted_signer(
        jws, x5c[0], anchors, revoked, Role.LOGISTICS, "a warehouse", codes, _efail
    )
    assert trust.certificate is not None
    serial = trust.certificate.serial_number
    if signer.chain_address != receipt.warehouse:
        _efail(
            WarehouseErrorCode.EXPLANATION_MISMATCH,
            f"{signer.legal_name} did not issue receipt {receipt.receipt_id}",
        )
    if claims["aid"] != alert_id or claims["rid"] != receipt.receipt_id or claims["code"] != code:
        _efail(
            WarehouseErrorCode.EXPLANATION_MISMATCH,
            f"the explanation is of alert {claims['aid']} ({claims['code']}), not {alert_id} ({code})",
        )
    iat: int = claims["iat"]
    if iat > now + max_skew_s or iat < now - max_age_s:
        _efail(WarehouseErrorCode.EXPLANATION_CLOCK_SKEW, f"signed at {iat}, {iat - now:+} s from now")
    if not trust.not_before_s <= iat <= trust.not_after_s:
        _efail(
            WarehouseErrorCode.EXPLANATION_SIGNER_UNTRUSTED, "the certificate was not valid when it signed"
        )
    readings = tuple(bytes.fromhex(d) for d in claims["readings"])
    return VerifiedExplanation(
        signer=signer,
        serial=serial,
        alert_id=alert_id,
        receipt_id=receipt.receipt_id,
        code=AlertCode(claims["code"]),
        text=claims["text"],
        readings=readings,
        iat=iat,
        explanation_hash=explanation_digest(token, readings),
    )
