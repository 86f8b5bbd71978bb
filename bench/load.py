#!/usr/bin/env python3
"""A bounded load test (``make load``): mixed reads and writes from several participants against a real
gateway process on loopback, for at most two minutes, then it stops by itself.

The gateway runs in a process of its own (``cli.gateway_process``) so that its memory is measured alone:
RSS after a warm-up and at the end. Clients, each a participant with its own API key, loop over:

- writes (1 in 5): a transfer of a few units of a receivable to another supplier (custodial keys, an
  ``Idempotency-Key`` each); a tokenization of a new invoice now and then;
- reads: holdings, the receivables list, the payment calendar, a receivable's provenance, ``/health``.

Prints requests/s, p50/p99 per kind, error count, RSS before and after; exits non-zero if any request
failed or RSS grew more than 20 %. ``--seconds`` (default 60, at most 120), ``--clients`` (default 8).
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx

from cli.gateway_process import GatewayProcess
from cli.sample import BUYER_GLN, SELLER_GLN, Actor, bundle_body, grant_credit, onboard, start_gateway, trade

MAX_SECONDS = 120


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def row(kind: str, seconds: list[float]) -> str:
    v = sorted(seconds)
    p50, p99 = 1000 * statistics.median(v), 1000 * v[int(0.99 * (len(v) - 1))]
    return f"{kind:<12} {len(v):>6} {p50:>8.1f} {p99:>8.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    seconds = min(args.seconds, MAX_SECONDS)
    with tempfile.TemporaryDirectory(prefix="scf-load-") as tmp:
        gw = start_gateway(Path(tmp))
        proc = GatewayProcess(gw.settings, Path(tmp) / "gateway.log")
        try:
            core = onboard(gw, "core_enterprise", "Nordvik Retail AB", "SE5566778899", [("0088", BUYER_GLN)])
            assert grant_credit(gw, core.participant_id, 10**13).status_code == 200
            suppliers = [
                onboard(
                    gw,
                    "supplier",
                    "Fabrikant Metall AB",
                    "SE5561234567",
                    [("0088", SELLER_GLN)],
                    custodial=True,
                ),
                onboard(
                    gw,
                    "supplier",
                    "Smedja Komponent AB",
                    "SE5569988776",
                    [("0088", "7350000000033")],
                    custodial=True,
                ),
            ]
            signers = {"Order": core, "DespatchAdvice": suppliers[0], "Invoice": suppliers[0]}
            made = gw.request(
                "POST",
                "/bundles",
                suppliers[0].api_key,
                json=bundle_body(trade("INV-LOAD-0"), signers),
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            assert made.status_code == 201, made.text
            rid = made.json()["receivable_id"]
            typed = gw.request("GET", f"/receivables/{rid}/endorsement-request", core.api_key).json()
            from eth_account import Account
            from eth_account.messages import encode_typed_data

            sig = Account.sign_message(encode_typed_data(full_message=typed["typed_data"]), core.chain_key)
            endorsed = gw.request(
                "POST",
                f"/receivables/{rid}/endorsement-signature",
                core.api_key,
                json={
                    "accept": True,
                    "deadline": typed["typed_data"]["message"]["deadline"],
                    "signature": sig.signature.to_0x_hex(),
                },
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            assert endorsed.status_code == 200, endorsed.text
            # half of it to the second supplier, so that both can pay each other
            half = made.json()["face_value_minor"] // 2
            moved = gw.request(
                "POST",
                f"/receivables/{rid}/transfers",
                suppliers[0].api_key,
                json={"to_participant_id": suppliers[1].participant_id, "amount": half},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            assert moved.status_code == 200, moved.text
            gw.server.should_exit = True  # from here on, the gateway under load is a process of its own
            gw.thread.join(timeout=10)
            proc.start()
            return run(proc, core, suppliers, signers, rid, seconds, args.clients)
        finally:
            proc.stop()
            gw.stop()


def run(
    proc: GatewayProcess,
    core: Actor,
    suppliers: list[Actor],
    signers: dict[str, Actor],
    rid: int,
    seconds: float,
    clients: int,
) -> int:
    assert proc.process is not None
    pid = proc.process.pid
    times: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()
    invoices = itertools.count(1)
    stop_at = [0.0]

    def one(http: httpx.Client, who: Actor, rng: random.Random) -> None:
        roll = rng.random()
        other = suppliers[1] if who is suppliers[0] else suppliers[0]
        auth = {"Authorization": f"Bearer {who.api_key}"}
        if roll < 0.18:
            kind, r = (
                "transfer",
                http.post(
                    f"/receivables/{rid}/transfers",
                    json={"to_participant_id": other.participant_id, "amount": rng.randint(1, 5)},
                    headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
                ),
            )
        elif roll < 0.20:
            body = bundle_body(trade(f"INV-LOAD-{next(invoices)}-{uuid.uuid4().hex[:6]}"), signers)
            kind, r = (
                "tokenize",
                http.post(
                    "/bundles",
                    json=body,
                    headers={
                        "Authorization": f"Bearer {suppliers[0].api_key}",
                        "Idempotency-Key": str(uuid.uuid4()),
                    },
                ),
            )
        elif roll < 0.40:
            kind, r = "holdings", http.get("/holdings", headers=auth)
        elif roll < 0.60:
            kind, r = "receivables", http.get("/receivables?limit=50", headers=auth)
        elif roll < 0.75:
            kind, r = (
                "calendar",
                http.get("/payables/calendar", headers={"Authorization": f"Bearer {core.api_key}"}),
            )
        elif roll < 0.90:
            kind, r = "provenance", http.get(f"/receivables/{rid}/provenance", headers=auth)
        else:
            kind, r = "health", http.get("/health")
        ok = r.status_code < 400
        with lock:
            times[kind].append(r.elapsed.total_seconds())
            if not ok:
                errors.append(f"{kind}: {r.status_code} {r.text[:200]}")

    def client(n: int) -> None:
        rng = random.Random(n)
        who = suppliers[n % 2]
        with httpx.Client(base_url=proc.url, timeout=60) as http:
            while time.monotonic() < stop_at[0]:
                try:
                    one(http, who, rng)
                except httpx.HTTPError as exc:
                    with lock:
                        errors.append(f"transport: {exc!r}")

    def phase(duration: float) -> float:
        stop_at[0] = time.monotonic() + duration
        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.perf_counter() - t0

    phase(min(10.0, seconds / 6))  # warm-up: caches, connection pools, the read model
    times.clear()
    rss_before = rss_kib(pid)
    wall = phase(seconds)
    rss_after = rss_kib(pid)
    total = sum(len(v) for v in times.values())
    print(f"load: {clients} clients, {wall:.1f} s, {total} requests, {total / wall:.1f} requests/s")
    print(f"{'kind':<12} {'n':>6} {'p50 ms':>8} {'p99 ms':>8}")
    for kind in sorted(times):
        print(row(kind, times[kind]))
    print(row("all", [t for v in times.values() for t in v]))
    growth = (rss_after - rss_before) / rss_before
    print(
        f"errors: {len(errors)}; gateway RSS {rss_before / 1024:.1f} MiB -> {rss_after / 1024:.1f} MiB",
        end="",
    )
    print(f" ({growth:+.1%})")
    for e in errors[:10]:
        print("  ", e)
    return 1 if errors or growth > 0.20 else 0


if __name__ == "__main__":
    sys.exit(main())
