"""Machine-readable failure codes of the warehouse domain, and the typed errors that carry them.

Every refusal raised by :mod:`domain.warehouse` is a :class:`WarehouseError` (or a subclass) whose
``code`` is one :class:`WarehouseErrorCode`. The gateway maps ``code`` to its answer unchanged; the
``message`` is for people and logs, and must not be parsed.

The alert codes (what a rule writes on chain) are not errors: they are
:class:`domain.warehouse.rules.AlertCode`.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "DeviceCertificateError",
    "ExplanationError",
    "PriceError",
    "ReadingError",
    "WarehouseError",
    "WarehouseErrorCode",
]


class WarehouseErrorCode(StrEnum):
    """Every failure code of :mod:`domain.warehouse`."""

    # A device certificate read on its own (devices.py)
    DEVICE_CERT_PROFILE_INVALID = "DEVICE_CERT_PROFILE_INVALID"
    # Signed readings (readings.py), in the order verify_reading checks them
    READING_MALFORMED = "READING_MALFORMED"
    DEVICE_CERT_UNTRUSTED = "DEVICE_CERT_UNTRUSTED"
    READING_SIG_INVALID = "READING_SIG_INVALID"
    DEVICE_REVOKED = "DEVICE_REVOKED"
    DEVICE_NOT_BOUND = "DEVICE_NOT_BOUND"
    READING_REPLAYED = "READING_REPLAYED"
    READING_OUT_OF_ORDER = "READING_OUT_OF_ORDER"
    READING_CLOCK_SKEW = "READING_CLOCK_SKEW"
    READING_IMPLAUSIBLE = "READING_IMPLAUSIBLE"
    # Price observations (prices.py)
    PRICE_MALFORMED = "PRICE_MALFORMED"
    PRICE_SOURCE_UNTRUSTED = "PRICE_SOURCE_UNTRUSTED"
    PRICE_SIG_INVALID = "PRICE_SIG_INVALID"
    PRICE_SOURCE_REVOKED = "PRICE_SOURCE_REVOKED"
    PRICE_FROM_FUTURE = "PRICE_FROM_FUTURE"
    PRICE_STALE = "PRICE_STALE"
    PRICE_CURRENCY_MISMATCH = "PRICE_CURRENCY_MISMATCH"
    PRICE_IMPLAUSIBLE = "PRICE_IMPLAUSIBLE"
    # A warehouse's signed explanation clearing an alert (rules.py)
    EXPLANATION_MALFORMED = "EXPLANATION_MALFORMED"
    EXPLANATION_SIGNER_UNTRUSTED = "EXPLANATION_SIGNER_UNTRUSTED"
    EXPLANATION_SIG_INVALID = "EXPLANATION_SIG_INVALID"
    EXPLANATION_SIGNER_REVOKED = "EXPLANATION_SIGNER_REVOKED"
    EXPLANATION_MISMATCH = "EXPLANATION_MISMATCH"
    EXPLANATION_CLOCK_SKEW = "EXPLANATION_CLOCK_SKEW"


class WarehouseError(Exception):
    """Base class: a refusal with a machine-readable :class:`WarehouseErrorCode` and a human message."""

    def __init__(self, code: WarehouseErrorCode, message: str) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message


class DeviceCertificateError(WarehouseError):
    """A certificate is not a well-formed platform device certificate (``DEVICE_CERT_PROFILE_INVALID``)."""

    def __init__(self, message: str) -> None:
        super().__init__(WarehouseErrorCode.DEVICE_CERT_PROFILE_INVALID, message)


class ReadingError(WarehouseError):
    """A signed reading was refused (a ``READING_*`` or ``DEVICE_*`` code)."""


class PriceError(WarehouseError):
    """A signed price observation was refused (a ``PRICE_*`` code)."""


class ExplanationError(WarehouseError):
    """A warehouse's signed explanation of an alert was refused (an ``EXPLANATION_*`` code)."""
