"""Devices and signed readings through the gateway (issue 13): registration and its refusals; every kind of
bad reading refused with its code and nothing left behind; each alert rule firing on its scenario (once)
and not on normal noise; an alert cleared by the warehouse's signed explanation; a silent device.

Real parts: Anvil, the contracts, the gateway over HTTP, the platform CA, real device keys.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from sqlmodel import Session, select
from typer.testing import CliRunner

from api.models import WarehouseDevice, WarehouseReadingDay
from api.services import notifications, webhooks
from api.services import readings as readings_service
from cli.scf import app
from domain.warehouse.readings import b64url_decode, b64url_encode, encode_reading
from domain.warehouse.rules import sign_explanation, silence_alerts
from readmodel.reconcile import compare_with_chain
from tests.api.harness import Gateway
from tests.api.warehouse_world import PRICE, QUANTITY, World, get, ok, post, refused

LOCATION = "SILO-3"


@dataclass
class Device:
    device_id: str
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    receipt_id: int
    location: str
    seq: int = 0
    sent: list[str] = field(default_factory=list)

    def reading(self, m: dict[str, Any], *, seq: int | None = None, **over: Any) -> str:
        if seq is None:
            self.seq += 1
            seq = self.seq
        claims = {
            "dev": self.device_id,
            "seq": seq,
            "iat": int(time.time()),
            "loc": self.location,
            "rid": self.receipt_id,
            "m": m,
            **over,
        }
        return encode_reading(self.key, self.cert, claims)


def send(gw: Gateway, token: str) -> httpx.Response:
    return gw.request("POST", "/warehouse/readings", None, json={"reading": token})


def register(
    world: World, device_id: str, kind: str, rid: int, *, location: str = LOCATION, heartbeat_s: int = 3600
) -> Device:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    body = {
        "device_id": device_id,
        "kind": kind,
        "location": location,
        "receipt_ids": [rid],
        "public_key_pem": pem.decode(),
        "heartbeat_s": heartbeat_s,
    }
    out = ok(post(world.gw, "/warehouse/devices", world.warehouse, body), 201)
    cert = x509.load_pem_x509_certificate(out["certificate_pem"].encode())
    return Device(device_id, key, cert, rid, location)


@pytest.fixture(scope="module")
def world(gw: Gateway) -> World:
    w = World(gw)
    ok(w.price(PRICE), 201)
    return w


@pytest.fixture(scope="module")
def rid(world: World) -> int:
    return int(ok(world.issue(), 201)["receipt_id"])


@pytest.fixture(scope="module")
def scale(world: World, rid: int) -> Device:
    return register(world, "dev-silo3-scale", "scale", rid)


def device_state(gw: Gateway, device_id: str) -> tuple[int, int]:
    """(last accepted counter, readings aggregated) of a device."""
    with Session(gw.state.engine) as s:
        row = s.get(WarehouseDevice, device_id)
        assert row is not None
        days = s.exec(select(WarehouseReadingDay).where(WarehouseReadingDay.device_id == device_id)).all()
        return row.last_seq, sum(d.count for d in days)


def alerts(world: World, rid: int) -> list[dict[str, Any]]:
    world.gw.state.catch_up()
    out: list[dict[str, Any]] = ok(get(world.gw, f"/warehouse/receipts/{rid}/alerts", world.owner))["items"]
    return out


def test_registration_is_the_appointed_warehouses_for_its_own_receipts_in_place(
    world: World, rid: int
) -> None:
    gw = world.gw
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    body = {
        "device_id": "dev-x",
        "kind": "scale",
        "location": LOCATION,
        "receipt_ids": [rid],
        "public_key_pem": pem.decode(),
    }
    refused(post(gw, "/warehouse/devices", world.owner, body), 403, "FORBIDDEN_ROLE")
    refused(post(gw, "/warehouse/devices", world.carrier, body), 403, "NOT_A_WAREHOUSE")
    refused(
        post(gw, "/warehouse/devices", world.warehouse, {**body, "location": "SILO-9"}),
        422,
        "DEVICE_RECEIPT_INVALID",
    )
    refused(
        post(gw, "/warehouse/devices", world.warehouse, {**body, "receipt_ids": [10**9]}),
        422,
        "DEVICE_RECEIPT_INVALID",
    )
    rsa_like = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
    refused(
        post(gw, "/warehouse/devices", world.warehouse, {**body, "public_key_pem": rsa_like}),
        422,
        "DEVICE_KEY_INVALID",
    )
    with Session(gw.state.engine) as s:
        assert s.get(WarehouseDevice, "dev-x") is None  # nothing left behind
    ok(post(gw, "/warehouse/devices", world.warehouse, body), 201)
    refused(post(gw, "/warehouse/devices", world.warehouse, body), 409, "DEVICE_EXISTS")
    mine = ok(get(gw, "/warehouse/devices", world.warehouse))["items"]
    assert "dev-x" in [d["device_id"] for d in mine]
    assert ok(get(gw, "/warehouse/devices", world.owner))["items"] == []


def test_bad_readings_are_refused_with_their_codes_and_leave_nothing(
    world: World, rid: int, scale: Device
) -> None:
    gw = world.gw
    good = scale.reading({"weight_kg": QUANTITY})
    assert ok(send(gw, good), 201)["alerts"] == []
    before = device_state(gw, scale.device_id)
    assert before == (1, 1)
    # a copy of it, and an older counter after a newer
    refused(send(gw, good), 422, "READING_REPLAYED")
    refused(send(gw, scale.reading({"weight_kg": QUANTITY}, seq=1)), 422, "READING_REPLAYED")
    scale.seq = 5
    ok(send(gw, scale.reading({"weight_kg": QUANTITY})), 201)
    refused(send(gw, scale.reading({"weight_kg": QUANTITY}, seq=3)), 422, "READING_OUT_OF_ORDER")
    before = device_state(gw, scale.device_id)
    # forged: signed by another key under this device's certificate's name
    forger = Device(
        scale.device_id, ec.generate_private_key(ec.SECP256R1()), scale.cert, rid, LOCATION, seq=50
    )
    header, payload, _ = scale.reading({"weight_kg": QUANTITY}, seq=51).split(".")
    fake = forger.key.sign(f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(fake)
    forged = f"{header}.{payload}.{b64url_encode(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
    refused(send(gw, forged), 422, "READING_SIG_INVALID")
    # tampered: the weight changed after signing
    token = scale.reading({"weight_kg": QUANTITY}, seq=52)
    h, p, sig = token.split(".")
    claims = b64url_decode(p).replace(str(QUANTITY).encode(), str(QUANTITY + 1).encode())
    refused(send(gw, f"{h}.{b64url_encode(claims)}.{sig}"), 422, "READING_SIG_INVALID")
    # another receipt than its own, another location, a float, a clock far ahead, an impossible weight
    refused(send(gw, scale.reading({"weight_kg": QUANTITY}, seq=53, rid=rid + 1000)), 422, "DEVICE_NOT_BOUND")
    refused(send(gw, scale.reading({"weight_kg": QUANTITY}, seq=54, loc="SILO-9")), 422, "DEVICE_NOT_BOUND")
    refused(send(gw, scale.reading({"weight_kg": 1.5}, seq=55)), 422, "READING_MALFORMED")
    refused(
        send(gw, scale.reading({"weight_kg": QUANTITY}, seq=56, iat=int(time.time()) + 3600)),
        422,
        "READING_CLOCK_SKEW",
    )
    refused(send(gw, scale.reading({"weight_kg": -1}, seq=57)), 422, "READING_IMPLAUSIBLE")
    refused(send(gw, scale.reading({"temp_dc": 200}, seq=58)), 422, "READING_IMPLAUSIBLE")
    assert device_state(gw, scale.device_id) == before
    assert alerts(world, rid) == []


def test_suspended_and_revoked_devices(world: World, rid: int) -> None:
    gw = world.gw
    counter = register(world, "dev-silo3-thermo", "thermometer", rid)
    ok(send(gw, counter.reading({"temp_dc": 180, "rh_pm": 550})), 201)
    ok(post(gw, f"/warehouse/devices/{counter.device_id}/suspend", world.warehouse))
    refused(send(gw, counter.reading({"temp_dc": 180})), 422, "DEVICE_SUSPENDED")
    ok(post(gw, f"/warehouse/devices/{counter.device_id}/reinstate", world.warehouse))
    ok(send(gw, counter.reading({"temp_dc": 181})), 201)
    # someone else's device can't be touched
    refused(
        post(gw, f"/warehouse/devices/{counter.device_id}/suspend", world.carrier), 404, "DEVICE_NOT_FOUND"
    )
    ok(post(gw, f"/warehouse/devices/{counter.device_id}/revoke", world.warehouse))
    before = device_state(gw, counter.device_id)
    refused(send(gw, counter.reading({"temp_dc": 180})), 422, "DEVICE_REVOKED")
    assert device_state(gw, counter.device_id) == before
    refused(
        post(gw, f"/warehouse/devices/{counter.device_id}/reinstate", world.warehouse), 409, "DEVICE_REVOKED"
    )


def test_normal_noise_raises_nothing_and_each_rule_fires_once(world: World) -> None:
    gw = world.gw
    rid = int(ok(world.issue(), 201)["receipt_id"])
    scale = register(world, "dev-noise-scale", "scale", rid)
    seal = register(world, "dev-noise-seal", "seal", rid)
    thermo = register(world, "dev-noise-thermo", "thermometer", rid)
    tag = register(world, "dev-noise-tag", "gps_tag", rid, location="FENCE-DALIAN-PORT")
    rng = random.Random(13)
    for _ in range(25):  # within 1 % of the receipt, closed, cool and dry, inside
        ok(
            send(gw, scale.reading({"weight_kg": QUANTITY + rng.randint(-QUANTITY // 100, QUANTITY // 100)})),
            201,
        )
        ok(send(gw, seal.reading({"seal": "closed"})), 201)
        ok(send(gw, thermo.reading({"temp_dc": rng.randint(100, 240), "rh_pm": rng.randint(400, 690)})), 201)
        ok(send(gw, tag.reading({"geo": "inside"})), 201)
    assert alerts(world, rid) == []
    days = ok(get(gw, f"/warehouse/receipts/{rid}/readings", world.owner))["items"]
    assert sum(d["count"] for d in days) == 100
    # each rule, once: a theft (weight 3 % short, seal open), heat, the goods leaving the fence
    fired = []
    for device, m in (
        (scale, {"weight_kg": QUANTITY * 97 // 100}),
        (seal, {"seal": "open"}),
        (thermo, {"temp_dc": 310, "rh_pm": 600}),
        (tag, {"geo": "outside"}),
    ):
        raised = ok(send(gw, device.reading(m)), 201)["alerts"]
        fired += [a["code"] for a in raised]
        assert ok(send(gw, device.reading(m)), 201)["alerts"] == []  # open already: not again
    assert fired == ["WEIGHT_BELOW_RECEIPT", "SEAL_OPENED", "TEMPERATURE_OUT_OF_RANGE", "OUTSIDE_GEOFENCE"]
    recorded = alerts(world, rid)
    assert [a["code"] for a in recorded] == fired
    assert all(a["alert_id"] >> 16 == rid and not a["cleared"] for a in recorded)
    assert ok(get(gw, f"/warehouse/receipts/{rid}", world.owner))["open_alerts"] == 4


def test_the_warehouse_clears_an_alert_with_a_signed_explanation_and_new_readings(world: World) -> None:
    gw = world.gw
    rid = int(ok(world.issue(), 201)["receipt_id"])
    seal = register(world, "dev-clear-seal", "seal", rid)
    (alert,) = ok(send(gw, seal.reading({"seal": "open"})), 201)["alerts"]
    aid = alert["alert_id"]
    closed = seal.reading({"seal": "closed"})
    digest = bytes.fromhex(ok(send(gw, closed), 201)["digest"][2:])
    still_open = seal.reading({"seal": "open"})
    open_digest = bytes.fromhex(ok(send(gw, still_open), 201)["digest"][2:])
    w = world.warehouse

    def explain(readings: list[bytes], text: str = "Resealed after inspection; count verified.") -> str:
        return sign_explanation(
            w.key,
            w.certificate,
            alert_id=aid,
            code="SEAL_OPENED",
            text=text,
            readings_digests=readings,
            iat=int(time.time()),
        )

    path = f"/warehouse/alerts/{aid}/clear"
    # the new readings still show the seal open: refused
    refused(
        post(gw, path, w, {"explanation": explain([open_digest]), "readings": [still_open]}),
        409,
        "ALERT_NOT_CLEARED",
    )
    # readings that are not the ones the explanation cites
    refused(
        post(gw, path, w, {"explanation": explain([digest]), "readings": [still_open]}),
        422,
        "EXPLANATION_MISMATCH",
    )
    # signed by someone else than the receipt's warehouse
    o = world.owner
    by_owner = sign_explanation(
        o.key,
        o.certificate,
        alert_id=aid,
        code="SEAL_OPENED",
        text="x",
        readings_digests=[digest],
        iat=int(time.time()),
    )
    refused(
        post(gw, path, w, {"explanation": by_owner, "readings": [closed]}),
        422,
        "EXPLANATION_SIGNER_UNTRUSTED",
    )
    # only the receipt's warehouse may clear
    refused(
        post(gw, path, world.carrier, {"explanation": explain([digest]), "readings": [closed]}),
        404,
        "ALERT_NOT_FOUND",
    )
    assert [a["cleared"] for a in alerts(world, rid)] == [False]
    cleared = ok(post(gw, path, w, {"explanation": explain([digest]), "readings": [closed]}))
    assert cleared["alert_id"] == aid
    (after,) = alerts(world, rid)
    assert after["cleared"] is True and after["explanation"] is not None
    assert ok(get(gw, f"/warehouse/receipts/{rid}", world.owner))["open_alerts"] == 0
    # cleared once only
    refused(
        post(gw, path, w, {"explanation": explain([digest]), "readings": [closed]}), 404, "ALERT_NOT_FOUND"
    )


def test_a_device_silent_past_its_heartbeat_raises_device_silent_once(world: World) -> None:
    gw = world.gw
    rid = int(ok(world.issue(), 201)["receipt_id"])
    quiet = register(world, "dev-quiet-scale", "scale", rid, heartbeat_s=600)
    ok(send(gw, quiet.reading({"weight_kg": QUANTITY})), 201)
    with Session(gw.state.engine) as s:
        assert readings_service.check_silence(gw.state, s, now=int(time.time()) + 60) == []
        (raised,) = [
            a
            for a in readings_service.check_silence(gw.state, s, now=int(time.time()) + 3600)
            if a.receipt_id == rid
        ]
        assert raised.code == "DEVICE_SILENT"
        assert [
            a
            for a in readings_service.check_silence(gw.state, s, now=int(time.time()) + 7200)
            if a.receipt_id == rid
        ] == []


class Receiver:
    """A real HTTP endpoint on 127.0.0.1 that records what it is POSTed."""

    def __init__(self) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.append(({k: v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def test_alerts_and_freezes_reach_owner_pledgee_and_regulator_signed(world: World) -> None:
    gw = world.gw
    receivers = {}
    for who in (world.owner, world.bank, world.regulator, world.other):
        rec = Receiver()
        events = ["warehouse.alert.recorded", "warehouse.receipt.frozen"]
        created = ok(post(gw, "/webhooks", who, {"url": rec.url, "events": events}), 201)
        receivers[who.participant_id] = (rec, created["secret"])
    rid = int(ok(world.issue(), 201)["receipt_id"])
    loan_id = ok(world.offer(rid, 1_000_00), 201)["loan_id"]
    ok(post(gw, f"/warehouse/loans/{loan_id}/accept", world.owner))
    seal = register(world, "dev-notify-seal", "seal", rid)
    (alert,) = ok(send(gw, seal.reading({"seal": "open"})), 201)["alerts"]
    ok(post(gw, f"/warehouse/receipts/{rid}/freeze", world.bank, {"frozen": True}))
    gw.state.catch_up()
    notifications.dispatch(gw.state)
    notifications.dispatch(gw.state)  # a second pass queues nothing more
    webhooks.deliver_due(gw.state.engine, webhooks.delivery_config(gw.state.settings))
    for who in (world.owner, world.bank, world.regulator):
        rec, secret = receivers[who.participant_id]
        got = []
        for headers, body in rec.got:
            webhooks.verify_signature(secret, headers, body)
            got.append(json.loads(body))
        # deliveries run concurrently: their order is not the events' (each carries its block)
        mine = sorted(
            (m for m in got if m["data"].get("receipt_id") == rid), key=lambda m: m["data"]["block_number"]
        )
        assert [m["type"] for m in mine] == ["warehouse.alert.recorded", "warehouse.receipt.frozen"], (
            who.legal_name
        )
        assert mine[0]["data"]["alert_id"] == alert["alert_id"] and mine[0]["data"]["code"] == "SEAL_OPENED"
        assert mine[1]["data"]["frozen"] is True
    # a participant with no part in the receipt hears nothing of it
    rec, _ = receivers[world.other.participant_id]
    assert [json.loads(b)["data"].get("receipt_id") for _, b in rec.got].count(rid) == 0


def test_scf_iot_simulate_drives_a_lot_normal_then_theft(world: World) -> None:
    rid = int(ok(world.issue(), 201)["receipt_id"])
    args = ["iot", "simulate", "--receipt", str(rid), "--gateway", world.gw.url, "--rounds", "5"]
    result = CliRunner().invoke(app, args, env={"SCF_WAREHOUSE_API_KEY": world.warehouse.api_key})
    assert result.exit_code == 0, result.output
    assert "22 readings accepted" in result.output  # 5 rounds of 4 devices, then the scale and the seal
    assert [a["code"] for a in alerts(world, rid)] == ["WEIGHT_BELOW_RECEIPT", "SEAL_OPENED"]
    # without a theft: no alert
    rid = int(ok(world.issue(), 201)["receipt_id"])
    result = CliRunner().invoke(
        app,
        [*args[:3], str(rid), *args[4:], "--no-theft"],
        env={"SCF_WAREHOUSE_API_KEY": world.warehouse.api_key},
    )
    assert result.exit_code == 0, result.output
    assert "20 readings accepted" in result.output and alerts(world, rid) == []
    # a receipt the key's warehouse can't see: a clear error, exit 2
    result = CliRunner().invoke(
        app, [*args[:3], "999999", *args[4:]], env={"SCF_WAREHOUSE_API_KEY": world.warehouse.api_key}
    )
    assert result.exit_code == 2 and "RECEIPT_NOT_FOUND" in result.output


def test_the_read_model_agrees_with_the_chain_after_alerts_and_freezes(world: World) -> None:
    """Open and cleared alerts, a frozen receipt and an active loan, projected, equal the contract's views."""
    world.gw.state.catch_up()
    assert compare_with_chain(world.gw.state.chain().platform, world.gw.state.engine) == []


