"""The API's role matrix: every authenticated route, the roles it is for, and what each of them gets.

Each entry names, for every role it lets through, the exact answer on this module's world; every other
role gets 403 ``FORBIDDEN_ROLE``, and a call without a key, or with an unknown one, gets 401. Routes open
to every authenticated principal (``open=True``) filter by object instead: their entry gives all six
roles' answers (404 where the object is not the caller's). A route of the app that is neither in the
matrix nor in ``PUBLIC`` fails ``test_every_route_is_in_the_matrix``.

The world is built so that every allowed call is independent of the others: each state-changing entry
has an object of its own (a pending receivable to endorse, a disputed one to resolve, a spare participant
to suspend and another to reinstate, an offer to cancel ...), so the allowed calls really succeed, in any
order.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from eth_account import Account
from eth_account.messages import encode_typed_data

from api.main import create_app
from chain.compiler import Artifact
from domain.warehouse.readings import encode_reading
from tests.api.harness import (
    BUYER_GLN,
    SELLER_GLN,
    Actor,
    Gateway,
    appoint_issuer,
    bundle_body,
    distinct_trade,
    green_attestation,
    onboard,
    start_gateway,
)
from tests.api.warehouse_world import signed_price

ROLES = (
    "operator",
    "supplier",
    "core_enterprise",
    "financier",
    "regulator",
    "logistics",
    "price_source",
    "certifier",
)
#: The actor each role calls as (the operator calls with the operator key).
ROLE_ACTOR = {
    "operator": "operator",
    "supplier": "t1",
    "core_enterprise": "core",
    "financier": "bank",
    "regulator": "regulator",
    "logistics": "logistics",  # an appointed warehouse
    "price_source": "prices",
    "certifier": "cert",
}
CORE2_GLN = "7350000000200"
EXT_GLN = "7350000000309"

#: Routes anyone may call without a key.
PUBLIC = {
    ("GET", "/health"),
    ("GET", "/ca.pem"),
    ("GET", "/rules"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
}
#: The web portal's own routes (pages, sign-in and sign-out, the vendored files of /docs): not API
#: operations; tests/portal/ checks them (a page of another role is refused, a session is authorized as
#: its key, CSRF on every state-changing call).
PORTAL = {
    ("GET", "/app"),
    ("GET", "/app/sign-in"),
    ("POST", "/app/session"),
    ("POST", "/app/session/end"),
    ("GET", "/app/{slug}"),
    ("GET", "/vendor/{name}"),
}
#: Routes a device calls without a key, its signed reading authenticating it (tests/api/
#: test_warehouse_readings.py checks every refusal of a reading).
DEVICE = {("POST", "/warehouse/readings"), ("POST", "/warehouse/readings/batch")}


@dataclass
class World:
    gw: Gateway
    actors: dict[str, Actor]
    ids: dict[str, Any]  # the values of the matrix paths' placeholders
    bodies: dict[str, Any]

    def key(self, name: str) -> str:
        return self.gw.operator_key if name == "operator" else self.actors[name].api_key

    def call(self, name: str | None, method: str, url: str, body: object = None) -> httpx.Response:
        key = self.key(name) if name else None
        return self.gw.request(method, url, key, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})

    def ok(self, name: str, method: str, url: str, body: object = None, expect: int = 200) -> Any:
        resp = self.call(name, method, url, body)
        assert resp.status_code == expect, (method, url, resp.text)
        return resp.json()

    def chain_time(self) -> int:
        return int(self.gw.state.chain().w3.eth.get_block("latest")["timestamp"])


Expect = int | tuple[int, str]
Body = Callable[[World], object]


def none(_: World) -> object:
    return None


def const(value: object) -> Body:
    return lambda _: value


def named(name: str) -> Body:
    return lambda w: w.bodies[name]


def fresh_onboarding(_: World) -> object:
    """A valid onboarding of a new (custodial) logistics participant."""
    tag = uuid.uuid4().hex[:12]
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return {
        "legal_name": f"Carrier {tag}",
        "registration_id": f"RM-{tag}",
        "role": "logistics",
        "signing_key_pem": pem.decode(),
    }


def new_offer(w: World) -> object:
    return {
        "receivable_id": w.ids["rid2"],
        "max_amount": 1_000,
        "rate_bps": 500,
        "expiry": w.chain_time() + 86_400,
    }


def new_lot(w: World) -> object:
    """A new lot of the world's warehouse (the logistics actor), owned by the supplier t1."""
    return {
        "owner_id": w.ids["t1"],
        "lot_number": f"LOT-{uuid.uuid4().hex[:12]}",
        "commodity": "SOYBEAN",
        "grade": "No. 2",
        "quantity": 500_000,
        "unit": "KGM",
        "location": "SILO-1",
        "evidence_hash": "0x" + "ab" * 32,
    }


