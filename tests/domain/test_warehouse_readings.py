"""Device certificates and signed readings: real keys, real certificates from the platform CA, every
refusal with its exact code."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.documents.model import DocumentKind
from domain.identity import (
    CertificateAuthority,
    CertificateProfileError,
    ErrorCode,
    ParticipantIdentity,
    SignatureVerificationError,
    create_ca,
    participant_from_certificate,
    sign_detached,
    verify_detached,
)
from domain.identity.ca import (
    DEVICE_BINDING_OID,
    DEVICE_READING_EKU_OID,
    DOCUMENT_SIGNING_EKU_OID,
    PARTICIPANT_ROLE_OID,
    device_certificate_fields,
)
from domain.roles import Role
from domain.warehouse import (
    DeviceBinding,
    DeviceCertificateError,
    DeviceIdentity,
    DeviceKind,
    ReadingError,
    ReceiptFacts,
    VerifiedReading,
    WarehouseErrorCode,
    binding_json,
    certificate_thumbprint,
    device_from_certificate,
    encode_reading,
    issue_device_certificate,
    reading_digest,
    reissue_device_certificate,
    verify_reading,
)
from domain.warehouse.devices import MAX_BOUND_RECEIPTS, parse_binding
from domain.warehouse.readings import (
    KIND_MEASUREMENTS,
    MAX_WEIGHT_KG,
    READING_TYP,
    b64url_encode,
    certificate_cache_info,
    clear_certificate_cache,
    jws_sign,
)

Code = WarehouseErrorCode

NOW_DT = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
NOW = int(NOW_DT.timestamp())
WAREHOUSE = "0x" + "a1" * 20
OTHER_WAREHOUSE = "0x" + "b2" * 20

#: 500 t of soybeans in silo 4 (kilograms), watched within geofence GF-NORTH.
RECEIPT_KGM = ReceiptFacts(7, WAREHOUSE, "SOYBEAN", 500_000, "KGM", "SILO-4", geofence="GF-NORTH")
#: 300 t of wheat, the quantity in tonnes.
RECEIPT_TNE = ReceiptFacts(8, WAREHOUSE, "WHEAT", 300, "TNE", "SILO-5")
#: 1,200 television sets in bay 12.
RECEIPT_H87 = ReceiptFacts(9, WAREHOUSE, "TV55", 1_200, "H87", "BAY-12")
RECEIPTS = {r.receipt_id: r for r in (RECEIPT_KGM, RECEIPT_TNE, RECEIPT_H87)}


# --------------------------------------------------------------------------------------------------
# A fleet of devices (also used by the rules' tests)
# --------------------------------------------------------------------------------------------------


@dataclass
class Device:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    identity: DeviceIdentity
    seq: int = 0

    def claims(self, m: dict[str, Any], **changes: Any) -> dict[str, Any]:
        """A claim set of the next ``seq`` (unless given), measured now, on its first bound receipt."""
        if "seq" not in changes:
            self.seq += 1
        claims = {
            "dev": self.identity.device_id,
            "seq": self.seq,
            "iat": NOW,
            "loc": self.identity.location,
            "rid": min(self.identity.receipt_ids),
            "m": m,
        }
        claims.update(changes)
        return claims

    def reading(self, m: dict[str, Any], **changes: Any) -> str:
        return encode_reading(self.key, self.cert, self.claims(m, **changes))


@dataclass
class Fleet:
    """Devices issued by one CA, the gateway's registry of their certificates, and its revocations."""

    ca: CertificateAuthority
    certificates: dict[str, bytes] = field(default_factory=dict)
    revoked: set[int] = field(default_factory=set)

    def register(self, cert: x509.Certificate) -> None:
        self.certificates[certificate_thumbprint(cert)] = cert.public_bytes(serialization.Encoding.DER)

    def device(
        self,
        kind: DeviceKind,
        device_id: str,
        *,
        location: str = "SILO-4",
        receipts: tuple[int, ...] = (7,),
        warehouse: str = WAREHOUSE,
        not_before: datetime = NOW_DT - timedelta(days=1),
        not_after: datetime = NOW_DT + timedelta(days=365),
        ca: CertificateAuthority | None = None,
    ) -> Device:
        key = ec.generate_private_key(ec.SECP256R1())
        binding = DeviceBinding(device_id, kind, warehouse, location, frozenset(receipts))
        cert = issue_device_certificate(
            ca or self.ca, key.public_key(), binding, not_before=not_before, not_after=not_after
        )
        self.register(cert)
        return Device(key, cert, device_from_certificate(cert))

    def verify(self, token: str, **kw: Any) -> VerifiedReading:
        args: dict[str, Any] = {
            "ca_root": self.ca.certificate,
            "certificates": self.certificates,
            "revoked": self.revoked,
            "last_seq": None,
            "now": NOW,
            "receipt": RECEIPTS.get,
        }
        args.update(kw)
        return verify_reading(token, **args)

    def code(self, token: str, **kw: Any) -> WarehouseErrorCode:
        with pytest.raises(ReadingError) as info:
            self.verify(token, **kw)
        assert info.value.message  # every refusal says why, for a person
        return info.value.code


def new_ca() -> CertificateAuthority:
    return create_ca(
        "SCF Platform Root CA", organization="SCF Platform", not_before=NOW_DT - timedelta(days=30)
    )


