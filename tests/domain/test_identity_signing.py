"""Detached JWS document signatures: round trip, and every tampering refused with its exact code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.documents.model import DocumentKind
from domain.identity import (
    AttachmentMismatchError,
    CertificateAuthority,
    ErrorCode,
    ExpectedSigner,
    ParticipantIdentity,
    SignatureVerificationError,
    create_ca,
    sha256_hex,
    sign_detached,
    verify_attachment,
    verify_detached,
)
from domain.roles import ALLOWED_SIGNER_ROLES, Role
from tests.domain.crl import RevocationList

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
PAYLOAD = (
    b'<?xml version="1.0"?>\n<Invoice><ID>INV-001</ID><Amount currency="CNY">1000.00</Amount></Invoice>\n'
)


@dataclass(frozen=True)
class Party:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    identity: ParticipantIdentity


def _issue(
    ca: CertificateAuthority,
    role: Role,
    n: int,
    *,
    not_before: datetime = NOW - timedelta(days=1),
    not_after: datetime = NOW + timedelta(days=365),
) -> Party:
    key = ec.generate_private_key(ec.SECP256R1())
    identity = ParticipantIdentity(
        legal_name=f"{role.value} Company {n} Ltd.",
        registration_id=f"9131000000000000{n:02d}",
        role=role,
        chain_address="0x" + f"{n:02x}" * 20,
    )
    cert = ca.issue_certificate(key.public_key(), identity, not_before=not_before, not_after=not_after)
    return Party(key, cert, identity)


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return create_ca("SCF Platform Root CA", organization="SCF Platform", not_before=NOW - timedelta(days=30))


@pytest.fixture(scope="module")
def parties(ca: CertificateAuthority) -> dict[Role, Party]:
    return {role: _issue(ca, role, i + 1) for i, role in enumerate(r for r in Role if r.certified)}


@pytest.fixture(scope="module")
def supplier(parties: dict[Role, Party]) -> Party:
    return parties[Role.SUPPLIER]


def _verify(
    ca: CertificateAuthority,
    jws: str,
    payload: bytes = PAYLOAD,
    *,
    kind: DocumentKind = DocumentKind.INVOICE,
    signer: ExpectedSigner | None = None,
    revoked: Any = frozenset(),
    now: datetime = NOW,
    ca_cert: Any = None,
) -> Any:
    return verify_detached(
        payload,
        jws,
        ca_cert=ca.certificate if ca_cert is None else ca_cert,
        is_revoked=revoked,
        expected_kind=kind,
        expected_signer=signer,
        now=now,
    )


def _code(fn: Any, *args: Any, **kwargs: Any) -> ErrorCode:
    with pytest.raises(SignatureVerificationError) as info:
        fn(*args, **kwargs)
    return info.value.code


def _sign(
    party: Party, payload: bytes = PAYLOAD, kind: DocumentKind = DocumentKind.INVOICE, **kw: Any
) -> str:
    return sign_detached(
        payload, party.key, party.cert, kind, kw.pop("signing_time", NOW - timedelta(minutes=1)), **kw
    )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _header(jws: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(_unb64url(jws.split(".")[0]))
    return result


def _with_header(jws: str, **changes: Any) -> str:
    """Re-encode the protected header with ``changes`` (``None`` deletes), keeping the old signature."""
    header = _header(jws)
    for k, v in changes.items():
        if v is None:
            header.pop(k, None)
        else:
            header[k] = v
    return _b64url(json.dumps(header).encode()) + ".." + jws.split(".")[2]


def _resign(party: Party, header: dict[str, Any], payload: bytes = PAYLOAD) -> str:
    """Produce a correctly ES256-signed JWS over an arbitrary header (to reach checks after the signature)."""
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    protected = _b64url(json.dumps(header).encode())
    r, s = decode_dss_signature(
        party.key.sign(protected.encode() + b"." + payload, ec.ECDSA(hashes.SHA256()))
    )
    return f"{protected}..{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


# --------------------------------------------------------------------------------------------------
# Round trip and profile
# --------------------------------------------------------------------------------------------------


def test_round_trip_returns_signer_kind_time_and_hash(ca: CertificateAuthority, supplier: Party) -> None:
    jws = _sign(supplier)
    result = _verify(ca, jws, signer=ExpectedSigner(registration_id=supplier.identity.registration_id))
    assert result.signer == supplier.identity
    assert result.kind is DocumentKind.INVOICE
    assert result.signing_time == NOW - timedelta(minutes=1)
    assert result.payload_sha256 == hashlib.sha256(PAYLOAD).hexdigest()
    assert result.serial_number == supplier.cert.serial_number
    assert dict(result.attachments) == {}


def test_compact_detached_form_and_header_profile(supplier: Party) -> None:
    jws = _sign(supplier)
    _, payload_part, sig = jws.split(".")
    assert payload_part == ""
    header = _header(jws)
    assert set(header) == {"alg", "b64", "crit", "x5c", "sigT", "kind", "sha256"}
    assert header["alg"] == "ES256"
    assert header["b64"] is False
    assert header["crit"] == ["b64"]
    assert base64.b64decode(header["x5c"][0]) == supplier.cert.public_bytes(serialization.Encoding.DER)
    assert header["sigT"] == "2026-06-01T11:59:00Z"
    assert header["kind"] == "Invoice"
    assert header["sha256"] == sha256_hex(PAYLOAD)
    assert len(_unb64url(sig)) == 64


def test_signature_is_raw_r_s_over_unencoded_payload(supplier: Party) -> None:
    """Independent check of RFC 7515/7797: input = b64url(header) '.' payload, signature = r||s."""
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    jws = _sign(supplier)
    protected, _, sig = jws.split(".")
    raw = _unb64url(sig)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    supplier.key.public_key().verify(der, protected.encode() + b"." + PAYLOAD, ec.ECDSA(hashes.SHA256()))


def test_signature_verifies_with_independent_library(supplier: Party) -> None:
    crypto_ecc = pytest.importorskip("Crypto.PublicKey.ECC")
    crypto_dss = pytest.importorskip("Crypto.Signature.DSS")
    crypto_sha = pytest.importorskip("Crypto.Hash.SHA256")
    jws = _sign(supplier)
    protected, _, sig = jws.split(".")
    pub = crypto_ecc.import_key(
        supplier.cert.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    verifier = crypto_dss.new(pub, "fips-186-3")  # raw r||s encoding, as JWS uses
    verifier.verify(crypto_sha.new(protected.encode() + b"." + PAYLOAD), _unb64url(sig))


def test_trust_anchor_list_supports_ca_rollover(ca: CertificateAuthority, supplier: Party) -> None:
    other = create_ca("Next Root", not_before=NOW - timedelta(days=1))
    assert (
        _verify(ca, _sign(supplier), ca_cert=[other.certificate, ca.certificate]).signer == supplier.identity
    )


def test_cert_expired_after_signing_is_still_accepted_within_the_age_bound(ca: CertificateAuthority) -> None:
    party = _issue(ca, Role.SUPPLIER, 70, not_after=NOW - timedelta(hours=1))
    jws = _sign(party, signing_time=NOW - timedelta(hours=2))
    assert _verify(ca, jws).signer == party.identity


# --------------------------------------------------------------------------------------------------
# Tampering
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("position", [0, 1, len(PAYLOAD) // 2, len(PAYLOAD) - 1])
def test_flipped_byte_in_payload(ca: CertificateAuthority, supplier: Party, position: int) -> None:
    jws = _sign(supplier)
    tampered = bytearray(PAYLOAD)
    tampered[position] ^= 0x01
    assert _code(_verify, ca, jws, bytes(tampered)) is ErrorCode.SIG_INVALID


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_any_flipped_payload_byte_is_rejected(
    ca: CertificateAuthority, supplier: Party, data: st.DataObject
) -> None:
    jws = _sign(supplier)
    position = data.draw(st.integers(0, len(PAYLOAD) - 1))
    mask = data.draw(st.integers(1, 255))
    tampered = bytearray(PAYLOAD)
    tampered[position] ^= mask
    assert _code(_verify, ca, jws, bytes(tampered)) is ErrorCode.SIG_INVALID


@pytest.mark.parametrize(
    "payload", [PAYLOAD + b" ", PAYLOAD[:-1], b"", PAYLOAD.replace(b"1000.00", b"9000.00")]
)
def test_changed_payload_length_or_content(ca: CertificateAuthority, supplier: Party, payload: bytes) -> None:
    assert _code(_verify, ca, _sign(supplier), payload) is ErrorCode.SIG_INVALID


@pytest.mark.parametrize("position", [0, 31, 32, 63])
def test_flipped_byte_in_signature(ca: CertificateAuthority, supplier: Party, position: int) -> None:
    jws = _sign(supplier)
    protected, _, sig = jws.split(".")
    raw = bytearray(_unb64url(sig))
    raw[position] ^= 0x01
    assert _code(_verify, ca, f"{protected}..{_b64url(bytes(raw))}") is ErrorCode.SIG_INVALID


def test_zero_signature(ca: CertificateAuthority, supplier: Party) -> None:
    protected = _sign(supplier).split(".")[0]
    assert _code(_verify, ca, f"{protected}..{_b64url(bytes(64))}") is ErrorCode.SIG_INVALID


def test_edited_protected_header_invalidates_signature(ca: CertificateAuthority, supplier: Party) -> None:
    jws = _sign(supplier)
    later = _with_header(jws, sigT="2026-06-01T11:59:30Z")
    assert _code(_verify, ca, later) is ErrorCode.SIG_INVALID


def test_signature_by_another_participants_key(ca: CertificateAuthority, parties: dict[Role, Party]) -> None:
    """The attacker signs with its own key but presents the victim's certificate."""
    victim, attacker = parties[Role.SUPPLIER], parties[Role.LOGISTICS]
    forged = _resign(attacker, _header(_sign(victim)))
    assert _code(_verify, ca, forged) is ErrorCode.SIG_INVALID


