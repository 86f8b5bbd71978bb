#!/usr/bin/env python3
"""Tokenization throughput with 1 gateway worker and then 2, in the same run, on PostgreSQL.

One Anvil, one PostgreSQL (a throw-away cluster, or ``--database-url``), the contracts deployed and a
sample buyer and seller onboarded once. Then, for each worker count, a gateway process serving that many
uvicorn workers on one port (``cli.gateway_process``, as ``scf up --workers N``), a warm-up, and the same
load: ``--requests`` single ``POST /bundles`` of distinct invoices (``cli.sample`` bundles, signed
before the clock starts) from ``--concurrency`` clients. Prints tokenizations/s, p50/p99 for each and
the ratio; writes ``reports/bench/workers.json``. Measure on a quiet machine: the ratio is what counts,
both sides are measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from api.db import make_engine, migrate
from api.services.bootstrap import bootstrap
from api.settings import Settings
from api.state import AppState
from chain.deploy import ensure_deployed
from chain.node import AnvilNode, free_port
from chain.settings import PROJECT_ROOT
from cli.gateway_process import GatewayProcess
from cli.sample import BUYER_GLN, SELLER_GLN, Actor, bundle_body, grant_credit, onboard, trade

REPORT = PROJECT_ROOT / "reports" / "bench" / "workers.json"


class Http:
    """What ``cli.sample.onboard`` and ``grant_credit`` use of a gateway."""

    def __init__(self, url: str, operator_key: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=180)
        self.operator_key = operator_key
        self.credit_bank: Actor | None = None

    def request(self, method: str, path: str, key: str | None, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}", **kw.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kw)


class Postgres:
    """A throw-away PostgreSQL cluster (the server binaries of the ``postgresql`` package)."""

    def __init__(self) -> None:
        found = shutil.which("initdb") or next(
            iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))), None
        )
        if found is None:
            raise SystemExit(
                "PostgreSQL's server binaries are missing: install `postgresql` or pass --database-url"
            )
        self.bin = Path(found).resolve().parent
        self.top = Path(tempfile.mkdtemp(prefix="scf-bench-pg-"))
        self.data = self.top / "pgdata"
        self.data.mkdir()
        if os.geteuid() == 0:  # initdb refuses root: the server runs as `postgres`
            shutil.chown(self.top, "postgres")
            shutil.chown(self.data, "postgres")
        self.port = free_port()
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "scf", "--no-sync")
        opts = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c max_connections=400"
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.data / "log"), "-w", "start")
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "scf", "scf")
        self.url = f"postgresql+psycopg2://scf@127.0.0.1:{self.port}/scf"

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True)

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.top, ignore_errors=True)


def load(
    url: str, supplier: Actor, bodies: list[dict[str, Any]], concurrency: int
) -> tuple[float, list[float], int]:
    """(seconds, latencies, errors) of ``bodies`` posted by ``concurrency`` clients."""
    clients = [httpx.Client(base_url=url, timeout=180) for _ in range(concurrency)]
    headers = {"Authorization": f"Bearer {supplier.api_key}"}

    def post(n: int) -> tuple[float, int]:
        t0 = time.perf_counter()
        r = clients[n % concurrency].post(
            "/bundles", json=bodies[n], headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
        )
        return time.perf_counter() - t0, r.status_code

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(post, range(len(bodies))))
    seconds = time.perf_counter() - t0
    for c in clients:
        c.close()
    return seconds, [s for s, _ in results], sum(1 for _, status in results if status != 201)


def figures(seconds: float, latencies: list[float], errors: int) -> dict[str, float]:
    v = sorted(latencies)
    return {
        "requests": len(v),
        "errors": errors,
        "seconds": round(seconds, 2),
        "tokenizations_per_s": round((len(v) - errors) / seconds, 2),
        "p50_ms": round(1000 * statistics.median(v), 1),
        "p99_ms": round(1000 * v[int(0.99 * (len(v) - 1))], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=48, help="tokenizations measured per worker count")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a throw-away cluster)")
    parser.add_argument("--workers", default="1,2", help="the worker counts to compare, in order")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    pg = None if args.database_url else Postgres()
    db_url = args.database_url or (pg.url if pg else "")
    tmp = Path(tempfile.mkdtemp(prefix="scf-bench-workers-"))
    anvil = AnvilNode(state_file=None, log_file=tmp / "anvil.log")
    anvil.start()
    results: dict[str, Any] = {}
    try:
        settings = Settings(
            artifacts_dir=PROJECT_ROOT / "build" / "contracts",
            data_dir=tmp / "data",
            deployments_dir=tmp / "deployments",
            anvil_port=anvil.port,
            database_url=db_url,
        )
        ensure_deployed(settings)
        migrate(settings)
        engine = make_engine(settings)
        bootstrap(settings, AppState(settings=settings, engine=engine))
        engine.dispose()
        supplier = core = None
        for n in counts:
            gw = GatewayProcess(settings, tmp / f"gateway-{n}.log", workers=n)
            gw.start(timeout=120)
            try:
                if supplier is None or core is None:
                    http = Http(gw.url, settings.effective_operator_api_key)
                    core = onboard(
                        http, "core_enterprise", "Nordvik Retail AB", "SE5566778899", [("0088", BUYER_GLN)]
                    )  # type: ignore[arg-type]
                    assert grant_credit(http, core.participant_id, 10**15).status_code == 200  # type: ignore[arg-type]
                    supplier = onboard(
                        http, "supplier", "Fabrikant Metall AB", "SE5561234567", [("0088", SELLER_GLN)]
                    )  # type: ignore[arg-type]
                signers = {"Order": core, "DespatchAdvice": supplier, "Invoice": supplier}
                tag = uuid.uuid4().hex[:6]
                warm = [bundle_body(trade(f"WW-{tag}-{i}"), signers) for i in range(args.concurrency)]
                bodies = [bundle_body(trade(f"WB-{tag}-{i}"), signers) for i in range(args.requests)]
                load(gw.url, supplier, warm, args.concurrency)  # every worker connected and warm
                row = figures(*load(gw.url, supplier, bodies, args.concurrency))
                results[f"workers_{n}"] = row
                print(
                    f"{n} worker(s): {row['tokenizations_per_s']:.2f} tokenizations/s,"
                    f" p50 {row['p50_ms']:.0f} ms, p99 {row['p99_ms']:.0f} ms, {row['errors']} errors"
                    f" ({row['requests']} requests, concurrency {args.concurrency}, {row['seconds']} s)",
                    flush=True,
                )
            finally:
                gw.stop()
    finally:
        anvil.stop()
        if pg is not None:
            pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    if len(counts) >= 2:
        a, b = results[f"workers_{counts[0]}"], results[f"workers_{counts[-1]}"]
        ratio = round(b["tokenizations_per_s"] / a["tokenizations_per_s"], 2)
        results["ratio"] = ratio
        print(f"ratio {counts[-1]} vs {counts[0]} workers: {ratio:.2f}x tokenizations/s")
    results["cpus"] = os.cpu_count()
    results["concurrency"] = args.concurrency
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {REPORT.relative_to(PROJECT_ROOT)}")
    return 0 if all(r["errors"] == 0 for k, r in results.items() if k.startswith("workers_")) else 1


if __name__ == "__main__":
    raise SystemExit(main())