def participant(ca: CertificateAuthority, role: Role, n: int, address: str | None = None) -> tuple[Any, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    identity = ParticipantIdentity(
        legal_name=f"{role.value} Company {n} Ltd.",
        registration_id=f"91310000000000{n:04d}",
        role=role,
        chain_address=address or "0x" + f"{n:02x}" * 20,
    )
    cert = ca.issue_certificate(
        key.public_key(),
        identity,
        not_before=NOW_DT - timedelta(days=1),
        not_after=NOW_DT + timedelta(days=365),
    )
    return key, cert


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return new_ca()


@pytest.fixture(scope="module")
def fleet(ca: CertificateAuthority) -> Fleet:
    return Fleet(ca)


@pytest.fixture(scope="module")
def scale(fleet: Fleet) -> Device:
    return fleet.device(DeviceKind.SCALE, "dev-scale-1", receipts=(7, 9))


@pytest.fixture(scope="module")
def thermometer(fleet: Fleet) -> Device:
    return fleet.device(DeviceKind.THERMOMETER, "dev-thermo-1")


@pytest.fixture(scope="module")
def counter(fleet: Fleet) -> Device:
    return fleet.device(DeviceKind.COUNTER, "dev-counter-1", location="BAY-12", receipts=(9,))


def _b64url_json(value: Any) -> str:
    return b64url_encode(json.dumps(value, separators=(",", ":")).encode())


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --------------------------------------------------------------------------------------------------
# Device certificates
# --------------------------------------------------------------------------------------------------


def test_device_certificate_profile(ca: CertificateAuthority, scale: Device) -> None:
    cert = scale.cert
    assert cert.issuer == ca.certificate.subject
    cert.verify_directly_issued_by(ca.certificate)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "dev-scale-1"
    assert len(list(cert.subject)) == 1
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and not bc.value.ca
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.content_commitment
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        DEVICE_READING_EKU_OID
    ]
    binding = cert.extensions.get_extension_for_oid(DEVICE_BINDING_OID)
    assert not binding.critical
    text = (
        '{"kind":"scale","location":"SILO-4","lots":[7,9],'
        '"warehouse":"0xa1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"}'
    )
    assert isinstance(binding.value, x509.UnrecognizedExtension)
    assert binding.value.value == bytes([0x0C, len(text)]) + text.encode()  # DER UTF8String
    assert device_certificate_fields(cert) == ("dev-scale-1", text)
    assert DEVICE_BINDING_OID.dotted_string.endswith(".4")
    assert DEVICE_READING_EKU_OID.dotted_string.endswith(".5")
    assert DEVICE_READING_EKU_OID != DOCUMENT_SIGNING_EKU_OID


def test_device_from_certificate_round_trip(scale: Device) -> None:
    device = scale.identity
    assert device.device_id == "dev-scale-1"
    assert device.kind is DeviceKind.SCALE
    assert device.warehouse == WAREHOUSE
    assert device.location == "SILO-4"
    assert device.receipt_ids == frozenset({7, 9})
    assert device.serial == scale.cert.serial_number
    assert device.not_before == NOW_DT - timedelta(days=1)
    assert device.not_after == NOW_DT + timedelta(days=365)
    assert device.valid_at(NOW) and not device.valid_at(NOW + 366 * 86_400)
    assert binding_json(device.binding) == device_certificate_fields(scale.cert)[1]


def test_binding_normalizes_and_accepts_an_empty_set_of_lots() -> None:
    binding = DeviceBinding("dev-a", "gps_tag", "0x" + "AB" * 20, "GF-1", frozenset())  # type: ignore[arg-type]
    assert binding.kind is DeviceKind.GPS_TAG
    assert binding.warehouse == "0x" + "ab" * 20
    assert (
        binding_json(binding)
        == '{"kind":"gps_tag","location":"GF-1","lots":[],"warehouse":"0x' + "ab" * 20 + '"}'
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"device_id": "Dev-1"},
        {"device_id": "dev-"},
        {"device_id": "dev--"},
        {"device_id": "dev-a-"},
        {"device_id": "device-1"},
        {"device_id": "dev-" + "a" * 61},
        {"device_id": "dev-\u0430"},  # Cyrillic a
        {"kind": "hygrometer"},
        {"warehouse": "0x1234"},
        {"warehouse": "a1" * 20},
        {"location": ""},
        {"location": "S" * 33},
        {"location": "SILO 4"},
        {"location": "-SILO"},
        {"receipt_ids": frozenset({0})},
        {"receipt_ids": frozenset({2**53})},
        {"receipt_ids": frozenset({True})},
        {"receipt_ids": frozenset({1.0})},
        {"receipt_ids": frozenset(range(1, MAX_BOUND_RECEIPTS + 2))},
    ],
)
def test_binding_validation(changes: dict[str, Any]) -> None:
    values: dict[str, Any] = {
        "device_id": "dev-1",
        "kind": DeviceKind.SCALE,
        "warehouse": WAREHOUSE,
        "location": "SILO-4",
        "receipt_ids": frozenset({7}),
    }
    values.update(changes)
    with pytest.raises(ValueError):
        DeviceBinding(**values)


def test_longest_device_id_and_location_are_accepted() -> None:
    binding = DeviceBinding("dev-" + "a" * 60, DeviceKind.SEAL, WAREHOUSE, "S" * 32, frozenset(range(1, 257)))
    assert len(binding.device_id) == 64
    assert parse_binding(binding_json(binding), binding.device_id) == binding


@pytest.mark.parametrize(
    "text",
    [
        '{"kind":"scale","location":"SILO-4","lots":[9,7],"warehouse":"0x' + "a1" * 20 + '"}',  # unsorted
        '{"kind":"scale","location":"SILO-4","lots":[7,7],"warehouse":"0x' + "a1" * 20 + '"}',  # repeated
        '{"kind":"scale","location":"SILO-4","lots":[7.0],"warehouse":"0x' + "a1" * 20 + '"}',  # float
        '{"kind":"scale","location":"SILO-4","lots":[7], "warehouse":"0x' + "a1" * 20 + '"}',  # space
        '{"location":"SILO-4","kind":"scale","lots":[7],"warehouse":"0x' + "a1" * 20 + '"}',  # key order
        '{"kind":"scale","kind":"scale","location":"SILO-4","lots":[7],"warehouse":"0x' + "a1" * 20 + '"}',
        '{"kind":"scale","location":"SILO-4","lots":[7],"warehouse":"0x' + "A1" * 20 + '"}',  # upper case
        '{"kind":"scale","location":"SILO-4","lots":[7],"warehouse":"0x' + "a1" * 20 + '","x":1}',
        '{"kind":"scale","location":"SILO-4","lots":[true],"warehouse":"0x' + "a1" * 20 + '"}',
        '{"kind":"sc\\u0061le","location":"SILO-4","lots":[7],"warehouse":"0x' + "a1" * 20 + '"}',  # escape
        '{"kind":"oven","location":"SILO-4","lots":[7],"warehouse":"0x' + "a1" * 20 + '"}',
        '["scale"]',
        "not json",
    ],
)
def test_binding_must_be_canonical_json(text: str) -> None:
    with pytest.raises(ValueError):
        parse_binding(text, "dev-1")