def test_two_processes_raising_one_code_at_once_record_it_once(world: World) -> None:
    """The per-receipt lock is a process's; across processes the claim in the database decides: of
    several requests recording the same open code on one receipt at the same moment, exactly one sends
    ``recordAlert``. (Each thread here calls ``record_alerts`` itself, past the process's lock, as two
    gateway processes would.)"""
    gw = world.gw
    rid = int(ok(world.issue(), 201)["receipt_id"])
    facts = readings_service.receipt_facts(gw.state, Session(gw.state.engine), rid)
    assert facts is not None
    alert = silence_alerts(facts, {"dev-race": 0}, 60, int(time.time()))[0]
    barrier = threading.Barrier(4)
    recorded: list[int] = []

    def record() -> None:
        with Session(gw.state.engine) as s:
            barrier.wait()
            recorded.extend(a.alert_id for a in readings_service.record_alerts(gw.state, s, [alert], "{}"))

    threads = [threading.Thread(target=record) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(recorded) == 1
    assert [a["code"] for a in alerts(world, rid)] == ["DEVICE_SILENT"]


def test_a_batch_judges_each_reading_on_its_own(world: World) -> None:
    """An IoT gateway's uplink: accepted and refused readings side by side, each with its answer; the
    refused ones leave nothing behind, and do not stop the ones after them."""
    gw = world.gw
    rid = int(ok(world.issue(), 201)["receipt_id"])
    scale = register(world, "dev-batch-scale", "scale", rid)
    first = scale.reading({"weight_kg": QUANTITY})
    second = scale.reading({"weight_kg": QUANTITY - 100})
    h, p, _ = second.split(".")
    forged = f"{h}.{p}.{b64url_encode(bytes(64))}"
    third = scale.reading({"weight_kg": QUANTITY * 90 // 100})  # 10 % short: an alert
    out = ok(
        gw.request(
            "POST",
            "/warehouse/readings/batch",
            None,
            json={"readings": [first, first, forged, second, third]},
        )
    )
    assert (out["accepted"], out["refused"]) == (3, 2)
    assert [r["error"]["code"] if r["error"] else None for r in out["results"]] == [
        None,
        "READING_REPLAYED",
        "READING_SIG_INVALID",
        None,
        None,
    ]
    assert [a["code"] for a in out["results"][4]["reading"]["alerts"]] == ["WEIGHT_BELOW_RECEIPT"]
    assert device_state(gw, scale.device_id) == (3, 3)
    # too many, or none: refused whole, before any is read
    refused(
        gw.request("POST", "/warehouse/readings/batch", None, json={"readings": []}), 422, "REQUEST_INVALID"
    )
    refused(
        gw.request("POST", "/warehouse/readings/batch", None, json={"readings": [first] * 101}),
        422,
        "REQUEST_INVALID",
    )
