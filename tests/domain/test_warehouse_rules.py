"""Alert rules over real, verified readings: silent on noise, each rule firing exactly once; silent
devices; clearing an alert with a warehouse's signed explanation and new readings."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from domain.identity import CertificateAuthority
from domain.roles import Role
from domain.warehouse import (
    COMMODITY_RANGES,
    Alert,
    AlertCode,
    ClimateRange,
    DeviceKind,
    ExplanationError,
    ReceiptFacts,
    RuleSettings,
    VerifiedReading,
    WarehouseErrorCode,
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
from domain.warehouse.readings import b64url_decode, b64url_encode, jws_sign, x5c_entry
from domain.warehouse.rules import EXPLANATION_TYP
from tests.domain.test_warehouse_readings import (
    NOW,
    NOW_DT,
    OTHER_WAREHOUSE,
    RECEIPT_H87,
    RECEIPT_KGM,
    RECEIPT_TNE,
    WAREHOUSE,
    Device,
    Fleet,
    new_ca,
    participant,
)

Code = WarehouseErrorCode


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return new_ca()


@pytest.fixture(scope="module")
def fleet(ca: CertificateAuthority) -> Fleet:
    return Fleet(ca)


@pytest.fixture(scope="module")
def devices(fleet: Fleet) -> dict[str, Device]:
    return {
        "scale": fleet.device(DeviceKind.SCALE, "dev-scale-7", receipts=(7,)),
        "thermo": fleet.device(DeviceKind.THERMOMETER, "dev-thermo-7", receipts=(7,)),
        "seal": fleet.device(DeviceKind.SEAL, "dev-seal-7", receipts=(7,)),
        "gps": fleet.device(DeviceKind.GPS_TAG, "dev-gps-7", location="GF-NORTH", receipts=(7,)),
        "scale_t": fleet.device(DeviceKind.SCALE, "dev-scale-8", location="SILO-5", receipts=(8,)),
        "counter": fleet.device(DeviceKind.COUNTER, "dev-counter-9", location="BAY-12", receipts=(9,)),
        "camera": fleet.device(DeviceKind.CAMERA, "dev-camera-9", location="BAY-12", receipts=(9,)),
    }


def verified(fleet: Fleet, device: Device, m: dict[str, Any], **changes: Any) -> VerifiedReading:
    """Sign as the device, verify as the gateway (counter checked against the device's previous)."""
    last = device.seq or None
    return fleet.verify(device.reading(m, **changes), last_seq=last)


# --------------------------------------------------------------------------------------------------
# Noise
# --------------------------------------------------------------------------------------------------


def _walk(rng: random.Random, start: int, step: int, low: int, high: int) -> Iterator[int]:
    """A random walk of integer steps, reflected at the bounds."""
    value = start
    while True:
        value += rng.randint(-step, step)
        value = max(low, min(high, value))
        yield value


def test_no_alert_on_ten_thousand_readings_of_normal_noise(fleet: Fleet, devices: dict[str, Device]) -> None:
    """Seeded random walks within tolerance (weight and counts within +-1 %, climate within the grain
    range, seal closed, tag inside) over 10,000 signed and verified readings: not one alert."""
    rng = random.Random(13)
    kg, t_kg, pieces = RECEIPT_KGM.quantity, RECEIPT_TNE.quantity * 1000, RECEIPT_H87.quantity
    walks = {
        "scale": ("weight_kg", _walk(rng, kg, 400, kg * 99 // 100, kg * 101 // 100)),
        "scale_t": ("weight_kg", _walk(rng, t_kg, 300, t_kg * 99 // 100, t_kg * 101 // 100)),
        "counter": ("count", _walk(rng, pieces, 2, pieces * 99 // 100, pieces * 101 // 100)),
        "camera": ("count", _walk(rng, pieces, 3, pieces * 99 // 100, pieces * 101 // 100)),
        "temp": ("temp_dc", _walk(rng, 150, 3, -100, 250)),
        "rh": ("rh_pm", _walk(rng, 600, 5, 350, 700)),
    }
    receipts = {7: RECEIPT_KGM, 8: RECEIPT_TNE, 9: RECEIPT_H87}
    open_codes: dict[int, set[str]] = {7: set(), 8: set(), 9: set()}
    alerts: list[Alert] = []
    seen: dict[str, int] = {}
    n = 0
    for i in range(10_000 // 8 + 1):
        iat = NOW - 40_000 + i * 30
        batch = [
            verified(fleet, devices["scale"], {"weight_kg": next(walks["scale"][1])}, iat=iat),
            verified(fleet, devices["scale_t"], {"weight_kg": next(walks["scale_t"][1])}, iat=iat),
            verified(fleet, devices["counter"], {"count": next(walks["counter"][1])}, iat=iat),
            verified(fleet, devices["camera"], {"count": next(walks["camera"][1])}, iat=iat),
            verified(
                fleet,
                devices["thermo"],
                {"temp_dc": next(walks["temp"][1]), "rh_pm": next(walks["rh"][1])},
                iat=iat,
            ),
            verified(fleet, devices["seal"], {"seal": "closed"}, iat=iat),
            verified(fleet, devices["gps"], {"geo": "inside"}, iat=iat),
            verified(fleet, devices["scale"], {"weight_kg": next(walks["scale"][1])}, iat=iat + 15),
        ]
        for reading in batch:
            n += 1
            seen[reading.device.device_id] = reading.iat
            receipt = receipts[reading.receipt_id]
            alerts += evaluate_reading(receipt, reading, open_codes=open_codes[reading.receipt_id])
    assert n >= 10_000
    assert alerts == []
    assert silent_devices(seen, heartbeat_s=120, now=NOW - 40_000 + (10_000 // 8) * 30 + 60) == []


def test_tolerance_boundaries_are_exact(fleet: Fleet, devices: dict[str, Device]) -> None:
    scale, scale_t, counter = devices["scale"], devices["scale_t"], devices["counter"]
    # KGM: 500,000 kg, 2 % tolerance: 490,000 kg is within, 489,999 is not
    assert evaluate_reading(RECEIPT_KGM, verified(fleet, scale, {"weight_kg": 490_000})) == []
    [alert] = evaluate_reading(RECEIPT_KGM, verified(fleet, scale, {"weight_kg": 489_999}))
    assert alert.code is AlertCode.WEIGHT_BELOW_RECEIPT
    # TNE: 300 t is 300,000 kg
    assert evaluate_reading(RECEIPT_TNE, verified(fleet, scale_t, {"weight_kg": 294_000})) == []
    [alert] = evaluate_reading(RECEIPT_TNE, verified(fleet, scale_t, {"weight_kg": 293_999}))
    assert alert.facts["expected_kg"] == 300_000
    # H87: 1,200 pieces, 2 %: 1,176 is within, 1,175 is not
    assert evaluate_reading(RECEIPT_H87, verified(fleet, counter, {"count": 1_176})) == []
    [alert] = evaluate_reading(RECEIPT_H87, verified(fleet, counter, {"count": 1_175}))
    assert alert.code is AlertCode.COUNT_BELOW_RECEIPT
    # more than the receipt is no alert (a surplus is not a loss)
    assert evaluate_reading(RECEIPT_KGM, verified(fleet, scale, {"weight_kg": 600_000})) == []


def test_tolerance_is_a_setting(fleet: Fleet, devices: dict[str, Device]) -> None:
    reading = verified(fleet, devices["scale"], {"weight_kg": 497_000})  # 0.6 % short
    assert evaluate_reading(RECEIPT_KGM, reading) == []
    strict = RuleSettings(weight_tolerance_bps=50)
    assert [a.code for a in evaluate_reading(RECEIPT_KGM, reading, settings=strict)] == [
        "WEIGHT_BELOW_RECEIPT"
    ]
    with pytest.raises(ValueError):
        RuleSettings(weight_tolerance_bps=10_000)
    with pytest.raises(ValueError):
        RuleSettings(count_tolerance_bps=-1)


def test_rules_only_look_at_their_units(fleet: Fleet, devices: dict[str, Device]) -> None:
    """A weight says nothing of a receipt in pieces; a count nothing of one in kilograms."""
    pieces_in_silo = ReceiptFacts(7, WAREHOUSE, "TV55", 1_200, "H87", "SILO-4")
    assert evaluate_reading(pieces_in_silo, verified(fleet, devices["scale"], {"weight_kg": 1})) == []
    kg_in_bay = ReceiptFacts(9, WAREHOUSE, "SOYBEAN", 500_000, "KGM", "BAY-12")
    assert evaluate_reading(kg_in_bay, verified(fleet, devices["counter"], {"count": 1}, rid=9)) == []


# --------------------------------------------------------------------------------------------------
# Each rule fires exactly once
# --------------------------------------------------------------------------------------------------


SCENARIOS: dict[AlertCode, tuple[str, dict[str, Any], dict[str, Any], ReceiptFacts]] = {
    AlertCode.WEIGHT_BELOW_RECEIPT: ("scale", {"weight_kg": 499_500}, {"weight_kg": 470_000}, RECEIPT_KGM),
    AlertCode.COUNT_BELOW_RECEIPT: ("camera", {"count": 1_200}, {"count": 1_100}, RECEIPT_H87),
    AlertCode.SEAL_OPENED: ("seal", {"seal": "closed"}, {"seal": "open"}, RECEIPT_KGM),
    AlertCode.OUTSIDE_GEOFENCE: ("gps", {"geo": "inside"}, {"geo": "outside"}, RECEIPT_KGM),
    AlertCode.TEMPERATURE_OUT_OF_RANGE: ("thermo", {"temp_dc": 200}, {"temp_dc": 261}, RECEIPT_KGM),
}


@pytest.mark.parametrize("code", list(SCENARIOS))
def test_each_rule_fires_exactly_once(fleet: Fleet, devices: dict[str, Device], code: AlertCode) -> None:
    name, normal, breach, receipt = SCENARIOS[code]
    device = devices[name]
    readings = [verified(fleet, device, normal) for _ in range(20)]
    readings += [verified(fleet, device, breach) for _ in range(20)]  # the breach persists
    readings += [verified(fleet, device, normal) for _ in range(5)]
    readings += [verified(fleet, device, breach) for _ in range(5)]  # and comes back while still open
    alerts = evaluate_readings(receipt, readings)
    assert [a.code for a in alerts] == [code]
    [alert] = alerts
    first_breach = readings[20]
    assert alert.receipt_id == receipt.receipt_id
    assert alert.evidence_hash == first_breach.digest
    assert alert.readings == (first_breach.digest,)
    assert alert.devices == (device.identity.device_id,)
    assert alert.facts["seq"] == first_breach.seq
    assert alert.message and str(receipt.receipt_id) in alert.message
    assert alert.code_bytes32 == code.value.encode().ljust(32, b"\0")
    # once cleared on chain (no longer open), the same breach raises it again
    assert [a.code for a in evaluate_reading(receipt, readings[-1])] == [code]
    assert evaluate_reading(receipt, readings[-1], open_codes={code.value}) == []


def test_humidity_is_part_of_the_climate_rule(fleet: Fleet, devices: dict[str, Device]) -> None:
    thermo = devices["thermo"]
    assert evaluate_reading(RECEIPT_KGM, verified(fleet, thermo, {"temp_dc": 250, "rh_pm": 700})) == []
    [alert] = evaluate_reading(RECEIPT_KGM, verified(fleet, thermo, {"rh_pm": 701}))
    assert alert.code is AlertCode.TEMPERATURE_OUT_OF_RANGE
    assert "humidity" in alert.message
    [both] = evaluate_reading(RECEIPT_KGM, verified(fleet, thermo, {"temp_dc": 300, "rh_pm": 800}))
    assert "temperature" in both.message and "humidity" in both.message
    assert both.facts["temp_dc"] == 300 and both.facts["rh_pm"] == 800


def test_climate_ranges_by_commodity_and_override(fleet: Fleet, devices: dict[str, Device]) -> None:
    assert set(COMMODITY_RANGES) >= {"SOYBEAN", "WHEAT", "CORN"}
    assert COMMODITY_RANGES["SOYBEAN"].max_temp_dc == 250 and COMMODITY_RANGES["SOYBEAN"].max_rh_pm == 700
    hot = verified(fleet, devices["thermo"], {"temp_dc": 300})
    copper = ReceiptFacts(7, WAREHOUSE, "COPPER", 500_000, "KGM", "SILO-4")
    assert evaluate_reading(copper, hot) == []  # no range, no rule
    frozen_goods = RuleSettings(commodity_ranges={"COPPER": ClimateRange(-600, 350, 0, 900)})
    assert evaluate_reading(copper, hot, settings=frozen_goods) == []
    cold_chain = RuleSettings(commodity_ranges={"COPPER": ClimateRange(-600, -180, 0, 900)})
    assert [a.code for a in evaluate_reading(copper, hot, settings=cold_chain)] == [
        "TEMPERATURE_OUT_OF_RANGE"
    ]
    with pytest.raises(ValueError):
        ClimateRange(10, 0, 0, 1000)


def test_one_reading_may_raise_several_codes_but_each_once(fleet: Fleet) -> None:
    """Two seals of one receipt: one alert while the first is open."""
    a = fleet.device(DeviceKind.SEAL, "dev-seal-a", receipts=(7,))
    b = fleet.device(DeviceKind.SEAL, "dev-seal-b", receipts=(7,))
    alerts = evaluate_readings(
        RECEIPT_KGM, [verified(fleet, a, {"seal": "open"}), verified(fleet, b, {"seal": "open"})]
    )
    assert [(x.code, x.devices) for x in alerts] == [(AlertCode.SEAL_OPENED, ("dev-seal-a",))]


def test_a_reading_of_another_receipt_is_refused(fleet: Fleet, devices: dict[str, Device]) -> None:
    with pytest.raises(ValueError):
        evaluate_reading(RECEIPT_TNE, verified(fleet, devices["scale"], {"weight_kg": 1}))


def test_alert_codes_fit_bytes32() -> None:
    for code in AlertCode:
        assert code_bytes32(code) == code.value.encode("ascii") + bytes(32 - len(code.value))
    # bytes32("SEAL_OPENED") in Solidity
    assert code_bytes32("SEAL_OPENED").hex() == "5345414c5f4f50454e4544" + "00" * 21
    with pytest.raises(ValueError):
        code_bytes32("X" * 33)
    with pytest.raises(ValueError):
        code_bytes32("")


# --------------------------------------------------------------------------------------------------
# Silent devices
# --------------------------------------------------------------------------------------------------


def test_silent_devices() -> None:
    last_seen = {"dev-b": NOW - 301, "dev-a": NOW - 900, "dev-c": NOW - 300, "dev-d": NOW}
    assert silent_devices(last_seen, 300, NOW) == ["dev-a", "dev-b"]
    assert silent_devices({}, 300, NOW) == []
    with pytest.raises(ValueError):
        silent_devices(last_seen, 0, NOW)


def test_silence_alert_fires_once_with_reproducible_evidence() -> None:
    last_seen = {"dev-scale-7": NOW - 4_000, "dev-thermo-7": NOW - 10}
    [alert] = silence_alerts(RECEIPT_KGM, last_seen, 3_600, NOW)
    assert alert.code is AlertCode.DEVICE_SILENT
    assert alert.devices == ("dev-scale-7",)
    assert alert.readings == ()
    statement = {
        "code": "DEVICE_SILENT",
        "devices": {"dev-scale-7": NOW - 4_000},
        "heartbeat_s": 3_600,
        "now": NOW,
        "rid": 7,
    }
    canonical = json.dumps(statement, sort_keys=True, separators=(",", ":"))
    assert alert.facts["statement"] == canonical
    assert alert.evidence_hash == hashlib.sha256(canonical.encode()).digest()
    assert "4,000 s" in alert.message
    assert silence_alerts(RECEIPT_KGM, last_seen, 3_600, NOW, open_codes={"DEVICE_SILENT"}) == []
    assert silence_alerts(RECEIPT_KGM, last_seen, 5_000, NOW) == []


# --------------------------------------------------------------------------------------------------
# Clearing
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def warehouse(ca: CertificateAuthority) -> tuple[ec.EllipticCurvePrivateKey, Any]:
    return participant(ca, Role.LOGISTICS, 41, WAREHOUSE)


def _explain(
    signer: tuple[ec.EllipticCurvePrivateKey, Any],
    digests: list[bytes],
    *,
    alert_id: int = (7 << 16) | 1,
    code: str = "WEIGHT_BELOW_RECEIPT",
    text: str = "Re-weighed after the truck scale was recalibrated; ticket WB-2291.",
    iat: int = NOW,
) -> str:
    key, cert = signer
    return sign_explanation(
        key, cert, alert_id=alert_id, code=code, text=text, readings_digests=digests, iat=iat
    )


def _verify_explanation(ca: CertificateAuthority, token: str, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "ca_root": ca.certificate,
        "revoked": set(),
        "receipt": RECEIPT_KGM,
        "alert_id": (7 << 16) | 1,
        "code": "WEIGHT_BELOW_RECEIPT",
        "now": NOW,
    }
    args.update(kw)
    return verify_explanation(token, **args)


def _explanation_code(ca: CertificateAuthority, token: str, **kw: Any) -> WarehouseErrorCode:
    with pytest.raises(ExplanationError) as info:
        _verify_explanation(ca, token, **kw)
    assert info.value.message
    return info.value.code


def test_clearing_a_weight_alert_end_to_end(
    ca: CertificateAuthority, fleet: Fleet, devices: dict[str, Device], warehouse: Any
) -> None:
    scale = devices["scale"]
    [alert] = evaluate_readings(RECEIPT_KGM, [verified(fleet, scale, {"weight_kg": 450_000})])
    still_short = [verified(fleet, scale, {"weight_kg": 451_000})]
    assert not rule_cleared(alert.code, RECEIPT_KGM, still_short)
    new = [verified(fleet, scale, {"weight_kg": w}) for w in (499_800, 500_100, 499_950)]
    assert rule_cleared(alert.code, RECEIPT_KGM, new)
    assert not rule_cleared(alert.code, RECEIPT_KGM, [*new, *still_short])  # every new reading must pass
    digests = [r.digest for r in new]
    token = _explain(warehouse, digests)
    result = _verify_explanation(ca, token)
    assert result.signer.chain_address == WAREHOUSE
    assert (result.alert_id, result.receipt_id, result.code) == (
        (7 << 16) | 1,
        7,
        AlertCode.WEIGHT_BELOW_RECEIPT,
    )
    assert result.readings == tuple(digests)
    assert result.text.startswith("Re-weighed")
    assert result.explanation_hash == explanation_digest(token, digests)
    independent = hashlib.sha256(hashlib.sha256(token.encode()).digest() + b"".join(digests)).digest()
    assert result.explanation_hash == independent
    assert len(result.explanation_hash) == 32


def test_rule_cleared_needs_relevant_readings(fleet: Fleet, devices: dict[str, Device]) -> None:
    closed = [verified(fleet, devices["seal"], {"seal": "closed"})]
    assert rule_cleared("SEAL_OPENED", RECEIPT_KGM, closed)
    assert not rule_cleared("SEAL_OPENED", RECEIPT_KGM, [])
    assert not rule_cleared("WEIGHT_BELOW_RECEIPT", RECEIPT_KGM, closed)  # a seal weighs nothing
    assert not rule_cleared("SEAL_OPENED", RECEIPT_KGM, [verified(fleet, devices["seal"], {"seal": "open"})])
    inside = [verified(fleet, devices["gps"], {"geo": "inside"})]
    assert rule_cleared("OUTSIDE_GEOFENCE", RECEIPT_KGM, inside)
    cool = [verified(fleet, devices["thermo"], {"temp_dc": 180, "rh_pm": 650})]
    assert rule_cleared("TEMPERATURE_OUT_OF_RANGE", RECEIPT_KGM, cool)
    damp = [verified(fleet, devices["thermo"], {"temp_dc": 180, "rh_pm": 750})]
    assert not rule_cleared("TEMPERATURE_OUT_OF_RANGE", RECEIPT_KGM, damp)
    counted = [verified(fleet, devices["counter"], {"count": 1_199})]
    assert rule_cleared("COUNT_BELOW_RECEIPT", RECEIPT_H87, counted)
    with pytest.raises(ValueError):
        rule_cleared("SEAL_OPENED", RECEIPT_TNE, closed)
    with pytest.raises(ValueError):
        rule_cleared("NOT_A_CODE", RECEIPT_KGM, closed)


def test_silence_cleared_when_every_silent_device_speaks(fleet: Fleet, devices: dict[str, Device]) -> None:
    heard = [verified(fleet, devices["scale"], {"weight_kg": 500_000})]
    assert rule_cleared("DEVICE_SILENT", RECEIPT_KGM, heard, silent=["dev-scale-7"])
    assert not rule_cleared("DEVICE_SILENT", RECEIPT_KGM, heard, silent=["dev-scale-7", "dev-seal-7"])
    assert not rule_cleared("DEVICE_SILENT", RECEIPT_KGM, [], silent=[])


def test_explanation_digest_is_order_sensitive_and_checks_lengths() -> None:
    a, b = hashlib.sha256(b"a").digest(), hashlib.sha256(b"b").digest()
    assert explanation_digest("x.y.z", [a, b]) != explanation_digest("x.y.z", [b, a])
    assert explanation_digest("x.y.z", []) == hashlib.sha256(hashlib.sha256(b"x.y.z").digest()).digest()
    with pytest.raises(ValueError):
        explanation_digest("x.y.z", [a[:31]])


def test_explanation_by_another_role(ca: CertificateAuthority) -> None:
    supplier = participant(ca, Role.SUPPLIER, 42, WAREHOUSE)
    assert _explanation_code(ca, _explain(supplier, [])) is Code.EXPLANATION_SIGNER_UNTRUSTED


def test_explanation_by_another_warehouse(ca: CertificateAuthority) -> None:
    other = participant(ca, Role.LOGISTICS, 43, OTHER_WAREHOUSE)
    assert _explanation_code(ca, _explain(other, [])) is Code.EXPLANATION_MISMATCH


def test_explanation_of_another_alert(ca: CertificateAuthority, warehouse: Any) -> None:
    token = _explain(warehouse, [])
    assert _explanation_code(ca, token, alert_id=(7 << 16) | 2) is Code.EXPLANATION_MISMATCH
    assert _explanation_code(ca, token, code="SEAL_OPENED") is Code.EXPLANATION_MISMATCH
    other_receipt = ReceiptFacts(8, WAREHOUSE, "WHEAT", 300, "TNE", "SILO-5")
    assert (
        _explanation_code(ca, token, receipt=other_receipt, alert_id=(8 << 16) | 1)
        is Code.EXPLANATION_MISMATCH
    )


def test_explanation_signer_revoked(ca: CertificateAuthority, warehouse: Any) -> None:
    token = _explain(warehouse, [])
    assert (
        _explanation_code(ca, token, revoked={warehouse[1].serial_number}) is Code.EXPLANATION_SIGNER_REVOKED
    )


def test_explanation_from_a_foreign_ca() -> None:
    foreign = new_ca()
    signer = participant(foreign, Role.LOGISTICS, 44, WAREHOUSE)
    assert _explanation_code(new_ca(), _explain(signer, [])) is Code.EXPLANATION_SIGNER_UNTRUSTED


def test_explanation_signed_with_a_device_certificate(ca: CertificateAuthority, fleet: Fleet) -> None:
    device = fleet.device(DeviceKind.SCALE, "dev-explainer", receipts=(7,))
    token = _explain((device.key, device.cert), [])
    assert _explanation_code(ca, token) is Code.EXPLANATION_SIGNER_UNTRUSTED


def test_explanation_forged_and_tampered(ca: CertificateAuthority, warehouse: Any) -> None:
    _key, cert = warehouse
    token = _explain(warehouse, [])
    header_b64, payload_b64, sig = token.split(".")
    claims = json.loads(b64url_decode(payload_b64))
    claims["text"] = "Nothing happened."
    tampered = f"{header_b64}.{b64url_encode(json.dumps(claims).encode())}.{sig}"
    assert _explanation_code(ca, tampered) is Code.EXPLANATION_SIG_INVALID
    forger = ec.generate_private_key(ec.SECP256R1())
    header = {"alg": "ES256", "typ": EXPLANATION_TYP, "x5c": [x5c_entry(cert)]}
    forged = jws_sign(header, json.dumps(claims).encode(), forger)
    assert _explanation_code(ca, forged) is Code.EXPLANATION_SIG_INVALID


def test_explanation_time(ca: CertificateAuthority, warehouse: Any) -> None:
    assert _explanation_code(ca, _explain(warehouse, [], iat=NOW + 301)) is Code.EXPLANATION_CLOCK_SKEW
    assert _explanation_code(ca, _explain(warehouse, [], iat=NOW - 86_401)) is Code.EXPLANATION_CLOCK_SKEW
    expired = participant(ca, Role.LOGISTICS, 45, WAREHOUSE)
    late = NOW_DT + timedelta(days=400)
    assert (
        _explanation_code(ca, _explain(expired, [], iat=int(late.timestamp())), now=int(late.timestamp()))
        is Code.EXPLANATION_SIGNER_UNTRUSTED
    )


@pytest.mark.parametrize(
    "change",
    [
        {"text": ""},
        {"text": "   "},
        {"text": "cleared \u202e by accident"},
        {"text": "x" * 2001},
        {"code": "SEAL_CLOSED"},
        {"aid": 0},
        {"aid": 1.5},
        {"rid": 8},
        {"readings": ["AB" * 32]},
        {"readings": "00" * 32},
        {"iat": "now"},
        {"extra": 1},
    ],
)
def test_malformed_explanation(ca: CertificateAuthority, warehouse: Any, change: dict[str, Any]) -> None:
    key, cert = warehouse
    claims: dict[str, Any] = {
        "aid": (7 << 16) | 1,
        "rid": 7,
        "code": "WEIGHT_BELOW_RECEIPT",
        "text": "Recalibrated.",
        "readings": [],
        "iat": NOW,
    }
    claims.update(change)
    header = {"alg": "ES256", "typ": EXPLANATION_TYP, "x5c": [x5c_entry(cert)]}
    token = jws_sign(header, json.dumps(claims).encode(), key)
    assert _explanation_code(ca, token) is Code.EXPLANATION_MALFORMED


def test_explanation_must_not_be_taken_for_a_reading_or_a_price(
    ca: CertificateAuthority, warehouse: Any
) -> None:
    key, cert = warehouse
    for typ in ("scf-reading+jwt", "scf-price+jwt"):
        header = {"alg": "ES256", "typ": typ, "x5c": [x5c_entry(cert)]}
        claims = {
            "aid": (7 << 16) | 1,
            "rid": 7,
            "code": "SEAL_OPENED",
            "text": "x",
            "readings": [],
            "iat": NOW,
        }
        token = jws_sign(header, json.dumps(claims).encode(), key)
        assert _explanation_code(ca, token, code="SEAL_OPENED") is Code.EXPLANATION_MALFORMED
