"""Platform CA: root profile, participant certificate profile, CSR issuance, revocation and CRL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from domain.identity import (
    CertificateAuthority,
    CertificateProfileError,
    DecryptionError,
    ErrorCode,
    ParticipantIdentity,
    RevocationReason,
    ScryptParams,
    create_ca,
    identity_record_hash,
    load_ca,
    load_certificate,
    participant_from_certificate,
)
from domain.identity.ca import CHAIN_ADDRESS_OID, CLOCK_SKEW, DOCUMENT_SIGNING_EKU_OID, PARTICIPANT_ROLE_OID
from domain.roles import Role
from tests.domain.crl import Revocation, RevocationList, sign_crl

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
FAST = ScryptParams(log2_n=14)
IDENTITY = ParticipantIdentity(
    legal_name="上海示例供应链有限公司",
    registration_id="91310000MA1FL5KX3Q",
    role=Role.SUPPLIER,
    chain_address="0x52908400098527886E0F7030069857D2E4169EE7",
)


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return create_ca("SCF Platform Root CA", organization="SCF Platform", not_before=NOW - timedelta(days=1))


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def cert(ca: CertificateAuthority, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    return ca.issue_certificate(
        key.public_key(), IDENTITY, not_before=NOW, not_after=NOW + timedelta(days=90)
    )


def test_root_profile(ca: CertificateAuthority) -> None:
    root = ca.certificate
    assert root.issuer == root.subject
    root.verify_directly_issued_by(root)
    bc = root.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    ku = root.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign and not ku.value.digital_signature
    assert isinstance(root.public_key(), ec.EllipticCurvePublicKey)
    assert isinstance(root.signature_hash_algorithm, hashes.SHA256)


def test_participant_certificate_profile(ca: CertificateAuthority, cert: x509.Certificate) -> None:
    cert.verify_directly_issued_by(ca.certificate)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == IDENTITY.legal_name
    assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "91310000MA1FL5KX3Q"
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and ku.value.content_commitment
    assert not ku.value.key_cert_sign
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert DOCUMENT_SIGNING_EKU_OID in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    role = cert.extensions.get_extension_for_oid(PARTICIPANT_ROLE_OID)
    assert not role.critical and isinstance(role.value, x509.UnrecognizedExtension)
    assert role.value.value == b"\x0c\x08Supplier"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    [other] = san.get_values_for_type(x509.OtherName)
    assert other.type_id == CHAIN_ADDRESS_OID
    assert other.value == b"\x0c\x2a0x52908400098527886e0f7030069857d2e4169ee7"
    assert cert.not_valid_before_utc == NOW and cert.not_valid_after_utc == NOW + timedelta(days=90)


def test_participant_from_certificate_round_trip(cert: x509.Certificate) -> None:
    identity = participant_from_certificate(cert)
    assert identity == IDENTITY
    assert identity.chain_address == "0x52908400098527886e0f7030069857d2e4169ee7"
    pem = cert.public_bytes(serialization.Encoding.PEM)
    der = cert.public_bytes(serialization.Encoding.DER)
    assert load_certificate(pem) == load_certificate(der) == cert


def test_a_chinese_legal_name_of_64_characters_is_certified_whole(
    ca: CertificateAuthority, key: ec.EllipticCurvePrivateKey
) -> None:
    """64 characters (192 bytes of UTF-8) fit the commonName: RFC 5280 bounds characters, not bytes. The
    cryptography library's own check counts bytes and refused any name over 21 Chinese characters."""
    name = "中国东方重型装备制造集团股份有限公司华东地区供应链金融服务中心第一分公司" * 2
    name = name[:64]
    identity = ParticipantIdentity(
        legal_name=name,
        registration_id="91310000MA1FL5KX3Q",
        role=Role.CORE_ENTERPRISE,
        chain_address="0x52908400098527886E0F7030069857D2E4169EE7",
    )
    issued = ca.issue_certificate(
        key.public_key(), identity, not_before=NOW, not_after=NOW + timedelta(days=9)
    )
    back = participant_from_certificate(load_certificate(issued.public_bytes(serialization.Encoding.DER)))
    assert back.legal_name == name and len(name) == 64 and len(name.encode()) == 192


def test_serial_numbers_are_random_and_distinct(
    ca: CertificateAuthority, key: ec.EllipticCurvePrivateKey
) -> None:
    serials = {ca.issue_certificate(key.public_key(), IDENTITY).serial_number for _ in range(5)}
    assert len(serials) == 5
    assert all(s.bit_length() > 64 for s in serials)


