"""Signed price observations: round trip, the on-chain encodings, and every refusal with its code."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from domain.identity import CertificateAuthority, participant_from_certificate
from domain.maths import collateral_value
from domain.roles import Role
from domain.warehouse import (
    DeviceKind,
    PriceError,
    VerifiedPrice,
    WarehouseErrorCode,
    commodity_bytes16,
    encode_price_observation,
    unit_bytes4,
    verify_price_observation,
)
from domain.warehouse.prices import MAX_PER_THOUSAND, PRICE_TYP, price_digest
from domain.warehouse.readings import b64url_decode, b64url_encode, jws_sign, x5c_entry
from tests.domain.test_warehouse_readings import NOW, NOW_DT, Fleet, new_ca, participant

Code = WarehouseErrorCode
SOURCE = "0x" + "5c" * 20


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return new_ca()


@pytest.fixture(scope="module")
def source(ca: CertificateAuthority) -> tuple[ec.EllipticCurvePrivateKey, Any]:
    return participant(ca, Role.PRICE_SOURCE, 51, SOURCE)


def _observe(signer: tuple[ec.EllipticCurvePrivateKey, Any], **changes: Any) -> str:
    key, cert = signer
    values: dict[str, Any] = {
        "commodity": "SOYBEAN",
        "unit": "KGM",
        "per_thousand": 4_000_00,  # 4,000.00 CNY a tonne
        "currency": "CNY",
        "observed_at": NOW - 60,
        "source": participant_from_certificate(cert).chain_address,
    }
    values.update(changes)
    return encode_price_observation(key, cert, **values)


def _verify(ca: CertificateAuthority, token: str, **kw: Any) -> VerifiedPrice:
    args: dict[str, Any] = {"ca_root": ca.certificate, "revoked": set(), "now": NOW}
    args.update(kw)
    return verify_price_observation(token, **args)


def _code(ca: CertificateAuthority, token: Any, **kw: Any) -> WarehouseErrorCode:
    with pytest.raises(PriceError) as info:
        _verify(ca, token, **kw)
    assert info.value.message
    return info.value.code


def _signed(signer: tuple[ec.EllipticCurvePrivateKey, Any], claims: Any, header: Any = None) -> str:
    key, cert = signer
    if header is None:
        header = {"alg": "ES256", "typ": PRICE_TYP, "x5c": [x5c_entry(cert)]}
    payload = claims if isinstance(claims, bytes) else json.dumps(claims).encode()
    return jws_sign(header, payload, key)


def _claims(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "commodity": "SOYBEAN",
        "unit": "KGM",
        "per_thousand": 400_000,
        "currency": "CNY",
        "observed_at": NOW - 60,
        "source": SOURCE,
    }
    claims.update(changes)
    return claims


# --------------------------------------------------------------------------------------------------
# Round trip and encodings
# --------------------------------------------------------------------------------------------------


def test_round_trip(ca: CertificateAuthority, source: Any) -> None:
    token = _observe(source)
    price = _verify(ca, token)
    assert (price.commodity, price.unit, price.per_thousand, price.currency) == (
        "SOYBEAN",
        "KGM",
        400_000,
        "CNY",
    )
    assert price.observed_at == NOW - 60
    assert price.source.role is Role.PRICE_SOURCE and price.source.chain_address == SOURCE
    assert price.serial == source[1].serial_number
    assert price.digest == hashlib.sha256(token.encode()).digest() == price_digest(token)
    assert price.commodity_bytes16 == commodity_bytes16("SOYBEAN")
    assert price.unit_bytes4 == b"KGM\0"


def test_token_form(source: Any) -> None:
    header_b64, payload_b64, sig = _observe(source).split(".")
    header = json.loads(b64url_decode(header_b64))
    assert set(header) == {"alg", "typ", "x5c"} and header["typ"] == PRICE_TYP
    der = base64.b64decode(header["x5c"][0])
    assert der == source[1].public_bytes(serialization.Encoding.DER)
    assert set(json.loads(b64url_decode(payload_b64))) == {
        "commodity",
        "unit",
        "per_thousand",
        "currency",
        "observed_at",
        "source",
    }
    assert len(b64url_decode(sig)) == 64


def test_solidity_encodings() -> None:
    # bytes16("SOYBEAN") and bytes4("KGM") as tests/forge/WarehouseReceipts.t.sol writes them
    assert commodity_bytes16("SOYBEAN").hex() == "534f594245414e" + "00" * 9
    assert unit_bytes4("KGM").hex() == "4b474d00"
    assert unit_bytes4("TNE") == b"TNE\0" and unit_bytes4("H87") == b"H87\0"
    assert commodity_bytes16("A" * 16) == b"A" * 16
    for bad in ("", "soybean", "A" * 17, "1SOY", "SOY BEAN", "SOJA\u00c9"):
        with pytest.raises(ValueError):
            commodity_bytes16(bad)
    for bad in ("KG", "KGMS", "kgm", "K M"):
        with pytest.raises(ValueError):
            unit_bytes4(bad)


def test_price_values_collateral_as_the_contract(ca: CertificateAuthority, source: Any) -> None:
    price = _verify(ca, _observe(source, per_thousand=412_345))
    # 500,000 kg at 4,123.45 a tonne: floor(500,000 * 412,345 / 1,000) minor units
    assert collateral_value([(500_000, price.per_thousand)]) == 206_172_500


def test_largest_price_is_accepted(ca: CertificateAuthority, source: Any) -> None:
    assert _verify(ca, _observe(source, per_thousand=MAX_PER_THOUSAND)).per_thousand == 2**128 - 1


def test_trust_anchor_list_supports_ca_rollover(ca: CertificateAuthority, source: Any) -> None:
    assert _verify(ca, _observe(source), ca_root=[new_ca().certificate, ca.certificate]).unit == "KGM"


# --------------------------------------------------------------------------------------------------
# Who may sign
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.FINANCIER, Role.VERIFIER, Role.LOGISTICS, Role.SUPPLIER])
def test_only_a_price_source_signs_prices(ca: CertificateAuthority, role: Role) -> None:
    other = participant(ca, role, 52, SOURCE)
    assert _code(ca, _observe(other)) is Code.PRICE_SOURCE_UNTRUSTED


def test_price_source_of_a_foreign_ca(ca: CertificateAuthority) -> None:
    foreign = participant(new_ca(), Role.PRICE_SOURCE, 53, SOURCE)
    assert _code(ca, _observe(foreign)) is Code.PRICE_SOURCE_UNTRUSTED


def test_device_certificate_cannot_sign_prices(ca: CertificateAuthority) -> None:
    device = Fleet(ca).device(DeviceKind.SCALE, "dev-pricer")
    assert _code(ca, _signed((device.key, device.cert), _claims())) is Code.PRICE_SOURCE_UNTRUSTED


def test_source_claim_must_be_the_signer(ca: CertificateAuthority, source: Any) -> None:
    assert _code(ca, _observe(source, source="0x" + "99" * 20)) is Code.PRICE_SOURCE_UNTRUSTED


def test_revoked_source(ca: CertificateAuthority, source: Any) -> None:
    token = _observe(source)
    assert _code(ca, token, revoked={source[1].serial_number}) is Code.PRICE_SOURCE_REVOKED
    assert _code(ca, token, revoked=lambda s: s == source[1].serial_number) is Code.PRICE_SOURCE_REVOKED


def test_forged_and_tampered(ca: CertificateAuthority, source: Any) -> None:
    token = _observe(source)
    header_b64, payload_b64, sig = token.split(".")
    claims = json.loads(b64url_decode(payload_b64))
    claims["per_thousand"] = 900_000
    tampered = f"{header_b64}.{b64url_encode(json.dumps(claims).encode())}.{sig}"
    assert _code(ca, tampered) is Code.PRICE_SIG_INVALID
    forged = _signed((ec.generate_private_key(ec.SECP256R1()), source[1]), claims)
    assert _code(ca, forged) is Code.PRICE_SIG_INVALID


def test_encoder_refuses_a_key_of_another_certificate(source: Any) -> None:
    with pytest.raises(ValueError):
        _observe((ec.generate_private_key(ec.SECP256R1()), source[1]))


# --------------------------------------------------------------------------------------------------
# Time, currency, plausibility
# --------------------------------------------------------------------------------------------------


def test_time_window(ca: CertificateAuthority, source: Any) -> None:
    assert _verify(ca, _observe(source, observed_at=NOW)).observed_at == NOW
    assert _code(ca, _observe(source, observed_at=NOW + 1)) is Code.PRICE_FROM_FUTURE
    assert _verify(ca, _observe(source, observed_at=NOW + 30), max_skew_s=30).observed_at == NOW + 30
    assert _verify(ca, _observe(source, observed_at=NOW - 86_400)).observed_at == NOW - 86_400
    assert _code(ca, _observe(source, observed_at=NOW - 86_401)) is Code.PRICE_STALE
    assert _code(ca, _observe(source, observed_at=NOW - 3_601), max_age_s=3_600) is Code.PRICE_STALE


def test_certificate_not_valid_when_observed(ca: CertificateAuthority, source: Any) -> None:
    before = int((NOW_DT - timedelta(days=2)).timestamp())
    assert (
        _code(ca, _observe(source, observed_at=before), max_age_s=10 * 86_400) is Code.PRICE_SOURCE_UNTRUSTED
    )


def test_currency(ca: CertificateAuthority, source: Any) -> None:
    token = _observe(source, currency="EUR")
    assert _verify(ca, token).currency == "EUR"
    assert _verify(ca, token, currency="EUR").currency == "EUR"
    assert _code(ca, token, currency="CNY") is Code.PRICE_CURRENCY_MISMATCH


@pytest.mark.parametrize("per_thousand", [0, -1, -(2**70), 2**128, 2**200])
def test_implausible_prices(ca: CertificateAuthority, source: Any, per_thousand: int) -> None:
    assert _code(ca, _observe(source, per_thousand=per_thousand)) is Code.PRICE_IMPLAUSIBLE


# --------------------------------------------------------------------------------------------------
# Malformed
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"per_thousand": 4000.5},
        {"per_thousand": 4000.0},
        {"per_thousand": "400000"},
        {"per_thousand": True},
        {"per_thousand": None},
        {"commodity": "soybean"},
        {"commodity": "S" * 17},
        {"commodity": ""},
        {"commodity": 7},
        {"unit": "KG"},
        {"unit": "kgm"},
        {"currency": "cny"},
        {"currency": "YUAN"},
        {"observed_at": -1},
        {"observed_at": 2**40},
        {"observed_at": 1780315140.0},
        {"source": SOURCE.upper().replace("0X", "0x")},
        {"source": "PriceSource 51"},
        {"extra": 1},
    ],
)
def test_malformed_claims(ca: CertificateAuthority, source: Any, change: dict[str, Any]) -> None:
    assert _code(ca, _signed(source, _claims(**change))) is Code.PRICE_MALFORMED


def test_missing_claim_and_duplicate_member(ca: CertificateAuthority, source: Any) -> None:
    claims = _claims()
    del claims["currency"]
    assert _code(ca, _signed(source, claims)) is Code.PRICE_MALFORMED
    duplicated = json.dumps(_claims())[:-1] + ', "per_thousand": 1}'
    assert _code(ca, _signed(source, duplicated.encode())) is Code.PRICE_MALFORMED
    assert _code(ca, _signed(source, b'{"per_thousand": 1e5}')) is Code.PRICE_MALFORMED


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "ES256", "typ": PRICE_TYP},
        {"alg": "none", "typ": PRICE_TYP, "x5c": ["AA=="]},
        {"alg": "ES256", "typ": "scf-reading+jwt", "x5c": ["AA=="]},
        {"alg": "ES256", "typ": PRICE_TYP, "x5c": []},
        {"alg": "ES256", "typ": PRICE_TYP, "x5c": ["AA==", "AA=="]},
        {"alg": "ES256", "typ": PRICE_TYP, "x5c": "AA=="},
        {"alg": "ES256", "typ": PRICE_TYP, "x5c": ["not base64!"]},
        {"alg": "ES256", "typ": PRICE_TYP, "x5c": ["AAAA"]},
        {"alg": "ES256", "typ": PRICE_TYP, "x5c": ["AA=="], "kid": "src"},
    ],
)
def test_malformed_header(ca: CertificateAuthority, source: Any, header: dict[str, Any]) -> None:
    assert _code(ca, _signed(source, _claims(), header=header)) is Code.PRICE_MALFORMED


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", None, b"x.y.z", "e30.e30." + "A" * 86])
def test_malformed_structure(ca: CertificateAuthority, token: Any) -> None:
    assert _code(ca, token) is Code.PRICE_MALFORMED
