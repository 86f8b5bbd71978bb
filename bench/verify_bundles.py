#!/usr/bin/env python3
"""How fast the gateway verifies a bundle of three signed UBL documents (order, despatch advice,
invoice), against its yardsticks and the issue-11 goals, all in the same run.

Runs a real gateway (Anvil, deployed contracts, SQLite, uvicorn; ``cli.sample.start_gateway``) and
measures, interleaved so that the noise of a shared machine hits every row alike:

- ``lxml``: a bare ``lxml.etree.fromstring`` of the three documents' bytes (the yardstick);
- ``parser``: ``parse_document`` on the same bytes (every hardening; goal: within 5x of lxml);
- ``domain``: parse + the three JWS signatures + every rule, with a static context (no database,
  no chain), bundles/s per core: one process, and two processes at once (per core);
- ``prepare``: what ``POST /bundles/verify`` runs, in process (decode, parse, signatures, rules with
  the gateway's database and ledger look-ups; no HTTP), bundles/s per core, one and two processes
  (goal: >= 1,000);
- ``http c=1`` / ``http c=4``: ``POST /bundles/verify`` against the gateway, 1 and 4 concurrent
  clients (goal: >= 0.5x the in-process rate).

Medians of several rounds. Writes ``reports/bench/verify.json``.

Usage: .venv/bin/python bench/verify_bundles.py [--rounds N] [--seconds S]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree
from sqlmodel import Session

from api.db import make_engine
from api.models import Participant
from api.schemas.bundles import BundleIn
from api.services.bundles import prepare
from api.settings import Settings
from api.state import AppState
from cli.sample import BUYER_GLN, SELLER_GLN, bundle_body, grant_credit, onboard, start_gateway, trade
from domain.documents.model import DocumentKind, PartyRef
from domain.documents.ubl import parse_document
from domain.identity import ParticipantIdentity, create_ca, sign_detached, verify_detached
from domain.roles import Role
from domain.rules import Bundle, StaticContext, verify_bundle

REPORT = Path(__file__).resolve().parents[1] / "reports" / "bench" / "verify.json"
GOALS = {"parser_x_lxml": 5.0, "prepare_per_core": 1000.0, "http_x_in_process": 0.5}


def _rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``fn`` over about ``seconds`` (after one warm-up call)."""
    fn()
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        done += 1
    return done / elapsed


# ---------------------------------------------------------------------------- domain-only verification


def _domain_case() -> Callable[[], None]:
    """Parse + 3 signatures + rules of the sample trade, with a static context and a CA of its own."""
    docs = trade("INV-BENCH-DOMAIN")
    ca = create_ca("Bench CA", organization="Bench", not_before=datetime.now(UTC) - timedelta(days=1))

    def actor(role: Role, name: str, reg: str, address: str) -> tuple[ec.EllipticCurvePrivateKey, Any]:
        key = ec.generate_private_key(ec.SECP256R1())
        return key, ca.issue_certificate(key.public_key(), ParticipantIdentity(name, reg, role, address))

    core = actor(Role.CORE_ENTERPRISE, "Nordvik Retail AB", "SE5566778899", "0x" + "1" * 40)
    supplier = actor(Role.SUPPLIER, "Fabrikant Metall AB", "SE5561234567", "0x" + "2" * 40)
    signers = {"Order": core, "DespatchAdvice": supplier, "Invoice": supplier}
    jws = {kind: sign_detached(data, *signers[kind], DocumentKind(kind)) for kind, data in docs.items()}
    buyer, seller = PartyRef("0088", BUYER_GLN), PartyRef("0088", SELLER_GLN)
    context = StaticContext(
        supplier_ids=frozenset({seller}),
        max_tenor_days=120,
        unused_credit_minor=10**12,
        now=datetime.now(UTC),
        core_enterprises=frozenset({buyer}),
        registered_suppliers=frozenset({seller}),
        participants={buyer: "core", seller: "supplier"},
        supplier_registration_id="SE5561234567",
    )
    revoked: set[int] = set()

    def verify() -> None:
        parsed = []
        for kind, data in docs.items():
            parsed.append(parse_document(data))
            verify_detached(
                data,
                jws[kind],
                ca_cert=ca.certificate,
                is_revoked=revoked,
                expected_kind=DocumentKind(kind),
                expected_signer=None,
            )
        violations = verify_bundle(Bundle(tuple(parsed)), context)
        assert not violations, violations

    return verify


