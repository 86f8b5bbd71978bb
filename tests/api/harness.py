"""A real gateway for tests: Anvil + deployed contracts + SQLite file + uvicorn on a free port.

Participants are onboarded through the HTTP API and sign their UBL documents with their own
P-256 keys, exactly as an ERP integration would. The pieces the benchmarks share live in
``cli.sample`` (re-exported here); the helpers below are the tests' own.
"""

from __future__ import annotations

import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from chain.node import AnvilNode, ack_file
from cli.sample import (
    BUYER_GLN,
    INVOICE_NUMBER,
    PAYABLE_MINOR,
    SAMPLE_DESPATCH_NUMBER,
    SAMPLE_ORDER_NUMBER,
    SELLER_GLN,
    Actor,
    Gateway,
    bundle_body,
    grant_credit,
    onboard,
    start_gateway,
    trade,
)

__all__ = [
    "BUYER_GLN",
    "INVOICE_NUMBER",
    "PAYABLE_MINOR",
    "SAMPLE_DESPATCH_NUMBER",
    "SAMPLE_ORDER_NUMBER",
    "SELLER_GLN",
    "Actor",
    "Gateway",
    "appoint_issuer",
    "bundle_body",
    "distinct_trade",
    "grant_credit",
    "onboard",
    "post_concurrently",
    "start_gateway",
    "trade",
    "trade_parties",
]


def distinct_trade(tag: str, buyer_gln: str | None = None) -> dict[str, bytes]:
    """The sample trade with its own order, despatch advice and invoice numbers (another delivery of the
    same goods), optionally to another buyer."""
    docs = trade(f"INV-{tag}")
    out = {}
    for kind, data in docs.items():
        data = data.replace(b"PO-2026-0042", f"PO-{tag}".encode()).replace(b"DA-7781", f"DA-{tag}".encode())
        if buyer_gln is not None:
            data = data.replace(BUYER_GLN.encode(), buyer_gln.encode())
        out[kind] = data
    return out


def trade_parties(gw: Gateway, *, custodial: bool = False, credit: int = 10**12) -> tuple[Actor, Actor]:
    """The sample trade's buyer (a core enterprise with a credit line of ``credit``) and seller."""
    core = onboard(
        gw, "core_enterprise", "Nordvik Retail AB", "SE5566778899", [("0088", BUYER_GLN)], custodial=custodial
    )
    assert grant_credit(gw, core.participant_id, credit).status_code == 200
    supplier = onboard(
        gw,
        "supplier",
        "Fabrikant Metall AB",
        "SE5561234567",
        [("0088", SELLER_GLN), ("VAT", "SE556123456701")],
        custodial=custodial,
    )
    return core, supplier


def appoint_issuer(gw: Gateway, financier_participant_id: str, cap_minor: int = 10**15) -> None:
    """The operator appoints a financier as issuer of settlement tokens, with a cap."""
    resp = gw.request(
        "PUT",
        f"/settlement/issuers/{financier_participant_id}",
        gw.operator_key,
        json={"cap_minor": cap_minor},
    )
    assert resp.status_code == 200, resp.text


def post_concurrently(
    gw: Gateway, api_key: str, bodies: list[dict[str, Any]], workers: int
) -> list[httpx.Response]:
    """``POST /bundles`` each body at once from ``workers`` threads, each with its own connection and
    Idempotency-Key."""

    def go(body: dict[str, Any]) -> httpx.Response:
        with httpx.Client(base_url=gw.url, timeout=120) as c:
            return c.post(
                "/bundles", json=body, headers={**gw.as_(api_key), "Idempotency-Key": str(uuid.uuid4())}
            )

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(go, bodies))


def restart_node(gw: Gateway, *, older: Path | None = None, stop: bool = True, kill: bool = False) -> None:
    """Start the stack's Anvil again on its port, from its own state file or from ``older``, an older
    backup of it (the node then lost every block since). It is stopped first (``kill``: SIGKILL, which
    writes no state; else SIGTERM, which does), unless ``stop`` is false (it is down already)."""
    old = gw.anvil
    if stop:
        old.kill() if kill else old.stop()
    assert old.state_file is not None
    if older is not None:
        shutil.copy(older, old.state_file)
        ack_file(old.state_file).unlink(missing_ok=True)
    node = AnvilNode(state_file=old.state_file, port=old.port, log_file=old.log_file)
    node.start()
    gw.anvil = node
