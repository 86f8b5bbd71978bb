"""A real gateway for tests: Anvil + deployed contracts + SQLite file + uvicorn on a free port.

Participants are onboarded through the HTTP API and sign their UBL documents with their own
P-256 keys, exactly as an ERP integration would.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from eth_account import Account

from api.db import migrate
from api.deps import AppState
from api.identity import DocumentKind, sign_detached
from api.main import create_app
from api.services.bootstrap import bootstrap
from chain.deploy import ensure_deployed
from chain.node import AnvilNode, free_port
from chain.settings import PROJECT_ROOT, Settings

FIXTURES = PROJECT_ROOT / "tests" / "unit" / "fixtures" / "ubl"
BUYER_GLN = "7350000000019"  # Nordvik Retail AB in the fixtures: the core enterprise
SELLER_GLN = "7350000000026"  # Fabrikant Metall AB: the supplier
INVOICE_NUMBER = "INV-2026/0815"
PAYABLE_MINOR = 309050
SHIFT_DAYS = 140  # the fixtures' dates moved into the future (the invoice must not be due yet)


@dataclass
class Gateway:
    url: str
    settings: Settings
    state: AppState
    anvil: AnvilNode
    server: uvicorn.Server
    thread: threading.Thread
    operator_key: str
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.url, timeout=60)

    def as_(self, key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"} if key else {}

    def request(self, method: str, path: str, key: str | None, **kw: Any) -> httpx.Response:
        headers = {**self.as_(key), **kw.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kw)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.http.close()
        self.anvil.stop()


def start_gateway(tmp: Path) -> Gateway:
    anvil = AnvilNode(state_file=None, log_file=tmp / "anvil.log")
    anvil.start()
    settings = Settings(
        anvil_port=anvil.port,
        data_dir=tmp / "data",
        deployments_dir=tmp / "deployments",
        artifacts_dir=PROJECT_ROOT / "build" / "contracts",
        api_port=free_port(),
    )
    ensure_deployed(settings)
    migrate(settings)
    app = create_app(settings)
    state: AppState = app.state.scf
    bootstrap(settings, state)
    config = uvicorn.Config(app, host="127.0.0.1", port=settings.api_port, log_level="warning", workers=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{settings.api_port}"
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "gateway did not start"
    return Gateway(url, settings, state, anvil, server, thread, settings.effective_operator_api_key)


@dataclass
class Actor:
    role: str
    legal_name: str
    registration_id: str
    key: ec.EllipticCurvePrivateKey
    address: str
    chain_key: str
    api_key: str = ""
    participant_id: str = ""
    certificate: x509.Certificate | None = None

    def sign(self, data: bytes, kind: str, attachments: dict[str, str] | None = None) -> str:
        assert self.certificate is not None
        return sign_detached(data, self.key, self.certificate, DocumentKind(kind), attachments=attachments)


def onboard(
    gw: Gateway, role: str, legal_name: str, registration_id: str, party_ids: list[tuple[str, str]]
) -> Actor:
    key = ec.generate_private_key(ec.SECP256R1())
    acct = Account.create()
    actor = Actor(role, legal_name, registration_id, key, acct.address, acct.key.to_0x_hex())
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    resp = gw.request(
        "POST",
        "/participants",
        gw.operator_key,
        json={
            "legal_name": legal_name,
            "registration_id": registration_id,
            "role": role,
            "chain_address": acct.address,
            "party_identifiers": [{"scheme": s, "id": i} for s, i in party_ids],
            "signing_key_pem": pem.decode(),
        },
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    actor.api_key = body["api_key"]
    actor.participant_id = body["participant"]["id"]
    actor.certificate = x509.load_pem_x509_certificate(body["certificate_pem"].encode())
    return actor


def _shift_dates(text: str, days: int) -> str:
    def repl(m: re.Match[str]) -> str:
        return (date.fromisoformat(m.group(0)) + timedelta(days=days)).isoformat()

    return re.sub(r"\b20\d\d-\d\d-\d\d\b", repl, text)


def trade(invoice_number: str = INVOICE_NUMBER, *, shift_days: int = SHIFT_DAYS) -> dict[str, bytes]:
    """The consistent fixture trade (order, despatch advice, invoice), dates moved, invoice renumbered."""
    docs = {}
    for kind, name in (
        ("Order", "order.xml"),
        ("DespatchAdvice", "despatch-advice.xml"),
        ("Invoice", "invoice.xml"),
    ):
        text = _shift_dates((FIXTURES / name).read_text(), shift_days)
        if kind == "Invoice":
            text = text.replace(f"<cbc:ID>{INVOICE_NUMBER}</cbc:ID>", f"<cbc:ID>{invoice_number}</cbc:ID>", 1)
        docs[kind] = text.encode()
    return docs


def bundle_body(
    docs: dict[str, bytes],
    signers: dict[str, Actor],
    attachments: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
    bound: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON body of POST /bundles: each document signed by ``signers[kind]``."""
    return {
        "documents": [
            {
                "name": f"{kind}.xml",
                "content_base64": base64.b64encode(data).decode(),
                "signature": signers[kind].sign(data, kind, bound if kind == "Invoice" else None),
            }
            for kind, data in docs.items()
        ],
        "attachments": [
            {"name": n, "media_type": "application/pdf", "content_base64": base64.b64encode(d).decode()}
            for n, d in attachments
        ],
    }