def test_ca_certificate_is_not_a_participant_certificate(ca: CertificateAuthority) -> None:
    with pytest.raises(CertificateProfileError) as info:
        participant_from_certificate(ca.certificate)
    assert info.value.code is ErrorCode.CERT_PROFILE_INVALID


def test_only_p256_participant_keys(ca: CertificateAuthority) -> None:
    with pytest.raises(ValueError, match="P-256"):
        ca.issue_certificate(ed25519.Ed25519PrivateKey.generate().public_key(), IDENTITY)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="P-256"):
        ca.issue_certificate(ec.generate_private_key(ec.SECP384R1()).public_key(), IDENTITY)


def test_validity_must_lie_inside_the_ca(ca: CertificateAuthority, key: ec.EllipticCurvePrivateKey) -> None:
    with pytest.raises(ValueError, match="within"):
        ca.issue_certificate(key.public_key(), IDENTITY, not_before=NOW, not_after=NOW + timedelta(days=4000))
    with pytest.raises(ValueError, match="after"):
        ca.issue_certificate(key.public_key(), IDENTITY, not_before=NOW, not_after=NOW)


def test_a_new_certificate_is_valid_a_little_before_its_issuance(key: ec.EllipticCurvePrivateKey) -> None:
    """An observation or signature made at once, judged by a clock a little behind (the chain's latest
    block, a device's), is inside the validity: ``not_before`` is now less ``CLOCK_SKEW``; never before the
    CA's own start."""
    old_ca = create_ca("Old Root", organization="SCF", not_before=datetime.now(UTC) - timedelta(days=1))
    before = datetime.now(UTC).replace(microsecond=0)
    cert = old_ca.issue_certificate(key.public_key(), IDENTITY)
    assert before - CLOCK_SKEW <= cert.not_valid_before_utc <= datetime.now(UTC) - CLOCK_SKEW
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=365)
    new_ca = create_ca("New Root", organization="SCF")  # valid from now: a certificate is not older
    assert new_ca.issue_certificate(key.public_key(), IDENTITY).not_valid_before_utc == (
        new_ca.certificate.not_valid_before_utc
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"chain_address": "0x1234"},
        {"chain_address": "52908400098527886E0F7030069857D2E4169EE7"},
        {"registration_id": ""},
        {"registration_id": "ID_WITH_UNDERSCORE"},
        {"registration_id": "统一社会信用代码"},
        {"legal_name": ""},
        {"legal_name": " padded "},
        {"legal_name": "x" * 65},
        {"legal_name": "line\nbreak"},
        {"role": "Operator"},
    ],
)
def test_identity_validation(changes: dict[str, str]) -> None:
    fields = {
        "legal_name": IDENTITY.legal_name,
        "registration_id": IDENTITY.registration_id,
        "role": IDENTITY.role.value,
        "chain_address": IDENTITY.chain_address,
    } | changes
    with pytest.raises(ValueError):
        ParticipantIdentity(**fields)  # type: ignore[arg-type]


def test_issue_from_csr_checks_proof_of_possession(
    ca: CertificateAuthority, key: ec.EllipticCurvePrivateKey
) -> None:
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "whatever the requester wants")]))
        .sign(key, hashes.SHA256())
    )
    pem = csr.public_bytes(serialization.Encoding.PEM)
    cert = ca.issue_certificate_from_csr(pem, IDENTITY)
    assert participant_from_certificate(cert) == IDENTITY  # identity from the operator, not the CSR
    assert cert.public_key() == key.public_key()

    # The signed request edited afterwards: its self-signature no longer holds.
    der = csr.public_bytes(serialization.Encoding.DER).replace(b"whatever", b"Whatever")
    forged_pem = x509.load_der_x509_csr(der).public_bytes(serialization.Encoding.PEM)
    with pytest.raises(ValueError, match="proof of possession"):
        ca.issue_certificate_from_csr(forged_pem, IDENTITY)


def test_identity_record_hash_is_stable(cert: x509.Certificate) -> None:
    h = identity_record_hash(IDENTITY, cert)
    assert len(h) == 32
    assert h == identity_record_hash(participant_from_certificate(cert), cert)
    other = ParticipantIdentity(
        IDENTITY.legal_name, IDENTITY.registration_id, Role.LOGISTICS, IDENTITY.chain_address
    )
    assert identity_record_hash(other, cert) != h


# --------------------------------------------------------------------------------------------------
# Loading the CA from an encrypted key
# --------------------------------------------------------------------------------------------------


def test_load_ca_from_sealed_key(ca: CertificateAuthority) -> None:
    sealed = ca.export_private_key("ca secret", params=FAST)
    loaded = load_ca(ca.certificate_pem, sealed, "ca secret")
    assert loaded.certificate == ca.certificate
    assert loaded.private_key.private_numbers() == ca.private_key.private_numbers()
    assert "private_key" not in repr(loaded)


