"""Keys and blobs at rest: never in plain text.

Two primitives, both AES-256-GCM with a fresh 12-byte random nonce per encryption:

* :func:`encrypt_blob` / :func:`decrypt_blob` take a 32-byte data key. Use them for documents at
  rest. :func:`derive_blob_key` turns the high-entropy settings secret into such a key with
  HKDF-SHA256, one key per ``purpose`` string.
* :func:`encrypt_private_key` / :func:`decrypt_private_key` seal a private key, serialized as
  unencrypted PKCS#8 DER *inside* the AES-GCM ciphertext, under a key derived from a secret with
  **scrypt** (random 16-byte salt per key; cost parameters are stored in, and authenticated by,
  the envelope). The result is PEM-armoured (``-----BEGIN SCF SEALED PRIVATE KEY-----``).

Why not ``BestAvailableEncryption``: with ``cryptography`` 50 it writes PBES2 with
PBKDF2-HMAC-SHA256 at 2048 iterations and AES-256-CBC, which is cheap to brute-force if the
secret is ever a human passphrase and has no integrity protection. :func:`decrypt_private_key`
still *reads* standard encrypted PKCS#8 PEM (``-----BEGIN ENCRYPTED PRIVATE KEY-----``, e.g. a
CA key made with ``openssl``), but refuses unencrypted private keys.

Associated data (``associated_data=``) is authenticated but not encrypted: bind a ciphertext to the
record it belongs to (document id, participant id, ...) so that a ciphertext copied into another
row fails to decrypt.

Every failure to decrypt -- tampered bytes, truncated input, wrong key, wrong secret, wrong
associated data -- raises :class:`~domain.identity.errors.DecryptionError` (code
``DECRYPTION_FAILED``).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from domain.identity.errors import DecryptionError

__all__ = [
    "BLOB_KEY_BYTES",
    "MIN_SETTINGS_SECRET_BYTES",
    "PrivateKey",
    "ScryptParams",
    "decrypt_blob",
    "decrypt_private_key",
    "derive_blob_key",
    "encrypt_blob",
    "encrypt_private_key",
]

#: Private keys this package handles.
PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

BLOB_KEY_BYTES = 32
MIN_SETTINGS_SECRET_BYTES = 32
NONCE_BYTES = 12
SALT_BYTES = 16
TAG_BYTES = 16

_BLOB_MAGIC = b"SCFB\x01"
_KEY_MAGIC = b"SCFK\x01"
_KDF_SCRYPT = 1
_SEALED_PEM_LABEL = b"SCF SEALED PRIVATE KEY"
_SEALED_PEM_RE = re.compile(
    rb"\A\s*-----BEGIN SCF SEALED PRIVATE KEY-----\s*([A-Za-z0-9+/=\s]+?)\s*"
    rb"-----END SCF SEALED PRIVATE KEY-----\s*\Z"
)


def _as_bytes(secret: bytes | str) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)


# --------------------------------------------------------------------------------------------------
# Blobs (documents at rest)
# --------------------------------------------------------------------------------------------------


def derive_blob_key(settings_secret: bytes | str, *, purpose: str) -> bytes:
    """Derive a 32-byte AES-256-GCM data key from the settings secret with HKDF-SHA256.

    ``settings_secret`` must be high-entropy machine randomness (at least 32 bytes, e.g.
    ``secrets.token_urlsafe(32)``), not a human password: HKDF does no key stretching. ``purpose``
    separates keys (``"documents"``, ``"attachments"``, ...) so one key never serves two uses.
    """
    secret = _as_bytes(settings_secret)
    if len(secret) < MIN_SETTINGS_SECRET_BYTES:
        raise ValueError(f"settings secret must be at least {MIN_SETTINGS_SECRET_BYTES} bytes")
    if not purpose:
        raise ValueError("purpose must not be empty")
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=BLOB_KEY_BYTES,
        salt=None,
        info=b"scf-platform/identity/blob-key/v1/" + purpose.encode("utf-8"),
    )
    return hkdf.derive(secret)


def encrypt_blob(key: bytes, plaintext: bytes, *, associated_data: bytes = b"") -> bytes:
    """Encrypt ``plaintext`` with AES-256-GCM.

    Layout: ``b"SCFB\\x01" || nonce(12) || ciphertext || tag(16)``. The 5-byte header is
    authenticated together with ``associated_data``. A random nonce is safe for up to about 2**32
    encryptions under one key; rotate ``purpose`` / the settings secret well before that.
    """
    _check_blob_key(key)
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext, _BLOB_MAGIC + associated_data)
    return _BLOB_MAGIC + nonce + sealed


def decrypt_blob(key: bytes, blob: bytes, *, associated_data: bytes = b"") -> bytes:
    """Decrypt a blob made by :func:`encrypt_blob`; raise :class:`DecryptionError` if it is not authentic."""
    _check_blob_key(key)
    if len(blob) < len(_BLOB_MAGIC) + NONCE_BYTES + TAG_BYTES or not blob.startswith(_BLOB_MAGIC):
        raise DecryptionError("not an encrypted blob (bad header or too short)")
    nonce = blob[len(_BLOB_MAGIC) : len(_BLOB_MAGIC) + NONCE_BYTES]
    sealed = blob[len(_BLOB_MAGIC) + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, sealed, _BLOB_MAGIC + associated_data)
    except InvalidTag:
        raise DecryptionError(
            "blob failed authentication (tampered, wrong key or wrong associated data)"
        ) from None


def _check_blob_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) != BLOB_KEY_BYTES:
        raise ValueError(f"blob key must be exactly {BLOB_KEY_BYTES} bytes")


# --------------------------------------------------------------------------------------------------
# Private keys
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost: ``N = 2**log2_n``, memory about ``128 * r * N`` bytes.

    The default (N=2**15, r=8, p=1: 32 MiB, about 0.1 s) follows the common interactive-login
    recommendation. Bounds are enforced on both sides so that a tampered envelope cannot ask for
    gigabytes of memory before authentication fails.
    """

    log2_n: int = 15
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        if not 14 <= self.log2_n <= 18:
            raise ValueError("scrypt log2_n must be between 14 and 18")
        if not 1 <= self.r <= 16:
            raise ValueError("scrypt r must be between 1 and 16")
        if not 1 <= self.p <= 4:
            raise ValueError("scrypt p must be between 1 and 4")