def _hand_built(
    ca: CertificateAuthority,
    *,
    eku: list[x509.ObjectIdentifier],
    extra: x509.ExtensionType | None = None,
    non_repudiation: bool = False,
    binding: bool = True,
    subject: list[x509.NameAttribute[Any]] | None = None,
) -> x509.Certificate:
    """A certificate signed by the real CA key, on or off the device profile."""
    key = ec.generate_private_key(ec.SECP256R1())
    text = binding_json(DeviceBinding("dev-odd", DeviceKind.SCALE, WAREHOUSE, "SILO-4", frozenset({7})))
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(subject or [x509.NameAttribute(NameOID.COMMON_NAME, "dev-odd")]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW_DT - timedelta(days=1))
        .not_valid_after(NOW_DT + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, non_repudiation, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    )
    if binding:
        utf8 = bytes([0x0C, len(text)]) + text.encode()
        builder = builder.add_extension(x509.UnrecognizedExtension(DEVICE_BINDING_OID, utf8), critical=False)
    if extra is not None:
        builder = builder.add_extension(extra, critical=False)
    return builder.sign(ca.private_key, hashes.SHA256())


def test_hand_built_certificate_on_the_profile_is_accepted(ca: CertificateAuthority) -> None:
    assert device_from_certificate(_hand_built(ca, eku=[DEVICE_READING_EKU_OID])).device_id == "dev-odd"


@pytest.mark.parametrize(
    ("eku", "extra"),
    [
        ([DEVICE_READING_EKU_OID, DOCUMENT_SIGNING_EKU_OID], None),  # both purposes
        ([DOCUMENT_SIGNING_EKU_OID], None),
        ([DEVICE_READING_EKU_OID], x509.UnrecognizedExtension(PARTICIPANT_ROLE_OID, b"\x0c\x08Supplier")),
        ([DEVICE_READING_EKU_OID], x509.SubjectAlternativeName([x509.DNSName("dev.example")])),
    ],
)
def test_device_profile_is_strict(
    ca: CertificateAuthority, eku: list[x509.ObjectIdentifier], extra: x509.ExtensionType | None
) -> None:
    with pytest.raises(DeviceCertificateError) as info:
        device_from_certificate(_hand_built(ca, eku=eku, extra=extra))
    assert info.value.code is Code.DEVICE_CERT_PROFILE_INVALID


@pytest.mark.parametrize(
    "changes",
    [
        {"non_repudiation": True},
        {"binding": False},
        {"subject": [x509.NameAttribute(NameOID.COMMON_NAME, "Dev-Odd")]},
        {
            "subject": [
                x509.NameAttribute(NameOID.COMMON_NAME, "dev-odd"),
                x509.NameAttribute(NameOID.SERIAL_NUMBER, "1"),
            ]
        },
    ],
)
def test_device_profile_key_usage_binding_and_subject(
    ca: CertificateAuthority, changes: dict[str, Any]
) -> None:
    with pytest.raises(DeviceCertificateError) as info:
        device_from_certificate(_hand_built(ca, eku=[DEVICE_READING_EKU_OID], **changes))
    assert info.value.code is Code.DEVICE_CERT_PROFILE_INVALID


def test_participant_and_ca_certificates_are_no_device_certificates(ca: CertificateAuthority) -> None:
    _, cert = participant(ca, Role.LOGISTICS, 1)
    for other in (cert, ca.certificate):
        with pytest.raises(DeviceCertificateError) as info:
            device_from_certificate(other)
        assert info.value.code is Code.DEVICE_CERT_PROFILE_INVALID


def test_device_certificate_is_no_participant_certificate(scale: Device) -> None:
    with pytest.raises(CertificateProfileError) as info:
        participant_from_certificate(scale.cert)
    assert info.value.code is ErrorCode.CERT_PROFILE_INVALID


def test_document_signing_refuses_a_device_certificate(ca: CertificateAuthority, scale: Device) -> None:
    """A device key and certificate can make a detached JWS, but the document verifier refuses it."""
    payload = b"<Invoice><ID>INV-1</ID></Invoice>"
    jws = sign_detached(payload, scale.key, scale.cert, DocumentKind.RECEIPT_ADVICE, NOW_DT)
    with pytest.raises(SignatureVerificationError) as info:
        verify_detached(
            payload,
            jws,
            ca_cert=ca.certificate,
            is_revoked=set(),
            expected_kind=DocumentKind.RECEIPT_ADVICE,
            expected_signer=None,
            now=NOW_DT,
        )
    assert info.value.code is ErrorCode.CERT_PROFILE_INVALID


def test_participant_certificate_cannot_sign_readings(ca: CertificateAuthority, fleet: Fleet) -> None:
    key, cert = participant(ca, Role.LOGISTICS, 2, WAREHOUSE)
    fleet.register(cert)  # even if the gateway's registry held it
    claims = {"dev": "dev-scale-1", "seq": 1, "iat": NOW, "loc": "SILO-4", "rid": 7, "m": {"weight_kg": 1}}
    assert fleet.code(encode_reading(key, cert, claims)) is Code.DEVICE_CERT_UNTRUSTED


def test_ca_refuses_bad_device_requests(ca: CertificateAuthority) -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    binding = binding_json(DeviceBinding("dev-1", DeviceKind.SCALE, WAREHOUSE, "SILO-4", frozenset({7})))
    with pytest.raises(ValueError):
        ca.issue_device_certificate(key, "DEV-1", binding)
    with pytest.raises(ValueError):
        ca.issue_device_certificate(ed25519.Ed25519PrivateKey.generate().public_key(), "dev-1", binding)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ca.issue_device_certificate(ec.generate_private_key(ec.SECP384R1()).public_key(), "dev-1", binding)
    with pytest.raises(ValueError):
        ca.issue_device_certificate(key, "dev-1", "{\u00e9}")
    with pytest.raises(ValueError):
        ca.issue_device_certificate(key, "dev-1", binding, not_before=NOW_DT - timedelta(days=60))
    with pytest.raises(ValueError):
        ca.issue_device_certificate(key, "dev-1", binding, not_before=NOW_DT, not_after=NOW_DT)