def new_loan(w: World) -> object:
    return {
        "receipt_id": w.ids["wr"],
        "principal": 1_000,
        "rate_bps": 800,
        "maturity": w.chain_time() + 90 * 86_400,
        "ltv_limit_bps": 7000,
        "margin_call_bps": 8000,
    }


def new_price(w: World) -> object:
    """The price source's signed observation of the price the world recorded, observed now."""
    a = w.actors["prices"]
    return {"observation": signed_price(a, 450_000, w.chain_time())}


def new_device(w: World, device_id: str | None = None) -> dict[str, Any]:
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return {
        "device_id": device_id or f"dev-{uuid.uuid4().hex[:12]}",
        "kind": "scale",
        "location": "SILO-1",
        "receipt_ids": [w.ids["wr"]],
        "public_key_pem": pem.decode(),
    }


def new_webhook(_: World) -> object:
    """A webhook of the caller's own (a URL of its own: one URL is one webhook per owner)."""
    return {"url": f"http://127.0.0.1:9/hook-{uuid.uuid4().hex}", "events": ["warehouse.loan.margin_called"]}


@dataclass(frozen=True)
class Entry:
    """One route: ``allowed`` maps each role it lets through to its exact answer (status, or status and
    error code); the other roles must get 403 FORBIDDEN_ROLE. ``open``: the route checks no role, it
    filters by object, and ``allowed`` gives every role's answer. ``as_`` and ``paths`` override, for an
    allowed role's call, the actor it calls as and the path (an object of its own)."""

    method: str
    path: str
    allowed: dict[str, Expect]
    body: Body = none
    open: bool = False
    as_: dict[str, str] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)

    @property
    def refused(self) -> list[str]:
        return [r for r in ROLES if r not in self.allowed]

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


OK = 200
ALL_OK: dict[str, Expect] = dict.fromkeys(ROLES, OK)
PARTICIPANTS_OK: dict[str, Expect] = {**ALL_OK, "operator": (404, "NOT_A_PARTICIPANT")}
HOLDERS = ("supplier", "financier", "core_enterprise")
#: a webhook of the supplier t1: another's is 404, like any object of another participant
T1_WEBHOOK: dict[str, Expect] = {**dict.fromkeys(ROLES, (404, "WEBHOOK_NOT_FOUND")), "supplier": OK}
#: who may own a warehouse receipt (and so transfer, pledge, repay or surrender it)
OWNERS = ("supplier", "core_enterprise", "financier", "logistics")
#: the supplier t1's receipt: t1 owns it, the warehouse issued it, the bank was asked to finance it
T1_RECEIPT: dict[str, Expect] = {
    **ALL_OK,
    "core_enterprise": (404, "RECEIPT_NOT_FOUND"),
    "price_source": (404, "RECEIPT_NOT_FOUND"),
    "certifier": (404, "RECEIPT_NOT_FOUND"),
}
#: a loan of the bank to t1
T1_LOAN: dict[str, Expect] = {
    **ALL_OK,
    "core_enterprise": (404, "LOAN_NOT_FOUND"),
    "logistics": (404, "LOAN_NOT_FOUND"),
    "price_source": (404, "LOAN_NOT_FOUND"),
    "certifier": (404, "LOAN_NOT_FOUND"),
}


def only_t1(ok: Expect, code: str) -> dict[str, Expect]:
    """An owner's action on t1's object: t1 gets ``ok``, every other owner role ``404 code``."""
    return {**dict.fromkeys(OWNERS, (404, code)), "supplier": ok}


