"""A device simulator (``scf iot simulate``): the devices of one lot, sending signed readings to the gateway.

It plays the warehouse's IoT installation: it makes each device's P-256 key (kept in memory only), has the
warehouse register the device with the gateway (``POST /warehouse/devices``, the warehouse's API key; the
platform CA certifies the key), then sends readings (``POST /warehouse/readings``, no API key: the device's
signature is its authentication) as compact JWS made by ``domain.warehouse.readings.encode_reading``:

- **normal**: the scale within ±0.5 % of the receipt's weight, the seal closed, 12-20 °C and 45-65 % relative
  humidity, the GPS tag inside its geofence;
- **theft**: the scale shows the weight ``theft_bps`` short, and the seal opens.

The warehouse demo (``cli.warehouse_demo``) drives its lot with it too.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cli.demo import Client, DemoFailure
from domain.warehouse.readings import encode_reading

#: What each simulated kind measures in normal operation.
KINDS = ("scale", "seal", "thermometer", "gps_tag")


@dataclass
class SimDevice:
    """One simulated device: its id, kind, key and certificate, the receipt it reports on, its counter."""

    device_id: str
    kind: str
    receipt_id: int
    location: str
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    certificate: x509.Certificate | None = None
    seq: int = 0

    def sign(self, measurements: dict[str, Any]) -> str:
        """The next reading of this device: counter + 1, now."""
        assert self.certificate is not None
        self.seq += 1
        claims = {
            "dev": self.device_id,
            "seq": self.seq,
            "iat": int(time.time()),
            "loc": self.location,
            "rid": self.receipt_id,
            "m": measurements,
        }
        return encode_reading(self.key, self.certificate, claims)


@dataclass
class Lot:
    """The receipt a set of devices watches, as the simulator needs it."""

    receipt_id: int
    quantity_kg: int
    location: str
    geofence: str = "FENCE-DEPOT"


@dataclass
class SimResult:
    """What a run sent and what came back."""

    accepted: int = 0
    alerts: list[dict[str, Any]] = field(default_factory=list)


def register_devices(
    c: Client, warehouse_key: str, lot: Lot, kinds: tuple[str, ...] = KINDS, heartbeat_s: int = 3600
) -> list[SimDevice]:
    """Register one device of each kind for ``lot`` (ids ``dev-<kind>-<random>``) as the warehouse."""
    devices = []
    for kind in kinds:
        tag = uuid.uuid4().hex[:8]
        location = lot.geofence if kind == "gps_tag" else lot.location
        dev = SimDevice(f"dev-{kind.replace('_', '-')}-{tag}", kind, lot.receipt_id, location)
        pem = dev.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        out = c.call(
            "POST",
            "/warehouse/devices",
            warehouse_key,
            expect=201,
            json={
                "device_id": dev.device_id,
                "kind": kind,
                "location": location,
                "receipt_ids": [lot.receipt_id],
                "public_key_pem": pem.decode(),
                "heartbeat_s": heartbeat_s,
            },
        )
        dev.certificate = x509.load_pem_x509_certificate(out["certificate_pem"].encode())
        devices.append(dev)
    return devices


def normal(dev: SimDevice, lot: Lot, rng: random.Random) -> dict[str, Any]:
    """A normal reading's measurements for ``dev``."""
    if dev.kind == "scale":
        noise = lot.quantity_kg // 200  # 0.5 %
        return {"weight_kg": lot.quantity_kg + rng.randint(-noise, noise)}
    if dev.kind == "seal":
        return {"seal": "closed"}
    if dev.kind == "thermometer":
        return {"temp_dc": rng.randint(120, 200), "rh_pm": rng.randint(450, 650)}
    return {"geo": "inside"}


def theft(dev: SimDevice, lot: Lot, theft_bps: int) -> dict[str, Any] | None:
    """A theft's measurements for ``dev`` (the scale and the seal tell; the others see nothing)."""
    if dev.kind == "scale":
        return {"weight_kg": lot.quantity_kg * (10_000 - theft_bps) // 10_000}
    if dev.kind == "seal":
        return {"seal": "open"}
    return None


def _send(c: Client, token: str, result: SimResult) -> None:
    resp = c.http.post("/warehouse/readings", json={"reading": token})
    if resp.status_code != 201:
        raise DemoFailure(f"a reading was refused: {resp.status_code} {resp.text[:300]}")
    result.accepted += 1
    result.alerts += resp.json()["alerts"]


def readings(devices: list[SimDevice], lot: Lot, rounds: int, seed: int = 7) -> Iterator[str]:
    """``rounds`` normal readings of every device, round by round."""
    rng = random.Random(seed)  # noqa: S311  # nosec B311 - simulated sensor noise, not a secret
    for _ in range(rounds):
        for dev in devices:
            yield dev.sign(normal(dev, lot, rng))


def simulate(
    c: Client,
    devices: list[SimDevice],
    lot: Lot,
    *,
    rounds: int,
    with_theft: bool,
    theft_bps: int = 500,
    progress: Callable[[int, int], None] | None = None,
) -> SimResult:
    """Send ``rounds`` rounds of normal readings, then (``with_theft``) the theft's; ``progress(done,
    total)`` after each reading. Raises ``DemoFailure`` when the gateway refuses a reading."""
    result = SimResult()
    total = rounds * len(devices) + (2 if with_theft else 0)
    for token in readings(devices, lot, rounds):
        _send(c, token, result)
        if progress is not None:
            progress(result.accepted, total)
    if with_theft:
        for dev in devices:
            m = theft(dev, lot, theft_bps)
            if m is not None:
                _send(c, dev.sign(m), result)
                if progress is not None:
                    progress(result.accepted, total)
    return result