def test_load_ca_from_standard_encrypted_pem(ca: CertificateAuthority) -> None:
    pem = ca.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"ca secret"),
    )
    loaded = load_ca(ca.certificate_pem, pem, b"ca secret")
    assert loaded.certificate == ca.certificate


def test_load_ca_wrong_secret(ca: CertificateAuthority) -> None:
    with pytest.raises(DecryptionError) as info:
        load_ca(ca.certificate_pem, ca.export_private_key("ca secret", params=FAST), "wrong")
    assert info.value.code is ErrorCode.DECRYPTION_FAILED


def test_load_ca_refuses_plain_text_key(ca: CertificateAuthority) -> None:
    plain = ca.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(DecryptionError):
        load_ca(ca.certificate_pem, plain, "ca secret")


def test_load_ca_refuses_a_key_of_another_ca(ca: CertificateAuthority) -> None:
    other = create_ca("Other", not_before=NOW)
    with pytest.raises(ValueError, match="does not match"):
        load_ca(ca.certificate_pem, other.export_private_key("s", params=FAST), "s")


def test_participant_certificate_cannot_be_loaded_as_ca(
    ca: CertificateAuthority, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> None:
    with pytest.raises(ValueError, match="not a CA"):
        CertificateAuthority(certificate=cert, private_key=key)


# --------------------------------------------------------------------------------------------------
# Revocation and CRL
# --------------------------------------------------------------------------------------------------


def test_revocation_list_semantics() -> None:
    revocations = RevocationList()
    revocations.revoke(7, revoked_at=NOW, reason=RevocationReason.KEY_COMPROMISE)
    assert 7 in revocations and 8 not in revocations
    assert revocations.is_revoked(7)
    assert revocations.is_revoked(7, at=NOW)
    assert not revocations.is_revoked(7, at=NOW - timedelta(seconds=1))
    # Revoking again keeps the earliest time.
    revocations.revoke(7, revoked_at=NOW + timedelta(days=1))
    assert revocations.get(7) == Revocation(7, NOW, RevocationReason.KEY_COMPROMISE)
    revocations.revoke(7, revoked_at=NOW - timedelta(days=1))
    entry = revocations.get(7)
    assert entry is not None and entry.revoked_at == NOW - timedelta(days=1)


def test_revocation_list_json_round_trip() -> None:
    big_serial = (1 << 158) + 12345
    revocations = RevocationList(
        [
            Revocation(big_serial, NOW, RevocationReason.SUPERSEDED),
            Revocation(3, NOW - timedelta(hours=1)),
        ]
    )
    text = revocations.to_json()
    assert str(big_serial) in text
    restored = RevocationList.from_json(text)
    assert list(restored) == list(revocations)
    assert len(restored) == 2


def test_revocation_times_must_be_aware() -> None:
    with pytest.raises(ValueError):
        Revocation(1, datetime(2026, 1, 1))


def test_crl_contains_revoked_serial(ca: CertificateAuthority, cert: x509.Certificate) -> None:
    revocations = RevocationList()
    revocations.revoke(cert.serial_number, revoked_at=NOW, reason=RevocationReason.KEY_COMPROMISE)
    revocations.revoke(99, revoked_at=NOW - timedelta(days=1))
    crl = sign_crl(ca, revocations, crl_number=1, this_update=NOW, next_update=NOW + timedelta(days=1))

    der = crl.public_bytes(serialization.Encoding.DER)
    parsed = x509.load_der_x509_crl(der)
    assert parsed.is_signature_valid(ca.certificate.public_key())  # type: ignore[arg-type]
    assert parsed.issuer == ca.certificate.subject
    assert parsed.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 1
    entry = parsed.get_revoked_certificate_by_serial_number(cert.serial_number)
    assert entry is not None
    assert entry.revocation_date_utc == NOW
    assert (
        entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        is x509.ReasonFlags.key_compromise
    )
    unspecified = parsed.get_revoked_certificate_by_serial_number(99)
    assert unspecified is not None and len(unspecified.extensions) == 0
    assert parsed.get_revoked_certificate_by_serial_number(cert.serial_number + 1) is None

    restored = RevocationList.from_crl(parsed, ca.certificate)
    assert list(restored) == list(revocations)


def test_crl_from_another_ca_is_refused(ca: CertificateAuthority) -> None:
    impostor = create_ca("SCF Platform Root CA", organization="SCF Platform", not_before=NOW)
    crl = sign_crl(impostor, RevocationList(), crl_number=1, this_update=NOW)
    with pytest.raises(ValueError, match="signature"):
        RevocationList.from_crl(crl, ca.certificate)
