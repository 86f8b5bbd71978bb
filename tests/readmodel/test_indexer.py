"""The event indexer and read model, against real Anvil nodes and a real SQLite file migrated by Alembic.

Every test ends with ``compare_with_chain`` (the read model equals the chain's state) and checks that
``rm_event`` holds each log of the platform's contracts exactly once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select
from web3 import Web3
from web3.types import Wei

from chain.abi import ErrorDecoder
from chain.client import Sender, TransactionReverted, connect
from chain.compiler import Artifact
from chain.contracts import Platform
from chain.deploy import DeployResult, deploy_all
from chain.node import AnvilNode, rpc
from chain.settings import ANVIL_DEV_KEY, PROJECT_ROOT
from domain.roles import Role
from readmodel import projector as readmodel
from readmodel.indexer import Indexer, abis_of
from readmodel.reconcile import compare_with_chain
from readmodel.tables import (
    RmBlock,
    RmCursor,
    RmDispute,
    RmEvent,
    RmFill,
    RmHolding,
    RmPayment,
    RmReceivable,
    RmTransfer,
)
from tests.readmodel.conftest import migrated_engine

DAY = 86_400


# ------------------------------------------------------------------------------------------ helpers


def make_indexer(
    w3: Web3, engine: Engine, deployed: DeployResult, artifacts: dict[str, Artifact], **kw: Any
) -> Indexer:
    return Indexer(w3, engine, deployed.addresses, abis_of(artifacts), **kw)


def chain_log_keys(
    w3: Web3, addresses: dict[str, str], to_block: int | str = "latest"
) -> list[tuple[str, int]]:
    logs = w3.eth.get_logs(
        {
            "fromBlock": 0,
            "toBlock": to_block,  # type: ignore[typeddict-item]
            "address": [Web3.to_checksum_address(a) for a in addresses.values()],
        }
    )
    return [(e["transactionHash"].to_0x_hex(), int(e["logIndex"])) for e in logs]


def db_event_keys(engine: Engine) -> list[tuple[str, int]]:
    with Session(engine) as s:
        rows = s.exec(
            select(RmEvent.tx_hash, RmEvent.log_index).order_by(
                col(RmEvent.block_number), col(RmEvent.log_index)
            )
        ).all()
        return [(t, i) for t, i in rows]


def assert_exactly_once(w3: Web3, engine: Engine, addresses: dict[str, str]) -> None:
    on_chain, in_db = chain_log_keys(w3, addresses), db_event_keys(engine)
    assert len(in_db) == len(set(in_db)), "duplicate events"
    assert in_db == on_chain


def assert_equal(platform: Platform, engine: Engine) -> None:
    diffs = compare_with_chain(platform, engine)
    assert diffs == [], "\n".join(diffs[:30])


def count(engine: Engine, table: Any) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(table)).one())


@dataclass
class World:
    """A deployment with onboarded participants, credit lines and settlement tokens."""

    w3: Web3
    op: Sender
    platform: Platform
    verifier: Sender
    regulator: Sender
    cores: list[Sender]
    suppliers: list[Sender]
    banks: list[Sender]
    keys: dict[str, str] = field(default_factory=dict)
    fingerprints: int = 0

    @property
    def holders(self) -> list[Sender]:
        return self.suppliers + self.banks + self.cores

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def register(
        self, supplier: Sender, core: Sender, face: int, *, endorse: bool = True, days: int = 120
    ) -> int:
        self.fingerprints += 1
        now = self.now()
        rid, _ = self.platform.ledger.register_invoice(
            self.verifier,
            creditor=supplier.address,
            debtor=core.address,
            face_value=face,
            token=self.platform.tokens["EUR"].address,
            issue_date=now - DAY,
            due_date=now + days * DAY,
            bundle_hash=self.fingerprints.to_bytes(32, "big"),
            delivery_hash=(2 * 10**6 + self.fingerprints).to_bytes(32, "big"),
            fingerprint=(10**6 + self.fingerprints).to_bytes(32, "big"),
        )
        if endorse:
            self.platform.ledger.endorse(core, rid)
        return rid


def _new_sender(w3: Web3, funder: Sender) -> tuple[Sender, str]:
    acct = Account.create()
    funder.send({"to": acct.address, "value": Wei(10**19)})
    key = acct.key.to_0x_hex()
    return Sender(w3, key, decoder=funder.decoder), key


def build_world(
    w3: Web3, op: Sender, platform: Platform, *, cores: int = 2, suppliers: int = 3, banks: int = 2
) -> World:
    made: dict[str, list[tuple[Sender, str]]] = {"v": [], "r": [], "c": [], "s": [], "b": []}
    for kind, n, role in [
        ("v", 1, Role.VERIFIER),
        ("r", 1, Role.REGULATOR),
        ("c", cores, Role.CORE_ENTERPRISE),
        ("s", suppliers, Role.SUPPLIER),
        ("b", banks, Role.FINANCIER),
    ]:
        for _ in range(n):
            s, key = _new_sender(w3, op)
            platform.registry.onboard(op, s.address, role, os.urandom(32))
            made[kind].append((s, key))
    world = World(
        w3=w3,
        op=op,
        platform=platform,
        verifier=made["v"][0][0],
        regulator=made["r"][0][0],
        cores=[s for s, _ in made["c"]],
        suppliers=[s for s, _ in made["s"]],
        banks=[s for s, _ in made["b"]],
        keys={s.address: k for group in made.values() for s, k in group},
    )
    token, ledger, market = platform.tokens["EUR"], platform.ledger, platform.market
    for core in world.cores:  # lines belong to the financier granting them
        ledger.set_credit_line(world.banks[0], core.address, token.address, 10**12)
    for bank in world.banks:
        token.set_issuer_cap(op, bank.address, 10**13)
        token.mint(bank, bank.address, 10**11)
        token.approve(bank, market.address, 2**255)
    for core in world.cores:
        token.mint(world.banks[0], core.address, 10**11)
        token.approve(core, ledger.address, 2**255)
    return world


# ------------------------------------------------------------------------------------------ tests


def test_lifecycle_is_projected(
    w3: Web3,
    sender: Sender,
    platform: Platform,
    deployed: DeployResult,
    artifacts: dict[str, Artifact],
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = build_world(w3, sender, platform)
    indexer = make_indexer(w3, engine, deployed, artifacts, batch_blocks=7)
    ledger, market, token = platform.ledger, platform.market, platform.tokens["EUR"]
    tier1, tier2, tier3 = world.suppliers
    bank, bank2 = world.banks
    core, core2 = world.cores

    # register; endorse by the debtor's relayed EIP-712 signature
    rid = world.register(tier1, core, 100_000_00, endorse=False)
    deadline = world.now() + DAY
    sig = ledger.sign_endorsement(world.keys[core.address], rid, True, ledger.nonce(core.address), deadline)
    ledger.endorse_by_sig(tier3, rid, True, deadline, sig)
    indexer.run_once()
    assert_equal(platform, engine)

    # split to tier 2, and on to tier 3 (a tree of transfers); a batch transfer too
    ledger.transfer(tier1, tier2.address, rid, 40_000_00)
    ledger.transfer(tier2, tier3.address, rid, 5_000_00)
    rid2 = world.register(tier1, core2, 7_000_00)
    ledger.transact(
        tier1, "safeBatchTransferFrom", tier1.address, tier2.address, [rid, rid2], [1_00, 2_00], b""
    )

    # discounting: an offer filled in two parts, another cancelled
    offer, _ = market.make_offer(bank, rid, 30_000_00, 600, world.now() + 10 * DAY)
    market.accept_offer(tier2, offer, 20_000_00)
    market.accept_offer(tier3, offer, 4_000_00)
    cancelled, _ = market.make_offer(bank2, rid, 1_000_00, 500, world.now() + 10 * DAY)
    market.cancel_offer(bank2, cancelled)
    indexer.run_once()
    assert_equal(platform, engine)

    # maturity, partial then full repayment; holders redeem (one redeems between the two repayments)
    w3.provider.make_request("evm_increaseTime", [130 * DAY])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    ledger.repay(core, rid, 33_333_33)
    ledger.redeem(tier3, rid)
    indexer.run_once()
    assert_equal(platform, engine)
    ledger.repay(core, rid, 100_000_00 - 33_333_33)
    for holder in (tier1, tier2, tier3, bank):
        ledger.redeem(holder, rid)

    # dispute + credit note on a fresh receivable (split first, so dilution is pro rata), a lifted dispute,
    # a rejection, a suspension
    rid3 = world.register(tier1, core2, 9_000_00)
    ledger.transfer(tier1, tier2.address, rid3, 3_000_00)
    ledger.dispute(core2, rid3, b"\x0d" * 32)
    ledger.resolve_with_credit_note(sender, rid3, 1_000_01)
    ledger.dispute(world.regulator, rid3, b"\x0e" * 32)
    ledger.resolve_dispute(sender, rid3)
    ledger.repay(core2, rid3, 2_000_00)
    ledger.redeem(tier2, rid3)
    rid4 = world.register(tier2, core, 1_00, endorse=False)
    ledger.reject(core, rid4)
    platform.registry.suspend(sender, bank2.address)
    platform.registry.suspend(sender, tier3.address)
    platform.registry.reinstate(sender, tier3.address)
    token.burn(bank, 1_00)

    result = indexer.run_once()
    assert result.reorgs == 0 and result.duplicates == 0
    assert_equal(platform, engine)
    assert_exactly_once(w3, engine, deployed.addresses)
    assert indexer.run_once().events == 0  # nothing new: idempotent

    with Session(engine) as s:
        r = s.get(RmReceivable, rid)
        assert r is not None and r.status == "SETTLED" and r.redeemed == str(100_000_00)
        assert s.get(RmReceivable, rid4) is not None and s.get(RmReceivable, rid4).status == "REJECTED"  # type: ignore[union-attr]
        kinds = [p.kind for p in s.exec(select(RmPayment).where(RmPayment.receivable_id == rid)).all()]
        assert kinds.count("repayment") == 2 and kinds.count("redemption") == 5
        fills = s.exec(select(RmFill).where(RmFill.offer_id == offer)).all()
        assert [int(f.amount) for f in fills] == [20_000_00, 4_000_00]
        disputes = s.exec(
            select(RmDispute).where(RmDispute.receivable_id == rid3).order_by(col(RmDispute.id))
        ).all()
        assert [(d.resolution, d.credit_note) for d in disputes] == [
            ("credit_note", "100001"),
            ("lifted", "0"),
        ]
        # the split tree: tier1 -> tier2 -> tier3 and the batch item
        moves = s.exec(
            select(RmTransfer).where(
                RmTransfer.receivable_id == rid,
                RmTransfer.from_address != readmodel.ZERO_ADDRESS,
                RmTransfer.to_address != readmodel.ZERO_ADDRESS,
            )
        ).all()
        edges = {(m.from_address, m.to_address) for m in moves}
        assert {(tier1.address, tier2.address), (tier2.address, tier3.address)} <= edges
        assert all(
            int(h.balance) == 0 for h in s.exec(select(RmHolding).where(RmHolding.receivable_id == rid))
        )

    # rebuilding the projections from rm_event (in pages) gives the same read model
    monkeypatch.setattr(readmodel, "REPLAY_PAGE", 7)
    with Session(engine) as s:
        assert readmodel.rebuild_projections(s) == len(db_event_keys(engine))
        s.commit()
    assert_equal(platform, engine)

    # run_forever follows new blocks until stopped
    stop = threading.Event()
    thread = threading.Thread(target=indexer.run_forever, args=(stop, 0.05))
    thread.start()
    try:
        token.mint(bank, tier1.address, 12_34)
        head = w3.eth.block_number
        until = time.monotonic() + 10
        while indexer.cursor()[0] < head and time.monotonic() < until:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive() and indexer.cursor()[0] == head
    assert_exactly_once(w3, engine, deployed.addresses)
    assert_equal(platform, engine)


ACTIONS = ["transfer"] * 3 + ["offer"] * 3 + ["accept"] * 4 + ["cancel", "repay", "repay", "redeem", "redeem"]
ACTIONS += ["dispute", "register"]


def _random_actions(world: World, rng: random.Random, n: int) -> dict[str, int]:
    ledger, market = world.platform.ledger, world.platform.market
    receivables: list[tuple[int, Sender]] = []  # (id, debtor)
    offers: list[int] = []
    done: dict[str, int] = {}
    for i, core in enumerate(world.cores):
        receivables.append(
            (world.register(world.suppliers[i], core, rng.randrange(1_000_00, 50_000_00)), core)
        )

    def holders_of(rid: int) -> list[tuple[Sender, int]]:
        return [(h, b) for h in world.holders if (b := ledger.balance_of(h.address, rid)) > 0]

    for _ in range(n):
        action = rng.choice(ACTIONS)
        try:
            rid, debtor = rng.choice(receivables)
            if action == "transfer" and (held := holders_of(rid)):
                frm, bal = rng.choice(held)
                to = rng.choice([h for h in world.suppliers + world.banks if h is not frm])
                ledger.transfer(frm, to.address, rid, rng.randint(1, bal))
            elif action == "offer":
                bank = rng.choice(world.banks)
                oid, _ = market.make_offer(
                    bank,
                    rid,
                    rng.randrange(1_00, 20_000_00),
                    rng.randrange(100, 2_000),
                    world.now() + 20 * DAY,
                )
                offers.append(oid)
            elif action == "accept" and offers:
                oid = rng.choice(offers)
                o = market.offer(oid)
                sellers = [(h, b) for h, b in holders_of(o.receivable_id) if h.address != o.maker]
                if sellers and o.max_amount > o.filled:
                    h, b = rng.choice(sellers)
                    market.accept_offer(h, oid, rng.randint(1, min(b, o.max_amount - o.filled)))
            elif action == "cancel" and offers:
                oid = rng.choice(offers)
                maker = next(b for b in world.banks if b.address == market.offer(oid).maker)
                market.cancel_offer(maker, oid)
            elif action == "repay":
                outstanding = ledger.outstanding(rid)
                if outstanding:
                    amount = outstanding if rng.random() < 0.25 else rng.randint(1, outstanding)
                    ledger.repay(debtor, rid, amount)
            elif action == "redeem":
                owed = [h for h in world.holders if ledger.owed(rid, h.address) > 0]
                if owed:
                    ledger.redeem(rng.choice(owed), rid)
            elif action == "dispute":
                ledger.dispute(rng.choice([debtor, world.regulator]), rid, rng.randbytes(32))
                outstanding = ledger.outstanding(rid)
                if ledger.receivable(rid).repaid == 0 and rng.random() < 0.7:
                    ledger.resolve_with_credit_note(world.op, rid, rng.randint(1, max(1, outstanding // 3)))
                else:
                    ledger.resolve_dispute(world.op, rid)
            elif action == "register":
                core = rng.choice(world.cores)
                receivables.append(
                    (
                        world.register(rng.choice(world.suppliers), core, rng.randrange(1_000_00, 50_000_00)),
                        core,
                    )
                )
            else:
                continue
            done[action] = done.get(action, 0) + 1
        except TransactionReverted as exc:
            done[f"reverted {exc.revert.name}"] = done.get(f"reverted {exc.revert.name}", 0) + 1
    return done


def test_random_sequences_equal_the_chain(
    w3: Web3,
    sender: Sender,
    platform: Platform,
    deployed: DeployResult,
    artifacts: dict[str, Artifact],
    engine: Engine,
    tmp_path: Path,
) -> None:
    world = build_world(w3, sender, platform, cores=2, suppliers=3, banks=2)
    indexer = make_indexer(w3, engine, deployed, artifacts, batch_blocks=5)
    rng = random.Random(20261128)
    done: dict[str, int] = {}
    for _ in range(3):
        for k, v in _random_actions(world, rng, 16).items():
            done[k] = done.get(k, 0) + v
        indexer.run_once()
        assert_equal(platform, engine)
    print("random actions:", dict(sorted(done.items())))
    assert sum(v for k, v in done.items() if not k.startswith("reverted")) >= 30
    for action in ("transfer", "accept", "repay", "redeem", "dispute"):
        assert done.get(action, 0) > 0, action
    assert_exactly_once(w3, engine, deployed.addresses)

    # a second read model indexed from scratch in one pass: same events, same state; the throughput figure
    fresh = migrated_engine(tmp_path / "fresh.db")
    again = make_indexer(w3, fresh, deployed, artifacts).run_once()
    print(
        f"indexed {again.events} events in {again.seconds:.3f}s = {again.events / again.seconds:.0f} events/s"
    )
    assert db_event_keys(fresh) == db_event_keys(engine)
    assert_equal(platform, fresh)


def test_crash_mid_batch_and_restart_is_exactly_once(
    w3: Web3,
    sender: Sender,
    platform: Platform,
    deployed: DeployResult,
    artifacts: dict[str, Artifact],
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = build_world(w3, sender, platform, cores=1, suppliers=2, banks=1)
    _random_actions(world, random.Random(7), 15)
    head = w3.eth.block_number

    # stopped early (max_batches), then a new Indexer object continues from the cursor
    first = make_indexer(w3, engine, deployed, artifacts, batch_blocks=4).run_once(max_batches=3)
    assert first.cursor == 3 * 4 - 1 and first.batches == 3

    # a crash inside a batch (after some of its events were applied): the batch's transaction rolls back
    real_apply = readmodel.apply_event
    calls = {"n": 0}

    def crashing_apply(session: Session, ev: readmodel.EventRecord) -> None:
        calls["n"] += 1
        if calls["n"] == 25:
            raise RuntimeError("simulated crash")
        real_apply(session, ev)

    monkeypatch.setattr(readmodel, "apply_event", crashing_apply)
    with pytest.raises(RuntimeError, match="simulated crash"):
        make_indexer(w3, engine, deployed, artifacts, batch_blocks=4).run_once()
    monkeypatch.setattr(readmodel, "apply_event", real_apply)
    with Session(engine) as s:
        cursor = s.get(RmCursor, "default")
        assert cursor is not None and first.cursor < cursor.block_number < head
        stored = db_event_keys(engine)
    # exactly the logs up to the cursor: the crashed batch left nothing behind
    assert stored == chain_log_keys(w3, deployed.addresses, cursor.block_number)

    result = make_indexer(w3, engine, deployed, artifacts, batch_blocks=4).run_once()
    assert result.cursor == head and result.duplicates == 0
    assert_exactly_once(w3, engine, deployed.addresses)
    assert_equal(platform, engine)

    # concurrent writers: two threads on one Indexer object (serialized by its lock) and two more
    # Indexer objects on the same database (they lose races on the cursor/unique key and retry)
    _random_actions(world, random.Random(8), 8)
    shared = make_indexer(w3, engine, deployed, artifacts, batch_blocks=2)
    runners = [shared, shared] + [
        make_indexer(w3, engine, deployed, artifacts, batch_blocks=3) for _ in range(2)
    ]
    errors: list[BaseException] = []

    retried: list[int] = []

    def run(ix: Indexer) -> None:
        try:
            retried.append(ix.run_once().retries)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(ix,)) for ix in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    print(f"concurrent writers: batches read again {retried}")
    assert shared.cursor()[0] == w3.eth.block_number
    assert_exactly_once(w3, engine, deployed.addresses)
    assert_equal(platform, engine)


_CHILD = """
import json, sys
from sqlalchemy import create_engine
from chain.client import connect
from readmodel.indexer import Indexer
cfg = json.load(open(sys.argv[1]))
w3, engine = connect(cfg["url"]), create_engine(cfg["db"])
Indexer(w3, engine, cfg["addresses"], cfg["abis"], batch_blocks=1).run_once()
"""


def test_killed_process_restarts_exactly_once(
    anvil: AnvilNode,
    w3: Web3,
    sender: Sender,
    platform: Platform,
    deployed: DeployResult,
    artifacts: dict[str, Artifact],
    tmp_path: Path,
) -> None:
    world = build_world(w3, sender, platform, cores=1, suppliers=2, banks=1)
    _random_actions(world, random.Random(11), 12)
    head = w3.eth.block_number
    db = tmp_path / "killed.db"
    engine = migrated_engine(db)
    cfg = tmp_path / "child.json"
    cfg.write_text(
        json.dumps(
            {
                "url": anvil.url,
                "db": f"sqlite:///{db}",
                "addresses": deployed.addresses,
                "abis": abis_of(artifacts),
            }
        )
    )
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(cfg)], cwd=PROJECT_ROOT)
    try:
        deadline = time.monotonic() + 30
        cursor = -1
        while time.monotonic() < deadline and child.poll() is None:
            with Session(engine) as s:
                row = s.get(RmCursor, "default")
                cursor = row.block_number if row else -1
            if cursor >= 20:
                break
            time.sleep(0.005)
        os.kill(child.pid, signal.SIGKILL)  # SIGKILL: no cleanup, possibly mid-transaction
    finally:
        child.wait()
    with Session(engine) as s:
        row = s.get(RmCursor, "default")
        killed_at = row.block_number if row else -1
    print(f"killed at cursor {killed_at} of head {head}")
    assert 0 < killed_at < head, "the child should have been killed mid-stream"

    result = Indexer(w3, engine, deployed.addresses, abis_of(artifacts), batch_blocks=1).run_once()
    assert result.first_block == killed_at + 1 and result.cursor == head
    assert_exactly_once(w3, engine, deployed.addresses)
    assert_equal(platform, engine)


def _signed_mint(w3: Web3, bank_key: str, platform: Platform, to: str, amount: int, nonce: int) -> str:
    data = platform.tokens["EUR"].contract.encode_abi("mint", args=[to, amount])
    tx = {
        "to": platform.tokens["EUR"].address,
        "data": data,
        "nonce": nonce,
        "gas": 200_000,
        "maxFeePerGas": 10**11,
        "maxPriorityFeePerGas": 10**9,
        "chainId": w3.eth.chain_id,
    }
    return str(Account.sign_transaction(tx, bank_key).raw_transaction.to_0x_hex())


def test_reorg_of_three_blocks_is_rolled_back_and_reread(
    anvil: AnvilNode,
    w3: Web3,
    sender: Sender,
    platform: Platform,
    deployed: DeployResult,
    artifacts: dict[str, Artifact],
    engine: Engine,
) -> None:
    world = build_world(w3, sender, platform, cores=1, suppliers=2, banks=1)
    _random_actions(world, random.Random(3), 10)
    bank = world.banks[0]
    a, b = world.suppliers[0], world.suppliers[1]
    start_nonce = w3.eth.get_transaction_count(bank.account.address)
    old_txs = [
        platform.tokens["EUR"].mint(bank, a.address, 1_000 + i)["transactionHash"].to_0x_hex()
        for i in range(3)
    ]
    head = w3.eth.block_number
    indexer = make_indexer(w3, engine, deployed, artifacts, batch_blocks=10)
    indexer.run_once()
    assert_equal(platform, engine)
    old_events = {k for k in db_event_keys(engine) if k[0] in old_txs}
    assert len(old_events) == 6  # Transfer + Minted per mint

    # the last 3 blocks are replaced by blocks with other transactions (same nonces, other receivers)
    key = world.keys[bank.address]
    new_raw = [_signed_mint(w3, key, platform, b.address, 7_000 + i, start_nonce + i) for i in range(3)]
    rpc(anvil.url, "anvil_reorg", [3, [[raw, i] for i, raw in enumerate(new_raw)]])
    bank.resync_nonce()
    assert w3.eth.block_number == head
    new_txs = [Web3.keccak(hexstr=raw).to_0x_hex() for raw in new_raw]

    result = indexer.run_once()
    assert result.reorgs == 1 and result.orphaned == 6 and result.events == 6
    keys = db_event_keys(engine)
    assert not (set(keys) & old_events), "orphaned events are gone"
    assert {t for t, _ in keys} >= set(new_txs), "the new ones are in"
    assert_exactly_once(w3, engine, deployed.addresses)
    assert_equal(platform, engine)
    with Session(engine) as s:
        for blk in s.exec(select(RmBlock)).all():
            assert blk.hash == w3.eth.get_block(blk.number)["hash"].to_0x_hex()

    # the chain can also get shorter (rollback), then grow on another branch
    rpc(anvil.url, "anvil_rollback", [2])
    bank.resync_nonce()
    platform.tokens["EUR"].mint(bank, a.address, 5)
    result = indexer.run_once()
    assert result.reorgs == 1 and result.orphaned == 4
    assert_exactly_once(w3, engine, deployed.addresses)
    assert_equal(platform, engine)


@pytest.fixture
def stateful_anvil(tmp_path: Path) -> Iterator[list[AnvilNode]]:
    nodes: list[AnvilNode] = []
    yield nodes
    for node in nodes:
        node.stop()


def test_anvil_restart_from_state_file_loses_no_event(
    artifacts: dict[str, Artifact], tmp_path: Path, stateful_anvil: list[AnvilNode]
) -> None:
    state = tmp_path / "anvil-state.json"
    node = AnvilNode(state_file=state, log_file=tmp_path / "anvil1.log")
    stateful_anvil.append(node)
    node.start()
    w3 = connect(node.url)
    op = Sender(w3, ANVIL_DEV_KEY, decoder=ErrorDecoder(a.abi for a in artifacts.values()))
    deployed = deploy_all(w3, op, artifacts, tmp_path / "deployments")
    platform = Platform.from_addresses(w3, artifacts, deployed.addresses)
    world = build_world(w3, op, platform, cores=1, suppliers=2, banks=1)
    _random_actions(world, random.Random(5), 12)
    engine = migrated_engine(tmp_path / "before.db")
    before = make_indexer(w3, engine, deployed, artifacts).run_once()
    assert_equal(platform, engine)
    node.stop()  # SIGTERM: Anvil writes the state file

    node2 = AnvilNode(state_file=state, log_file=tmp_path / "anvil2.log")
    stateful_anvil.append(node2)
    node2.start()
    assert node2.port != node.port
    w3 = connect(node2.url)
    assert w3.eth.block_number == before.cursor
    # blocks, hashes and logs survive the restart (Anvil >= 1.x keeps blocks and transactions in --state)
    assert_exactly_once(w3, engine, deployed.addresses)

    platform = Platform.from_addresses(w3, artifacts, deployed.addresses)
    for s in [op, world.verifier, world.regulator, *world.holders]:
        s.w3 = w3
        s.resync_nonce()
    world.w3, world.op, world.platform = w3, op, platform
    _random_actions(world, random.Random(6), 12)

    # the indexer that indexed before the restart continues: no reorg seen, nothing lost or doubled
    after = make_indexer(w3, engine, deployed, artifacts).run_once()
    assert after.reorgs == 0 and after.first_block == before.cursor + 1 and after.events > 0
    assert_exactly_once(w3, engine, deployed.addresses)
    assert_equal(platform, engine)
    # and an indexer starting from scratch after the restart finds every event, pre-restart ones included
    fresh = migrated_engine(tmp_path / "fresh.db")
    make_indexer(w3, fresh, deployed, artifacts).run_once()
    assert db_event_keys(fresh) == db_event_keys(engine)
    assert_equal(platform, fresh)

    # SIGKILL: only the periodic state dump (every second) survives, so the restarted chain may have
    # lost its newest blocks and then grow different ones at the same heights. The indexer sees that
    # as a reorganization and follows the chain: the read model again equals what the chain has.
    for i in range(3):
        platform.tokens["EUR"].mint(world.banks[0], world.suppliers[0].address, 10 + i)
    indexed = make_indexer(w3, engine, deployed, artifacts).run_once().cursor
    node2.kill()
    node3 = AnvilNode(state_file=state, log_file=tmp_path / "anvil3.log")
    stateful_anvil.append(node3)
    node3.start()
    w3 = connect(node3.url)
    platform = Platform.from_addresses(w3, artifacts, deployed.addresses)
    lost = indexed - w3.eth.block_number
    for s in [op, world.verifier, world.regulator, *world.holders]:
        s.w3 = w3
        s.resync_nonce()
    for i in range(4):
        platform.tokens["EUR"].mint(world.banks[0], world.suppliers[1].address, 20 + i)
    result = make_indexer(w3, engine, deployed, artifacts).run_once()
    print(f"SIGKILL restart: the chain lost {lost} block(s); indexer saw {result.reorgs} reorg(s)")
    assert result.reorgs == (1 if lost > 0 else 0)
    assert_exactly_once(w3, engine, deployed.addresses)
    assert_equal(platform, engine)
