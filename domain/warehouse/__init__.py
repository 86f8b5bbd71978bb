"""Pledged-inventory financing, the pure half (issue 13): devices, signed readings, alert rules, prices.

No FastAPI, no database, no web3: the gateway wires these in (``docs/warehouse.md``).

- :mod:`.devices`: device kinds, the binding a device certificate carries, issuing and re-issuing it;
- :mod:`.readings`: a device's signed reading (compact JWS ES256) and its verification; the compact-JWS
  helpers shared with prices and explanations;
- :mod:`.rules`: alert rules over verified readings, silent devices, a warehouse's signed explanation;
- :mod:`.prices`: a price source's signed observation, and the ``bytes16``/``bytes4`` encodings;
- :mod:`.errors`: :class:`WarehouseErrorCode` and the typed errors.
"""

from domain.warehouse.devices import (
    DeviceBinding,
    DeviceIdentity,
    DeviceKind,
    binding_json,
    certificate_thumbprint,
    device_from_certificate,
    issue_device_certificate,
    reissue_device_certificate,
)
from domain.warehouse.errors import (
    DeviceCertificateError,
    ExplanationError,
    PriceError,
    ReadingError,
    WarehouseError,
    WarehouseErrorCode,
)
from domain.warehouse.prices import (
    VerifiedPrice,
    commodity_bytes16,
    encode_price_observation,
    unit_bytes4,
    verify_price_observation,
)
from domain.warehouse.readings import (
    KIND_MEASUREMENTS,
    Measurement,
    ReceiptFacts,
    VerifiedReading,
    encode_reading,
    reading_digest,
    verify_reading,
)
from domain.warehouse.rules import (
    COMMODITY_RANGES,
    Alert,
    AlertCode,
    ClimateRange,
    RuleSettings,
    VerifiedExplanation,
    code_bytes32,
    evaluate_reading,
    evaluate_readings,
    explanation_digest,
    rule_cleared,
    sign_explanation,
    silence_alerts,
    silent_devices,
    verify_explanation,
)

__all__ = [
    "COMMODITY_RANGES",
    "KIND_MEASUREMENTS",
    "Alert",
    "AlertCode",
    "ClimateRange",
    "DeviceBinding",
    "DeviceCertificateError",
    "DeviceIdentity",
    "DeviceKind",
    "ExplanationError",
    "Measurement",
    "PriceError",
    "ReadingError",
    "ReceiptFacts",
    "RuleSettings",
    "VerifiedExplanation",
    "VerifiedPrice",
    "VerifiedReading",
    "WarehouseError",
    "WarehouseErrorCode",
    "binding_json",
    "certificate_thumbprint",
    "code_bytes32",
    "commodity_bytes16",
    "device_from_certificate",
    "encode_price_observation",
    "encode_reading",
    "evaluate_reading",
    "evaluate_readings",
    "explanation_digest",
    "issue_device_certificate",
    "reading_digest",
    "reissue_device_certificate",
    "rule_cleared",
    "sign_explanation",
    "silence_alerts",
    "silent_devices",
    "unit_bytes4",
    "verify_explanation",
    "verify_price_observation",
    "verify_reading",
]