def test_reissue_with_a_new_binding(ca: CertificateAuthority, fleet: Fleet) -> None:
    old = fleet.device(DeviceKind.SCALE, "dev-rebind", receipts=(7,))
    assert fleet.verify(old.reading({"weight_kg": 500_000})).seq == 1
    new_cert = reissue_device_certificate(
        ca, old.cert, receipt_ids={7, 8}, location="SILO-5", not_before=NOW_DT - timedelta(hours=1)
    )
    fleet.register(new_cert)
    new = device_from_certificate(new_cert)
    assert (new.device_id, new.kind, new.warehouse) == (old.identity.device_id, DeviceKind.SCALE, WAREHOUSE)
    assert new.location == "SILO-5" and new.receipt_ids == frozenset({7, 8})
    assert new.serial != old.identity.serial
    assert new_cert.public_key() == old.cert.public_key()  # same key unless a new one is given
    fleet.revoked.add(old.identity.serial)  # superseded
    try:
        assert fleet.code(old.reading({"weight_kg": 500_000}), last_seq=1) is Code.DEVICE_REVOKED
        rebound = Device(old.key, new_cert, new, seq=old.seq)
        # the counter is the device's: it runs on across the re-issue
        assert (
            fleet.code(rebound.reading({"weight_kg": 300_000}, rid=8, seq=1), last_seq=1)
            is Code.READING_REPLAYED
        )
        verified = fleet.verify(rebound.reading({"weight_kg": 300_000}, rid=8), last_seq=1)
        assert (verified.seq, verified.receipt_id, verified.device.location) == (3, 8, "SILO-5")
    finally:
        fleet.revoked.discard(old.identity.serial)


# --------------------------------------------------------------------------------------------------
# Round trip
# --------------------------------------------------------------------------------------------------


def test_round_trip(fleet: Fleet, scale: Device) -> None:
    token = scale.reading({"weight_kg": 499_100})
    verified = fleet.verify(token)
    assert verified.device == scale.identity
    assert (verified.seq, verified.iat, verified.receipt_id, verified.location) == (
        scale.seq,
        NOW,
        7,
        "SILO-4",
    )
    assert dict(verified.measurements) == {"weight_kg": 499_100}
    assert verified.digest == hashlib.sha256(token.encode()).digest() == reading_digest(token)
    assert len(verified.digest) == 32