def _scrypt_key(secret: bytes, salt: bytes, params: ScryptParams) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**params.log2_n, r=params.r, p=params.p).derive(secret)


def encrypt_private_key(
    private_key: PrivateKey,
    secret: bytes | str,
    *,
    associated_data: bytes = b"",
    params: ScryptParams | None = None,
) -> bytes:
    """Seal ``private_key`` for storage; returns PEM bytes (``SCF SEALED PRIVATE KEY``).

    Envelope (inside the PEM base64): ``b"SCFK\\x01" || kdf_id(1)=1 (scrypt) || log2_n(1) || r(1)
    || p(1) || salt(16) || nonce(12) || AES-256-GCM(PKCS#8 DER) || tag(16)``. Everything before the
    ciphertext is authenticated as associated data, together with ``associated_data``.
    """
    raw_secret = _as_bytes(secret)
    if not raw_secret:
        raise ValueError("secret must not be empty")
    p = params or ScryptParams()
    salt = os.urandom(SALT_BYTES)
    nonce = os.urandom(NONCE_BYTES)
    header = _KEY_MAGIC + bytes([_KDF_SCRYPT, p.log2_n, p.r, p.p]) + salt + nonce
    pkcs8 = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    sealed = AESGCM(_scrypt_key(raw_secret, salt, p)).encrypt(nonce, pkcs8, header + associated_data)
    body = base64.encodebytes(header + sealed)
    return (
        b"-----BEGIN " + _SEALED_PEM_LABEL + b"-----\n" + body + b"-----END " + _SEALED_PEM_LABEL + b"-----\n"
    )


def decrypt_private_key(data: bytes, secret: bytes | str, *, associated_data: bytes = b"") -> PrivateKey:
    """Open a key sealed by :func:`encrypt_private_key`, or a standard encrypted PKCS#8 PEM.

    Raises :class:`DecryptionError` for a wrong secret, tampering, or any undecodable input, and
    also for an *unencrypted* private key: plain-text keys are refused on principle.
    ``associated_data`` applies to the sealed format only.
    """
    raw_secret = _as_bytes(secret)
    match = _SEALED_PEM_RE.match(data)
    if match is not None:
        return _open_sealed(match.group(1), raw_secret, associated_data)
    if b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in data:
        return _open_pkcs8_pem(data, raw_secret)
    raise DecryptionError("not an encrypted private key (plain-text keys are refused)")


def _open_sealed(b64: bytes, secret: bytes, associated_data: bytes) -> PrivateKey:
    try:
        envelope = base64.b64decode(b"".join(b64.split()), validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionError("sealed key is not valid base64") from None
    fixed = len(_KEY_MAGIC) + 4 + SALT_BYTES + NONCE_BYTES
    if len(envelope) < fixed + TAG_BYTES or not envelope.startswith(_KEY_MAGIC):
        raise DecryptionError("sealed key has a bad header or is truncated")
    kdf_id, log2_n, r, p = envelope[5:9]
    if kdf_id != _KDF_SCRYPT:
        raise DecryptionError("sealed key names an unknown KDF")
    try:
        params = ScryptParams(log2_n=log2_n, r=r, p=p)
    except ValueError:
        raise DecryptionError("sealed key has out-of-range scrypt parameters") from None
    salt = envelope[9 : 9 + SALT_BYTES]
    nonce = envelope[9 + SALT_BYTES : fixed]
    header = envelope[:fixed]
    try:
        der = AESGCM(_scrypt_key(secret, salt, params)).decrypt(
            nonce, envelope[fixed:], header + associated_data
        )
    except InvalidTag:
        raise DecryptionError("sealed key failed authentication (wrong secret or tampered)") from None
    return _check_key_type(serialization.load_der_private_key(der, password=None))


def _open_pkcs8_pem(data: bytes, secret: bytes) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=secret)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise DecryptionError(
            "encrypted PKCS#8 key could not be decrypted (wrong secret or corrupt)"
        ) from None
    return _check_key_type(key)


def _check_key_type(key: object) -> PrivateKey:
    if isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        return key
    raise DecryptionError("decrypted key is not an EC or Ed25519 private key")
