"""Fault tests against real processes: the node unreachable for every write endpoint, Anvil killed during
a burst of tokenizations and restarted from an older state, the gateway killed during a burst of
transfers and restarted. After each: no 5xx but 503, every client's retry (same ``Idempotency-Key``)
resolves to the true outcome, chain and database agree, and no record is left ``in_progress``.
(The database locked: ``test_database_faults.py``.) Figures are printed for RELIABILITY.md.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select

from api.models import IdempotencyRecord
from cli.gateway_process import GatewayProcess
from tests.api.harness import (
    Actor,
    Gateway,
    bundle_body,
    distinct_trade,
    onboard,
    restart_node,
    start_gateway,
    trade_parties,
)

WRITE_METHODS = ("post", "put", "patch", "delete")


@dataclass
class World:
    gw: Gateway
    core: Actor
    t1: Actor
    t2: Actor
    bank: Actor
    rid: int
    callers: dict[str, str] = field(default_factory=dict)

    def signers(self) -> dict[str, Actor]:
        return {"Order": self.core, "DespatchAdvice": self.t1, "Invoice": self.t1}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    gw = start_gateway(tmp_path, state_file=True)
    try:
        o: Callable[..., Actor] = lambda *a: onboard(gw, *a, custodial=True)  # noqa: E731
        core, t1 = trade_parties(gw, custodial=True)
        t2 = o("supplier", "Smedja Komponent AB", "SE5569988776", [("0088", "7350000000033")])
        bank = o("financier", "Hansa Trade Finance", "DE811234567", [])
        w = World(gw, core, t1, t2, bank, 0)
        r = _post(gw, t1, "/bundles", bundle_body(distinct_trade("FAULT-0"), w.signers()), "setup-0")
        assert r.status_code == 201, r.text
        w.rid = r.json()["receivable_id"]
        assert (
            _post(gw, core, f"/receivables/{w.rid}/endorse", {"accept": True}, "setup-1").status_code == 200
        )
        w.callers = {
            "operator": gw.operator_key,
            "core": core.api_key,
            "supplier": t1.api_key,
            "financier": bank.api_key,
        }
        yield w
    finally:
        gw.stop()


def _post(
    gw: Gateway, who: Actor | str, path: str, body: Any, key: str, method: str = "POST"
) -> httpx.Response:
    api_key = who if isinstance(who, str) else who.api_key
    return gw.request(method, path, api_key, json=body, headers={"Idempotency-Key": key})


def _in_progress(gw: Gateway) -> list[IdempotencyRecord]:
    with Session(gw.state.engine) as s:
        return list(
            s.exec(select(IdempotencyRecord).where(col(IdempotencyRecord.state) == "in_progress")).all()
        )


def _example(spec: dict[str, Any], op: dict[str, Any]) -> Any:
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    schema = content["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    examples = schema.get("examples") or [{}]
    return examples[0]


def _fill(path: str, w: World) -> str:
    if path.startswith("/credit-lines/"):
        who = w.core  # lines are granted to core enterprises
    elif path.startswith("/settlement/issuers/"):
        who = w.bank  # issuers are financiers
    else:  # not one of the callers: rotating its key or revoking it stops no caller
        who = w.t2
    return (
        path.replace("{participant_id}", who.participant_id)
        .replace("{rid}", str(w.rid))
        .replace("{offer_id}", "1")
        .replace("{id}", str(w.rid))
    )


def _body_for(path: str, example: Any, w: World) -> Any:
    """The operation's documented example, made to fit this world."""
    if path == "/bundles":
        return bundle_body(distinct_trade(f"DOWN-{uuid.uuid4().hex[:8]}"), w.signers())
    if isinstance(example, dict):
        out = dict(example)
        for k in ("to_participant_id", "participant_id"):
            if k in out:
                out[k] = w.t2.participant_id
        if "receivable_id" in out:
            out["receivable_id"] = w.rid
        if path == "/participants":  # someone new, without a key of its own (custodial)
            out.update(
                registration_id=f"REG-{uuid.uuid4().hex[:10]}",
                party_identifiers=[],
                signing_key_pem=None,
                chain_address=None,
            )
        return out
    return example