MATRIX: list[Entry] = [
    # ---------------------------------------------------------------- participants
    Entry("POST", "/participants", {"operator": 201}, fresh_onboarding),
    Entry("GET", "/participants", {"operator": OK, "regulator": OK}),
    Entry("GET", "/participants/me", PARTICIPANTS_OK, open=True),
    Entry("GET", "/participants/directory?role=supplier", ALL_OK, open=True),
    Entry(
        "GET",
        "/participants/{t1}",
        {
            "operator": OK,
            "regulator": OK,
            "supplier": OK,  # itself
            "core_enterprise": (404, "PARTICIPANT_NOT_FOUND"),
            "financier": (404, "PARTICIPANT_NOT_FOUND"),
            "logistics": (404, "PARTICIPANT_NOT_FOUND"),
            "price_source": (404, "PARTICIPANT_NOT_FOUND"),
            "certifier": (404, "PARTICIPANT_NOT_FOUND"),
        },
        open=True,
    ),
    Entry("POST", "/participants/{spare_active}/suspend", {"operator": OK}),
    Entry("POST", "/participants/{spare_suspended}/reinstate", {"operator": OK}),
    Entry("POST", "/participants/{spare_active}/certificate/revoke", {"operator": OK}, const({})),
    Entry("POST", "/participants/{spare_active}/api-key", {"operator": OK}),
    # ---------------------------------------------------------------- credit lines
    Entry(
        "PUT", "/credit-lines/{core}", {"financier": OK}, const({"currency": "EUR", "limit_minor": 10**10})
    ),
    Entry(
        "PUT",
        "/credit-lines/{core}/platform-limit",
        {"operator": OK},
        const({"currency": "EUR", "cap_minor": None}),
    ),
    Entry(
        "GET",
        "/credit-lines/{core}?currency=EUR",
        {
            "operator": OK,
            "regulator": OK,
            "financier": OK,  # any financier: it decides what to lend
            "core_enterprise": OK,  # its own
            "supplier": (404, "CORE_ENTERPRISE_NOT_FOUND"),
            "logistics": (404, "CORE_ENTERPRISE_NOT_FOUND"),
            "price_source": (404, "CORE_ENTERPRISE_NOT_FOUND"),
            "certifier": (404, "CORE_ENTERPRISE_NOT_FOUND"),
        },
        open=True,
    ),
    # ---------------------------------------------------------------- credit profiles
    Entry(
        "GET",
        "/credit/profiles/{t1}",  # a supplier of receivables the bank holds (others: test_credit.py)
        {
            **dict.fromkeys(ROLES, (404, "CREDIT_PROFILE_NOT_FOUND")),
            "supplier": OK,  # its own
            "financier": OK,  # it holds one of t1's receivables
            "regulator": OK,
        },
        open=True,
    ),
    Entry("GET", "/credit/debtors", {"operator": OK, "regulator": OK}),
    Entry("GET", "/credit/distribution", {"regulator": OK}),
    Entry("PUT", "/credit/consents/{bank}", {"supplier": OK, "core_enterprise": OK}),
    Entry(  # bank2 was given no consent
        "DELETE",
        "/credit/consents/{bank2}",
        {"supplier": (404, "CONSENT_NOT_FOUND"), "core_enterprise": (404, "CONSENT_NOT_FOUND")},
    ),
    Entry("GET", "/credit/consents", ALL_OK, open=True),
    # ---------------------------------------------------------------- green receivables
    Entry("POST", "/green/labels/{rid_g3}", {"certifier": OK}, named("label")),
    Entry(
        "POST",
        "/green/labels/{rid_g1}/withdrawal",
        {"certifier": OK, "regulator": OK},
        const({"reason": "greenwashing"}),
        paths={"regulator": "/green/labels/{rid_g2}/withdrawal"},
    ),
    Entry(
        "GET",
        "/green/labels/{rid_g1}",  # a label on core's payable to t1, in the market
        {
            **dict.fromkeys(ROLES, OK),
            "logistics": (404, "LABEL_NOT_FOUND"),
            "price_source": (404, "LABEL_NOT_FOUND"),
        },
        open=True,
    ),
    Entry(
        "GET",
        "/green/labels/{rid_g1}/attestation",  # the same readers as the label's
        {
            **dict.fromkeys(ROLES, OK),
            "logistics": (404, "LABEL_NOT_FOUND"),
            "price_source": (404, "LABEL_NOT_FOUND"),
        },
        open=True,
    ),
    Entry("GET", "/green/labels", ALL_OK, open=True),
    Entry("PUT", "/green/programmes/{core}", {"financier": OK}, const({"discount_bps": 100})),
    Entry("GET", "/green/programmes", ALL_OK, open=True),
    Entry("GET", "/green/report", {"operator": OK, "regulator": OK, "financier": OK}),
    # ---------------------------------------------------------------- bundles and documents
    Entry("POST", "/bundles/verify", {"supplier": OK}, named("verify")),
    Entry("POST", "/bundles", {"supplier": 201}, named("submit")),
    Entry("POST", "/bundles/batch", {"supplier": OK}, named("submit_batch")),
    Entry("GET", "/bundles", ALL_OK, open=True),
    Entry(
        "GET",
        "/bundles/{bundle2}",  # supplier t1, debtor core2, held in part by the bank and core
        {
            "operator": OK,
            "regulator": OK,
            "supplier": OK,
            "core_enterprise": (404, "BUNDLE_NOT_FOUND"),  # a holder, not the debtor
            "financier": (404, "BUNDLE_NOT_FOUND"),  # a holder
            "logistics": (404, "BUNDLE_NOT_FOUND"),
            "price_source": (404, "BUNDLE_NOT_FOUND"),
            "certifier": (404, "BUNDLE_NOT_FOUND"),
        },
        open=True,
    ),
    Entry(
        "GET",
        "/documents/{doc2}",  # a document of that bundle: current holders may read it
        {
            "operator": OK,
            "regulator": OK,
            "supplier": OK,
            "core_enterprise": OK,
            "financier": OK,
            "logistics": (404, "DOCUMENT_NOT_FOUND"),
            "price_source": (404, "DOCUMENT_NOT_FOUND"),
            "certifier": (404, "DOCUMENT_NOT_FOUND"),
        },
        open=True,
    ),
    # ---------------------------------------------------------------- receivables: actions
    Entry("POST", "/receivables/{rid_p}/endorse", {"core_enterprise": OK}, const({"accept": True})),
    Entry("GET", "/receivables/{rid_p}/endorsement-request", {"core_enterprise": OK}),
    Entry(
        "POST",
        "/receivables/{rid_ext}/endorsement-signature",
        {"core_enterprise": OK},
        named("endorsement_signature"),
        as_={"core_enterprise": "ext"},  # a self-custody debtor signs with its own key
    ),
    Entry(
        "POST",
        "/receivables/{rid2}/transfers",
        dict.fromkeys(HOLDERS, OK),
        lambda w: {"to_participant_id": w.ids["t2"], "amount": 1},
    ),
    Entry("POST", "/receivables/{rid}/repayments", {"core_enterprise": OK}, const({"amount": 1})),
    Entry("POST", "/receivables/{rid2}/redemptions", dict.fromkeys(HOLDERS, OK)),
    Entry(
        "POST",
        "/receivables/{rid_d}/disputes",
        {"core_enterprise": OK, "regulator": OK},
        const({"reason": "goods damaged"}),
        paths={"regulator": "/receivables/{rid_d2}/disputes"},
    ),
    Entry("POST", "/receivables/{rid_r}/resolution", {"operator": OK}, const({"action": "lift"})),
    # ---------------------------------------------------------------- receivables: reading
    Entry("GET", "/receivables", ALL_OK, open=True),
    Entry(
        "GET",
        "/receivables/{rid2}",
        {
            **ALL_OK,
            "logistics": (404, "RECEIVABLE_NOT_FOUND"),
            "price_source": (404, "RECEIVABLE_NOT_FOUND"),
            "certifier": (404, "RECEIVABLE_NOT_FOUND"),
        },  # creditor, holders, overseers
        open=True,
    ),
    Entry(
        "GET",
        "/receivables/{rid}/provenance",  # creditor t1, debtor core; the bank has no part in it
        {
            **ALL_OK,
            "financier": (404, "RECEIVABLE_NOT_FOUND"),
            "logistics": (404, "RECEIVABLE_NOT_FOUND"),
            "price_source": (404, "RECEIVABLE_NOT_FOUND"),
            "certifier": (404, "RECEIVABLE_NOT_FOUND"),
        },
        open=True,
    ),
    # ---------------------------------------------------------------- offers
    Entry("POST", "/offers", {"financier": 201}, new_offer),
    Entry("POST", "/offers/{cancel_oid}/cancel", {"financier": OK}),
    Entry("POST", "/offers/{accept_oid}/accept", dict.fromkeys(HOLDERS, OK), const({"amount": 1_000})),
    Entry("GET", "/offers", ALL_OK, open=True),
    Entry("GET", "/offers/{accept_oid}/quote?amount=1000", dict.fromkeys(HOLDERS, OK)),
    # ---------------------------------------------------------------- settlement
    Entry(
        "POST",
        "/settlement/mint",
        {"financier": OK},
        lambda w: {"currency": "EUR", "to_participant_id": w.ids["bank"], "amount": 1},
    ),
    Entry("GET", "/settlement/balance?currency=EUR", PARTICIPANTS_OK, open=True),
    Entry(
        "PUT", "/settlement/issuers/{bank}", {"operator": OK}, const({"currency": "EUR", "cap_minor": 10**15})
    ),
    Entry(
        "GET", "/settlement/issuers/{bank}?currency=EUR", {"operator": OK, "regulator": OK, "financier": OK}
    ),
    Entry("GET", "/settlement/currencies", ALL_OK, open=True),
    # ---------------------------------------------------------------- reports
    Entry("GET", "/payables", {"core_enterprise": OK}),
    Entry("GET", "/payables/calendar", {"core_enterprise": OK}),
    Entry("GET", "/holdings", ALL_OK, open=True),
    Entry("GET", "/discountable", {"financier": OK}),
    Entry("GET", "/portfolio", {"financier": OK}),
    Entry("GET", "/health/read-model", {"operator": OK, "regulator": OK}),
    # ---------------------------------------------------------------- webhooks (each owner its own)
    Entry("POST", "/webhooks", dict.fromkeys(ROLES, 201), new_webhook, open=True),
    Entry("GET", "/webhooks", ALL_OK, open=True),
    Entry("GET", "/webhooks/{hook}", T1_WEBHOOK, open=True),
    Entry("DELETE", "/webhooks/{hook_del}", T1_WEBHOOK, open=True),
    Entry("POST", "/webhooks/{hook}/rotate-secret", T1_WEBHOOK, open=True),
    Entry("GET", "/webhooks/{hook}/deliveries", T1_WEBHOOK, open=True),
    Entry("POST", "/webhooks/{hook}/ping", {**T1_WEBHOOK, "supplier": 202}, open=True),
    # ---------------------------------------------------------------- warehouse receipts
    Entry("PUT", "/warehouse/warehouses/{logistics2}", {"operator": OK}, const({"appointed": True})),
    Entry("POST", "/warehouse/receipts", {"logistics": 201}, new_lot),
    Entry("GET", "/warehouse/receipts", ALL_OK, open=True),
    Entry("GET", "/warehouse/receipts/{wr}", T1_RECEIPT, open=True),
    Entry("GET", "/warehouse/receipts/{wr}/readings", T1_RECEIPT, open=True),
    Entry("GET", "/warehouse/receipts/{wr}/alerts", T1_RECEIPT, open=True),
    Entry("GET", "/warehouse/receipts/{wr}/history", T1_RECEIPT, open=True),
    Entry(
        "POST",
        "/warehouse/receipts/{wr_move}/transfer",
        only_t1(OK, "RECEIPT_NOT_FOUND"),
        lambda w: {"to_participant_id": w.ids["t2"]},
    ),
    Entry("POST", "/warehouse/receipts/{wr_surr}/surrender", only_t1(OK, "RECEIPT_NOT_FOUND")),
    Entry("POST", "/warehouse/receipts/{wr_frz}/freeze", {"financier": OK}, const({"frozen": True})),
    Entry(
        "POST",
        "/warehouse/receipts/{wr}/pledge-requests",
        only_t1(201, "RECEIPT_NOT_FOUND"),
        lambda w: {"financier_id": w.ids["bank"], "principal": 1_000, "note": ""},
    ),
    Entry("GET", "/warehouse/pledge-requests", ALL_OK, open=True),
    Entry("POST", "/warehouse/loans", {"financier": 201}, new_loan),
    Entry("GET", "/warehouse/loans", ALL_OK, open=True),
    Entry("GET", "/warehouse/loans/{loan}", T1_LOAN, open=True),
    Entry("POST", "/warehouse/loans/{offer_acc}/accept", only_t1(OK, "LOAN_NOT_FOUND")),
    Entry("POST", "/warehouse/loans/{offer_wd}/withdraw", {"financier": OK}),
    Entry("POST", "/warehouse/loans/{loan}/repay", only_t1(OK, "LOAN_NOT_FOUND"), const({"amount": 1})),
    Entry(
        "POST",
        "/warehouse/loans/{loan_top}/collateral",
        only_t1(OK, "RECEIPT_NOT_FOUND"),
        lambda w: {"receipt_id": w.ids["wr_spare"]},
    ),
    Entry("POST", "/warehouse/loans/{loan_rel}/release", {"financier": OK}),
    Entry("POST", "/warehouse/loans/{loan}/claim", {"financier": (409, "CHAIN_NOT_IN_DEFAULT")}),
    Entry(
        "POST",
        "/warehouse/loans/{loan}/margin-call",
        {
            **only_t1((409, "CHAIN_MARGIN_NOT_CALLABLE"), "LOAN_NOT_FOUND"),
            "financier": (409, "CHAIN_MARGIN_NOT_CALLABLE"),
        },
    ),
    Entry("POST", "/warehouse/prices", {"price_source": 201}, new_price),
    Entry("GET", "/warehouse/prices", ALL_OK, open=True),
    # ---------------------------------------------------------------- warehouse devices and alerts
    Entry("POST", "/warehouse/devices", {"logistics": 201}, new_device),
    Entry("GET", "/warehouse/devices", ALL_OK, open=True),
    Entry(
        "PUT", "/warehouse/devices/{dev}/binding", {"logistics": OK}, lambda w: {"receipt_ids": [w.ids["wr"]]}
    ),
    Entry("POST", "/warehouse/devices/{dev_s}/suspend", {"logistics": OK}),
    Entry("POST", "/warehouse/devices/{dev_r}/reinstate", {"logistics": OK}),
    Entry("POST", "/warehouse/devices/{dev_v}/revoke", {"logistics": OK}),
    Entry(
        "POST",
        "/warehouse/alerts/{alert}/clear",
        {"logistics": (422, "EXPLANATION_MALFORMED")},
        const({"explanation": "not.a.jws", "readings": ["not.a.jws"]}),
    ),
    Entry("POST", "/warehouse/silence-check", {"operator": OK}),
]

