"""A certifier's green attestation: every refusal with its code, in the documented order."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain.documents.model import DocumentKind
from domain.green.attestation import (
    CATALOGUES,
    AttestationError,
    bytes32_text,
    parse_attestation,
    verify_attestation,
)
from domain.identity import CertificateAuthority, create_ca, sign_detached
from domain.roles import Role
from tests.domain.test_identity_signing import NOW, Party, _issue

FP = "0x" + "ab" * 32
TODAY = NOW.date()


def _doc(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "type": "scf.green-attestation/1",
        "receivable_id": 12,
        "fingerprint": FP,
        "catalogue": "CN-GFSPC-2025",
        "category": "3.2.1",
        "evidence_sha256": "cd" * 32,
        "valid_from": (TODAY - timedelta(days=1)).isoformat(),
        "valid_until": (TODAY + timedelta(days=364)).isoformat(),
        "benefit": {"kg_co2e": 125_000, "method": "GHG Protocol, grid-average avoided emissions"},
        "certifier": {"registration_id": "913100000000000009"},
    }
    doc.update(over)
    return doc


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return create_ca("Green Test Root", organization="SCF", not_before=NOW - timedelta(days=30))


@pytest.fixture(scope="module")
def certifier(ca: CertificateAuthority) -> Party:
    return _issue(ca, Role.CERTIFIER, 9)


def _ledger(fingerprint: str) -> int:
    """The ledger's index of fingerprints: FP is receivable 12's."""
    return 12 if fingerprint == FP else 0


def _check(ca: CertificateAuthority, payload: bytes, jws: str, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "receivable_id": 12,
        "receivable_of": _ledger,
        "ca_cert": ca.certificate,
        "is_revoked": set(),
        "today": TODAY,
        "now": NOW,
    }
    args.update(kw)
    return verify_attestation(payload, jws, **args)


def _refusal(ca: CertificateAuthority, payload: bytes, jws: str, **kw: Any) -> str:
    with pytest.raises(AttestationError) as caught:
        _check(ca, payload, jws, **kw)
    return caught.value.code


def _signed(
    party: Party, doc: dict[str, Any] | bytes, kind: DocumentKind = DocumentKind.GREEN_ATTESTATION
) -> tuple[bytes, str]:
    payload = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return payload, sign_detached(payload, party.key, party.cert, kind, NOW)


def _verify(ca: CertificateAuthority, party: Party, doc: dict[str, Any] | bytes, **kw: Any) -> Any:
    return _check(ca, *_signed(party, doc), **kw)


def _code(ca: CertificateAuthority, party: Party, doc: dict[str, Any] | bytes, **kw: Any) -> str:
    return _refusal(ca, *_signed(party, doc), **kw)


def test_a_good_attestation_gives_the_label(ca: CertificateAuthority, certifier: Party) -> None:
    v = _verify(ca, certifier, _doc())
    a = v.attestation
    assert (a.receivable_id, a.catalogue, a.category, a.benefit_kg_co2e) == (
        12,
        "CN-GFSPC-2025",
        "3.2.1",
        125_000,
    )
    assert v.signer_chain_address == certifier.identity.chain_address
    end = datetime.combine(TODAY + timedelta(days=364), datetime.min.time(), UTC) + timedelta(days=1)
    assert a.valid_until_time == int(end.timestamp()) - 1  # the last second of the last day
    assert len(v.digest) == 32 and bytes32_text("CN-GFSPC-2025") == b"CN-GFSPC-2025".ljust(32, b"\0")
    assert _verify(ca, certifier, _doc(benefit=None)).attestation.benefit_kg_co2e == 0


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"type": "other"}, "ATTESTATION_MALFORMED"),
        ({"receivable_id": True}, "ATTESTATION_MALFORMED"),
        ({"receivable_id": 0}, "ATTESTATION_MALFORMED"),
        ({"fingerprint": "0xAB" + "ab" * 31}, "ATTESTATION_MALFORMED"),
        ({"evidence_sha256": "zz" * 32}, "ATTESTATION_MALFORMED"),
        ({"valid_until": "2026-02-30"}, "ATTESTATION_MALFORMED"),
        ({"valid_until": (TODAY - timedelta(days=5)).isoformat()}, "ATTESTATION_MALFORMED"),
        ({"benefit": {"kg_co2e": 1.5, "method": "x"}}, "ATTESTATION_MALFORMED"),
        ({"benefit": {"kg_co2e": 2**64, "method": "x"}}, "ATTESTATION_MALFORMED"),
        ({"benefit": {"kg_co2e": 1, "method": "x\u202e"}}, "ATTESTATION_MALFORMED"),
        ({"extra": 1}, "ATTESTATION_MALFORMED"),
        ({"catalogue": "MADE-UP"}, "ATTESTATION_CATALOGUE_UNKNOWN"),
        ({"category": "three"}, "ATTESTATION_CATEGORY_INVALID"),
        ({"catalogue": "EU-TAXONOMY", "category": "3.2.1"}, "ATTESTATION_CATEGORY_INVALID"),
        ({"catalogue": "LMA-GLP", "category": "coal"}, "ATTESTATION_CATEGORY_INVALID"),
        ({"certifier": {"registration_id": "someone else"}}, "SIG_SIGNER_MISMATCH"),
    ],
)
def test_a_malformed_attestation_is_refused(
    ca: CertificateAuthority, certifier: Party, change: dict[str, Any], code: str
) -> None:
    assert _code(ca, certifier, _doc(**change)) == code


def test_every_catalogue_takes_its_own_codes(ca: CertificateAuthority, certifier: Party) -> None:
    for catalogue, category in (("EU-TAXONOMY", "7.7"), ("LMA-GLP", "clean_transportation")):
        assert (
            _verify(ca, certifier, _doc(catalogue=catalogue, category=category)).attestation.category
            == category
        )
    assert set(CATALOGUES) == {"CN-GFSPC-2025", "EU-TAXONOMY", "LMA-GLP"}


def test_strict_json(ca: CertificateAuthority, certifier: Party) -> None:
    good = json.dumps(_doc())
    assert (
        _code(ca, certifier, good.replace('"type"', '"type": "x", "type"', 1).encode())
        == "ATTESTATION_MALFORMED"
    )
    assert _code(ca, certifier, good.replace("125000", "NaN").encode()) == "ATTESTATION_MALFORMED"
    assert _code(ca, certifier, b"\xff" + good.encode()) == "ATTESTATION_MALFORMED"


def test_forged_by_a_non_certifier_revoked_or_tampered(ca: CertificateAuthority, certifier: Party) -> None:
    supplier = _issue(ca, Role.SUPPLIER, 9)  # the same registration id, another role
    assert _code(ca, supplier, _doc()) == "SIG_ROLE_MISMATCH"
    other_ca = create_ca("Another Root", organization="Elsewhere", not_before=NOW - timedelta(days=30))
    assert _code(ca, _issue(other_ca, Role.CERTIFIER, 9), _doc()) == "CERT_NOT_FROM_PLATFORM_CA"
    assert _code(ca, certifier, _doc(), is_revoked={certifier.cert.serial_number}) == "CERT_REVOKED"
    payload, jws = _signed(certifier, _doc())
    assert _refusal(ca, payload.replace(b"125000", b"925000"), jws) == "SIG_INVALID"  # tampered
    assert _refusal(ca, *_signed(certifier, payload, DocumentKind.INVOICE)) == "SIG_KIND_MISMATCH"


def test_for_another_receivable_or_outside_its_validity(ca: CertificateAuthority, certifier: Party) -> None:
    assert _code(ca, certifier, _doc(), receivable_id=13) == "ATTESTATION_RECEIVABLE_MISMATCH"
    # the fingerprint it names is another receivable's, or none the ledger knows
    assert _code(ca, certifier, _doc(), receivable_of=lambda _: 13) == "ATTESTATION_RECEIVABLE_MISMATCH"
    assert _code(ca, certifier, _doc(), receivable_of=lambda _: 0) == "ATTESTATION_RECEIVABLE_MISMATCH"
    until = TODAY + timedelta(days=364)
    assert _code(ca, certifier, _doc(), today=until + timedelta(days=1)) == "ATTESTATION_EXPIRED"
    assert _verify(ca, certifier, _doc(), today=until).attestation.valid_until == until  # its last day holds
    assert _code(ca, certifier, _doc(), today=TODAY - timedelta(days=2)) == "ATTESTATION_NOT_YET_VALID"
    assert parse_attestation(json.dumps(_doc()).encode()).valid_from == date.fromisoformat(
        _doc()["valid_from"]
    )
