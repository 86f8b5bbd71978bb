#!/usr/bin/env python3
"""How fast one core verifies signed device readings (issue 13), against a parse-only yardstick measured
in the same run.

A CA of its own issues real P-256 device certificates; every reading is signed before the clock starts
(what the devices do). Three rows, interleaved round by round so that a shared machine's noise falls on
each alike, medians of the rounds:

- ``parse``: the yardstick: split the compact JWS, base64url-decode header and claims, ``json.loads`` the
  claims (no checks, no cryptography);
- ``warm``: ``verify_reading`` in full, with the device-certificate cache warm: 20 devices sending in
  turn, as a warehouse's devices do (signature, revocation, binding, counter, time, plausibility);
- ``cold``: ``verify_reading`` where every reading comes from another device and the certificate cache
  was emptied: parse and CA signature of each certificate and its profile, then the same checks.

With ``--gateway``, the gateway's end-to-end rate too: a whole local stack (Anvil, the contracts, SQLite,
the gateway on a free port) in this process; a warehouse, one receipt and 8 scales registered through the
API; every reading signed before the clock starts. Rows, on the same readings:

- ``parse`` and ``verify`` (warm) again, as yardsticks of this part;
- ``gateway, 1 client``: ``POST /warehouse/readings`` one after another over one kept-alive connection:
  HTTP, verification, the device's counter raised and the day's aggregate updated in SQLite, the alert
  rules (normal readings: no alert, nothing sent to the chain);
- ``gateway, 4 clients``: the same from 4 threads, each sending its own devices' readings in order;
- ``gateway, batches of 50``: one client, ``POST /warehouse/readings/batch`` (an IoT gateway's uplink).

Prints readings/s and the cost of each row in parse-times (its time per reading over the yardstick's).
``--json PATH`` also writes the figures there (e.g. ``reports/bench/readings.json``).

Usage (from the repository root, one core, about 20 s by default):

    .venv/bin/python bench/readings.py [--rounds 5] [--seconds 1.0] [--devices 2000] [--json PATH] [--gateway]
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import multiprocessing
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cli.demo import Client
from cli.iot import Lot, SimDevice, register_devices
from cli.local import start_local_stack
from domain.identity import CertificateAuthority, create_ca
from domain.warehouse import (
    DeviceBinding,
    DeviceKind,
    ReceiptFacts,
    certificate_thumbprint,
    encode_reading,
    issue_device_certificate,
    verify_reading,
)
from domain.warehouse.readings import certificate_cache_info, clear_certificate_cache

NOW = int(datetime(2026, 6, 1, 12, tzinfo=UTC).timestamp())
WAREHOUSE = "0x" + "a1" * 20
RECEIPT = ReceiptFacts(7, WAREHOUSE, "SOYBEAN", 500_000, "KGM", "SILO-4")
WARM_DEVICES = 20


def _device_tokens(
    ca: CertificateAuthority, certificates: dict[str, bytes], prefix: str, devices: int, per_device: int
) -> list[str]:
    """``per_device`` readings of each of ``devices`` new scales, device after device in turn."""
    start = datetime.fromtimestamp(NOW, UTC) - timedelta(days=1)
    streams: list[list[str]] = []
    for d in range(devices):
        key = ec.generate_private_key(ec.SECP256R1())
        binding = DeviceBinding(f"dev-{prefix}-{d}", DeviceKind.SCALE, WAREHOUSE, "SILO-4", frozenset({7}))
        cert = issue_device_certificate(ca, key.public_key(), binding, not_before=start)
        certificates[certificate_thumbprint(cert)] = cert.public_bytes(serialization.Encoding.DER)
        claims = {"dev": binding.device_id, "iat": NOW - 5, "loc": "SILO-4", "rid": 7}
        streams.append(
            [
                encode_reading(key, cert, {**claims, "seq": seq, "m": {"weight_kg": 499_000 + seq % 2_000}})
                for seq in range(1, per_device + 1)
            ]
        )
    return [stream[i] for i in range(per_device) for stream in streams]


def _per_second(fn: Callable[[str], object], tokens: list[str], seconds: float) -> float:
    """Readings/s of ``fn`` cycling over ``tokens`` for about ``seconds`` (the clock read every 200)."""
    stream = itertools.cycle(tokens)
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for token in itertools.islice(stream, 200):
            fn(token)
        done += 200
    return done / elapsed


def _parse_only(token: str) -> object:
    header, payload, _signature = token.split(".")
    base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


QUANTITY_KG = 500_000


def _stack_world(url: str, operator_key: str, devices: int) -> tuple[Client, Lot, list[SimDevice], str]:
    """A warehouse, an owner, one receipt and ``devices`` scales on it, through the API."""
    c = Client(url, operator_key, lambda _: None)
    keys = {}
    for role, name in (("logistics", "Bench Depot"), ("supplier", "Bench Owner")):
        pem = (
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        out = c.call(
            "POST",
            "/participants",
            operator_key,
            expect=201,
            json={"legal_name": name, "registration_id": f"B-{role}", "role": role, "signing_key_pem": pem},
        )
        keys[role] = (out["api_key"], out["participant"]["id"])
    depot_key, depot_id = keys["logistics"]
    c.call("PUT", f"/warehouse/warehouses/{depot_id}", operator_key, json={"appointed": True})
    rid = c.call(
        "POST",
        "/warehouse/receipts",
        depot_key,
        expect=201,
        json={
            "owner_id": keys["supplier"][1],
            "lot_number": "BENCH-1",
            "commodity": "SOYBEAN",
            "grade": "No. 2",
            "quantity": QUANTITY_KG,
            "unit": "KGM",
            "location": "SILO-1",
            "evidence_hash": "0x" + "00" * 32,
        },
    )["receipt_id"]
    lot = Lot(rid, QUANTITY_KG, "SILO-1")
    scales = [d for _ in range(devices) for d in register_devices(c, depot_key, lot, kinds=("scale",))]
    return c, lot, scales, depot_key


def _signed(devices: list[SimDevice], per_device: int) -> list[list[str]]:
    """Each device's readings in its order (counter 1, 2, ...): normal weights within 0.5 %."""
    return [
        [d.sign({"weight_kg": QUANTITY_KG - 1000 + (i * 37) % 2000}) for i in range(per_device)]
        for d in devices
    ]