PARAMS = [pytest.param(e, id=e.id) for e in MATRIX]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, artifacts: dict[str, Artifact]) -> Iterator[World]:
    gw = start_gateway(tmp_path_factory.mktemp("roles"))
    o = lambda *a, **k: onboard(gw, *a, custodial=True, **k)  # noqa: E731
    actors = {
        "core": o("core_enterprise", "Nordvik Retail AB", "SE5566778899", [("0088", BUYER_GLN)]),
        "core2": o("core_enterprise", "Second Buyer AB", "SE1111111111", [("0088", CORE2_GLN)]),
        "ext": onboard(gw, "core_enterprise", "Self Custody AB", "SE3333333333", [("0088", EXT_GLN)]),
        "t1": o("supplier", "Fabrikant Metall AB", "SE5561234567", [("0088", SELLER_GLN)]),
        "t2": o("supplier", "Smedja Komponent AB", "SE5569988776", [("0088", "7350000000033")]),
        "bank": o("financier", "Hansa Trade Finance", "DE811234567", []),
        "bank2": o("financier", "Other Bank", "DE999999999", []),
        "regulator": o("regulator", "Financial Supervisory Authority", "SE2021000000", []),
        "logistics": o("logistics", "Nordic Freight AB", "SE4444444444", []),
        "logistics2": o("logistics", "Second Depot AB", "SE4444444445", []),
        "prices": o("price_source", "Grain Price Service AB", "SE7777777777", []),
        "cert": o("certifier", "Green Assessors Ltd.", "91110000MA01CERT01", []),
        "spare_active": o("supplier", "Spare Active AB", "SE5555555555", []),
        "spare_suspended": o("supplier", "Spare Suspended AB", "SE6666666666", []),
    }
    w = World(gw, actors, {n: a.participant_id for n, a in actors.items()}, {})
    for debtor in ("core", "core2", "ext"):
        w.ok("bank", "PUT", f"/credit-lines/{w.ids[debtor]}", {"currency": "EUR", "limit_minor": 10**10})
    for issuer in ("bank", "bank2"):
        appoint_issuer(gw, w.ids[issuer])
    appoint_issuer(gw, w.ids["bank"], currency="CNY")  # the warehouse lends in CNY
    gln = {"core": BUYER_GLN, "core2": CORE2_GLN, "ext": EXT_GLN}

    def bundle(tag: str, debtor: str) -> dict[str, Any]:
        signers = {"Order": actors[debtor], "DespatchAdvice": actors["t1"], "Invoice": actors["t1"]}
        return bundle_body(distinct_trade(tag, gln[debtor]), signers)

    def tokenize(tag: str, debtor: str, endorse: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = w.ok("t1", "POST", "/bundles", bundle(tag, debtor), expect=201)
        if endorse:
            w.ok(debtor, "POST", f"/receivables/{out['receivable_id']}/endorse", {"accept": True})
        return out

    w.ids["rid"] = tokenize("RM-1", "core")["receivable_id"]  # repaid by 1, its provenance read
    w.ids["rid_p"] = tokenize("RM-P", "core", endorse=False)["receivable_id"]  # to endorse
    w.ids["rid_ext"] = tokenize("RM-EXT", "ext", endorse=False)["receivable_id"]  # to endorse by signature
    w.ids["rid_d"] = tokenize("RM-D", "core")["receivable_id"]  # for its debtor to dispute
    w.ids["rid_d2"] = tokenize("RM-D2", "core")["receivable_id"]  # for the regulator to dispute
    w.ids["rid_r"] = tokenize("RM-R", "core")["receivable_id"]  # disputed, for the operator to resolve
    w.ok("regulator", "POST", f"/receivables/{w.ids['rid_r']}/disputes", {"reason": "to resolve"})
    second = tokenize("RM-2", "core2")  # held by t1, the bank and core, partly repaid
    rid2 = w.ids["rid2"] = second["receivable_id"]
    w.ids["bundle2"], w.ids["doc2"] = second["id"], second["documents"][0]["id"]
    for holder in ("bank", "core"):
        w.ok(
            "t1",
            "POST",
            f"/receivables/{rid2}/transfers",
            {"to_participant_id": w.ids[holder], "amount": 50_000},
        )
    for to in ("core", "core2"):
        w.ok(
            "bank",
            "POST",
            "/settlement/mint",
            {"currency": "EUR", "to_participant_id": w.ids[to], "amount": 10**6},
        )
    w.ok(
        "bank2",
        "POST",
        "/settlement/mint",
        {"currency": "EUR", "to_participant_id": w.ids["bank2"], "amount": 10**6},
    )
    w.ok("core2", "POST", f"/receivables/{rid2}/repayments", {"amount": 100_000})
    offer = {"receivable_id": rid2, "max_amount": 100_000, "rate_bps": 500, "expiry": w.chain_time() + 86_400}
    w.ids["accept_oid"] = w.ok("bank2", "POST", "/offers", offer, expect=201)["offer_id"]
    w.ids["cancel_oid"] = w.ok("bank", "POST", "/offers", {**offer, "max_amount": 1_000}, expect=201)[
        "offer_id"
    ]
    w.ok("operator", "POST", f"/participants/{w.ids['spare_suspended']}/suspend")
    for hook in ("hook", "hook_del"):  # t1's webhooks: one to read, rotate and ping, one to delete
        w.ids[hook] = w.ok("t1", "POST", "/webhooks", new_webhook(w), expect=201)["id"]
    _warehouse_world(w)
    _green_world(w, tokenize)
    # the bodies of the allowed calls that need the world
    w.bodies["verify"] = bundle("RM-V", "core")
    w.bodies["submit"] = bundle("RM-NEW", "core")
    w.bodies["submit_batch"] = {"bundles": [bundle("RM-BATCH-1", "core"), bundle("RM-BATCH-2", "core")]}
    req = w.ok("ext", "GET", f"/receivables/{w.ids['rid_ext']}/endorsement-request")
    signed = Account.sign_message(encode_typed_data(full_message=req["typed_data"]), actors["ext"].chain_key)
    w.bodies["endorsement_signature"] = {
        "accept": True,
        "deadline": req["typed_data"]["message"]["deadline"],
        "signature": "0x" + bytes(signed.signature).hex(),
    }
    yield w
    gw.stop()


def _green_world(w: World, tokenize: Callable[[str, str], dict[str, Any]]) -> None:
    """Three receivables of t1 owed by core: two labelled by the certifier (to withdraw), one to label."""
    for name in ("rid_g1", "rid_g2", "rid_g3"):
        w.ids[name] = tokenize(f"RM-{name.upper()}", "core")["receivable_id"]
    for name in ("rid_g1", "rid_g2"):
        w.ok("cert", "POST", f"/green/labels/{w.ids[name]}", signed_attestation(w, w.ids[name]))
    w.bodies["label"] = signed_attestation(w, w.ids["rid_g3"])


def signed_attestation(w: World, rid: int) -> dict[str, str]:
    """The certifier's signed attestation for receivable ``rid``, its fingerprint as t1 reads it."""
    fingerprint = w.ok("t1", "GET", f"/receivables/{rid}")["fingerprint"]
    today = datetime.fromtimestamp(w.chain_time(), UTC).date()
    return green_attestation(w.actors["cert"], rid, fingerprint, today)


def _warehouse_world(w: World) -> None:
    """The warehouse's objects: the logistics actor appointed, a price, t1's receipts and loans from the
    bank in every state an entry acts on, the warehouse's devices and an open alert."""
    w.ok("operator", "PUT", f"/warehouse/warehouses/{w.ids['logistics']}", {"appointed": True})
    w.ok("prices", "POST", "/warehouse/prices", new_price(w), expect=201)
    w.ok(
        "bank",
        "POST",
        "/settlement/mint",
        {"currency": "CNY", "to_participant_id": w.ids["bank"], "amount": 10**8},
    )
    for name in (
        "wr",
        "wr_move",
        "wr_surr",
        "wr_spare",
        "wr_frz",
        "wr_loan",
        "wr_rel",
        "wr_top",
        "wr_acc",
        "wr_wd",
    ):
        w.ids[name] = w.ok("logistics", "POST", "/warehouse/receipts", new_lot(w), expect=201)["receipt_id"]
    ask = {"financier_id": w.ids["bank"], "principal": 1_000, "note": ""}
    w.ok("t1", "POST", f"/warehouse/receipts/{w.ids['wr']}/pledge-requests", ask, expect=201)

    def offer(receipt: str) -> int:
        w.ok("t1", "POST", f"/warehouse/receipts/{w.ids[receipt]}/pledge-requests", ask, expect=201)
        body = {**new_loan(w), "receipt_id": w.ids[receipt]}  # type: ignore[dict-item]
        return int(w.ok("bank", "POST", "/warehouse/loans", body, expect=201)["loan_id"])

    for loan, receipt in (
        ("loan", "wr_loan"),
        ("loan_rel", "wr_rel"),
        ("loan_top", "wr_top"),
        ("loan_frz", "wr_frz"),
    ):
        w.ids[loan] = offer(receipt)
        w.ok("t1", "POST", f"/warehouse/loans/{w.ids[loan]}/accept")
    w.ids["offer_acc"], w.ids["offer_wd"] = offer("wr_acc"), offer("wr_wd")
    for dev in ("dev", "dev_s", "dev_r", "dev_v"):
        w.ids[dev] = w.ok("logistics", "POST", "/warehouse/devices", new_device(w), expect=201)["device_id"]
    w.ok("logistics", "POST", f"/warehouse/devices/{w.ids['dev_r']}/suspend")
    key = ec.generate_private_key(ec.SECP256R1())
    seal = {**new_device(w), "kind": "seal"}
    seal["public_key_pem"] = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    cert = x509.load_pem_x509_certificate(
        w.ok("logistics", "POST", "/warehouse/devices", seal, expect=201)["certificate_pem"].encode()
    )
    claims = {
        "dev": seal["device_id"],
        "seq": 1,
        "iat": int(time.time()),
        "loc": "SILO-1",
        "rid": w.ids["wr"],
    }
    reading = encode_reading(key, cert, {**claims, "m": {"seal": "open"}})
    (alert,) = w.gw.request("POST", "/warehouse/readings", None, json={"reading": reading}).json()["alerts"]
    w.ids["alert"] = alert["alert_id"]


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path.split("?")[0])


