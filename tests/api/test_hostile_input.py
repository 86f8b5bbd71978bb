"""Hostile input is refused before it can hurt: a deeply nested JSON body no longer kills the gateway.

The crash is a segfault, so the gateway under attack runs in a child process: on the old code the child
dies (and the test fails on its exit status) instead of taking the test runner with it.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.types import Message, Receive, Scope, Send

from api import middleware
from api.middleware import json_depth
from chain.settings import PROJECT_ROOT
from tests.api.harness import (
    BUYER_GLN,
    SELLER_GLN,
    Actor,
    Gateway,
    bundle_body,
    grant_credit,
    onboard,
    start_gateway,
    trade,
)

_CHILD = textwrap.dedent(
    """
    import json, sys
    from starlette.testclient import TestClient
    from api.main import create_app
    from api.settings import Settings

    app = create_app(Settings(data_dir=sys.argv[1], operator_api_key="scf_operator_test_key_0123456789"))
    out = {}
    with TestClient(app, raise_server_exceptions=False) as client:
        deep = b"[" * 100_000 + b"]" * 100_000
        for path in ("/participants", "/bundles", "/bundles/verify", "/offers"):
            r = client.post(path, content=deep, headers={"content-type": "application/json"})
            out[path] = [r.status_code, r.json()["error"]["code"]]
        nested_in_object = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
        headers = {"content-type": "application/json"}
        r = client.post("/participants", content=nested_in_object, headers=headers)
        out["object"] = [r.status_code, r.json()["error"]["code"]]
        # a shallow body still reaches the route: unauthenticated, as before
        r = client.post("/participants", json={"legal_name": "x"})
        out["shallow"] = [r.status_code, r.json()["error"]["code"]]
        out["recursion_limit"] = sys.getrecursionlimit()
    print(json.dumps(out))
    """
)


def test_a_deeply_nested_body_is_refused_and_the_gateway_lives(tmp_path: Path) -> None:
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tmp_path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 0, f"the gateway died (exit {child.returncode}): {child.stderr[-2000:]}"
    out = json.loads(child.stdout.strip().splitlines()[-1])
    for path in ("/participants", "/bundles", "/bundles/verify", "/offers", "object"):
        assert out[path] == [422, "JSON_TOO_DEEP"], path
    assert out["shallow"] == [401, "UNAUTHENTICATED"]
    assert out["recursion_limit"] <= 1000


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        (b"", 0),
        (b"1", 0),
        (b"{}", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'{"a": "[[[[{{{{"}', 1),  # brackets inside a string do not count
        (b'{"a": "\\"[[[", "b": [[]]}', 3),  # an escaped quote does not end the string
        (b'{"a": "\\\\", "b": [[]]}', 3),  # an escaped backslash does
        (b'["\\u005b", ["x"]]', 2),
        (b"[" * 40 + b"]" * 40, 40),
    ],
)
def test_json_depth_counts_nesting_outside_strings(text: bytes, depth: int) -> None:
    assert json_depth(text) == depth


def nesting(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((nesting(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((nesting(v) for v in value), default=0)
    return 0


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\u005bu'),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=20,
)


@given(_JSON, st.booleans())
def test_json_depth_equals_the_nesting_of_any_json_value(value: object, ascii_only: bool) -> None:
    assert json_depth(json.dumps(value, ensure_ascii=ascii_only).encode()) == nesting(value)


def test_json_depth_equals_the_parsers_nesting_on_real_bodies() -> None:

    samples = [
        {"documents": [{"name": "a[1].xml", "content": "eyJ9XQ==", "signature": "x.y.z"}], "attachments": {}},
        {"legal_name": 'Acme "[{" GmbH', "party_identifiers": [{"scheme": "0088", "id": "1}"}]},
        [[[]], [[[{"k": ["\\\\", '\\"', "[{"]}]]]],
    ]
    for sample in samples:
        assert json_depth(json.dumps(sample).encode()) == nesting(sample)


# ------------------------------------------------------------------------ integers beyond what fits

BIG = 2**256
DB_OVER = 2**63


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, dict[str, Actor]]]:
    gw = start_gateway(Path(tmp_path_factory.mktemp("bounds")))
    actors = {
        "supplier": onboard(gw, "supplier", "Bound Supplier", "BOUND-S", [], custodial=True),
        "core_enterprise": onboard(gw, "core_enterprise", "Bound Core", "BOUND-C", [], custodial=True),
        "financier": onboard(gw, "financier", "Bound Bank", "BOUND-F", [], custodial=True),
    }
    try:
        yield gw, actors
    finally:
        gw.stop()


#: (who, method, path, JSON body): each names an integer no column or ABI slot can hold.
OUT_OF_RANGE = [
    ("operator", "GET", f"/receivables?offset={2**64}", None),
    ("operator", "GET", f"/participants?offset={2**64}", None),
    ("operator", "GET", f"/bundles?offset={2**64}", None),
    ("operator", "GET", f"/receivables/{DB_OVER}", None),
    ("operator", "GET", f"/receivables/{DB_OVER}/provenance", None),
    ("operator", "GET", f"/offers?receivable_id={DB_OVER}", None),
    ("supplier", "POST", f"/receivables/{BIG}/redemptions", None),
    ("supplier", "POST", "/receivables/-1/transfers", {"to_participant_id": "x", "amount": 1}),
    ("supplier", "POST", f"/receivables/{BIG}/transfers", {"to_participant_id": "x", "amount": 1}),
    ("financier", "POST", f"/offers/{BIG}/cancel", None),
    ("supplier", "POST", f"/offers/{BIG}/accept", {"amount": 1}),
    ("financier", "POST", "/offers", {"receivable_id": BIG, "max_amount": 1, "rate_bps": 100, "expiry": 1}),
    ("financier", "POST", "/offers", {"receivable_id": 1, "max_amount": 1, "rate_bps": 100, "expiry": BIG}),
    ("core_enterprise", "GET", f"/receivables/1/endorsement-request?deadline={BIG}", None),
    (
        "core_enterprise",
        "POST",
        "/receivables/1/endorsement-signature",
        {"accept": True, "deadline": BIG, "signature": "0x" + "11" * 65},
    ),
]


@pytest.mark.parametrize(("who", "method", "path", "body"), OUT_OF_RANGE)
def test_integers_beyond_the_database_or_the_abi_are_422_not_500(
    world: tuple[Gateway, dict[str, Actor]], who: str, method: str, path: str, body: dict[str, object] | None
) -> None:
    gw, actors = world
    key = gw.operator_key if who == "operator" else actors[who].api_key
    headers = {"Idempotency-Key": str(uuid.uuid4())} if method == "POST" else {}
    resp = gw.request(method, path, key, json=body, headers=headers)
    assert resp.status_code == 422, f"{method} {path}: {resp.status_code} {resp.text[:300]}"
    assert resp.json()["error"]["code"] == "REQUEST_INVALID"


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_over_the_limit_is_413_whether_chunked_or_not(
    world: tuple[Gateway, dict[str, Actor]], chunked: bool
) -> None:
    gw, actors = world
    limit = gw.settings.max_request_bytes
    body = b'{"documents": "' + b"A" * limit + b'"}'

    def pieces() -> Iterator[bytes]:
        for at in range(0, len(body), 1 << 20):
            yield body[at : at + (1 << 20)]

    content = pieces() if chunked else body
    resp = gw.request("POST", "/bundles/verify", actors["supplier"].api_key, content=content)
    assert resp.status_code == 413, resp.text[:300]
    assert resp.json()["error"]["code"] == "REQUEST_TOO_LARGE"


def test_health_shows_the_node_url_to_the_operator_only(world: tuple[Gateway, dict[str, Actor]]) -> None:
    gw, actors = world
    url = gw.settings.effective_rpc_url
    public = gw.request("GET", "/health", None)
    assert public.status_code == 200 and public.json()["chain"]["rpc_url"] is None
    assert url not in public.text
    as_supplier = gw.request("GET", "/health", actors["supplier"].api_key)
    assert as_supplier.json()["chain"]["rpc_url"] is None and url not in as_supplier.text
    assert gw.request("GET", "/health", gw.operator_key).json()["chain"]["rpc_url"] == url
    assert gw.request("GET", "/health", "scf_not_a_key").status_code == 401


# ------------------------------------------------------------------------------ unexpected errors


def _boom_sync() -> None:
    raise RuntimeError("secret scf_operator_leak in a bug's message")


async def _boom_async() -> None:
    raise KeyError("scf_operator_leak")


def _route_once(gw: Gateway, path: str, endpoint: Callable[[], None]) -> None:
    """A test-only route on the served app (routes are looked up per request)."""
    app = gw.server.config.app
    if not any(getattr(r, "path", None) == path for r in app.router.routes):
        app.add_api_route(path, endpoint, methods=["GET", "POST"])


@pytest.mark.parametrize("path", ["/_test/boom-sync", "/_test/boom-async"])
def test_an_unexpected_error_is_the_json_envelope_and_the_connection_lives(
    world: tuple[Gateway, dict[str, Actor]], path: str, caplog: pytest.LogCaptureFixture
) -> None:
    gw, _ = world
    _route_once(gw, path, _boom_sync if "sync" in path and "async" not in path else _boom_async)
    url = urlsplit(gw.url)
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    try:
        with caplog.at_level(logging.ERROR, logger="api.middleware"):
            conn.request("GET", path)
            first = conn.getresponse()
            body = first.read()
        assert first.status == 500, body[:300]
        assert first.getheader("content-type") == "application/json"
        error = json.loads(body)["error"]
        assert error["code"] == "INTERNAL_ERROR" and error["details"] is None
        assert "leak" not in body.decode()  # the exception's text never reaches the client
        assert any(r.exc_info is not None for r in caplog.records), "no traceback logged"
        # the same keep-alive connection answers the next request
        conn.request("GET", "/health")
        second = conn.getresponse()
        assert second.status == 200, second.read()[:300]
        assert json.loads(second.read())["status"] == "ok"
        # a POST with a body, on the same connection again
        conn.request("POST", path, body=b'{"a": 1}', headers={"content-type": "application/json"})
        third = conn.getresponse()
        assert third.status == 500 and json.loads(third.read())["error"]["code"] == "INTERNAL_ERROR"
        conn.request("GET", "/ca.pem")
        assert conn.getresponse().status == 200
    finally:
        conn.close()


def test_an_error_raised_inside_the_body_guards_is_the_json_envelope() -> None:
    """A failure while a guard reads the body (here the server's ``receive`` itself breaks) is answered
    in the envelope by the outermost guard, as the app's own errors are."""

    async def never(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("the app is never reached")

    async def broken_receive() -> Message:
        raise OSError("the socket broke with scf_operator_leak")

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    guards = middleware.BodySizeLimit(middleware.JsonDepthLimit(never, max_depth=32), max_bytes=1000)
    stack = middleware.UnexpectedErrors(guards)  # the old code has no such guard: AttributeError
    scope = {"type": "http", "method": "POST", "path": "/bundles", "headers": []}
    asyncio.run(stack(scope, broken_receive, send))
    assert sent[0]["status"] == 500
    body = b"".join(m.get("body", b"") for m in sent[1:])
    assert json.loads(body)["error"]["code"] == "INTERNAL_ERROR" and b"leak" not in body


# ------------------------------------------------- control, bidirectional and invisible characters

RLO, ZWSP, LRI, BOM, CSI = "\u202e", "\u200b", "\u2066", "\ufeff", "\x9b"


def _onboarding(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "legal_name": "Clean Name AB",
        "registration_id": f"CLEAN-{uuid.uuid4().hex[:8]}",
        "role": "supplier",
        "party_identifiers": [{"scheme": "0088", "id": "7350000000200"}],
        "signing_key_pem": "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n",
    }
    body.update(changes)
    return body


#: (who, path, JSON body, the field named in the refusal): each carries one refused character.
DIRTY_TEXT = [
    ("operator", "/participants", _onboarding(legal_name=f"Acme{RLO}gpj.exe"), ["legal_name"]),
    ("operator", "/participants", _onboarding(legal_name="Acme\tAB"), ["legal_name"]),
    ("operator", "/participants", _onboarding(registration_id=f"SE556{ZWSP}1234567"), ["registration_id"]),
    (
        "operator",
        "/participants",
        _onboarding(party_identifiers=[{"scheme": "0088", "id": f"7350000000200{LRI}"}]),
        ["party_identifiers", 0, "id"],
    ),
    (
        "operator",
        "/participants",
        _onboarding(party_identifiers=[{"scheme": f"{BOM}0088", "id": "7350000000200"}]),
        ["party_identifiers", 0, "scheme"],
    ),
    ("operator", "/participants", _onboarding(signing_key_pem=f"-----BEGIN{CSI}"), ["signing_key_pem"]),
    ("operator", "/participants", _onboarding(signing_key_pem=None, csr_pem="x\x00y"), ["csr_pem"]),
    ("core_enterprise", "/receivables/1/disputes", {"reason": f"Damaged{RLO} goods"}, ["reason"]),
    ("core_enterprise", "/receivables/1/disputes", {"reason": "Damaged\x1b[2J goods"}, ["reason"]),
    (
        "supplier",
        "/receivables/1/transfers",
        {"to_participant_id": f"abc{ZWSP}", "amount": 1},
        ["to_participant_id"],
    ),
    (
        "financier",
        "/settlement/mint",
        {"currency": "EUR", "to_participant_id": f"abc{LRI}", "amount": 1},
        ["to_participant_id"],
    ),
    (
        "supplier",
        "/bundles/verify",
        {"documents": [{"name": f"invoice{RLO}lmx.exe", "content_base64": "", "signature": "x"}]},
        ["documents", 0, "name"],
    ),
    (
        "supplier",
        "/bundles/verify",
        {
            "documents": [{"name": "invoice.xml", "content_base64": "", "signature": "x"}],
            "attachments": [{"name": "a.pdf", "media_type": f"application/pdf{ZWSP}", "content_base64": ""}],
        },
        ["attachments", 0, "media_type"],
    ),
]


@pytest.mark.parametrize(("who", "path", "body", "field"), DIRTY_TEXT)
def test_control_bidi_and_invisible_characters_in_request_text_are_422_naming_the_field(
    world: tuple[Gateway, dict[str, Actor]], who: str, path: str, body: dict[str, object], field: list[object]
) -> None:
    gw, actors = world
    key = gw.operator_key if who == "operator" else actors[who].api_key
    resp = gw.request("POST", path, key, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert resp.status_code == 422, f"{path}: {resp.status_code} {resp.text[:300]}"
    error = resp.json()["error"]
    assert error["code"] == "REQUEST_INVALID"
    assert [d["loc"][1:] for d in error["details"]] == [field]
    assert "U+" in error["details"][0]["msg"]


def test_line_breaks_are_fine_in_a_dispute_reason(world: tuple[Gateway, dict[str, Actor]]) -> None:
    gw, actors = world
    body = {"reason": "Two widgets arrived damaged.\r\n\tSee receipt advice RA-5512."}
    resp = gw.request(
        "POST",
        "/receivables/1/disputes",
        actors["core_enterprise"].api_key,
        json=body,
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert resp.status_code != 422 or resp.json()["error"]["code"] != "REQUEST_INVALID", resp.text


@pytest.fixture(scope="module")
def trading(world: tuple[Gateway, dict[str, Actor]]) -> dict[str, Actor]:
    """The sample trade's buyer and seller, with their GLNs, on the same gateway."""
    gw, _ = world
    core = onboard(gw, "core_enterprise", "Nordvik Retail AB", "SE5566778899", [("0088", BUYER_GLN)])
    assert grant_credit(gw, core.participant_id, 100_000_000).status_code == 200
    return {
        "core": core,
        "supplier": onboard(
            gw,
            "supplier",
            "Fabrikant Metall AB",
            "SE5561234567",
            [("0088", SELLER_GLN), ("0007", "5561234567")],
        ),
    }


@pytest.mark.parametrize("ch", [RLO, ZWSP, LRI, BOM, CSI])
def test_a_trade_document_with_one_in_a_party_identifier_is_refused(
    world: tuple[Gateway, dict[str, Actor]], trading: dict[str, Actor], ch: str
) -> None:
    gw, _ = world
    docs = trade(f"INV-BIDI-{ord(ch):X}")
    clean = docs["Invoice"]
    docs["Invoice"] = clean.replace(
        b">5561234567</cbc:CompanyID>", f">5561{ch}234567</cbc:CompanyID>".encode(), 1
    )
    assert docs["Invoice"] != clean
    signers = {
        "Order": trading["core"],
        "DespatchAdvice": trading["supplier"],
        "Invoice": trading["supplier"],
    }
    resp = gw.request("POST", "/bundles/verify", trading["supplier"].api_key, json=bundle_body(docs, signers))
    assert resp.status_code == 200, resp.text[:500]
    codes = [v["code"] for v in resp.json()["violations"]]
    assert resp.json()["ok"] is False and codes == ["PARTY_ID_INVALID_CHARACTERS"], codes


@pytest.mark.parametrize("body", [b"\xff\x11", b'{"legal_name": "\xc3"}', b"\xfe\xff\x00{"])
def test_a_body_that_is_not_utf8_json_is_422_request_invalid(
    world: tuple[Gateway, dict[str, Actor]], body: bytes
) -> None:
    """Found by schemathesis: FastAPI answered 400 ``HTTP_400`` ("error parsing the body"), a status the
    document did not declare and a code no client knows; a malformed JSON body was 422 already."""
    gw, _ = world
    headers = {"content-type": "application/json"}
    resp = gw.request("POST", "/participants", gw.operator_key, content=body, headers=headers)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["code"] == "REQUEST_INVALID"