def test_signature_by_another_supplier_under_its_own_cert(ca: CertificateAuthority, supplier: Party) -> None:
    """A genuine, valid signature by the wrong supplier: the document names someone else."""
    other = _issue(ca, Role.SUPPLIER, 71)
    jws = _sign(other)
    expected = ExpectedSigner(registration_id=supplier.identity.registration_id)
    assert _code(_verify, ca, jws, signer=expected) is ErrorCode.SIG_SIGNER_MISMATCH


@pytest.mark.parametrize(
    "field",
    ["registration_id", "chain_address", "legal_name"],
)
def test_signer_mismatch_on_each_identity_field(
    ca: CertificateAuthority, supplier: Party, field: str
) -> None:
    expected = ExpectedSigner(
        **{field: {"registration_id": "X1", "chain_address": "0x" + "ee" * 20, "legal_name": "Other"}[field]}
    )
    assert _code(_verify, ca, _sign(supplier), signer=expected) is ErrorCode.SIG_SIGNER_MISMATCH


def test_signer_match_is_case_insensitive_for_chain_address(
    ca: CertificateAuthority, supplier: Party
) -> None:
    expected = ExpectedSigner(
        registration_id=supplier.identity.registration_id,
        chain_address=supplier.identity.chain_address.upper().replace("0X", "0x"),
        legal_name=supplier.identity.legal_name,
    )
    assert _verify(ca, _sign(supplier), signer=expected).signer == supplier.identity