def _walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every route, into included routers (FastAPI >= 0.16x includes them lazily, as
    ``_IncludedRouter``s holding the original router; older ones copy their routes into the app)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _walk(inner.routes, prefix + getattr(context, "prefix", ""))
            continue
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":  # Starlette's automatic twin of each GET
                yield method, _shape(prefix + route.path)


def test_every_route_is_in_the_matrix(world: World) -> None:
    """A new endpoint without a matrix entry (or a matrix entry for a route that is gone) fails here."""
    app = create_app(world.gw.settings)
    try:
        routes = set(_walk(app.routes))
        documented = {
            (method.upper(), _shape(path))
            for path, operations in app.openapi()["paths"].items()
            for method in operations
        }
    finally:
        app.state.scf.engine.dispose()
    assert documented <= routes, f"the walk missed routes: {sorted(documented - routes)}"
    public = {(m, _shape(p)) for m, p in PUBLIC | PORTAL | DEVICE}
    matrix = [(e.method, _shape(e.path)) for e in MATRIX]
    assert len(set(matrix)) == len(matrix), "a route is in the matrix twice"
    assert public <= routes, f"public routes that are gone: {sorted(public - routes)}"
    assert sorted(routes - public - set(matrix)) == [], "routes without a matrix entry"
    assert sorted(set(matrix) - routes) == [], "matrix entries without a route"
    for e in MATRIX:
        assert set(e.allowed) <= set(ROLES), e.id
        if e.open:
            assert set(e.allowed) == set(ROLES), f"{e.id}: an open route gives every role's answer"
        else:
            assert e.refused, f"{e.id}: a role-checked route refuses someone"
            assert set(e.allowed) >= set(e.as_) | set(e.paths), e.id