def test_every_write_endpoint_answers_503_while_the_node_is_down_and_the_retry_resolves(world: World) -> None:
    w, gw = world, world.gw
    spec = gw.request("GET", "/openapi.json", None).json()
    gw.anvil.kill()
    statuses: dict[str, Counter[int]] = {}
    retries: list[tuple[str, str, str, Any, str]] = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method not in WRITE_METHODS:
                continue
            name = f"{method.upper()} {path}"
            seen: Counter[int] = Counter()
            for caller, api_key in w.callers.items():
                key = str(uuid.uuid4())
                body = _body_for(path, _example(spec, op), w)
                r = _post(gw, api_key, _fill(path, w), body, key, method.upper())
                seen[r.status_code] += 1
                if r.status_code not in (403, 503):
                    print(f"  {name} as {caller}: {r.status_code} {r.text[:160]}")
                assert r.status_code < 500 or r.status_code == 503, (
                    f"{name} as {caller}: {r.status_code} {r.text}"
                )
                assert r.headers["content-type"].startswith("application/json"), name
                if r.status_code == 503:
                    assert "Retry-After" in r.headers or r.json()["error"]["code"].startswith("CHAIN_"), (
                        r.text
                    )
                    retries.append((name, caller, api_key, body, key))
            statuses[name] = seen
    reached_the_chain = {n for n, c in statuses.items() if c[503]}
    print(f"\nnode down: {len(statuses)} write operations, {len(reached_the_chain)} answered 503 to a caller")
    for n, c in sorted(statuses.items()):
        print(f"  {n}: {dict(sorted(c.items()))}")
    assert len(reached_the_chain) >= 15, statuses
    assert _in_progress(gw) == []

    restart_node(gw, stop=False)
    for name, caller, api_key, body, key in retries:
        method, path = name.split(" ", 1)
        r = _post(gw, api_key, _fill(path, w), body, key, method)
        assert r.status_code < 500, f"retry of {name} as {caller}: {r.status_code} {r.text}"
        assert r.json().get("error", {}).get("code") != "IDEMPOTENCY_IN_PROGRESS", r.text
    assert _in_progress(gw) == []
    check = gw.request("GET", "/health/read-model", gw.operator_key).json()
    assert check["in_sync"], check


