"""Keys and blobs at rest: round trips, wrong secrets, and tamper detection with DECRYPTION_FAILED."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.identity import (
    DecryptionError,
    ErrorCode,
    ScryptParams,
    decrypt_blob,
    decrypt_private_key,
    derive_blob_key,
    encrypt_blob,
    encrypt_private_key,
)

FAST = ScryptParams(log2_n=14)  # the minimum the keystore accepts; keeps tests fast
SECRET = "correct horse battery staple / settings secret"
SETTINGS_SECRET = b"\x01" * 32
KEY = derive_blob_key(SETTINGS_SECRET, purpose="documents")


def _failed(fn: object, *args: object, **kwargs: object) -> None:
    with pytest.raises(DecryptionError) as info:
        fn(*args, **kwargs)  # type: ignore[operator]
    assert info.value.code is ErrorCode.DECRYPTION_FAILED


def _pem_body(pem: bytes) -> bytes:
    lines = pem.strip().splitlines()
    return base64.b64decode(b"".join(lines[1:-1]))


def _pem(body: bytes) -> bytes:
    return (
        b"-----BEGIN SCF SEALED PRIVATE KEY-----\n"
        + base64.encodebytes(body)
        + b"-----END SCF SEALED PRIVATE KEY-----\n"
    )


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def sealed(ec_key: ec.EllipticCurvePrivateKey) -> bytes:
    return encrypt_private_key(ec_key, SECRET, associated_data=b"participant:42", params=FAST)


# --------------------------------------------------------------------------------------------------
# Private keys
# --------------------------------------------------------------------------------------------------


def test_private_key_round_trip(ec_key: ec.EllipticCurvePrivateKey, sealed: bytes) -> None:
    assert sealed.startswith(b"-----BEGIN SCF SEALED PRIVATE KEY-----\n")
    opened = decrypt_private_key(sealed, SECRET, associated_data=b"participant:42")
    assert isinstance(opened, ec.EllipticCurvePrivateKey)
    assert opened.private_numbers() == ec_key.private_numbers()


def test_sealed_key_contains_no_plain_key_material(ec_key: ec.EllipticCurvePrivateKey, sealed: bytes) -> None:
    scalar = ec_key.private_numbers().private_value.to_bytes(32, "big")
    assert scalar not in _pem_body(sealed)
    assert b"PRIVATE KEY-----" in sealed and b"BEGIN PRIVATE KEY" not in sealed


def test_ed25519_key_round_trip() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    opened = decrypt_private_key(encrypt_private_key(key, SECRET, params=FAST), SECRET)
    assert isinstance(opened, ed25519.Ed25519PrivateKey)
    assert opened.private_bytes_raw() == key.private_bytes_raw()


def test_wrong_passphrase(sealed: bytes) -> None:
    _failed(decrypt_private_key, sealed, SECRET + "x", associated_data=b"participant:42")


def test_wrong_associated_data_detects_a_key_moved_to_another_record(sealed: bytes) -> None:
    _failed(decrypt_private_key, sealed, SECRET, associated_data=b"participant:43")


@pytest.mark.parametrize("position", [0, 5, 6, 12, 30, 45, -17, -1])
def test_tampered_sealed_key(sealed: bytes, position: int) -> None:
    body = bytearray(_pem_body(sealed))
    body[position] ^= 0x01
    _failed(decrypt_private_key, _pem(bytes(body)), SECRET, associated_data=b"participant:42")


def test_tampered_scrypt_cost_is_refused_before_any_work(sealed: bytes) -> None:
    body = bytearray(_pem_body(sealed))
    body[6] = 30  # log2_n = 30 would need 128 GiB
    _failed(decrypt_private_key, _pem(bytes(body)), SECRET, associated_data=b"participant:42")


def test_truncated_sealed_key(sealed: bytes) -> None:
    _failed(decrypt_private_key, _pem(_pem_body(sealed)[:40]), SECRET)


def test_plain_text_private_key_is_refused(ec_key: ec.EllipticCurvePrivateKey) -> None:
    plain = ec_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _failed(decrypt_private_key, plain, SECRET)


def test_standard_encrypted_pkcs8_pem_is_read(ec_key: ec.EllipticCurvePrivateKey) -> None:
    pem = ec_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(SECRET.encode()),
    )
    opened = decrypt_private_key(pem, SECRET)
    assert isinstance(opened, ec.EllipticCurvePrivateKey)
    assert opened.private_numbers() == ec_key.private_numbers()
    _failed(decrypt_private_key, pem, "wrong secret")


def test_each_sealing_uses_fresh_salt_and_nonce(ec_key: ec.EllipticCurvePrivateKey) -> None:
    a = encrypt_private_key(ec_key, SECRET, params=FAST)
    b = encrypt_private_key(ec_key, SECRET, params=FAST)
    assert _pem_body(a)[9:37] != _pem_body(b)[9:37]


@pytest.mark.parametrize("kwargs", [{"log2_n": 13}, {"log2_n": 19}, {"r": 0}, {"p": 5}])
def test_scrypt_params_bounds(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        ScryptParams(**kwargs)


def test_empty_secret_is_refused(ec_key: ec.EllipticCurvePrivateKey) -> None:
    with pytest.raises(ValueError):
        encrypt_private_key(ec_key, b"", params=FAST)


# --------------------------------------------------------------------------------------------------
# Blobs (AES-256-GCM)
# --------------------------------------------------------------------------------------------------


def test_blob_round_trip_with_associated_data() -> None:
    blob = encrypt_blob(KEY, b"<Invoice/>", associated_data=b"doc:1")
    assert blob[:5] == b"SCFB\x01"
    assert len(blob) == 5 + 12 + len(b"<Invoice/>") + 16
    assert decrypt_blob(KEY, blob, associated_data=b"doc:1") == b"<Invoice/>"


def test_blob_empty_plaintext() -> None:
    assert decrypt_blob(KEY, encrypt_blob(KEY, b"")) == b""


def test_blob_nonces_are_fresh() -> None:
    a, b = encrypt_blob(KEY, b"same"), encrypt_blob(KEY, b"same")
    assert a[5:17] != b[5:17]
    assert a != b


@settings(max_examples=60, deadline=None)
@given(plaintext=st.binary(max_size=200), data=st.data())
def test_any_flipped_blob_byte_is_detected(plaintext: bytes, data: st.DataObject) -> None:
    blob = bytearray(encrypt_blob(KEY, plaintext, associated_data=b"doc:7"))
    position = data.draw(st.integers(0, len(blob) - 1))
    blob[position] ^= data.draw(st.integers(1, 255))
    _failed(decrypt_blob, KEY, bytes(blob), associated_data=b"doc:7")


def test_blob_wrong_key() -> None:
    other = derive_blob_key(SETTINGS_SECRET, purpose="attachments")
    _failed(decrypt_blob, other, encrypt_blob(KEY, b"secret document"))


def test_blob_wrong_associated_data() -> None:
    blob = encrypt_blob(KEY, b"secret document", associated_data=b"doc:1")
    _failed(decrypt_blob, KEY, blob, associated_data=b"doc:2")
    _failed(decrypt_blob, KEY, blob)


@pytest.mark.parametrize("cut", [0, 5, 17, 32])
def test_blob_truncated(cut: int) -> None:
    _failed(decrypt_blob, KEY, encrypt_blob(KEY, b"secret document")[:cut])


def test_blob_appended_bytes() -> None:
    _failed(decrypt_blob, KEY, encrypt_blob(KEY, b"secret document") + b"\x00")


def test_blob_key_must_be_32_bytes() -> None:
    with pytest.raises(ValueError):
        encrypt_blob(b"\x00" * 16, b"x")


def test_derive_blob_key_separates_purposes_and_is_deterministic() -> None:
    assert derive_blob_key(SETTINGS_SECRET, purpose="documents") == KEY
    assert derive_blob_key(SETTINGS_SECRET.decode("latin-1"), purpose="documents") != b""
    assert derive_blob_key(SETTINGS_SECRET, purpose="attachments") != KEY
    assert len(KEY) == 32


def test_derive_blob_key_refuses_a_short_secret() -> None:
    with pytest.raises(ValueError):
        derive_blob_key(b"short", purpose="documents")
