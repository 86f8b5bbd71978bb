"""A real gateway for tests: Anvil + deployed contracts + SQLite file + uvicorn on a free port.

Participants are onboarded through the HTTP API and sign their UBL documents with their own
P-256 keys, exactly as an ERP integration would. The pieces the benchmarks share live in
``cli.sample`` (re-exported here); the helpers below are the tests' own.
"""

from __future__ import annotations

import base64
import json
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
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
from domain.documents.model import DocumentKind
from domain.identity import sign_detached

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
    "call_as",
    "distinct_trade",
    "grant_credit",
    "green_attestation",
    "ok_as",
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


def call_as(gw: Gateway, who: Actor | None, method: str, path: str, body: object = None) -> httpx.Response:
    """One request as ``who`` (the operator for ``None``), with a fresh ``Idempotency-Key``."""
    key = who.api_key if who else gw.operator_key
    return gw.request(method, path, key, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})


def ok_as(
    gw: Gateway, who: Actor | None, method: str, path: str, body: object = None, status: int = 200
) -> Any:
    """:func:`call_as`, asserting the answer's status; its JSON."""
    resp = call_as(gw, who, method, path, body)
    assert resp.status_code == status, (method, path, resp.text)
    return resp.json()


def green_attestation(
    signer: Actor, rid: int, fingerprint: str, today: date, **fields: Any
) -> dict[str, str]:
    """The body of ``POST /green/labels/{rid}``: ``signer``'s signed attestation (docs/green.md) that
    receivable ``rid`` (its ledger ``fingerprint``) is CN-GFSPC-2025 3.2.1, valid from the day before
    ``today`` for 180 days, no benefit measured; ``fields`` replace the document's own."""
    doc = {
        "type": "scf.green-attestation/1",
        "receivable_id": rid,
        "fingerprint": fingerprint,
        "catalogue": "CN-GFSPC-2025",
        "category": "3.2.1",
        "evidence_sha256": "cd" * 32,
        "valid_from": (today - timedelta(days=1)).isoformat(),
        "valid_until": (today + timedelta(days=180)).isoformat(),
        "benefit": None,
        "certifier": {"registration_id": signer.registration_id},
        **fields,
    }
    payload = json.dumps(doc).encode()
    jws = sign_detached(payload, signer.key, signer.certificate, DocumentKind.GREEN_ATTESTATION)
    return {"attestation_base64": base64.b64encode(payload).decode(), "signature": jws}


def appoint_issuer(
    gw: Gateway, financier_participant_id: str, cap_minor: int = 10**15, currency: str = "EUR"
) -> None:
    """The operator appoints a financier as issuer of the settlement token of ``currency``, with a cap."""
    resp = gw.request(
        "PUT",
        f"/settlement/issuers/{financier_participant_id}",
        gw.operator_key,
        json={"currency": currency, "cap_minor": cap_minor},
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