def _retry_until_resolved(
    call: Callable[[], httpx.Response], seen: list[int], deadline: float
) -> httpx.Response:
    """A client that retries with the same key while the answer is 503 or 409 in-progress (or no answer)."""
    while True:
        try:
            r = call()
        except httpx.HTTPError:
            seen.append(0)
        else:
            seen.append(r.status_code)
            retry = r.status_code == 503 or (
                r.status_code == 409 and r.json()["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
            )
            if not retry:
                return r
        if time.monotonic() > deadline:
            raise AssertionError(f"not resolved: {seen}")
        time.sleep(0.2)


def test_anvil_killed_in_a_burst_of_tokenizations_and_restarted_from_an_older_state(
    world: World, tmp_path: Path
) -> None:
    w, gw = world, world.gw
    ledger = gw.state.chain().platform.ledger
    before = ledger.receivable_count()
    gw.anvil.stop()  # a backup of the chain's state, taken now
    assert gw.anvil.state_file is not None
    older = tmp_path / "older-state.json"
    shutil.copy(gw.anvil.state_file, older)
    restart_node(gw, stop=False)

    n = 12
    bodies = [bundle_body(distinct_trade(f"BURST-{i}"), w.signers()) for i in range(n)]
    keys = [str(uuid.uuid4()) for _ in range(n)]
    seen: list[list[int]] = [[] for _ in range(n)]
    answers: list[httpx.Response | None] = [None] * n
    deadline = time.monotonic() + 180

    def client(i: int) -> None:
        answers[i] = _retry_until_resolved(
            lambda: _post(gw, w.t1, "/bundles", bodies[i], keys[i]), seen[i], deadline
        )

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    while sum(1 for a in answers if a is not None) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    gw.anvil.kill()
    restart_node(gw, older=older, stop=False)  # everything since the backup is gone, acknowledged or not
    for t in threads:
        t.join()
    # every client asks once more with its key: the answer is the truth of today's chain
    final = [
        _retry_until_resolved(lambda i=i: _post(gw, w.t1, "/bundles", bodies[i], keys[i]), seen[i], deadline)
        for i in range(n)
    ]
    statuses = Counter(s for client_seen in seen for s in client_seen)
    print(f"\nburst of {n} tokenizations, Anvil killed and restored: statuses seen {dict(statuses)}")
    assert all(s < 500 or s == 503 for s in statuses), statuses
    for r in final:
        assert r.status_code == 201, r.text
        rid = r.json()["receivable_id"]
        assert ledger.receivable_id_by_fingerprint(bytes.fromhex(r.json()["fingerprint"][2:])) == rid
    assert ledger.receivable_count() == before + n  # exactly one receivable per invoice
    assert _in_progress(gw) == []
    check = gw.request("GET", "/health/read-model", gw.operator_key).json()
    assert check["in_sync"], check


def test_the_gateway_killed_in_a_burst_of_transfers_and_restarted(world: World, tmp_path: Path) -> None:
    w, gw = world, world.gw
    ledger = gw.state.chain().platform.ledger
    start_t1 = ledger.balance_of(w.t1.address, w.rid)
    start_t2 = ledger.balance_of(w.t2.address, w.rid)
    gw.server.should_exit = True  # the gateway under test is a process of its own
    gw.thread.join(timeout=10)
    proc = GatewayProcess(gw.settings, tmp_path / "gateway.log")
    proc.start()
    n, amount = 16, 1_000
    keys = [str(uuid.uuid4()) for _ in range(n)]
    seen: list[list[int]] = [[] for _ in range(n)]
    answers: list[httpx.Response | None] = [None] * n
    deadline = time.monotonic() + 180
    body = {"to_participant_id": w.t2.participant_id, "amount": amount}

    def send(i: int) -> httpx.Response:
        return httpx.post(
            f"{proc.url}/receivables/{w.rid}/transfers",
            json=body,
            headers={"Authorization": f"Bearer {w.t1.api_key}", "Idempotency-Key": keys[i]},
            timeout=60,
        )

    def client(i: int) -> None:
        answers[i] = _retry_until_resolved(lambda: send(i), seen[i], deadline)

    try:
        threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        while sum(1 for a in answers if a is not None) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.kill()
        time.sleep(0.5)
        proc.start()
        for t in threads:
            t.join()
        statuses = Counter(s for client_seen in seen for s in client_seen)
        print(f"\nburst of {n} transfers, gateway killed and restarted: statuses seen {dict(statuses)}")
        assert all(s < 500 or s == 503 for s in statuses), statuses
        hashes = set()
        for r in answers:
            assert r is not None and r.status_code == 200, r and r.text
            hashes.add(r.json()["tx_hash"])
        assert len(hashes) == n  # one transaction per transfer, each answered with its own
        # exactly once each: the units moved are exactly n transfers' worth
        assert ledger.balance_of(w.t2.address, w.rid) - start_t2 == n * amount
        assert start_t1 - ledger.balance_of(w.t1.address, w.rid) == n * amount
        assert _in_progress(gw) == []
        check = httpx.get(
            f"{proc.url}/health/read-model", headers={"Authorization": f"Bearer {gw.operator_key}"}
        )
        assert check.status_code == 200 and check.json()["in_sync"], check.text
    finally:
        proc.kill()