def test_token_form(scale: Device) -> None:
    token = scale.reading({"weight_kg": 1})
    header_b64, payload_b64, sig_b64 = token.split(".")
    assert json.loads(_unb64url(header_b64)) == {
        "alg": "ES256",
        "typ": READING_TYP,
        "x5t#S256": b64url_encode(
            hashlib.sha256(scale.cert.public_bytes(serialization.Encoding.DER)).digest()
        ),
    }
    assert set(json.loads(_unb64url(payload_b64))) == {"dev", "seq", "iat", "loc", "rid", "m"}
    raw = _unb64url(sig_b64)
    assert len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    scale.key.public_key().verify(der, f"{header_b64}.{payload_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    assert len(token) < 400


def test_every_kind_sends_what_it_measures(fleet: Fleet) -> None:
    samples: dict[DeviceKind, tuple[dict[str, Any], str, tuple[int, ...]]] = {
        DeviceKind.SCALE: ({"weight_kg": 500_000}, "SILO-4", (7,)),
        DeviceKind.COUNTER: ({"count": 1_200}, "BAY-12", (9,)),
        DeviceKind.CAMERA: ({"count": 1_199}, "BAY-12", (9,)),
        DeviceKind.THERMOMETER: ({"temp_dc": 183, "rh_pm": 612}, "SILO-4", (7,)),
        DeviceKind.SEAL: ({"seal": "closed"}, "SILO-4", (7,)),
        DeviceKind.GPS_TAG: ({"geo": "inside"}, "GF-NORTH", (7,)),
    }
    assert set(samples) == set(DeviceKind) == set(KIND_MEASUREMENTS)
    for kind, (m, location, receipts) in samples.items():
        device = fleet.device(
            kind, f"dev-kind-{kind.value.replace('_', '-')}", location=location, receipts=receipts
        )
        assert dict(fleet.verify(device.reading(m)).measurements) == m
        assert set(m) <= KIND_MEASUREMENTS[kind]


def test_thermometer_may_send_one_of_its_two_measurements(fleet: Fleet, thermometer: Device) -> None:
    assert dict(fleet.verify(thermometer.reading({"temp_dc": -35})).measurements) == {"temp_dc": -35}
    assert dict(fleet.verify(thermometer.reading({"rh_pm": 0})).measurements) == {"rh_pm": 0}


def test_certificates_may_be_looked_up_by_a_callable_returning_certificate_objects(
    fleet: Fleet, scale: Device
) -> None:
    asked: list[str] = []

    def lookup(thumbprint: str) -> x509.Certificate | None:
        asked.append(thumbprint)
        return scale.cert if thumbprint == certificate_thumbprint(scale.cert) else None

    assert fleet.verify(scale.reading({"weight_kg": 5}), certificates=lookup).device == scale.identity
    assert asked == [certificate_thumbprint(scale.cert)]


def test_trust_anchor_list_supports_ca_rollover(
    ca: CertificateAuthority, fleet: Fleet, scale: Device
) -> None:
    other = new_ca()
    assert (
        fleet.verify(scale.reading({"weight_kg": 5}), ca_root=[other.certificate, ca.certificate]).seq
        == scale.seq
    )


# --------------------------------------------------------------------------------------------------
# Forged and tampered
# --------------------------------------------------------------------------------------------------


def test_forged_with_another_key(fleet: Fleet, scale: Device) -> None:
    """The attacker signs a claim set with its own key under the header naming the scale's certificate."""
    attacker = ec.generate_private_key(ec.SECP256R1())
    header = {"alg": "ES256", "typ": READING_TYP, "x5t#S256": certificate_thumbprint(scale.cert)}
    claims = scale.claims({"weight_kg": 500_000})
    forged = jws_sign(header, json.dumps(claims).encode(), attacker)
    assert fleet.code(forged) is Code.READING_SIG_INVALID


def test_forged_by_another_device_of_the_fleet(fleet: Fleet, scale: Device, thermometer: Device) -> None:
    header = {"alg": "ES256", "typ": READING_TYP, "x5t#S256": certificate_thumbprint(scale.cert)}
    forged = jws_sign(header, json.dumps(scale.claims({"weight_kg": 500_000})).encode(), thermometer.key)
    assert fleet.code(forged) is Code.READING_SIG_INVALID


def test_tampered_payload(fleet: Fleet, scale: Device) -> None:
    token = scale.reading({"weight_kg": 400_000})
    header_b64, _, sig = token.split(".")
    claims = json.loads(_unb64url(token.split(".")[1]))
    claims["m"]["weight_kg"] = 500_000
    assert fleet.code(f"{header_b64}.{_b64url_json(claims)}.{sig}") is Code.READING_SIG_INVALID


@pytest.mark.parametrize("position", [0, 31, 32, 63])
def test_tampered_signature(fleet: Fleet, scale: Device, position: int) -> None:
    header_b64, payload_b64, sig = scale.reading({"weight_kg": 1}).split(".")
    raw = bytearray(_unb64url(sig))
    raw[position] ^= 0x01
    assert fleet.code(f"{header_b64}.{payload_b64}.{b64url_encode(bytes(raw))}") is Code.READING_SIG_INVALID


def test_zero_signature(fleet: Fleet, scale: Device) -> None:
    header_b64, payload_b64, _ = scale.reading({"weight_kg": 1}).split(".")
    assert fleet.code(f"{header_b64}.{payload_b64}.{b64url_encode(bytes(64))}") is Code.READING_SIG_INVALID


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_no_single_character_change_is_accepted(fleet: Fleet, scale: Device, data: st.DataObject) -> None:
    """Change any one character of a valid token: it is refused (whatever the code), never accepted."""
    token = scale.reading({"weight_kg": 499_000}, seq=10_000)
    position = data.draw(st.integers(0, len(token) - 1))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.="
    char = data.draw(st.sampled_from([c for c in alphabet if c != token[position]]))
    changed = token[:position] + char + token[position + 1 :]
    with pytest.raises(ReadingError):
        fleet.verify(changed)


# --------------------------------------------------------------------------------------------------
# Certificate trust, validity, revocation
# --------------------------------------------------------------------------------------------------


def test_unknown_thumbprint(fleet: Fleet, scale: Device) -> None:
    token = scale.reading({"weight_kg": 1})
    assert fleet.code(token, certificates={}) is Code.DEVICE_CERT_UNTRUSTED
    assert fleet.code(token, certificates=lambda _t: None) is Code.DEVICE_CERT_UNTRUSTED


def test_look_up_returning_another_certificate(fleet: Fleet, scale: Device, thermometer: Device) -> None:
    """The verifier recomputes the thumbprint: a registry answering with the wrong certificate fails."""
    token = scale.reading({"weight_kg": 1})
    wrong = {certificate_thumbprint(scale.cert): thermometer.cert}
    assert fleet.code(token, certificates=wrong) is Code.DEVICE_CERT_UNTRUSTED


def test_registered_bytes_that_are_no_certificate(fleet: Fleet, scale: Device) -> None:
    token = scale.reading({"weight_kg": 1})
    assert (
        fleet.code(token, certificates={certificate_thumbprint(scale.cert): b"junk"})
        is Code.DEVICE_CERT_UNTRUSTED
    )


def test_device_certificate_from_a_foreign_ca(fleet: Fleet) -> None:
    foreign = new_ca()
    device = fleet.device(DeviceKind.SCALE, "dev-foreign", ca=foreign)
    assert fleet.code(device.reading({"weight_kg": 1})) is Code.DEVICE_CERT_UNTRUSTED


def test_device_certificate_from_an_impostor_ca_with_the_same_name(fleet: Fleet) -> None:
    impostor = create_ca(
        "SCF Platform Root CA", organization="SCF Platform", not_before=NOW_DT - timedelta(days=30)
    )
    device = fleet.device(DeviceKind.SCALE, "dev-impostor", ca=impostor)
    assert device.cert.issuer == fleet.ca.certificate.subject
    assert fleet.code(device.reading({"weight_kg": 1})) is Code.DEVICE_CERT_UNTRUSTED


def test_expired_and_not_yet_valid_certificates(fleet: Fleet) -> None:
    expired = fleet.device(
        DeviceKind.SCALE,
        "dev-expired",
        not_before=NOW_DT - timedelta(days=20),
        not_after=NOW_DT - timedelta(hours=1),
    )
    assert fleet.code(expired.reading({"weight_kg": 1})) is Code.DEVICE_CERT_UNTRUSTED
    # a reading made while it was valid, received within the age bound, is still accepted
    assert fleet.verify(expired.reading({"weight_kg": 1}, iat=NOW - 7200)).iat == NOW - 7200
    future = fleet.device(DeviceKind.SCALE, "dev-future", not_before=NOW_DT + timedelta(hours=1))
    assert fleet.code(future.reading({"weight_kg": 1})) is Code.DEVICE_CERT_UNTRUSTED


def test_revoked_device(fleet: Fleet) -> None:
    device = fleet.device(DeviceKind.SEAL, "dev-seal-revoked")
    token = device.reading({"seal": "closed"})
    assert fleet.verify(token).seq == 1  # trusted, and cached
    assert fleet.code(token, revoked={device.identity.serial}) is Code.DEVICE_REVOKED
    assert fleet.code(token, revoked=lambda serial: serial == device.identity.serial) is Code.DEVICE_REVOKED


def test_revocation_callable_errors_propagate(fleet: Fleet, scale: Device) -> None:
    def down(_serial: int) -> bool:
        raise ConnectionError("revocation store unreachable")

    with pytest.raises(ConnectionError):
        fleet.verify(scale.reading({"weight_kg": 1}), revoked=down)


def test_certificate_cache(fleet: Fleet) -> None:
    device = fleet.device(DeviceKind.SEAL, "dev-seal-cache")
    clear_certificate_cache()
    fleet.verify(device.reading({"seal": "closed"}))
    first = certificate_cache_info()
    fleet.verify(device.reading({"seal": "closed"}))
    second = certificate_cache_info()
    assert (first.misses, first.hits) == (1, 0)
    assert (second.misses, second.hits) == (1, 1)


# --------------------------------------------------------------------------------------------------
# Binding
# --------------------------------------------------------------------------------------------------


def test_reading_on_a_receipt_the_device_is_not_bound_to(fleet: Fleet, thermometer: Device) -> None:
    assert fleet.code(thermometer.reading({"temp_dc": 150}, rid=8)) is Code.DEVICE_NOT_BOUND


def test_reading_from_another_location(fleet: Fleet, thermometer: Device) -> None:
    assert fleet.code(thermometer.reading({"temp_dc": 150}, loc="SILO-5")) is Code.DEVICE_NOT_BOUND


def test_reading_naming_another_device(fleet: Fleet, scale: Device, thermometer: Device) -> None:
    assert (
        fleet.code(thermometer.reading({"temp_dc": 150}, dev=scale.identity.device_id))
        is Code.DEVICE_NOT_BOUND
    )


def test_receipt_unknown_or_other(fleet: Fleet, thermometer: Device) -> None:
    token = thermometer.reading({"temp_dc": 150})
    assert fleet.code(token, receipt=lambda _rid: None) is Code.DEVICE_NOT_BOUND
    assert fleet.code(token, receipt=RECEIPT_TNE) is Code.DEVICE_NOT_BOUND
    assert fleet.verify(token, receipt=RECEIPT_KGM).receipt_id == 7


def test_receipt_of_another_warehouse_or_place(fleet: Fleet, thermometer: Device) -> None:
    token = thermometer.reading({"temp_dc": 150})
    other_wh = ReceiptFacts(7, OTHER_WAREHOUSE, "SOYBEAN", 500_000, "KGM", "SILO-4")
    assert fleet.code(token, receipt=other_wh) is Code.DEVICE_NOT_BOUND
    moved = ReceiptFacts(7, WAREHOUSE, "SOYBEAN", 500_000, "KGM", "SILO-9")
    assert fleet.code(token, receipt=moved) is Code.DEVICE_NOT_BOUND


def test_gps_tag_watches_the_receipts_geofence(fleet: Fleet) -> None:
    tag = fleet.device(DeviceKind.GPS_TAG, "dev-gps-1", location="GF-NORTH")
    assert fleet.verify(tag.reading({"geo": "outside"})).location == "GF-NORTH"
    no_fence = ReceiptFacts(7, WAREHOUSE, "SOYBEAN", 500_000, "KGM", "SILO-4")
    assert fleet.code(tag.reading({"geo": "inside"}), receipt=no_fence) is Code.DEVICE_NOT_BOUND
    stray = fleet.device(DeviceKind.GPS_TAG, "dev-gps-2", location="GF-SOUTH")
    assert fleet.code(stray.reading({"geo": "inside"})) is Code.DEVICE_NOT_BOUND


# --------------------------------------------------------------------------------------------------
# Counter and time
# --------------------------------------------------------------------------------------------------


def test_replayed_and_out_of_order(fleet: Fleet, counter: Device) -> None:
    token = counter.reading({"count": 1_200}, seq=41)
    assert fleet.verify(token, last_seq=40).seq == 41
    assert fleet.code(token, last_seq=41) is Code.READING_REPLAYED
    assert fleet.code(token, last_seq=42) is Code.READING_OUT_OF_ORDER
    assert fleet.verify(token, last_seq=None).seq == 41
    assert fleet.verify(token, last_seq=1).seq == 41  # gaps are allowed: a lost reading is no fault


def test_last_seq_by_callable(fleet: Fleet, counter: Device) -> None:
    store = {counter.identity.device_id: 7}
    assert fleet.code(counter.reading({"count": 1}, seq=7), last_seq=store.get) is Code.READING_REPLAYED
    assert fleet.code(counter.reading({"count": 1}, seq=6), last_seq=store.get) is Code.READING_OUT_OF_ORDER
    assert fleet.verify(counter.reading({"count": 1}, seq=8), last_seq=store.get).seq == 8


def test_clock_skew(fleet: Fleet, counter: Device) -> None:
    assert fleet.verify(counter.reading({"count": 1}, iat=NOW + 300)).iat == NOW + 300
    assert fleet.code(counter.reading({"count": 1}, iat=NOW + 301)) is Code.READING_CLOCK_SKEW
    assert fleet.verify(counter.reading({"count": 1}, iat=NOW - 86_400)).iat == NOW - 86_400
    assert fleet.code(counter.reading({"count": 1}, iat=NOW - 86_401)) is Code.READING_CLOCK_SKEW
    token = counter.reading({"count": 1}, iat=NOW + 10)
    assert fleet.code(token, max_skew_s=5) is Code.READING_CLOCK_SKEW
    assert fleet.code(counter.reading({"count": 1}, iat=NOW - 61), max_age_s=60) is Code.READING_CLOCK_SKEW


# --------------------------------------------------------------------------------------------------
# Plausibility
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("m", "ok"),
    [
        ({"weight_kg": 0}, True),
        ({"weight_kg": -1}, False),
        ({"weight_kg": 5_000_000}, True),  # 10x the receipt's 500,000 kg
        ({"weight_kg": 5_000_001}, False),
    ],
)
def test_weight_plausibility(fleet: Fleet, scale: Device, m: dict[str, Any], ok: bool) -> None:
    token = scale.reading(m)
    if ok:
        assert fleet.verify(token).measurements == m
    else:
        assert fleet.code(token) is Code.READING_IMPLAUSIBLE