# --------------------------------------------------------------------------------------------------
# Certificates: chain, validity, revocation, profile
# --------------------------------------------------------------------------------------------------


def test_cert_from_foreign_ca(ca: CertificateAuthority) -> None:
    foreign = create_ca("Some Other CA", not_before=NOW - timedelta(days=30))
    party = _issue(foreign, Role.SUPPLIER, 72)
    assert _code(_verify, ca, _sign(party)) is ErrorCode.CERT_NOT_FROM_PLATFORM_CA


def test_cert_from_foreign_ca_with_the_same_name(ca: CertificateAuthority) -> None:
    impostor = create_ca(
        "SCF Platform Root CA", organization="SCF Platform", not_before=NOW - timedelta(days=30)
    )
    party = _issue(impostor, Role.SUPPLIER, 73)
    assert party.cert.issuer == ca.certificate.subject
    assert _code(_verify, ca, _sign(party)) is ErrorCode.CERT_NOT_FROM_PLATFORM_CA


def test_ca_certificate_itself_cannot_sign_documents(ca: CertificateAuthority) -> None:
    jws = sign_detached(PAYLOAD, ca.private_key, ca.certificate, DocumentKind.INVOICE, NOW)
    assert _code(_verify, ca, jws) is ErrorCode.CERT_PROFILE_INVALID


def test_expired_cert(ca: CertificateAuthority) -> None:
    party = _issue(
        ca, Role.SUPPLIER, 74, not_before=NOW - timedelta(days=20), not_after=NOW - timedelta(hours=1)
    )
    assert _code(_verify, ca, _sign(party, signing_time=NOW)) is ErrorCode.CERT_EXPIRED


def test_not_yet_valid_cert(ca: CertificateAuthority) -> None:
    party = _issue(
        ca, Role.SUPPLIER, 75, not_before=NOW + timedelta(days=1), not_after=NOW + timedelta(days=30)
    )
    assert _code(_verify, ca, _sign(party, signing_time=NOW)) is ErrorCode.CERT_NOT_YET_VALID