def _domain_worker(seconds: float, out: Any) -> None:
    out.put(_rate(_domain_case(), seconds))


# ---------------------------------------------------------------------------- prepare, in process


def _prepare_case(settings: Settings, supplier_id: str, body: dict[str, Any]) -> Callable[[], None]:
    """``prepare`` as the verify route runs it, on a state of its own (as another gateway process)."""
    state = AppState(settings=settings, engine=make_engine(settings))
    bundle = BundleIn.model_validate(body)

    def verify() -> None:
        with Session(state.engine) as session:
            supplier = session.get(Participant, supplier_id)
            assert supplier is not None
            p = prepare(state, session, supplier, bundle)
            assert not p.violations, p.violations

    return verify


def _prepare_worker(
    settings: Settings, supplier_id: str, body: dict[str, Any], seconds: float, out: Any
) -> None:
    out.put(_rate(_prepare_case(settings, supplier_id, body), seconds))


def _per_core_in_processes(target: Callable[..., None], args: tuple[Any, ...], processes: int) -> float:
    """Rate per process with ``processes`` running at once (each on its own core if there are enough)."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, out)) for _ in range(processes)]
    for proc in procs:
        proc.start()
    rates = [out.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join()
    return sum(rates) / processes


# ---------------------------------------------------------------------------- HTTP


def _http_rate(url: str, key: str, body: dict[str, Any], clients: int, seconds: float) -> float:
    """``POST /bundles/verify`` per second with ``clients`` concurrent keep-alive clients."""
    payload = json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    counts = [0] * clients
    stop = time.perf_counter() + seconds
    errors: list[str] = []

    def client(i: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            r = http.post("/bundles/verify", content=payload, headers=headers)  # warm-up
            while time.perf_counter() < stop:
                r = http.post("/bundles/verify", content=payload, headers=headers)
                if r.status_code != 200 or not r.json()["ok"]:
                    errors.append(r.text)
                    return
                counts[i] += 1

    start = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    return sum(counts) / (time.perf_counter() - start)


# ---------------------------------------------------------------------------- the run


def _parse_times(docs: list[bytes], rounds: int) -> tuple[float, float, float]:
    """Median ms of a bare lxml parse and of parse_document over the documents, and the median ratio
    of the two measured back to back (a shared machine's noise hits both alike)."""
    lx, ours, ratios = [], [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(20):
            for d in docs:
                etree.fromstring(d)
        t1 = time.perf_counter()
        for _ in range(20):
            for d in docs:
                parse_document(d)
        t2 = time.perf_counter()
        lx.append((t1 - t0) / 20 * 1000)
        ours.append((t2 - t1) / 20 * 1000)
        ratios.append((t2 - t1) / (t1 - t0))
    return statistics.median(lx), statistics.median(ours), statistics.median(ratios)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5, help="rounds of each rate (median reported)")
    ap.add_argument("--seconds", type=float, default=2.0, help="length of one rate measurement")
    args = ap.parse_args()
    gw = start_gateway(Path(tempfile.mkdtemp(prefix="scf-bench-")))
    try:
        core = onboard(gw, "core_enterprise", "Nordvik Retail AB", "SE5566778899", [("0088", BUYER_GLN)])
        assert grant_credit(gw, core.participant_id, 10**12).status_code == 200
        supplier = onboard(gw, "supplier", "Fabrikant Metall AB", "SE5561234567", [("0088", SELLER_GLN)])
        docs = trade("INV-BENCH-0")
        body = bundle_body(docs, {"Order": core, "DespatchAdvice": supplier, "Invoice": supplier})
        first = gw.request("POST", "/bundles/verify", supplier.api_key, json=body)
        assert first.status_code == 200 and first.json()["ok"], first.text

        lxml_ms, parser_ms, parser_ratio = _parse_times(list(docs.values()), 15 * args.rounds)
        domain = _domain_case()
        in_process = _prepare_case(gw.settings, supplier.participant_id, body)
        rows: dict[str, list[float]] = {k: [] for k in ("domain", "prepare", "http_c1", "http_c4")}
        for _ in range(args.rounds):  # interleaved: each round measures every row once
            rows["domain"].append(_rate(domain, args.seconds))
            rows["prepare"].append(_rate(in_process, args.seconds))
            rows["http_c1"].append(_http_rate(gw.url, supplier.api_key, body, 1, args.seconds))
            rows["http_c4"].append(_http_rate(gw.url, supplier.api_key, body, 4, args.seconds))
        med = {k: statistics.median(v) for k, v in rows.items()}
        domain_2 = _per_core_in_processes(_domain_worker, (args.seconds * 2,), 2)
        prepare_2 = _per_core_in_processes(
            _prepare_worker, (gw.settings, supplier.participant_id, body, args.seconds * 2), 2
        )
    finally:
        gw.stop()

    size = sum(len(d) for d in docs.values())
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": multiprocessing.cpu_count(), "python": platform.python_version()},
        "bundle": {"documents": 3, "bytes": size},
        "rounds": args.rounds,
        "seconds_per_rate": args.seconds,
        "parse_ms": {"lxml": lxml_ms, "parser": parser_ms, "parser_x_lxml": parser_ratio},
        "bundles_per_s": {
            "domain_1_process": med["domain"],
            "domain_2_processes_per_core": domain_2,
            "prepare_1_process": med["prepare"],
            "prepare_2_processes_per_core": prepare_2,
            "http_c1": med["http_c1"],
            "http_c4": med["http_c4"],
        },
        "samples": rows,
        "goals": {
            "parser_x_lxml": {"goal": "<= 5", "measured": parser_ratio},
            "prepare_per_core": {"goal": ">= 1000", "measured": med["prepare"]},
            "http_c1_x_in_process": {"goal": ">= 0.5", "measured": med["http_c1"] / med["prepare"]},
            "http_c4_x_in_process": {"goal": ">= 0.5", "measured": med["http_c4"] / med["prepare"]},
        },
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(result, indent=2) + "\n")

    print(f"bundle: 3 signed UBL documents, {size} bytes; {args.rounds} rounds of {args.seconds:.1f} s")
    print(f"{'bare lxml parse (3 documents)':<44}{lxml_ms:>10.3f} ms")
    print(f"{'parse_document (3 documents)':<44}{parser_ms:>10.3f} ms   {parser_ratio:.1f}x lxml (goal <= 5)")
    print(f"{'domain: parse+signatures+rules, 1 process':<44}{med['domain']:>10.0f} bundles/s")
    print(f"{'domain: 2 processes, per core':<44}{domain_2:>10.0f} bundles/s")
    print(f"{'prepare in process, 1 process':<44}{med['prepare']:>10.0f} bundles/s   (goal >= 1000)")
    print(f"{'prepare in process, 2 processes, per core':<44}{prepare_2:>10.0f} bundles/s")
    for c in (1, 4):
        rate = med[f"http_c{c}"]
        print(
            f"{f'POST /bundles/verify, concurrency {c}':<44}{rate:>10.0f} bundles/s   "
            f"{rate / med['prepare']:.2f}x in-process (goal >= 0.5)"
        )
    print(f"written: {REPORT.relative_to(REPORT.parents[2])}")


if __name__ == "__main__":
    main()