def test_weight_on_a_piece_receipt_is_bounded_by_the_device(fleet: Fleet, scale: Device) -> None:
    """A receipt in pieces says nothing of the weight: only the scale's own maximum bounds it."""
    pieces_in_silo = ReceiptFacts(9, WAREHOUSE, "TV55", 1_200, "H87", "SILO-4")
    heaviest = scale.reading({"weight_kg": MAX_WEIGHT_KG}, rid=9)
    assert fleet.verify(heaviest, receipt=pieces_in_silo).measurements["weight_kg"] == MAX_WEIGHT_KG
    too_heavy = scale.reading({"weight_kg": MAX_WEIGHT_KG + 1}, rid=9)
    assert fleet.code(too_heavy, receipt=pieces_in_silo) is Code.READING_IMPLAUSIBLE


def test_weight_against_a_tonne_receipt(fleet: Fleet) -> None:
    scale = fleet.device(DeviceKind.SCALE, "dev-scale-tne", location="SILO-5", receipts=(8,))
    assert fleet.verify(scale.reading({"weight_kg": 3_000_000})).measurements["weight_kg"] == 3_000_000
    assert fleet.code(scale.reading({"weight_kg": 3_000_001})) is Code.READING_IMPLAUSIBLE


@pytest.mark.parametrize(
    ("m", "ok"),
    [
        ({"count": 12_000}, True),
        ({"count": 12_001}, False),
        ({"count": -1}, False),
    ],
)
def test_count_plausibility(fleet: Fleet, counter: Device, m: dict[str, Any], ok: bool) -> None:
    token = counter.reading(m)
    if ok:
        assert fleet.verify(token).measurements == m
    else:
        assert fleet.code(token) is Code.READING_IMPLAUSIBLE