def test_revoked_cert_in_serial_set(ca: CertificateAuthority, supplier: Party) -> None:
    revoked = {supplier.cert.serial_number}
    assert _code(_verify, ca, _sign(supplier), revoked=revoked) is ErrorCode.CERT_REVOKED


def test_revoked_before_signing_time_via_revocation_list(ca: CertificateAuthority, supplier: Party) -> None:
    revocations = RevocationList()
    revocations.revoke(supplier.cert.serial_number, revoked_at=NOW - timedelta(hours=1))
    assert _code(_verify, ca, _sign(supplier), revoked=revocations) is ErrorCode.CERT_REVOKED


def test_revoked_after_claimed_signing_time_is_refused_now(ca: CertificateAuthority, supplier: Party) -> None:
    """The signing time is only claimed: a certificate revoked now is refused now (no backdating)."""
    revocations = RevocationList()
    revocations.revoke(supplier.cert.serial_number, revoked_at=NOW - timedelta(seconds=1))
    jws = _sign(supplier, signing_time=NOW - timedelta(hours=3))
    assert _code(_verify, ca, jws, revoked=revocations) is ErrorCode.CERT_REVOKED


def test_revocation_callable_and_archive_reverification(ca: CertificateAuthority, supplier: Party) -> None:
    received_at = NOW
    revocations = RevocationList()
    revocations.revoke(supplier.cert.serial_number, revoked_at=NOW + timedelta(days=2))
    jws = _sign(supplier)
    # Re-verified later, as of the trusted receipt time: accepted.
    result = _verify(ca, jws, revoked=lambda s: revocations.is_revoked(s, at=received_at), now=received_at)
    assert result.signer == supplier.identity
    # As of today: refused.
    assert _code(_verify, ca, jws, revoked=revocations.is_revoked) is ErrorCode.CERT_REVOKED


def test_revocation_lookup_failure_propagates(ca: CertificateAuthority, supplier: Party) -> None:
    def down(serial: int) -> bool:
        raise ConnectionError("revocation store unavailable")

    with pytest.raises(ConnectionError):
        _verify(ca, _sign(supplier), revoked=down)


# --------------------------------------------------------------------------------------------------
# Roles, kinds, signing time
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(DocumentKind))
@pytest.mark.parametrize("role", [r for r in Role if r.certified])
def test_role_table_is_enforced(
    ca: CertificateAuthority, parties: dict[Role, Party], role: Role, kind: DocumentKind
) -> None:
    jws = _sign(parties[role], kind=kind)
    if role in ALLOWED_SIGNER_ROLES[kind]:
        assert _verify(ca, jws, kind=kind).signer.role is role
    else:
        assert _code(_verify, ca, jws, kind=kind) is ErrorCode.SIG_ROLE_MISMATCH


def test_role_table_matches_the_issue() -> None:
    assert ALLOWED_SIGNER_ROLES == {
        DocumentKind.ORDER: {Role.CORE_ENTERPRISE},
        DocumentKind.INVOICE: {Role.SUPPLIER},
        DocumentKind.DESPATCH_ADVICE: {Role.SUPPLIER, Role.LOGISTICS},
        DocumentKind.RECEIPT_ADVICE: {Role.CORE_ENTERPRISE, Role.LOGISTICS},
        DocumentKind.CREDIT_NOTE: {Role.SUPPLIER},
        DocumentKind.GREEN_ATTESTATION: {Role.CERTIFIER},
    }


def test_kind_in_header_must_be_the_documents_kind(ca: CertificateAuthority, supplier: Party) -> None:
    """A supplier signing order bytes while declaring 'Invoice' must not pass the role check."""
    jws = _sign(supplier, kind=DocumentKind.INVOICE)
    assert _code(_verify, ca, jws, kind=DocumentKind.ORDER) is ErrorCode.SIG_KIND_MISMATCH


def test_signing_time_in_future(ca: CertificateAuthority, supplier: Party) -> None:
    jws = _sign(supplier, signing_time=NOW + timedelta(minutes=10))
    assert _code(_verify, ca, jws) is ErrorCode.SIG_TIME_IN_FUTURE


def test_signing_time_within_clock_skew(ca: CertificateAuthority, supplier: Party) -> None:
    assert _verify(ca, _sign(supplier, signing_time=NOW + timedelta(minutes=4))).signer == supplier.identity


