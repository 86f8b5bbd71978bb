#!/usr/bin/env python3
"""Read latency as the ledger grows (issue 11): p50/p99 of each read endpoint over HTTP at N receivables.

For each size N (``--sizes``, default ``1000,10000``) a fresh local stack (Anvil, contracts, SQLite file,
the gateway on loopback; ``cli.local``) gets a world built fast, not through the HTTP API:

- a core enterprise (its own chain key), a custodial supplier and a custodial financier (also issuer),
  onboarded through the API;
- N invoices of the supplier owed by the core, registered straight from the verifier account
  (``registerInvoice``, sent as batches of raw JSON-RPC requests, 1,000 a block; the node signs them:
  Anvil impersonation), and every other one endorsed straight from the core's account, due dates spread
  over 60 days;
- through the API: 5 splits of the supplier's receivables to the financier, 5 offers of the financier,
  each sold in part by the supplier (holdings, calendar, portfolio, discountable and provenance then
  all have content);
- indexed (the gateway's own indexer, 20 blocks a batch).

Every world is built first and kept; then ``--requests`` (default 200) sequential GETs per endpoint and
size, after 10 of warm-up, *interleaved*: rounds of 10 GETs of one endpoint in one world, then the next,
so that whatever else loads the machine falls on every size alike. The caller is the one that sees the
most: the supplier's ``/holdings`` (N positions), ``/receivables?limit=50`` (N visible) and a
receivable's provenance, the core's ``/payables/calendar`` and ``/payables?limit=50``, the financier's
``/discountable`` (N/2) and ``/portfolio``. Prints p50/p99 per endpoint and size, the ratio of each size
to the first, and writes ``reports/bench/reads.json``.

    .venv/bin/python bench/reads.py                          # 1k and 10k
    .venv/bin/python bench/reads.py --sizes 1000,10000,100000

How long: at 10k, measured on this shared 2-core machine, the world takes 8 s to send and 46 s to
index (35,000 events), the whole run about 3 minutes. 100k is not run here; extrapolated linearly it
needs about 1.5 minutes for the world and 8 minutes to index (350,000 events), about 12 minutes in
all, and no prebuilt data (it starts from a fresh Anvil like the other sizes).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from eth_abi import encode
from eth_utils import keccak

from chain.node import mine_as_one_block, rpc
from chain.settings import PROJECT_ROOT
from cli.sample import Actor, Gateway, grant_credit, onboard, start_gateway

DAY = 86_400
INVOICE = "(address,address,uint256,address,uint256,uint256,bytes32,bytes32,bytes32)"
REGISTER = keccak(text=f"registerInvoice({INVOICE})")[:4]
ENDORSE = keccak(text="endorse(uint256)")[:4]
PER_BLOCK = 1_000
REPORT = PROJECT_ROOT / "reports" / "bench" / "reads.json"


def send_all(url: str, sender: str, to: str, calls: list[bytes]) -> None:
    for k in range(0, len(calls), PER_BLOCK):
        mine_as_one_block(url, sender, to, calls[k : k + PER_BLOCK], gas=400_000)


def post(gw: Gateway, who: Actor, path: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = gw.request("POST", path, who.api_key, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    if resp.status_code not in (200, 201):
        raise RuntimeError(f"POST {path}: {resp.status_code} {resp.text}")
    out: dict[str, Any] = resp.json()
    return out


def build(gw: Gateway, n: int) -> tuple[Actor, Actor, Actor, int]:
    """The world of ``n`` receivables; returns core, supplier, financier and a receivable with history."""
    core = onboard(gw, "core_enterprise", "Nordvik Retail AB", "SE5566778899", [("0088", "7300010000001")])
    if grant_credit(gw, core.participant_id, 10**18).status_code != 200:
        raise RuntimeError("credit line refused")
    supplier = onboard(gw, "supplier", "Fabrikant Metall AB", "SE5561234567", [], custodial=True)
    bank = gw.credit_bank
    assert bank is not None
    gw.request(
        "PUT",
        f"/settlement/issuers/{bank.participant_id}",
        gw.operator_key,
        json={"currency": "EUR", "cap_minor": 10**15},
    )
    chain = gw.state.chain()
    ledger, url = chain.platform.ledger.address, gw.anvil.url
    rpc(url, "anvil_setBlockGasLimit", [hex(1_000_000_000)])
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    today = now - now % DAY
    token = chain.platform.tokens["EUR"].address
    t0 = time.perf_counter()
    calls = [
        REGISTER
        + encode(
            [INVOICE],
            [
                (
                    supplier.address,
                    core.address,
                    10_000 + i,
                    token,
                    today - DAY,
                    today + (30 + i % 60) * DAY,
                    b"\x01" * 32,
                    b"\x02" * 32,
                    keccak(text=f"bench-reads-{i}"),
                )
            ],
        )
        for i in range(n)
    ]
    send_all(url, chain.verifier.address, ledger, calls)
    send_all(url, core.address, ledger, [ENDORSE + encode(["uint256"], [rid]) for rid in range(1, n + 1, 2)])
    print(f"  {n} registered, {n // 2} endorsed straight on the chain in {time.perf_counter() - t0:.0f} s")
    post(
        gw,
        bank,
        "/settlement/mint",
        {"currency": "EUR", "to_participant_id": bank.participant_id, "amount": 10**12},
    )
    expiry = now + 20 * DAY
    for rid in (1, 3, 5, 7, 9):
        post(
            gw,
            supplier,
            f"/receivables/{rid}/transfers",
            {"to_participant_id": bank.participant_id, "amount": 100},
        )
        offer = {"receivable_id": rid + 10, "max_amount": 5_000, "rate_bps": 600, "expiry": expiry}
        made = post(gw, bank, "/offers", offer)
        post(gw, supplier, f"/offers/{made['offer_id']}/accept", {"amount": 3_000})
    t0 = time.perf_counter()
    chain.indexer.batch_blocks = 20  # bounded database transactions on blocks of 1,000 registrations
    gw.state.catch_up()
    print(f"  indexed in {time.perf_counter() - t0:.0f} s")
    return core, supplier, bank, 11


READS = {
    "/holdings": ("supplier", "/holdings"),
    "/receivables?limit=50": ("supplier", "/receivables?limit=50"),
    "/receivables/{id}/provenance": ("supplier", "/receivables/{rid}/provenance"),
    "/payables/calendar": ("core", "/payables/calendar"),
    "/payables?limit=50": ("core", "/payables?limit=50"),
    "/discountable": ("bank", "/discountable"),
    "/portfolio": ("bank", "/portfolio"),
}
ROUND = 10  # GETs of one endpoint in one world before the next, in each round


def measure_all(worlds: dict[int, tuple[Gateway, dict[str, Actor], int]], requests: int) -> dict[int, Any]:
    """Every endpoint of every world, interleaved: rounds of ``ROUND`` GETs per endpoint and world, so that
    whatever else loads the machine meanwhile falls on every size alike."""
    clients = {
        (n, role): httpx.Client(
            base_url=gw.url, headers={"Authorization": f"Bearer {who.api_key}"}, timeout=120
        )
        for n, (gw, actors, _) in worlds.items()
        for role, who in actors.items()
    }
    times: dict[int, dict[str, list[float]]] = {n: {name: [] for name in READS} for n in worlds}
    try:
        for (n, role), client in clients.items():  # warm-up
            for who, path in READS.values():
                if who == role:
                    for _ in range(10):
                        client.get(path.format(rid=worlds[n][2])).raise_for_status()
        for _ in range(max(1, requests // ROUND)):
            for n, (_, _, rid) in worlds.items():
                for name, (who, path) in READS.items():
                    client = clients[(n, who)]
                    for _ in range(ROUND):
                        t0 = time.perf_counter()
                        client.get(path.format(rid=rid)).raise_for_status()
                        times[n][name].append(1000 * (time.perf_counter() - t0))
    finally:
        for client in clients.values():
            client.close()
    out: dict[int, Any] = {}
    for n, per in times.items():
        out[n] = {}
        for name, values in per.items():
            values.sort()
            out[n][name] = {
                "p50_ms": statistics.median(values),
                "p99_ms": values[int(0.99 * (len(values) - 1))],
            }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="receivables per world, comma-separated")
    parser.add_argument("--requests", type=int, default=200, help="measured GETs per endpoint and size")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    worlds: dict[int, tuple[Gateway, dict[str, Actor], int]] = {}
    with contextlib.ExitStack() as stack:
        for n in sizes:  # every world built first and kept: the measurements are interleaved
            print(f"{n} receivables")
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="scf-reads-"))
            gw = start_gateway(Path(tmp))
            stack.callback(gw.stop)
            core, supplier, bank, rid = build(gw, n)
            worlds[n] = (gw, {"core": core, "supplier": supplier, "bank": bank}, rid)
        print(f"measuring, interleaved: {args.requests} GETs per endpoint and size, {ROUND} at a time")
        results = measure_all(worlds, args.requests)
    first = sizes[0]
    print(f"\n{'endpoint':<30}" + "".join(f"{f'p50/p99 @{n}':>22}" for n in sizes) + "  ratio p99")
    for name in results[first]:
        cells = "".join(
            f"{results[n][name]['p50_ms']:>10.1f} /{results[n][name]['p99_ms']:>8.1f} ms" for n in sizes
        )
        ratios = " ".join(
            f"{results[n][name]['p99_ms'] / results[first][name]['p99_ms']:.2f}" for n in sizes[1:]
        )
        print(f"{name:<30}{cells}  {ratios}")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "sizes": sizes,
        "requests": args.requests,
        "results": {str(n): results[n] for n in sizes},
        "ratio_p99_to_first": {
            str(n): {
                name: results[n][name]["p99_ms"] / results[first][name]["p99_ms"] for name in results[first]
            }
            for n in sizes[1:]
        },
    }
    REPORT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten {REPORT.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