@pytest.mark.parametrize(
    ("m", "ok"),
    [
        ({"temp_dc": -600}, True),
        ({"temp_dc": 800}, True),
        ({"temp_dc": -601}, False),
        ({"temp_dc": 801}, False),
        ({"rh_pm": 1000}, True),
        ({"rh_pm": 1001}, False),
        ({"rh_pm": -1}, False),
        ({"temp_dc": 200, "rh_pm": 1001}, False),
    ],
)
def test_climate_plausibility(fleet: Fleet, thermometer: Device, m: dict[str, Any], ok: bool) -> None:
    token = thermometer.reading(m)
    if ok:
        assert fleet.verify(token).measurements == m
    else:
        assert fleet.code(token) is Code.READING_IMPLAUSIBLE


@pytest.mark.parametrize(
    ("device_name", "m"),
    [
        ("thermometer", {"weight_kg": 500_000}),
        ("thermometer", {"temp_dc": 150, "seal": "closed"}),
        ("scale", {"temp_dc": 150}),
        ("scale", {"count": 3}),
        ("counter", {"geo": "inside"}),
    ],
)
def test_measurement_the_kind_does_not_take(
    fleet: Fleet, request: pytest.FixtureRequest, device_name: str, m: dict[str, Any]
) -> None:
    device: Device = request.getfixturevalue(device_name)
    assert fleet.code(device.reading(m)) is Code.READING_IMPLAUSIBLE


# --------------------------------------------------------------------------------------------------
# Malformed
# --------------------------------------------------------------------------------------------------