def test_signing_time_too_old(ca: CertificateAuthority, supplier: Party) -> None:
    jws = _sign(supplier, signing_time=NOW - timedelta(hours=25))
    assert _code(_verify, ca, jws) is ErrorCode.SIG_TIME_TOO_OLD


# --------------------------------------------------------------------------------------------------
# Algorithm confusion and malformed input
# --------------------------------------------------------------------------------------------------


def test_alg_none_forgery(ca: CertificateAuthority, supplier: Party) -> None:
    header = _header(_sign(supplier)) | {"alg": "none"}
    forged = _b64url(json.dumps(header).encode()) + ".."
    assert _code(_verify, ca, forged) is ErrorCode.SIG_ALG_UNSUPPORTED


def test_bare_alg_none_forgery(ca: CertificateAuthority) -> None:
    forged = _b64url(b'{"alg":"none"}') + ".."
    assert _code(_verify, ca, forged) is ErrorCode.SIG_ALG_UNSUPPORTED


def test_hs256_forgery_keyed_with_the_public_certificate(ca: CertificateAuthority, supplier: Party) -> None:
    """Classic key confusion: HMAC keyed with the (public) certificate bytes."""
    header = _header(_sign(supplier)) | {"alg": "HS256"}
    protected = _b64url(json.dumps(header).encode())
    key = supplier.cert.public_bytes(serialization.Encoding.PEM)
    mac = hmac.new(key, protected.encode() + b"." + PAYLOAD, hashlib.sha256).digest()
    assert _code(_verify, ca, f"{protected}..{_b64url(mac)}") is ErrorCode.SIG_ALG_UNSUPPORTED


@pytest.mark.parametrize("alg", ["ES384", "ES512", "RS256", "PS256", "EdDSA", "es256", "ES256 ", ""])
def test_other_algorithms(ca: CertificateAuthority, supplier: Party, alg: str) -> None:
    forged = _resign(supplier, _header(_sign(supplier)) | {"alg": alg})
    assert _code(_verify, ca, forged) is ErrorCode.SIG_ALG_UNSUPPORTED


def _malformed_cases(jws: str) -> dict[str, str]:
    protected, _, sig = jws.split(".")
    header = _header(jws)
    raw_sig = _unb64url(sig)

    def h(**changes: Any) -> str:
        return _with_header(jws, **changes)

    return {
        "empty": "",
        "one part": protected,
        "two parts": f"{protected}.{sig}",
        "four parts": f"{protected}...{sig}",
        "attached payload": f"{protected}.{_b64url(PAYLOAD)}.{sig}",
        "header not base64url": f"{protected}!..{sig}",
        "header padded": f"{protected}=..{sig}",
        "header not json": f"{_b64url(b'not json')}..{sig}",
        "header json array": f"{_b64url(b'[1]')}..{sig}",
        "header duplicate alg": _b64url(b'{"alg":"ES256","alg":"none"}') + ".." + sig,
        "alg not a string": h(alg=["ES256"]),
        "alg missing": h(alg=None),
        "b64 true": h(b64=True),
        "b64 zero": h(b64=0),
        "b64 missing": h(b64=None),
        "crit missing": h(crit=None),
        "crit extra": h(crit=["b64", "kind"]),
        "unknown member jwk": h(jwk={"kty": "EC"}),
        "unknown member x5u": h(x5u="https://attacker.invalid/cert.pem"),
        "x5c missing": h(x5c=None),
        "x5c two certs": h(x5c=[header["x5c"][0], header["x5c"][0]]),
        "x5c garbage": h(x5c=["AAAA"]),
        "x5c base64url": h(x5c=[base64.urlsafe_b64encode(base64.b64decode(header["x5c"][0])).decode()]),
        "sigT epoch number": h(sigT=1780000000),
        "sigT with offset": h(sigT="2026-06-01T11:59:00+00:00"),
        "sigT impossible date": h(sigT="2026-02-30T11:59:00Z"),
        "sigT non-ascii digits": h(sigT="\u0662026-06-01T11:59:00Z"),
        "kind object": h(kind={"Invoice": 1}),
        "kind unknown": h(kind="Catalogue"),
        "kind not a string": h(kind=["Invoice"]),
        "header deeply nested": _b64url(b'{"alg":"ES256","kind":' + b"[" * 20000 + b"]" * 20000 + b"}")
        + ".."
        + sig,
        "sha256 upper case": h(sha256=header["sha256"].upper()),
        "sha256 missing": h(sha256=None),
        "att not object": h(att=["x"]),
        "att bad digest": h(att={"rendering.pdf": "00"}),
        "signature DER": f"{protected}..{_b64url(b'0D' + raw_sig + b'xx')}",
        "signature 63 bytes": f"{protected}..{_b64url(raw_sig[:63])}",
        "signature 65 bytes": f"{protected}..{_b64url(raw_sig + b'0')}",
        "signature padded": f"{protected}..{sig}{'=' * (-len(sig) % 4) or '='}",
        "huge": protected + ".." + "A" * 70000,
    }


