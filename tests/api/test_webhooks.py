"""Webhooks end to end: the real gateway (Anvil, SQLite, uvicorn) and a real HTTP receiver on 127.0.0.1.

The delivery worker's pass (``deliver_due``) is driven by the tests, with the pass's clock given, so
retries and backoff are checked without waiting for them; one test runs the worker's thread itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from api.db import make_engine, upgrade
from api.models import WebhookAttempt, WebhookMessage, WebhookSubscription
from api.schemas.webhooks import WebhookIn
from api.services.webhooks import (
    EVENT_TYPES,
    DeliveryConfig,
    EventType,
    UrlRefused,
    WebhookSignatureError,
    check_url,
    create_subscription,
    deliver_due,
    delivery_config,
    enqueue,
    retry_delay,
    sign,
    start_webhook_worker,
    stop_webhook_worker,
    verify_signature,
)
from chain.compiler import Artifact
from tests.api.harness import Actor, Gateway, onboard, start_gateway
from tests.conftest import make_settings
from tests.pg import PgCluster

# ------------------------------------------------------------------------------------------ a receiver


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST and answers from a script: a status, or
    ``("hang", seconds)`` (answer 200 after that long); 200 once the script is used up."""

    server: ThreadingHTTPServer
    thread: threading.Thread
    received: list[Received] = field(default_factory=list)
    script: deque[Any] = field(default_factory=deque)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.received]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with receiver.lock:
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time())
                )
                step = receiver.script.popleft() if receiver.script else 200
            if isinstance(step, tuple):
                time.sleep(step[1])
                step = 200
            time.sleep(receiver.delay)
            try:
                self.send_response(step)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:  # the gateway gave up waiting (a hanging receiver)
                pass

        def log_message(self, *_: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    rec = Receiver(server, threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True))
    server.RequestHandlerClass = _handler(rec)
    rec.thread.start()
    yield rec
    server.shutdown()
    server.server_close()


# ------------------------------------------------------------------------------------------- the world


@dataclass
class World:
    gw: Gateway
    t1: Actor
    bank: Actor

    @property
    def engine(self) -> Any:
        return self.gw.state.engine

    def call(self, key: str, method: str, path: str, body: object = None, idem: str | None = None) -> Any:
        headers = {"Idempotency-Key": idem or str(uuid.uuid4())}
        return self.gw.request(method, path, key, json=body, headers=headers)

    def subscribe(self, actor: Actor, url: str, events: list[str] | None = None) -> dict[str, Any]:
        body = {"url": url, "events": events or ["warehouse.loan.margin_called"]}
        resp = self.call(actor.api_key, "POST", "/webhooks", body)
        assert resp.status_code == 201, resp.text
        out: dict[str, Any] = resp.json()
        return out

    def ping(self, actor: Actor, webhook_id: str) -> str:
        resp = self.call(actor.api_key, "POST", f"/webhooks/{webhook_id}/ping")
        assert resp.status_code == 202, resp.text
        return str(resp.json()["message_id"])

    def log(self, actor: Actor, webhook_id: str) -> list[dict[str, Any]]:
        resp = self.call(actor.api_key, "GET", f"/webhooks/{webhook_id}/deliveries")
        assert resp.status_code == 200, resp.text
        return list(reversed(resp.json()["items"]))  # oldest first

    def message(self, message_id: str) -> WebhookMessage:
        with Session(self.engine) as s:
            row = s.get(WebhookMessage, message_id)
            assert row is not None
            return row

    def rows(self) -> tuple[int, int, int]:
        with Session(self.engine) as s:
            return tuple(  # type: ignore[return-value]
                s.exec(select(func.count()).select_from(t)).one()
                for t in (WebhookSubscription, WebhookMessage, WebhookAttempt)
            )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, artifacts: dict[str, Artifact]) -> Iterator[World]:
    gw = start_gateway(tmp_path_factory.mktemp("webhooks"))
    t1 = onboard(gw, "supplier", "Fabrikant Metall AB", "SE5561234567", [])
    bank = onboard(gw, "financier", "Hansa Trade Finance", "DE811234567", [])
    yield World(gw, t1, bank)
    gw.stop()


