"""Machine-readable failure codes and the typed errors that carry them.

Every rejection raised by :mod:`domain.identity` is an :class:`IdentityError` (or a subclass) whose
``code`` is one :class:`ErrorCode`. The gateway maps ``code`` to its API response unchanged; the
``message`` is for logs and humans only and must not be parsed.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Every failure code this package can produce. See ``docs/identity.md`` for the rules."""

    # JWS structure and cryptography
    SIG_MALFORMED = "SIG_MALFORMED"
    SIG_ALG_UNSUPPORTED = "SIG_ALG_UNSUPPORTED"
    SIG_INVALID = "SIG_INVALID"
    SIG_KIND_MISMATCH = "SIG_KIND_MISMATCH"
    SIG_TIME_IN_FUTURE = "SIG_TIME_IN_FUTURE"
    SIG_TIME_TOO_OLD = "SIG_TIME_TOO_OLD"
    SIG_ROLE_MISMATCH = "SIG_ROLE_MISMATCH"
    SIG_SIGNER_MISMATCH = "SIG_SIGNER_MISMATCH"
    # Signer certificate
    CERT_NOT_FROM_PLATFORM_CA = "CERT_NOT_FROM_PLATFORM_CA"
    CERT_PROFILE_INVALID = "CERT_PROFILE_INVALID"
    CERT_EXPIRED = "CERT_EXPIRED"
    CERT_NOT_YET_VALID = "CERT_NOT_YET_VALID"
    CERT_REVOKED = "CERT_REVOKED"
    # Attachments and storage
    ATTACHMENT_HASH_MISMATCH = "ATTACHMENT_HASH_MISMATCH"
    DECRYPTION_FAILED = "DECRYPTION_FAILED"


class IdentityError(Exception):
    """Base class: a rejection with a machine-readable :class:`ErrorCode`."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message


class SignatureVerificationError(IdentityError):
    """A detached document signature was refused (any ``SIG_*`` or ``CERT_*`` code)."""


class CertificateProfileError(IdentityError):
    """A certificate does not follow the platform's participant profile (``CERT_PROFILE_INVALID``)."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.CERT_PROFILE_INVALID, message)


class AttachmentMismatchError(IdentityError):
    """An attachment's bytes do not have the SHA-256 the signed document binds them to."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.ATTACHMENT_HASH_MISMATCH, message)


class DecryptionError(IdentityError):
    """Ciphertext was tampered with, truncated, or the key / secret / associated data is wrong.

    AES-GCM cannot tell these apart, and the caller must not try to: all of them mean "refuse".
    """

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.DECRYPTION_FAILED, message)
