"""Portal sessions over plain HTTP: the cookie's flags, CSRF on every state-changing call, the ends of a
session (sign-out, idle, absolute, key rotation), and that a session is authorized exactly as its key.

Each refusal is checked to change nothing: the receivable's state on chain, the session table.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from api.models import PortalSession
from tests.api.harness import (
    Actor,
    Gateway,
    bundle_body,
    distinct_trade,
    onboard,
    start_gateway,
    trade_parties,
)


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = start_gateway(tmp_path_factory.mktemp("sessions"), timeout=120)
    try:
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture(scope="module")
def parties(gw: Gateway) -> tuple[Actor, Actor]:
    return trade_parties(gw, custodial=True)


def _browser(gw: Gateway, api_key: str) -> tuple[httpx.Client, str]:
    """A client that signed in like the portal's page does; the CSRF token its pages carry."""
    client = httpx.Client(base_url=gw.url, timeout=60)
    signed = client.post("/app/session", json={"api_key": api_key})
    assert signed.status_code == 200, signed.text
    page = client.get("/app/home")
    assert page.status_code == 200
    marker = '<meta name="csrf-token" content="'
    start = page.text.index(marker) + len(marker)
    return client, page.text[start : page.text.index('"', start)]


def _tokenize(gw: Gateway, core: Actor, supplier: Actor, tag: str) -> int:
    body = bundle_body(distinct_trade(tag), {"Order": core, "DespatchAdvice": supplier, "Invoice": supplier})
    made = gw.request(
        "POST", "/bundles", supplier.api_key, json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    assert made.status_code == 201, made.text
    return int(made.json()["receivable_id"])


def _fresh(gw: Gateway, role: str = "core_enterprise") -> Actor:
    """A participant of its own (custodial), so that what a test does to it touches no other test."""
    tag = uuid.uuid4().hex[:10].upper()
    return onboard(gw, role, f"Fresh {tag} AB", f"SE{tag}", [], custodial=True)


def _sessions(gw: Gateway) -> list[PortalSession]:
    with Session(gw.state.engine) as s:
        return list(s.exec(select(PortalSession)).all())


def test_the_cookie_is_httponly_strict_and_the_key_is_not_in_it(
    gw: Gateway, parties: tuple[Actor, Actor]
) -> None:
    _core, supplier = parties
    with httpx.Client(base_url=gw.url) as client:
        signed = client.post("/app/session", json={"api_key": supplier.api_key})
        assert signed.status_code == 200
        assert (
            signed.json()["role"] == "supplier" and signed.json()["participant_id"] == supplier.participant_id
        )
        cookie = signed.headers["set-cookie"]
        flags = {part.strip().lower() for part in cookie.split(";")}
        assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
        assert "secure" not in flags  # plain HTTP here; over TLS the cookie is Secure (request.url.scheme)
        assert supplier.api_key not in cookie
        # the gateway keeps only the token's hash
        token = client.cookies["scf_session"]
        assert all(token not in (row.token_hash, row.csrf_token) for row in _sessions(gw))


def test_a_session_reads_as_its_key_and_refuses_other_roles(
    gw: Gateway, parties: tuple[Actor, Actor]
) -> None:
    _core, supplier = parties
    client, _csrf = _browser(gw, supplier.api_key)
    with closing(client):
        me = client.get("/participants/me")
        assert me.status_code == 200 and me.json()["id"] == supplier.participant_id
        payables = client.get("/payables")  # a core enterprise's report
        assert payables.status_code == 403 and payables.json()["error"]["code"] == "FORBIDDEN_ROLE"
        page = client.get("/app/payables")  # and its page
        assert page.status_code == 403 and "not for your role" in page.text
        assert client.get("/app/nowhere").status_code == 404
        assert client.get("/app/holdings").status_code == 200


def test_a_state_changing_call_without_the_csrf_token_is_refused_and_changes_nothing(
    gw: Gateway, parties: tuple[Actor, Actor]
) -> None:
    core, supplier = parties
    rid = _tokenize(gw, core, supplier, "CSRF")
    client, csrf = _browser(gw, core.api_key)
    with closing(client):
        for headers in ({}, {"X-CSRF-Token": "not-the-token"}, {"X-CSRF-Token": ""}):
            refused = client.post(f"/receivables/{rid}/endorse", json={"accept": True}, headers=headers)
            assert refused.status_code == 403, refused.text
            assert refused.json()["error"]["code"] == "CSRF_TOKEN_INVALID"
        assert gw.state.chain().platform.ledger.receivable(rid).status.name == "PENDING"
        # another session's token does not pass either
        _other, other_csrf = _browser(gw, core.api_key)
        _other.close()
        crossed = client.post(
            f"/receivables/{rid}/endorse", json={"accept": True}, headers={"X-CSRF-Token": other_csrf}
        )
        assert crossed.status_code == 403
        assert gw.state.chain().platform.ledger.receivable(rid).status.name == "PENDING"
        done = client.post(
            f"/receivables/{rid}/endorse",
            json={"accept": True},
            headers={"X-CSRF-Token": csrf, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert done.status_code == 200, done.text
        assert gw.state.chain().platform.ledger.receivable(rid).status.name == "CONFIRMED"


def test_sign_in_takes_json_only_and_a_wrong_key_opens_nothing(
    gw: Gateway, parties: tuple[Actor, Actor]
) -> None:
    _core, supplier = parties
    before = len(_sessions(gw))
    with httpx.Client(base_url=gw.url) as client:
        # a form another site could post (no preflight) is not a sign-in
        form = client.post("/app/session", data={"api_key": supplier.api_key})
        assert form.status_code == 422 and "set-cookie" not in form.headers
        wrong = client.post("/app/session", json={"api_key": "scf_not-a-key"})
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "UNAUTHENTICATED"
        assert "set-cookie" not in wrong.headers
    assert len(_sessions(gw)) == before


def test_sign_out_needs_the_csrf_token_and_ends_the_session(
    gw: Gateway, parties: tuple[Actor, Actor]
) -> None:
    _core, supplier = parties
    client, csrf = _browser(gw, supplier.api_key)
    with closing(client):
        assert client.post("/app/session/end").status_code == 403  # a cross-site POST cannot sign out
        assert client.get("/participants/me").status_code == 200
        out = client.post("/app/session/end", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 204
        ended = client.get("/participants/me")
        assert ended.status_code == 401  # the browser dropped the cookie; the token is gone on the server too
        page = client.get("/app/holdings")
        assert page.status_code == 303 and page.headers["location"] == "/app/sign-in"


def _age(gw: Gateway, participant_id: str | None, **moved: timedelta) -> None:
    """Move the participant's sessions into the past (the wall clock is what sessions expire by)."""
    with Session(gw.state.engine) as s:
        for row in s.exec(select(PortalSession).where(PortalSession.participant_id == participant_id)).all():
            for name, delta in moved.items():
                setattr(row, name, datetime.now(UTC) - delta)
            s.add(row)
        s.commit()


@pytest.mark.parametrize(
    ("moved", "why"),
    [
        ({"last_seen": timedelta(minutes=31)}, "idle past portal_idle_minutes (30)"),
        ({"expires_at": timedelta(seconds=1)}, "past its absolute end"),
    ],
)
def test_a_session_ends_when_idle_or_past_its_end(
    gw: Gateway, moved: dict[str, timedelta], why: str, tmp_path: Path
) -> None:
    core = _fresh(gw)  # its sessions alone are aged
    client, _csrf = _browser(gw, core.api_key)
    with closing(client):
        assert client.get("/participants/me").status_code == 200
        _age(gw, core.participant_id, **moved)
        ended = client.get("/participants/me")
        assert ended.status_code == 401, why
        assert ended.json()["error"]["code"] == "SESSION_EXPIRED"
        assert not [r for r in _sessions(gw) if r.participant_id == core.participant_id]


def test_a_new_api_key_ends_the_sessions_of_the_old_one(gw: Gateway) -> None:
    core = _fresh(gw)
    client, _csrf = _browser(gw, core.api_key)
    with closing(client):
        rotated = gw.request("POST", f"/participants/{core.participant_id}/api-key", gw.operator_key)
        assert rotated.status_code == 200, rotated.text
        ended = client.get("/participants/me")
        assert ended.status_code == 401 and ended.json()["error"]["code"] == "SESSION_EXPIRED"


def test_a_suspended_participants_session_is_refused_as_its_key_is(gw: Gateway) -> None:
    core = _fresh(gw)
    client, _csrf = _browser(gw, core.api_key)
    with closing(client):
        assert (
            gw.request("POST", f"/participants/{core.participant_id}/suspend", gw.operator_key).status_code
            == 200
        )
        refused = client.get("/payables")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "PARTICIPANT_SUSPENDED"
        assert client.get("/app/home").status_code == 200  # it still sees its pages (it may repay)


def test_the_operator_signs_in_with_its_key(gw: Gateway) -> None:
    client, _csrf = _browser(gw, gw.operator_key)
    with closing(client):
        assert client.get("/participants").status_code == 200
        assert client.get("/app/participants").status_code == 200
        assert client.get("/app/upload").status_code == 403
