"""Sample trades against a local gateway, the way an ERP integration drives it: local tooling for the
tests and the benchmarks.

``start_gateway`` is a local stack (``cli.local``) with an HTTP client. Participants are onboarded
through the HTTP API with their own P-256 document-signing keys (``onboard``); they sign the sample
trade's UBL documents (``trade``, the demo's order, despatch advice and invoice, renumbered) into the
body of ``POST /bundles`` (``bundle_body``).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape  # nosec B406 - escaping text into XML; nothing is parsed

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from eth_account import Account

from cli.demo import BUYER_GLN, SAMPLE_INVOICE_NUMBER, SAMPLE_PAYABLE_MINOR, SELLER_GLN, trade_documents
from cli.local import LocalStack, start_local_stack
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
    "SampleError",
    "bundle_body",
    "grant_credit",
    "onboard",
    "start_gateway",
    "trade",
]

INVOICE_NUMBER = SAMPLE_INVOICE_NUMBER
PAYABLE_MINOR = SAMPLE_PAYABLE_MINOR
#: The order and despatch advice numbers in the sample trade's documents.
SAMPLE_ORDER_NUMBER = "PO-2026-0042"
SAMPLE_DESPATCH_NUMBER = "DA-7781"


class SampleError(RuntimeError):
    """The gateway refused a step of the sample."""


@dataclass
class Gateway(LocalStack):
    """A local stack with an HTTP client."""

    http: httpx.Client | None = None
    credit_bank: Actor | None = None

    def as_(self, key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"} if key else {}

    def request(self, method: str, path: str, key: str | None, **kw: Any) -> httpx.Response:
        headers = {**self.as_(key), **kw.pop("headers", {})}
        assert self.http is not None
        return self.http.request(method, path, headers=headers, **kw)

    def stop(self) -> None:
        if self.http is not None:
            self.http.close()
        super().stop()


def start_gateway(tmp: Path, *, state_file: bool = False, timeout: float = 60.0) -> Gateway:
    """Anvil, deployed contracts, a SQLite database and the gateway on free ports, all under ``tmp``
    (with ``state_file``, Anvil keeps its ledger in a state file there, and the gateway acknowledges
    nothing before it is in it); ``timeout`` is the HTTP client's."""
    stack = start_local_stack(tmp, state_file=state_file)
    gw = Gateway(stack.url, stack.settings, stack.state, stack.anvil, stack.server, stack.thread)
    gw.http = httpx.Client(base_url=gw.url, timeout=timeout)
    return gw


@dataclass
class Actor:
    """An onboarded participant as its ERP knows it: its document-signing key and its credentials."""

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
    gw: Gateway,
    role: str,
    legal_name: str,
    registration_id: str,
    party_ids: list[tuple[str, str]],
    *,
    custodial: bool = False,
) -> Actor:
    """``POST /participants`` as the operator, with a new signing key (and chain key unless custodial)."""
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
            "chain_address": None if custodial else acct.address,
            "party_identifiers": [{"scheme": s, "id": i} for s, i in party_ids],
            "signing_key_pem": pem.decode(),
        },
    )
    if resp.status_code != 201:
        raise SampleError(f"onboarding {legal_name}: {resp.status_code} {resp.text}")
    body = resp.json()
    actor.api_key = body["api_key"]
    actor.participant_id = body["participant"]["id"]
    actor.address = body["participant"]["chain_address"]
    actor.certificate = x509.load_pem_x509_certificate(body["certificate_pem"].encode())
    return actor


def trade(
    invoice_number: str = INVOICE_NUMBER,
    *,
    order_number: str | None = None,
    despatch_number: str | None = None,
    invoice_date: date | None = None,
) -> dict[str, bytes]:
    """The consistent sample trade (order, despatch advice, invoice), invoice dated two days ago
    (or ``invoice_date``, the other documents' dates moved along).

    A delivery is financed once, so every invoice number gets its own order and despatch advice
    (``PO-<invoice number>``, ``DA-<invoice number>``) unless they are given.
    """
    docs = trade_documents(invoice_number, invoice_date)
    renumber = {
        SAMPLE_ORDER_NUMBER: order_number or f"PO-{invoice_number}",
        SAMPLE_DESPATCH_NUMBER: despatch_number or f"DA-{invoice_number}",
    }
    for kind, data in docs.items():
        text = data.decode()
        for old, new in renumber.items():
            text = text.replace(f">{old}<", f">{escape(new)}<")
        docs[kind] = text.encode()
    return docs


def bundle_body(
    docs: dict[str, bytes],
    signers: dict[str, Actor],
    attachments: Sequence[tuple[str, bytes]] = (),
    bound: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON body of POST /bundles: each document signed by ``signers[kind]`` (the invoice's
    signature binds the attachments' hashes ``bound``, if given)."""
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


def grant_credit(gw: Gateway, core_participant_id: str, limit_minor: int) -> httpx.Response:
    """A financier (onboarded once per gateway, custodial) sets its own credit line to a core enterprise:
    lines belong to whoever grants them, so the operator cannot do this."""
    if gw.credit_bank is None:
        gw.credit_bank = onboard(gw, "financier", "Platform Credit Bank", "SE0000000001", [], custodial=True)
    return gw.request(
        "PUT",
        f"/credit-lines/{core_participant_id}",
        gw.credit_bank.api_key,
        json={"currency": "EUR", "limit_minor": limit_minor},
    )
