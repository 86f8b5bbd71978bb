#!/usr/bin/env python3
"""Measure how long the gateway takes to verify one document bundle, against baselines in the same run.

Runs a real gateway (Anvil, deployed contracts, SQLite, uvicorn) and reports, per bundle of three
signed UBL documents (order, despatch advice, invoice):

- parse only (the three documents through the hardened UBL parser)        -- the baseline
- parse + verify the three JWS signatures
- POST /bundles/verify over HTTP (parse, signatures, rules, database and chain look-ups)
- POST /bundles (the above, then claims, encrypted storage and the on-chain registration)

Usage: .venv/bin/python bench/verify_bundles.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from cli.sample import BUYER_GLN, SELLER_GLN, bundle_body, grant_credit, onboard, start_gateway, trade
from domain.documents.model import DocumentKind
from domain.documents.ubl import parse_document
from domain.identity import verify_detached


def timed(fn: Callable[[], object], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    gw = start_gateway(Path(tempfile.mkdtemp(prefix="scf-bench-")))
    try:
        core = onboard(gw, "core_enterprise", "Nordvik Retail AB", "SE5566778899", [("0088", BUYER_GLN)])
        assert grant_credit(gw, core.participant_id, 10**12).status_code == 200
        supplier = onboard(gw, "supplier", "Fabrikant Metall AB", "SE5561234567", [("0088", SELLER_GLN)])
        signers = {"Order": core, "DespatchAdvice": supplier, "Invoice": supplier}
        docs = trade("INV-BENCH-0")
        body = bundle_body(docs, signers)
        jws = {d["name"].removesuffix(".xml"): d["signature"] for d in body["documents"]}
        ca_cert = gw.state.ca().certificate

        def parse_only() -> None:
            for data in docs.values():
                parse_document(data)

        def parse_and_signatures() -> None:
            for kind, data in docs.items():
                parse_document(data)
                verify_detached(
                    data,
                    jws[kind],
                    ca_cert=ca_cert,
                    is_revoked=set(),
                    expected_kind=DocumentKind(kind),
                    expected_signer=None,
                )

        def http_verify() -> None:
            r = gw.request("POST", "/bundles/verify", supplier.api_key, json=body)
            assert r.status_code == 200 and r.json()["ok"], r.text

        counter = iter(range(1, 10**6))
        bodies = [bundle_body(trade(f"INV-BENCH-{i}"), signers) for i in range(1, args.rounds + 2)]

        def http_tokenize() -> None:
            b = bodies[next(counter)]
            r = gw.request(
                "POST", "/bundles", supplier.api_key, json=b, headers={"Idempotency-Key": str(uuid.uuid4())}
            )
            assert r.status_code == 201, r.text

        http_verify()  # warm up (CA load, chain connection)
        rows = [
            ("parse only (baseline)", timed(parse_only, args.rounds)),
            ("parse + 3 signatures", timed(parse_and_signatures, args.rounds)),
            ("POST /bundles/verify", timed(http_verify, args.rounds)),
            ("POST /bundles (tokenize)", timed(http_tokenize, args.rounds)),
        ]
        base = statistics.median(rows[0][1])
        size = sum(len(d) for d in docs.values())
        print(f"bundle: 3 UBL documents, {size} bytes in all; rounds={args.rounds}")
        print(f"{'step':<28}{'median ms':>12}{'p90 ms':>10}{'x baseline':>12}")
        for name, samples in rows:
            med = statistics.median(samples)
            p90 = sorted(samples)[int(0.9 * (len(samples) - 1))]
            print(f"{name:<28}{med * 1000:>12.1f}{p90 * 1000:>10.1f}{med / base:>12.1f}")
    finally:
        gw.stop()


if __name__ == "__main__":
    main()
