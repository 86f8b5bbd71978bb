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

Prints readings/s and the cost of each row in parse-times (its time per reading over the yardstick's).
``--json PATH`` also writes the figures there (e.g. ``reports/bench/readings.json``).

Usage (from the repository root, one core, about 20 s by default):

    .venv/bin/python -m bench.readings [--rounds 5] [--seconds 1.0] [--devices 2000] [--json PATH]
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import multiprocessing
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5, help="rounds of each row (median reported)")
    ap.add_argument("--seconds", type=float, default=1.0, help="length of one parse or warm measurement")
    ap.add_argument("--devices", type=int, default=2000, help="devices of the cold row (one reading each)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
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
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"written: {args.json}")
    print(f"total {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