def _send_all(url: str, tokens: list[str]) -> None:
    with httpx.Client(base_url=url, timeout=60) as http:
        for t in tokens:
            resp = http.post("/warehouse/readings", json={"reading": t})
            if resp.status_code != 201 or resp.json()["alerts"]:
                raise RuntimeError(
                    f"a reading was not accepted quietly: {resp.status_code} {resp.text[:300]}"
                )


def gateway_rows(readings: int, devices_n: int) -> dict[str, float]:
    """The end-to-end rows (see the module docstring), each against the yardsticks measured here on the
    same readings."""
    per_device = readings // devices_n
    with tempfile.TemporaryDirectory(prefix="scf-bench-readings-") as tmp:
        stack = start_local_stack(Path(tmp))
        try:
            _c, lot, devices, _ = _stack_world(stack.url, stack.operator_key, devices_n)
            state = stack.state
            certificates = {}
            for d in devices:
                assert d.certificate is not None
                certificates[certificate_thumbprint(d.certificate)] = d.certificate.public_bytes(
                    serialization.Encoding.DER
                )
            warehouse = state.chain().platform.warehouse.receipt(lot.receipt_id)
            assert warehouse is not None
            facts = ReceiptFacts(lot.receipt_id, warehouse.warehouse, "SOYBEAN", QUANTITY_KG, "KGM", "SILO-1")
            one = _signed(devices, per_device)
            four = _signed(devices, per_device)
            yard = [t for stream in one for t in stream]

            def verify(token: str) -> object:
                return verify_reading(
                    token,
                    ca_root=state.ca().certificate,
                    certificates=certificates,
                    revoked=set(),
                    last_seq=None,
                    now=int(time.time()),
                    receipt=facts,
                )

            parse = _per_second(_parse_only, yard, 1.0)
            verified = _per_second(verify, yard, 1.0)
            # one client: device after device in turn, each device's readings in order
            order = [one[d][i] for i in range(per_device) for d in range(len(devices))]
            t0 = time.perf_counter()
            _send_all(stack.url, order)
            single = len(order) / (time.perf_counter() - t0)
            # four clients, each with its own devices
            groups = [
                [four[d][i] for i in range(per_device) for d in range(g, len(devices), 4)] for g in range(4)
            ]
            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(lambda ts: _send_all(stack.url, ts), groups))
            multi = sum(len(g) for g in groups) / (time.perf_counter() - t0)
            # one client, batches of 50 (an IoT gateway's uplink)
            batch = _signed(devices, per_device)
            order = [batch[d][i] for i in range(per_device) for d in range(len(devices))]
            t0 = time.perf_counter()
            with httpx.Client(base_url=stack.url, timeout=60) as http:
                for k in range(0, len(order), 50):
                    resp = http.post("/warehouse/readings/batch", json={"readings": order[k : k + 50]})
                    if resp.status_code != 200 or resp.json()["refused"]:
                        raise RuntimeError(f"a batch was not accepted whole: {resp.text[:300]}")
            batched = len(order) / (time.perf_counter() - t0)
        finally:
            stack.stop()
    rates = {"parse": parse, "verify": verified, "gateway_1": single, "gateway_4": multi, "batch_50": batched}
    labels = {
        "parse": "parse only (the yardstick)",
        "verify": "verify_reading alone, cache warm",
        "gateway_1": "gateway end to end, 1 client",
        "gateway_4": "gateway end to end, 4 clients",
        "batch_50": "gateway end to end, batches of 50",
    }
    print(f"{len(devices)} devices, {per_device * len(devices)} readings per gateway row; 2 cores shared")
    print(f"{'row':<36}{'readings/s':>12}{'x parse':>10}")
    for key, label in labels.items():
        print(f"{label:<36}{rates[key]:>12,.0f}{parse / rates[key]:>10.1f}")
    print(f"gateway (4 clients) / verify alone: {multi / verified:.3f}")
    return rates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5, help="rounds of each row (median reported)")
    ap.add_argument("--seconds", type=float, default=1.0, help="length of one parse or warm measurement")
    ap.add_argument("--devices", type=int, default=2000, help="devices of the cold row (one reading each)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    ap.add_argument(
        "--gateway",
        action="store_true",
        help="also the gateway's end-to-end rate (a local stack; about 30 s)",
    )
    ap.add_argument("--gateway-readings", type=int, default=400, help="readings per gateway row")
    args = ap.parse_args()

    started = time.perf_counter()
    ca = create_ca("Bench Root CA", not_before=datetime.fromtimestamp(NOW, UTC) - timedelta(days=30))
    certificates: dict[str, bytes] = {}
    warm_tokens = _device_tokens(ca, certificates, "warm", WARM_DEVICES, 100)
    cold_tokens = _device_tokens(ca, certificates, "cold", args.devices, 1)
    setup_s = time.perf_counter() - started
    revoked: set[int] = set()

    def verify(token: str) -> object:
        return verify_reading(
            token,
            ca_root=ca.certificate,
            certificates=certificates,
            revoked=revoked,
            last_seq=None,
            now=NOW,
            receipt=RECEIPT,
        )

    for token in warm_tokens:  # every warm token verifies (and the cache is filled)
        verify(token)

    rows: dict[str, list[float]] = {"parse": [], "warm": [], "cold": []}
    for _ in range(args.rounds):
        rows["parse"].append(_per_second(_parse_only, warm_tokens, args.seconds))
        clear_certificate_cache()
        for token in warm_tokens[:WARM_DEVICES]:
            verify(token)
        rows["warm"].append(_per_second(verify, warm_tokens, args.seconds))
        clear_certificate_cache()
        t0 = time.perf_counter()
        for token in cold_tokens:
            verify(token)
        rows["cold"].append(len(cold_tokens) / (time.perf_counter() - t0))
        assert certificate_cache_info().hits == 0  # every cold reading was a miss
    med = {k: statistics.median(v) for k, v in rows.items()}
    cost = {k: med["parse"] / med[k] for k in med}  # time per reading, in parse-times

    token_chars = len(warm_tokens[0])
    print(
        f"readings: ES256 compact JWS, {token_chars} characters; {args.rounds} rounds; one core; "
        f"setup {setup_s:.1f} s ({WARM_DEVICES + args.devices} device certificates)"
    )
    print(f"{'row':<46}{'readings/s':>12}{'us/reading':>12}{'x parse':>10}")
    labels = {
        "parse": "(a) parse only: split, base64url, JSON",
        "warm": f"(b) verify_reading, cache warm ({WARM_DEVICES} devices)",
        "cold": f"(c) verify_reading, cache cold ({args.devices} devices)",
    }
    for key, label in labels.items():
        print(f"{label:<46}{med[key]:>12,.0f}{1e6 / med[key]:>12.1f}{cost[key]:>10.1f}")
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": multiprocessing.cpu_count(), "python": platform.python_version()},
        "token_chars": token_chars,
        "rounds": args.rounds,
        "readings_per_s": med,
        "x_parse": cost,
        "samples": rows,
    }
    if args.gateway:
        result["gateway_readings_per_s"] = gateway_rows(args.gateway_readings, 8)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"written: {args.json}")
    print(f"total {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
