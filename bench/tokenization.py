#!/usr/bin/env python3
"""Tokenization throughput through the API, against the chain's own rate measured in the same run.

One real gateway (Anvil, deployed contracts, SQLite, uvicorn) and, in the same run:

- **yardstick**: the same ``registerInvoice`` calls pre-signed from the verifier's key and sent as raw
  JSON-RPC requests back to back, receipts asked for in batches: what the chain itself takes (tx/s);
- ``POST /bundles``, one invoice per request, at concurrency 1, 4 and 16: tokenizations/s, p50/p99, and
  invoices per transaction (concurrent requests share ``registerInvoices``: ``api.services.registrar``);
- ``POST /bundles/batch``, 64 invoices per request, at concurrency 1 and 2: invoices/s, p50/p99 per request;

and prints each rate's ratio to the yardstick. Every bundle is signed before the clock starts (what an
ERP does before it sends). Writes JSON to ``reports/bench/tokenize.json``.

Usage: .venv/bin/python bench/tokenization.py [--invoices N]   (N per measured row; default 96)
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from sqlalchemy import text

from api.services.registrar import registrar_of
from chain.contracts import InvoiceTerms
from chain.settings import PROJECT_ROOT
from cli.sample import (
    BUYER_GLN,
    SELLER_GLN,
    Gateway,
    bundle_body,
    grant_credit,
    onboard,
    start_gateway,
    trade,
)

REPORT = PROJECT_ROOT / "reports" / "bench" / "tokenize.json"


def raw_chain_rate(gw: Gateway, creditor: str, debtor: str, n: int) -> float:
    """``n`` registerInvoice transactions, pre-signed, sent back to back as raw JSON-RPC; receipts in
    batches. Transactions per second from the first send to the last receipt."""
    chain = gw.state.chain()
    ledger, verifier = chain.platform.ledger, chain.verifier
    key = Account.from_key(gw.settings.effective_verifier_key)
    nonce = chain.w3.eth.get_transaction_count(key.address, "pending")
    now = int(time.time())
    signed = []
    for i in range(n):
        fp = uuid.uuid4().bytes + uuid.uuid4().bytes
        terms = InvoiceTerms(
            creditor,
            debtor,
            1_000 + i,
            chain.platform.tokens["EUR"].address,
            now - 86_400,
            now + 30 * 86_400,
            fp,
            fp,
            fp,
        )
        data = ledger.contract.encode_abi("registerInvoice", args=[terms.as_tuple()])
        tx = {
            "to": ledger.address,
            "data": data,
            "gas": 400_000,
            "gasPrice": gw.settings.gas_price
            if gw.settings.gas_price is not None
            else chain.w3.eth.gas_price,
            "nonce": nonce + i,
            "chainId": verifier.chain_id,
            "value": 0,
        }
        signed.append(key.sign_transaction(tx))
    verifier.resync_nonce()  # the gateway's counter learns of these afterwards
    url = gw.state.settings.effective_rpc_url
    with httpx.Client(timeout=60) as http:
        t0 = time.perf_counter()
        hashes = []
        for s in signed:
            r = http.post(
                url,
                json={
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "eth_sendRawTransaction",
                    "params": ["0x" + s.raw_transaction.hex()],
                },
            )
            hashes.append(r.json()["result"])
        pending = set(hashes)
        while pending:
            batch = [
                {"jsonrpc": "2.0", "id": i, "method": "eth_getTransactionReceipt", "params": [h]}
                for i, h in enumerate(pending)
            ]
            answers = http.post(url, json=batch).json()
            done = {batch[a["id"]]["params"][0] for a in answers if a.get("result")}
            pending -= done
        seconds = time.perf_counter() - t0
    # the gateway's nonce counter in the database must follow
    with gw.state.engine.begin() as conn:
        conn.execute(
            text("UPDATE tx_nonce SET next_nonce = :n WHERE address = :a"), {"n": nonce + n, "a": key.address}
        )
    return n / seconds


def run(calls: list[Any], concurrency: int) -> tuple[float, list[float]]:
    """Run the calls at ``concurrency``; (wall seconds, each call's seconds)."""

    def timed(call: Any) -> float:
        t0 = time.perf_counter()
        call()
        return time.perf_counter() - t0

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(timed, calls))
    return time.perf_counter() - t0, latencies


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(q * (len(v) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--invoices", type=int, default=96)
    args = ap.parse_args()
    n = args.invoices
    gw = start_gateway(Path(tempfile.mkdtemp(prefix="scf-bench-tokenize-")))
    try:
        core = onboard(gw, "core_enterprise", "Nordvik Retail AB", "SE5566778899", [("0088", BUYER_GLN)])
        assert grant_credit(gw, core.participant_id, 10**15).status_code == 200
        supplier = onboard(gw, "supplier", "Fabrikant Metall AB", "SE5561234567", [("0088", SELLER_GLN)])
        signers = {"Order": core, "DespatchAdvice": supplier, "Invoice": supplier}
        tags = iter(range(10**6))

        def bodies(k: int) -> list[dict[str, Any]]:
            return [bundle_body(trade(f"INV-TOK-{next(tags)}"), signers) for _ in range(k)]

        def single(body: dict[str, Any]) -> Any:
            def call() -> None:
                r = gw.request(
                    "POST",
                    "/bundles",
                    supplier.api_key,
                    json=body,
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                )
                assert r.status_code == 201, r.text

            return call

        def batch(chunk: list[dict[str, Any]]) -> Any:
            def call() -> None:
                r = gw.request(
                    "POST",
                    "/bundles/batch",
                    supplier.api_key,
                    json={"bundles": chunk},
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                )
                assert r.status_code == 200 and r.json()["tokenized"] == len(chunk), r.text[:500]

            return call

        run([single(b) for b in bodies(4)], 1)  # warm-up
        yardstick = raw_chain_rate(gw, supplier.address, core.address, max(n, 200))
        rows: list[dict[str, Any]] = []
        registrar = registrar_of(gw.state)
        for conc in (1, 4, 16):
            sent = registrar.transactions
            wall, lat = run([single(b) for b in bodies(n)], conc)
            rows.append(
                {
                    "what": f"POST /bundles, concurrency {conc}",
                    "invoices_per_s": n / wall,
                    "p50_ms": 1000 * statistics.median(lat),
                    "p99_ms": 1000 * pct(lat, 0.99),
                    # concurrent requests share registerInvoices transactions (api.services.registrar)
                    "invoices_per_tx": n / max(1, registrar.transactions - sent),
                }
            )
        per = 64
        for conc in (1, 2):
            k = max(n, per * conc * 2) // per * per
            all_bodies = bodies(k)
            chunks = [all_bodies[i : i + per] for i in range(0, k, per)]
            wall, lat = run([batch(c) for c in chunks], conc)
            rows.append(
                {
                    "what": f"POST /bundles/batch ({per} per request), concurrency {conc}",
                    "invoices_per_s": k / wall,
                    "p50_ms": 1000 * statistics.median(lat),
                    "p99_ms": 1000 * pct(lat, 0.99),
                }
            )
        print(f"yardstick: pre-signed registerInvoice as raw JSON-RPC, back to back: {yardstick:.0f} tx/s")
        print(f"{'through the API':<52}{'inv/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}{'inv/tx':>8}")
        for r in rows:
            r["ratio"] = r["invoices_per_s"] / yardstick
            per_tx = f"{r['invoices_per_tx']:>8.1f}" if "invoices_per_tx" in r else f"{64:>8}"
            print(
                f"{r['what']:<52}{r['invoices_per_s']:>8.1f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}"
                f"{r['ratio']:>8.2f}{per_tx}"
            )
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(json.dumps({"yardstick_tx_per_s": yardstick, "rows": rows}, indent=2) + "\n")
    finally:
        gw.stop()


if __name__ == "__main__":
    main()