@pytest.mark.parametrize("route", sorted(PUBLIC))
def test_public_routes_need_no_key(world: World, route: tuple[str, str]) -> None:
    method, path = route
    resp = world.gw.request(method, path, None)
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize("entry", PARAMS)
def test_no_key_or_an_unknown_key_is_401(world: World, entry: Entry) -> None:
    w = world
    url = entry.path.format(**w.ids)
    body = entry.body(w)
    for key in (None, "scf_not-a-key"):
        resp = w.gw.request(entry.method, url, key, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
        assert resp.status_code == 401, (key, resp.text)
        assert resp.json()["error"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("entry", PARAMS)
def test_every_role_it_is_not_for_gets_403(world: World, entry: Entry) -> None:
    """Every role outside the entry's allowed set is refused by role, whatever the object and body. For
    an open route there is none (its object-level answers are checked with the allowed roles)."""
    w = world
    url = entry.path.format(**w.ids)
    for role in entry.refused:
        resp = w.call(ROLE_ACTOR[role], entry.method, url, entry.body(w))
        assert resp.status_code == 403, (role, resp.text)
        assert resp.json()["error"]["code"] == "FORBIDDEN_ROLE", (role, resp.text)


@pytest.mark.parametrize("entry", PARAMS)
def test_every_role_it_is_for_gets_through(world: World, entry: Entry) -> None:
    """Each allowed role passes authorization (no 401, no 403 FORBIDDEN_ROLE, no 5xx) and gets exactly
    the expected answer on the world's objects."""
    w = world
    wrong = []
    for role, expect in entry.allowed.items():
        status, code = expect if isinstance(expect, tuple) else (expect, None)
        url = entry.paths.get(role, entry.path).format(**w.ids)
        resp = w.call(entry.as_.get(role, ROLE_ACTOR[role]), entry.method, url, entry.body(w))
        error = resp.json().get("error", {}).get("code") if resp.status_code >= 400 else None
        refused = resp.status_code == 401 or (resp.status_code == 403 and error == "FORBIDDEN_ROLE")
        if refused or resp.status_code >= 500 or resp.status_code != status or error != code:
            wrong.append((role, resp.status_code, resp.text[:300]))
    assert wrong == []


def test_logistics_sees_nothing_in_the_lists_overseers_see_all(world: World) -> None:
    """The open list routes filter by object: a logistics participant, party to nothing, gets empty
    lists; the operator and the regulator see the world's receivables, bundles and offers."""
    w = world
    for path in ("/receivables", "/bundles", "/holdings", "/offers"):
        assert w.ok("logistics", "GET", path)["items"] == [], path
    for overseer in ("operator", "regulator"):
        receivables = {r["id"] for r in w.ok(overseer, "GET", "/receivables?limit=200")["items"]}
        assert {w.ids[k] for k in ("rid", "rid2", "rid_p", "rid_ext")} <= receivables
        assert w.ids["bundle2"] in {b["id"] for b in w.ok(overseer, "GET", "/bundles")["items"]}
        assert w.ids["accept_oid"] in {o["offer_id"] for o in w.ok(overseer, "GET", "/offers")["items"]}
    assert w.ok("operator", "GET", "/holdings")["items"] == []  # the operator holds nothing