def _signed(scale: Device, header: Any = None, payload: bytes | None = None) -> str:
    """A correctly signed token over any header (even no JSON object) and payload bytes, to reach the
    parser's checks."""
    if header is None:
        header = {"alg": "ES256", "typ": READING_TYP, "x5t#S256": certificate_thumbprint(scale.cert)}
    if payload is None:
        payload = json.dumps(scale.claims({"weight_kg": 1})).encode()
    signing_input = f"{_b64url_json(header)}.{b64url_encode(payload)}"
    r, s = decode_dss_signature(scale.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64url_encode(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _good_claims(scale: Device) -> dict[str, Any]:
    return {"dev": "dev-scale-1", "seq": 5, "iat": NOW, "loc": "SILO-4", "rid": 7, "m": {"weight_kg": 1}}


@pytest.mark.parametrize(
    "payload",
    [
        b'{"dev":"dev-scale-1","seq":5,"iat":1780315200,"loc":"SILO-4","rid":7,"m":{"weight_kg":1.5}}',
        b'{"dev":"dev-scale-1","seq":5,"iat":1780315200,"loc":"SILO-4","rid":7,"m":{"weight_kg":1e3}}',
        b'{"dev":"dev-scale-1","seq":5,"iat":1780315200,"loc":"SILO-4","rid":7,"m":{"weight_kg":1.0}}',
        b'{"dev":"dev-scale-1","seq":5.0,"iat":1780315200,"loc":"SILO-4","rid":7,"m":{"weight_kg":1}}',
        b'{"dev":"dev-scale-1","seq":5,"iat":1780315200.5,"loc":"SILO-4","rid":7,"m":{"weight_kg":1}}',
        b'{"dev":"dev-scale-1","seq":5,"iat":1780315200,"loc":"SILO-4","rid":7,"m":{"weight_kg":NaN}}',
        b'{"dev":"dev-scale-1","seq":5,"iat":1780315200,"loc":"SILO-4","rid":7,"m":{"weight_kg":Infinity}}',
        b'{"dev":"dev-scale-1","seq":5,"seq":6,"iat":1780315200,"loc":"SILO-4","rid":7,"m":{"weight_kg":1}}',
        b'{"dev":"dev-scale-1","seq":5,"iat":1780315200,"loc":"SILO-4","rid":7,"m":{"weight_kg":1,"weight_kg":2}}',
        b'{"dev":"dev-scale-1","seq":5,"iat":1780315200,"loc":"SILO-4","rid":7,"m":{"weight_kg":"1"}}',
        b'{"dev":"dev-scale-1","seq":5,"iat":1780315200,"loc":"SILO-4","rid":7,"m":{"weight_kg":true}}',
        b'{"dev":"dev-scale-1","seq":true,"iat":1780315200,"loc":"SILO-4","rid":7,"m":{"weight_kg":1}}',
        b'{"dev":"dev-scale-1","seq":0,"iat":1780315200,"loc":"SILO-4","rid":7,"m":{"weight_kg":1}}',
        b'{"dev":"dev-scale-1","seq":9007199254740992,"iat":1780315200,"loc":"SILO-4","rid":7,"m":{"weight_kg":1}}',
        b'{"dev":"dev-scale-1","seq":5,"iat":-1,"loc":"SILO-4","rid":7,"m":{"weight_kg":1}}',
        b'{"dev":"dev-scale-1","seq":5,"iat":1780315200,"loc":"SILO-4","rid":"7","m":{"weight_kg":1}}',
        b'{"dev":"dev-scale-1","seq":5,"iat":1780315200,"loc":"SILO-4","rid":0,"m":{"weight_kg":1}}',
        b'{"dev":"dev-scale-1","seq":5,"iat":1780315200,"loc":"SILO-4","rid":7,"m":{"weight_kg":9007199254740992}}',
        b'{"dev":"dev-scale-1","seq":5,"iat":1780315200,"loc":"SILO-4","rid":7,"m":{}}',
        b'{"dev":"dev-scale-1","seq":5,"iat":1780315200,"loc":"SILO-4","rid":7,"m":[["weight_kg",1]]}',
        b'{"dev":"dev-scale-1","seq":5,"iat":1780315200,"loc":"SILO-4","rid":7,"m":{"weight_g":1}}',
        b'{"dev":"dev-scale-1","seq":5,"iat":1780315200,"loc":"SILO-4","rid":7,"m":{"seal":"ajar"}}',
        b'{"dev":"dev-scale-1","seq":5,"iat":1780315200,"loc":"SILO-4","rid":7,"m":{"geo":{"lat":1}}}',
        b'{"dev":"dev-scale-1","seq":5,"iat":1780315200,"loc":"SILO-4","rid":7}',
        b'{"dev":"dev-scale-1","seq":5,"iat":1780315200,"loc":"SILO-4","rid":7,"m":{"weight_kg":1},"x":1}',
        b'{"dev":"DEV-1","seq":5,"iat":1780315200,"loc":"SILO-4","rid":7,"m":{"weight_kg":1}}',
        b'{"dev":"dev-scale-1","seq":5,"iat":1780315200,"loc":"SILO 4","rid":7,"m":{"weight_kg":1}}',
        b'{"dev":"dev-scale-1","seq":5,"iat":1780315200,"loc":null,"rid":7,"m":{"weight_kg":1}}',
        b'["dev-scale-1",5]',
        b"\xff\xfe",
        b"",
        b"[" * 1400 + b"]" * 1400,  # nested beyond the parser's recursion limit, within 4 KiB
    ],
)
def test_malformed_claims(fleet: Fleet, scale: Device, payload: bytes) -> None:
    assert fleet.code(_signed(scale, payload=payload)) is Code.READING_MALFORMED


def test_the_good_claims_of_the_malformed_table_verify(fleet: Fleet, scale: Device) -> None:
    payload = b'{"dev":"dev-scale-1","seq":5,"iat":1780315200,"loc":"SILO-4","rid":7,"m":{"weight_kg":1}}'
    assert json.loads(payload) == _good_claims(scale)
    assert fleet.verify(_signed(scale, payload=payload)).seq == 5


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "ES256", "typ": READING_TYP},
        {"alg": "none", "typ": READING_TYP, "x5t#S256": "A" * 43},
        {"alg": "HS256", "typ": READING_TYP, "x5t#S256": "A" * 43},
        {"alg": "ES256", "typ": "JWT", "x5t#S256": "A" * 43},
        {"alg": "ES256", "typ": "scf-price+jwt", "x5t#S256": "A" * 43},
        {"alg": "ES256", "typ": READING_TYP, "x5t#S256": "A" * 42},
        {"alg": "ES256", "typ": READING_TYP, "x5t#S256": 5},
        {"alg": "ES256", "typ": READING_TYP, "x5t#S256": "A" * 43, "kid": "dev-scale-1"},
        {"alg": "ES256", "typ": READING_TYP, "x5t#S256": "A" * 43, "jwk": {}},
        {"alg": "ES256", "typ": READING_TYP, "x5t#S256": "A" * 43, "x5c": []},
        ["ES256"],
    ],
)
def test_malformed_header(fleet: Fleet, scale: Device, header: Any) -> None:
    assert fleet.code(_signed(scale, header=header)) is Code.READING_MALFORMED


def test_header_with_a_duplicate_member(fleet: Fleet, scale: Device) -> None:
    thumb = certificate_thumbprint(scale.cert)
    raw = f'{{"alg":"ES256","typ":"{READING_TYP}","x5t#S256":"{thumb}","alg":"ES256"}}'.encode()
    token = scale.reading({"weight_kg": 1})
    _, payload_b64, sig = token.split(".")
    assert fleet.code(f"{b64url_encode(raw)}.{payload_b64}.{sig}") is Code.READING_MALFORMED


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t + ".",
        lambda t: t.rsplit(".", 1)[0],
        lambda t: ".".join([t.split(".")[0], "", t.split(".")[2]]),
        lambda t: t + "=",
        lambda t: t.replace(".", "..", 1),
        lambda t: t.split(".")[0] + "." + t.split(".")[1] + "+/." + t.split(".")[2],
        lambda t: t.rsplit(".", 1)[0] + "." + b64url_encode(bytes(63)),
        lambda t: t.rsplit(".", 1)[0] + "." + b64url_encode(bytes(65)),
        lambda t: t + "A" * 5000,
        lambda t: " " + t,
        lambda t: t.encode(),
        lambda _t: None,
    ],
)
def test_malformed_structure(fleet: Fleet, scale: Device, mangle: Any) -> None:
    assert fleet.code(mangle(scale.reading({"weight_kg": 1}))) is Code.READING_MALFORMED


def test_non_canonical_base64url_is_refused(fleet: Fleet, scale: Device) -> None:
    """A last character carrying stray low bits decodes to the same bytes: refused, so one reading has
    one encoding (and one digest) for a given signature."""
    header_b64, payload_b64, sig = scale.reading({"weight_kg": 1}).split(".")
    assert len(sig) % 4 == 2  # 64 bytes: 86 characters, the last holding 2 data bits
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(sig[-1])
    sibling = alphabet[last ^ 0x01]
    assert base64.urlsafe_b64decode(sig[:-1] + sibling + "==") == _unb64url(sig)
    assert fleet.code(f"{header_b64}.{payload_b64}.{sig[:-1]}{sibling}") is Code.READING_MALFORMED


def test_errors_carry_code_and_message(fleet: Fleet, scale: Device) -> None:
    with pytest.raises(ReadingError) as info:
        fleet.verify(scale.reading({"weight_kg": -5}))
    error = info.value
    assert error.code is Code.READING_IMPLAUSIBLE
    assert str(error).startswith("READING_IMPLAUSIBLE: ")
    assert "-5" in error.message