@pytest.fixture(autouse=True)
def quiet_outbox(world: World) -> Iterator[None]:
    """Each test starts with no webhook and nothing due: what an earlier test left is disabled."""
    yield
    with Session(world.engine) as s:
        s.execute(
            update(WebhookSubscription)
            .where(col(WebhookSubscription.status) == "active")
            .values(status="disabled", disabled_reason="deleted")
        )
        s.execute(
            update(WebhookMessage)
            .where(col(WebhookMessage.state).in_(("pending", "sending")))
            .values(state="cancelled")
        )
        s.commit()


@pytest.fixture
def config(world: World) -> DeliveryConfig:
    return replace(delivery_config(world.gw.settings), retry_base_s=1.0, timeout_s=2.0)


def _at(value: str | None) -> datetime:
    assert value is not None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# ------------------------------------------------------------------------------------------ the tests


def test_the_standard_webhooks_test_vector() -> None:
    """The specification's own example signature."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = '{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": f"v1,bm90IGl0 {expected}",
    }
    verify_signature(secret, headers, body, now=1614265330 + 60)
    with pytest.raises(WebhookSignatureError) as err:
        verify_signature(secret, headers, body)  # years later: a replay
    assert err.value.code == "timestamp_out_of_tolerance"


def test_subscribe_ping_and_the_receiver_gets_a_signed_payload(
    world: World, receiver: Receiver, config: DeliveryConfig
) -> None:
    made = world.subscribe(world.t1, receiver.url + "/t1", ["warehouse.alert.recorded"])
    secret = made["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert made["status"] == "active" and made["events"] == ["warehouse.alert.recorded"]
    shown = world.call(world.t1.api_key, "GET", f"/webhooks/{made['id']}").json()
    assert "secret" not in shown and shown["url"] == receiver.url + "/t1"
    listed = world.call(world.t1.api_key, "GET", "/webhooks?limit=100").json()
    assert made["id"] in {w["id"] for w in listed["items"]} and listed["limit"] == 100
    assert not [w for w in listed["items"] if "secret" in w]

    # the ping is idempotent on its key: the retry replays the same message
    key = str(uuid.uuid4())
    first = world.call(world.t1.api_key, "POST", f"/webhooks/{made['id']}/ping", idem=key)
    again = world.call(world.t1.api_key, "POST", f"/webhooks/{made['id']}/ping", idem=key)
    assert first.status_code == again.status_code == 202
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == first.json()
    no_key = world.gw.request("POST", f"/webhooks/{made['id']}/ping", world.t1.api_key)
    assert no_key.status_code == 400 and no_key.json()["error"]["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    message_id = first.json()["message_id"]

    assert deliver_due(world.engine, config) == 1
    assert deliver_due(world.engine, config) == 0  # delivered once
    (got,) = receiver.received
    assert got.path == "/t1" and got.headers["webhook-id"] == message_id
    assert got.headers["content-type"] == "application/json"
    verify_signature(secret, got.headers, got.body)
    # the same check, computed here from the specification
    stamp = got.headers["webhook-timestamp"]
    assert abs(int(stamp) - time.time()) < 60
    key_bytes = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key_bytes, f"{message_id}.{stamp}.".encode() + got.body, hashlib.sha256).digest()
    assert got.headers["webhook-signature"] == "v1," + base64.b64encode(mac).decode()
    payload = json.loads(got.body)
    assert payload["type"] == "webhook.ping" and payload["data"] == {"webhook_id": made["id"]}
    assert datetime.fromisoformat(payload["timestamp"].replace("Z", "+00:00")).tzinfo is not None
    for wrong in (
        lambda: verify_signature(secret, got.headers, got.body + b" "),
        lambda: verify_signature("whsec_" + base64.b64encode(b"x" * 32).decode(), got.headers, got.body),
        lambda: verify_signature(secret, {**got.headers, "webhook-timestamp": str(int(stamp) - 1)}, got.body),
        lambda: verify_signature(secret, {"webhook-id": message_id}, got.body),
    ):
        with pytest.raises(WebhookSignatureError):
            wrong()

    (attempt,) = world.log(world.t1, made["id"])
    assert attempt["message_id"] == message_id and attempt["event_type"] == "webhook.ping"
    assert attempt["status_code"] == 200 and attempt["outcome"] == "delivered" and attempt["attempt"] == 1
    assert attempt["error"] is None and attempt["next_attempt_at"] is None and attempt["duration_ms"] >= 0
    assert world.message(message_id).state == "delivered"


def test_a_receiver_failing_twice_is_retried_with_backoff_and_delivered_once(
    world: World, receiver: Receiver, config: DeliveryConfig
) -> None:
    made = world.subscribe(world.t1, receiver.url + "/flaky")
    receiver.script.extend([500, 503])
    message_id = world.ping(world.t1, made["id"])
    t0 = datetime.now(UTC)
    assert deliver_due(world.engine, config, t0) == 1
    first = _at(world.log(world.t1, made["id"])[-1]["next_attempt_at"])
    assert timedelta(seconds=1) <= first - t0 <= timedelta(seconds=1.25)  # base, up to 25 % jitter
    assert deliver_due(world.engine, config, t0 + timedelta(seconds=0.99)) == 0  # not yet due
    assert deliver_due(world.engine, config, first) == 1
    second = _at(world.log(world.t1, made["id"])[-1]["next_attempt_at"])
    assert timedelta(seconds=4) <= second - first <= timedelta(seconds=5)  # 4 x base
    assert deliver_due(world.engine, config, second - timedelta(seconds=0.01)) == 0
    assert deliver_due(world.engine, config, second) == 1
    assert deliver_due(world.engine, config, second + timedelta(days=1)) == 0

    log = world.log(world.t1, made["id"])
    assert [(a["attempt"], a["status_code"], a["outcome"]) for a in log] == [
        (1, 500, "retrying"),
        (2, 503, "retrying"),
        (3, 200, "delivered"),
    ]
    assert [_at(a["started_at"]) for a in log] == [t0, first, second]
    assert receiver.ids() == [message_id] * 3  # one webhook-id, stable across retries
    assert len({r.body for r in receiver.received}) == 1
    for r in receiver.received:
        verify_signature(made["secret"], r.headers, r.body)
    row = world.message(message_id)
    assert row.state == "delivered" and row.attempts == 3


def test_a_message_is_dead_after_the_last_attempt(
    world: World, receiver: Receiver, config: DeliveryConfig
) -> None:
    config = replace(config, max_attempts=3)
    made = world.subscribe(world.t1, receiver.url + "/down")
    receiver.script.extend([500] * 10)
    message_id = world.ping(world.t1, made["id"])
    now = datetime.now(UTC)
    for _ in range(3):
        assert deliver_due(world.engine, config, now) == 1
        nxt = world.log(world.t1, made["id"])[-1]["next_attempt_at"]
        now = _at(nxt) if nxt else now
    assert deliver_due(world.engine, config, now + timedelta(days=30)) == 0
    log = world.log(world.t1, made["id"])
    assert [a["outcome"] for a in log] == ["retrying", "retrying", "failed"]
    assert log[-1]["next_attempt_at"] is None
    assert world.message(message_id).state == "failed" and len(receiver.received) == 3
    # the webhook itself stays active: the next event is tried again
    assert world.call(world.t1.api_key, "GET", f"/webhooks/{made['id']}").json()["status"] == "active"


def test_410_gone_disables_the_webhook(world: World, receiver: Receiver, config: DeliveryConfig) -> None:
    config = replace(config, concurrency=1)  # one attempt at a time: the 410 comes before the second
    made = world.subscribe(world.t1, receiver.url + "/gone")
    receiver.script.append(410)
    first = world.ping(world.t1, made["id"])
    second = world.ping(world.t1, made["id"])
    assert deliver_due(world.engine, config) == 1  # the second is cancelled with the webhook
    assert len(receiver.received) == 1
    shown = world.call(world.t1.api_key, "GET", f"/webhooks/{made['id']}").json()
    assert (shown["status"], shown["disabled_reason"]) == ("disabled", "gone")
    assert world.log(world.t1, made["id"])[0]["outcome"] == "disabled"
    states = {world.message(first).state, world.message(second).state}
    assert states == {"failed", "cancelled"}
    refused = world.call(world.t1.api_key, "POST", f"/webhooks/{made['id']}/ping")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "WEBHOOK_DISABLED"
    with Session(world.engine) as s:  # an event for its owner passes it by
        enqueue(s, [world.t1.participant_id], EventType.WAREHOUSE_LOAN_MARGIN_CALLED, {}, "gone-1")
        mine = select(WebhookMessage).where(WebhookMessage.subscription_id == made["id"])
        assert len(s.exec(mine).all()) == 2
        s.rollback()


def test_a_hanging_receiver_times_out_and_is_retried(
    world: World, receiver: Receiver, config: DeliveryConfig
) -> None:
    config = replace(config, timeout_s=0.5)
    made = world.subscribe(world.t1, receiver.url + "/slow")
    receiver.script.append(("hang", 3.0))
    message_id = world.ping(world.t1, made["id"])
    began = time.monotonic()
    assert deliver_due(world.engine, config) == 1
    assert time.monotonic() - began < 2.5  # given up, not waited for
    (attempt,) = world.log(world.t1, made["id"])
    assert attempt["status_code"] is None and attempt["outcome"] == "retrying"
    assert "timeout" in attempt["error"] and 400 <= attempt["duration_ms"] < 2500
    assert deliver_due(world.engine, config, _at(attempt["next_attempt_at"])) == 1
    assert world.message(message_id).state == "delivered"
    assert world.log(world.t1, made["id"])[-1]["outcome"] == "delivered"


def test_deleting_cancels_what_is_pending(world: World, receiver: Receiver, config: DeliveryConfig) -> None:
    made = world.subscribe(world.t1, receiver.url + "/deleted")
    message_id = world.ping(world.t1, made["id"])
    gone = world.call(world.t1.api_key, "DELETE", f"/webhooks/{made['id']}")
    assert gone.status_code == 200 and (gone.json()["status"], gone.json()["disabled_reason"]) == (
        "disabled",
        "deleted",
    )
    assert deliver_due(world.engine, config) == 0 and receiver.received == []
    assert world.message(message_id).state == "cancelled"
    again = world.call(world.t1.api_key, "DELETE", f"/webhooks/{made['id']}")
    assert again.status_code == 200 and again.json() == gone.json()
    # the URL is free again for a new webhook
    world.subscribe(world.t1, receiver.url + "/deleted")


def test_rotating_the_secret_signs_with_both_for_a_while(
    world: World, receiver: Receiver, config: DeliveryConfig
) -> None:
    made = world.subscribe(world.t1, receiver.url + "/rotated")
    resp = world.call(world.t1.api_key, "POST", f"/webhooks/{made['id']}/rotate-secret")
    assert resp.status_code == 200, resp.text
    rotated = resp.json()
    assert rotated["secret"] != made["secret"] and rotated["secret"].startswith("whsec_")
    assert _at(rotated["previous_secret_expires_at"]) > datetime.now(UTC) + timedelta(hours=23)
    world.ping(world.t1, made["id"])
    assert deliver_due(world.engine, config) == 1
    (got,) = receiver.received
    assert len(got.headers["webhook-signature"].split()) == 2
    verify_signature(rotated["secret"], got.headers, got.body)
    verify_signature(made["secret"], got.headers, got.body)
    # after the overlap only the new secret signs
    later = datetime.now(UTC) + timedelta(days=2)
    world.ping(world.t1, made["id"])
    assert deliver_due(world.engine, config, later) == 1
    last = receiver.received[-1]
    verify_signature(rotated["secret"], last.headers, last.body)
    with pytest.raises(WebhookSignatureError):
        verify_signature(made["secret"], last.headers, last.body)


def test_another_participant_cannot_see_or_touch_my_webhook(world: World, receiver: Receiver) -> None:
    made = world.subscribe(world.t1, receiver.url + "/mine")
    before = world.rows()
    for key in (world.bank.api_key, world.gw.operator_key):
        for method, path in (
            ("GET", ""),
            ("DELETE", ""),
            ("POST", "/ping"),
            ("POST", "/rotate-secret"),
            ("GET", "/deliveries"),
        ):
            resp = world.call(key, method, f"/webhooks/{made['id']}{path}")
            assert resp.status_code == 404, (method, path, resp.text)
            assert resp.json()["error"]["code"] == "WEBHOOK_NOT_FOUND"
        mine = world.call(key, "GET", "/webhooks").json()["items"]
        assert made["id"] not in {w["id"] for w in mine}
    assert world.rows() == before
    assert world.call(world.t1.api_key, "GET", f"/webhooks/{made['id']}").json()["status"] == "active"
    # the operator's own webhook is the operator's
    resp = world.call(
        world.gw.operator_key, "POST", "/webhooks", {"url": receiver.url + "/op", "events": ["webhook.ping"]}
    )
    assert resp.status_code == 201, resp.text
    ops = world.call(world.gw.operator_key, "GET", "/webhooks").json()["items"]
    assert [w["id"] for w in ops] == [resp.json()["id"]]


@pytest.mark.parametrize(
    ("body", "code", "reason"),
    [
        ({"events": ["warehouse.loan.eaten"]}, "WEBHOOK_EVENT_UNKNOWN", None),
        ({"events": ["webhook.ping", "WEBHOOK.PING"]}, "WEBHOOK_EVENT_UNKNOWN", None),
        ({"url": "ftp://127.0.0.1/hook"}, "WEBHOOK_URL_INVALID", "scheme"),
        ({"url": "file:///etc/passwd"}, "WEBHOOK_URL_INVALID", "scheme"),
        ({"url": "https://user:pw@127.0.0.1/hook"}, "WEBHOOK_URL_INVALID", "credentials"),
        ({"url": "http://93.184.216.34/hook"}, "WEBHOOK_URL_INVALID", "insecure"),
        ({"url": "https://10.1.2.3/hook"}, "WEBHOOK_URL_INVALID", "private"),
        ({"url": "https://192.168.0.10/hook"}, "WEBHOOK_URL_INVALID", "private"),
        ({"url": "https://169.254.169.254/latest/meta-data"}, "WEBHOOK_URL_INVALID", "private"),
        ({"url": "https://[fe80::1]/hook"}, "WEBHOOK_URL_INVALID", "private"),
        ({"url": "https://[::ffff:10.0.0.1]/hook"}, "WEBHOOK_URL_INVALID", "private"),
        ({"url": "https://0.0.0.0/hook"}, "WEBHOOK_URL_INVALID", "private"),
        ({"url": "https://127.0.0.1:99999/hook"}, "WEBHOOK_URL_INVALID", "malformed"),
        ({"url": "https://127.0.0.1/a b"}, "WEBHOOK_URL_INVALID", "malformed"),
        ({"url": "https:///nohost"}, "WEBHOOK_URL_INVALID", "malformed"),
        ({"url": "https://127.0.0.1/hook#part"}, "WEBHOOK_URL_INVALID", "fragment"),
    ],
)
def test_refusals_have_a_code_and_write_nothing(
    world: World, body: dict[str, Any], code: str, reason: str | None
) -> None:
    before = world.rows()
    full = {"url": "https://127.0.0.1/ok-" + uuid.uuid4().hex, "events": ["webhook.ping"], **body}
    resp = world.call(world.t1.api_key, "POST", "/webhooks", full)
    assert resp.status_code == 422, resp.text
    error = resp.json()["error"]
    assert error["code"] == code
    if reason is not None:
        assert error["details"]["reason"] == reason
    else:
        assert error["details"]["known"] == sorted(EVENT_TYPES)
    assert world.rows() == before


def test_the_same_url_twice_is_409_with_the_first(world: World, receiver: Receiver) -> None:
    made = world.subscribe(world.t1, receiver.url + "/twice")
    before = world.rows()
    resp = world.call(
        world.t1.api_key, "POST", "/webhooks", {"url": receiver.url + "/twice", "events": ["webhook.ping"]}
    )
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "WEBHOOK_EXISTS"
    assert resp.json()["error"]["details"] == {"id": made["id"]}
    assert world.rows() == before


def test_at_most_the_limit_of_active_webhooks(world: World, receiver: Receiver) -> None:
    limit = world.gw.settings.webhook_max_subscriptions
    earlier = world.call(world.bank.api_key, "GET", "/webhooks").json()["total"]  # disabled ones
    hooks = [world.subscribe(world.bank, f"{receiver.url}/n{n}") for n in range(limit)]
    before = world.rows()
    resp = world.call(
        world.bank.api_key, "POST", "/webhooks", {"url": receiver.url + "/over", "events": ["webhook.ping"]}
    )
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "WEBHOOK_LIMIT_REACHED"
    assert world.rows() == before
    assert world.call(world.bank.api_key, "DELETE", f"/webhooks/{hooks[0]['id']}").status_code == 200
    world.subscribe(world.bank, receiver.url + "/over")  # a disabled one does not count
    page = world.call(world.bank.api_key, "GET", f"/webhooks?limit=5&offset={earlier + limit}").json()
    assert page["total"] == earlier + limit + 1 and len(page["items"]) == 1
    assert page["items"][0]["url"] == receiver.url + "/over"


def test_urls_are_checked_after_dns_and_again_at_delivery(
    world: World, receiver: Receiver, config: DeliveryConfig
) -> None:
    """A name resolving to an internal address is refused (DNS rebinding included: the check runs again
    before every attempt, and the attempt connects to the address checked)."""
    rebinding = {"hooks.example": ["93.184.216.34"]}

    def resolve(host: str, _port: int) -> list[str]:
        return rebinding[host]

    assert check_url("https://hooks.example/in", allow_loopback=False, resolve=resolve).addresses
    for address, reason in (("10.0.0.5", "private"), ("127.0.0.1", "loopback"), ("::1", "loopback")):
        rebinding["hooks.example"] = ["8.8.8.8", address]
        with pytest.raises(UrlRefused) as err:
            check_url("https://hooks.example/in", allow_loopback=False, resolve=resolve)
        assert err.value.reason == reason
    with pytest.raises(UrlRefused) as err:  # the integer spelling of 127.0.0.1, resolved by the system
        check_url("https://2130706433/in", allow_loopback=False)
    assert err.value.reason == "loopback"
    with pytest.raises(UrlRefused) as err:
        check_url("http://localhost:8080/in", allow_loopback=False)
    assert err.value.reason == "loopback"
    assert check_url("http://localhost:8080/in", allow_loopback=True).addresses

    # a loopback webhook made while allowed is not delivered once production settings refuse it
    made = world.subscribe(world.t1, receiver.url.replace("127.0.0.1", "localhost") + "/local")
    message_id = world.ping(world.t1, made["id"])
    strict = replace(config, allow_insecure_loopback=False)
    assert deliver_due(world.engine, strict) == 1
    (attempt,) = world.log(world.t1, made["id"])
    assert attempt["status_code"] is None and attempt["error"].startswith("refused:")
    assert receiver.received == []
    assert deliver_due(world.engine, config, _at(attempt["next_attempt_at"])) == 1
    assert world.message(message_id).state == "delivered" and receiver.received[0].path == "/local"


def test_enqueue_is_idempotent_and_follows_the_callers_transaction(
    world: World, receiver: Receiver, config: DeliveryConfig
) -> None:
    called = world.subscribe(world.t1, receiver.url + "/calls", ["warehouse.loan.margin_called"])
    world.subscribe(world.t1, receiver.url + "/alerts", ["warehouse.alert.recorded"])
    banks = world.subscribe(world.bank, receiver.url + "/bank", ["warehouse.loan.margin_called"])
    event = EventType.WAREHOUSE_LOAN_MARGIN_CALLED
    payload = {"loan_id": 7, "outstanding_minor": 1_000_000, "deadline": 1_800_000_000}
    key = f"0x{uuid.uuid4().hex}:3"
    recipients = [world.t1.participant_id, world.bank.participant_id]

    # rolled back with the caller's change: nothing is sent
    with Session(world.engine) as s:
        assert enqueue(s, recipients, event, payload, key) == 2
        s.rollback()
    assert deliver_due(world.engine, config) == 0 and receiver.received == []

    with Session(world.engine) as s:
        assert enqueue(s, recipients, event, payload, key) == 2  # the margin-call webhooks only
        assert enqueue(s, recipients, event, payload, key) == 0  # the same event, in the same transaction
        s.commit()
    with Session(world.engine) as s:
        assert enqueue(s, [*recipients, world.t1.participant_id], event, payload, key) == 0  # projected again
        assert enqueue(s, ["nobody"], event, payload, "other") == 0
        s.commit()
    with Session(world.engine) as s, pytest.raises(ValueError):
        enqueue(s, recipients, "warehouse.loan.eaten", payload, "x")

    assert deliver_due(world.engine, config) == 2
    assert sorted(r.path for r in receiver.received) == ["/bank", "/calls"]
    for r, secret in zip(
        sorted(receiver.received, key=lambda r: r.path), (banks["secret"], called["secret"]), strict=True
    ):
        verify_signature(secret, r.headers, r.body)
        assert json.loads(r.body)["data"] == payload and json.loads(r.body)["type"] == event.value


def test_two_passes_racing_deliver_each_message_exactly_once(
    world: World, receiver: Receiver, config: DeliveryConfig
) -> None:
    made = world.subscribe(world.t1, receiver.url + "/race", ["warehouse.alert.cleared"])
    receiver.delay = 0.02
    with Session(world.engine) as s:
        for n in range(24):
            enqueue(s, [world.t1.participant_id], EventType.WAREHOUSE_ALERT_CLEARED, {"n": n}, f"race-{n}")
        s.commit()
    config = replace(config, concurrency=3)
    start = threading.Barrier(2)
    counts: list[int] = []

    def run() -> None:
        start.wait()
        counts.append(deliver_due(world.engine, config))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(counts) == 24, counts
    ids = receiver.ids()
    assert len(ids) == 24 and len(set(ids)) == 24
    assert sorted(json.loads(r.body)["data"]["n"] for r in receiver.received) == list(range(24))
    log = world.call(world.t1.api_key, "GET", f"/webhooks/{made['id']}/deliveries?limit=500").json()
    assert log["total"] == 24 and {a["outcome"] for a in log["items"]} == {"delivered"}


def test_the_worker_thread_delivers_and_stops(world: World, receiver: Receiver) -> None:
    made = world.subscribe(world.t1, receiver.url + "/worker")
    stop = threading.Event()
    thread = start_webhook_worker(world.engine, world.gw.settings, stop, interval=0.05)
    try:
        message_id = world.ping(world.t1, made["id"])
        deadline = time.monotonic() + 10
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.02)
        assert receiver.ids() == [message_id]
    finally:
        stop_webhook_worker(stop, thread)
    assert not thread.is_alive()
    deadline = time.monotonic() + 5
    while world.message(message_id).state != "delivered" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert world.message(message_id).state == "delivered"


def test_the_retry_schedule() -> None:
    config = DeliveryConfig(seal_key=b"\0" * 32, retry_base_s=5.0, retry_max_s=6 * 3600.0)
    nominal = [retry_delay(config, n, jitter=0.0) for n in range(1, 8)]
    assert nominal == [5.0, 20.0, 80.0, 320.0, 1280.0, 5120.0, 20480.0]
    assert retry_delay(config, 9, jitter=0.0) == 6 * 3600.0
    assert retry_delay(config, 1, jitter=0.999) < 5.0 * 1.25


def test_every_settings_default_is_documented(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()
    for name in (
        "webhook_allow_insecure_loopback",
        "webhook_timeout_seconds",
        "webhook_max_attempts",
        "webhook_retry_base_seconds",
        "webhook_retry_max_seconds",
        "webhook_worker_interval_seconds",
        "webhook_concurrency",
        "webhook_max_subscriptions",
        "webhook_secret_overlap_seconds",
    ):
        assert f"SCF_{name.upper()}" in text, name
    for event in EVENT_TYPES:
        assert f"`{event}`" in text, event


def test_on_postgresql_enqueue_is_idempotent_and_racing_passes_deliver_once(
    tmp_path: Path, receiver: Receiver
) -> None:
    """The same outbox on PostgreSQL (several gateway processes share one): its insert that skips an
    existing (webhook, event key), and its claims under truly concurrent transactions."""
    cluster = PgCluster.start()
    try:
        upgrade(cluster.url)
        settings = make_settings(tmp_path, database_url=cluster.url)
        engine = make_engine(settings)
        with Session(engine) as s:
            hook = create_subscription(
                settings, s, "p-1", WebhookIn(url=receiver.url + "/pg", events=["warehouse.alert.cleared"])
            )
        event = EventType.WAREHOUSE_ALERT_CLEARED
        with Session(engine) as s:
            assert enqueue(s, ["p-1", "p-2"], event, {"n": -1}, "rolled-back") == 1
            s.rollback()
        with Session(engine) as s:
            assert [enqueue(s, ["p-1"], event, {"n": n}, f"pg-{n}") for n in range(16)] == [1] * 16
            s.commit()
        with Session(engine) as s:
            assert enqueue(s, ["p-1"], event, {"n": 0}, "pg-0") == 0
            s.commit()
        config = replace(delivery_config(settings), retry_base_s=1.0, concurrency=2)
        receiver.delay = 0.02
        start = threading.Barrier(3)
        counts: list[int] = []

        def run() -> None:
            start.wait()
            counts.append(deliver_due(engine, config))

        threads = [threading.Thread(target=run) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sum(counts) == 16, counts
        assert len(set(receiver.ids())) == len(receiver.ids()) == 16
        for r in receiver.received:
            verify_signature(hook.secret, r.headers, r.body)
        with Session(engine) as s:
            states = s.exec(select(WebhookMessage.state)).all()
            assert sorted(states) == ["delivered"] * 16
        engine.dispose()
    finally:
        cluster.stop()