MALFORMED_CASES = [
    "empty",
    "one part",
    "two parts",
    "four parts",
    "attached payload",
    "header not base64url",
    "header padded",
    "header not json",
    "header json array",
    "header duplicate alg",
    "alg not a string",
    "alg missing",
    "b64 true",
    "b64 zero",
    "b64 missing",
    "crit missing",
    "crit extra",
    "unknown member jwk",
    "unknown member x5u",
    "x5c missing",
    "x5c two certs",
    "x5c garbage",
    "x5c base64url",
    "sigT epoch number",
    "sigT with offset",
    "sigT impossible date",
    "sigT non-ascii digits",
    "kind object",
    "kind unknown",
    "kind not a string",
    "header deeply nested",
    "sha256 upper case",
    "sha256 missing",
    "att not object",
    "att bad digest",
    "signature DER",
    "signature 63 bytes",
    "signature 65 bytes",
    "signature padded",
    "huge",
]


def test_malformed_case_list_is_complete(supplier: Party) -> None:
    assert sorted(_malformed_cases(_sign(supplier))) == sorted(MALFORMED_CASES)


@pytest.mark.parametrize("case", MALFORMED_CASES)
def test_malformed_jws(ca: CertificateAuthority, supplier: Party, case: str) -> None:
    bad = _malformed_cases(_sign(supplier))[case]
    assert _code(_verify, ca, bad) is ErrorCode.SIG_MALFORMED


def test_non_string_jws(ca: CertificateAuthority) -> None:
    assert _code(_verify, ca, b"abc..def") is ErrorCode.SIG_MALFORMED


# --------------------------------------------------------------------------------------------------
# Attachments and helpers
# --------------------------------------------------------------------------------------------------


def test_attachments_are_bound_in_the_signed_header(ca: CertificateAuthority, supplier: Party) -> None:
    pdf = b"%PDF-1.7\n...rendering of INV-001...\n%%EOF\n"
    jws = _sign(supplier, attachments={"INV-001.pdf": sha256_hex(pdf)})
    result = _verify(ca, jws)
    verify_attachment(pdf, result.attachments["INV-001.pdf"])
    with pytest.raises(AttachmentMismatchError) as info:
        verify_attachment(pdf + b" ", result.attachments["INV-001.pdf"])
    assert info.value.code is ErrorCode.ATTACHMENT_HASH_MISMATCH
    # The binding itself cannot be swapped without breaking the signature.
    swapped = _with_header(jws, att={"INV-001.pdf": sha256_hex(b"another pdf")})
    assert _code(_verify, ca, swapped) is ErrorCode.SIG_INVALID


@pytest.mark.parametrize("expected", ["", "00" * 31, "zz" * 32, sha256_hex(b"other")])
def test_verify_attachment_mismatch(expected: str) -> None:
    with pytest.raises(AttachmentMismatchError) as info:
        verify_attachment(b"attachment", expected)
    assert info.value.code is ErrorCode.ATTACHMENT_HASH_MISMATCH


def test_verify_attachment_accepts_upper_case_hex() -> None:
    verify_attachment(b"attachment", sha256_hex(b"attachment").upper())


def test_sha256_hex_known_vector() -> None:
    assert sha256_hex(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_sign_refuses_a_key_that_is_not_the_certificates(parties: dict[Role, Party]) -> None:
    with pytest.raises(ValueError, match="does not belong"):
        sign_detached(
            PAYLOAD, parties[Role.LOGISTICS].key, parties[Role.SUPPLIER].cert, DocumentKind.INVOICE, NOW
        )


def test_naive_datetimes_are_refused(ca: CertificateAuthority, supplier: Party) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_detached(PAYLOAD, supplier.key, supplier.cert, DocumentKind.INVOICE, datetime(2026, 6, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        _verify(ca, _sign(supplier), now=datetime(2026, 6, 1))


def test_expected_signer_needs_a_field() -> None:
    with pytest.raises(ValueError):
        ExpectedSigner()
