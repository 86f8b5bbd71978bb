"""Track records projected event by event (readmodel.credit) against a real Anvil: every counter exact,
delays by the blocks' own timestamps, rebuilt right after a reorganization, block times from headers
where a node's logs carry none."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select
from web3 import Web3
from web3.types import FilterParams, LogReceipt

from chain.client import Sender
from chain.compiler import Artifact
from chain.contracts import Platform
from chain.deploy import DeployResult
from chain.node import AnvilNode, rpc
from readmodel import credit
from readmodel.indexer import Indexer, abis_of
from readmodel.tables import RmCreditHistory, RmCreditPair, RmEvent, RmFill
from tests.readmodel.test_indexer import DAY, build_world, make_indexer


def _history(engine: Engine, party: str) -> RmCreditHistory:
    with Session(engine) as s:
        row = s.get(RmCreditHistory, party)
        assert row is not None, party
        s.expunge(row)
        return row


def _block_time(w3: Web3, receipt: Any) -> int:
    return int(w3.eth.get_block(receipt["blockNumber"])["timestamp"])


def test_every_counter_is_exact(
    w3: Web3,
    sender: Sender,
    platform: Platform,
    deployed: DeployResult,
    artifacts: dict[str, Artifact],
    engine: Engine,
) -> None:
    world = build_world(w3, sender, platform, cores=2, suppliers=2, banks=1)
    ledger, market = platform.ledger, platform.market
    (core, core2), (supplier, tier2), bank = world.cores, world.suppliers, world.banks[0]

    on_time = world.register(supplier, core, 100_000, days=10)
    late = world.register(supplier, core, 250_000, days=10)
    rejected = world.register(supplier, core, 7_000, endorse=False)
    ledger.reject(core, rejected)
    diluted = world.register(supplier, core2, 40_000, days=10)
    other = world.register(tier2, core, 5_000, days=10)  # another supplier: not this one's record

    # financing: the supplier sells 60,000 of one receivable, 1,000 of another; a holder that is not
    # the creditor sells too (the financier's purchase, not the supplier's financing)
    offer, _ = market.make_offer(bank, on_time, 60_000, 600, world.now() + DAY)
    market.accept_offer(supplier, offer, 60_000)
    offer2, _ = market.make_offer(bank, diluted, 1_000, 900, world.now() + DAY)
    market.accept_offer(supplier, offer2, 1_000)
    ledger.transfer(tier2, core2.address, other, 2_000)
    offer3, _ = market.make_offer(bank, other, 500, 500, world.now() + DAY)
    market.accept_offer(core2, offer3, 500)

    ledger.dispute(core2, diluted, b"\x01" * 32)
    ledger.resolve_with_credit_note(sender, diluted, 3_000)
    ledger.dispute(core2, diluted, b"\x02" * 32)  # a second dispute counts no second time
    ledger.resolve_dispute(sender, diluted)

    paid_on_time = ledger.repay(core, on_time, 100_000)  # before the due date
    w3.provider.make_request("evm_increaseTime", [15 * DAY])  # type: ignore[arg-type]
    ledger.repay(core, late, 50_000)  # a part: not yet a repayment
    paid_late = ledger.repay(core, late, 200_000)

    indexer = make_indexer(w3, engine, deployed, artifacts, batch_blocks=5)
    indexer.run_once()

    due_late = ledger.receivable(late).due_date
    days_late = _block_time(w3, paid_late) // DAY - due_late // DAY
    assert days_late >= 5 and _block_time(w3, paid_on_time) < ledger.receivable(on_time).due_date

    d = _history(engine, core.address)
    assert (d.debtor_payables, d.debtor_on_time, d.debtor_late) == (str(100_000 + 250_000 + 5_000), 1, 1)
    assert (d.debtor_days_late, d.debtor_worst_days, d.debtor_disputed) == (days_late, days_late, "0")
    d2 = _history(engine, core2.address)
    assert (d2.debtor_payables, d2.debtor_disputed, d2.debtor_on_time, d2.debtor_late) == (
        "40000",
        "40000",
        0,
        0,
    )

    s = _history(engine, supplier.address)
    assert (s.supplier_receivables, s.supplier_face) == (4, str(100_000 + 250_000 + 7_000 + 40_000))
    assert (s.supplier_financed, s.supplier_disputed, s.supplier_diluted) == ("61000", 1, "3000")
    assert (s.supplier_rejected, s.supplier_largest_buyer) == (1, str(100_000 + 250_000 + 7_000))
    assert _history(engine, tier2.address).supplier_financed == "0"  # core2 sold, not the creditor

    b = _history(engine, bank.address)
    fills = [(60_000, offer), (1_000, offer2), (500, offer3)]
    assert (b.financier_fills, b.financier_bought) == (3, str(sum(a for a, _ in fills)))
    with Session(engine) as ses:
        rows = ses.exec(select(RmFill).where(RmFill.maker == bank.address)).all()
        assert b.financier_paid == str(sum(int(f.price) for f in rows))
        assert b.financier_weighted == str(sum(int(f.price) * f.days_to_maturity for f in rows))
        pairs = {(p.creditor, p.debtor): p.face for p in ses.exec(select(RmCreditPair)).all()}
        assert pairs[(supplier.address, core.address)] == "357000"
        assert pairs[(supplier.address, core2.address)] == "40000"

        # the present: the diluted receivable (due 10 days after registration) is overdue now, its
        # outstanding 40,000 - 3,000 credit note; the line and its usage are the ledger's
        now = int(w3.eth.get_block("latest")["timestamp"])
        rec = credit.record(ses, core2.address, now)
        assert rec is not None and rec.overdue == 37_000
        limit, used = ledger.credit_line(core2.address, platform.tokens["EUR"].address)
        assert (rec.credit_limit, rec.credit_used) == (limit, used)
        assert credit.record(ses, core.address, now).overdue == 5_000  # type: ignore[union-attr]  # tier2's
        onboarded = ses.exec(
            select(RmEvent).where(RmEvent.event == "ParticipantOnboarded").order_by(RmEvent.id)
        ).all()
        assert all(e.block_timestamp == w3.eth.get_block(e.block_number)["timestamp"] for e in onboarded)


def test_a_reorganization_takes_back_a_repayment_and_the_as_of_block_follows(
    anvil: AnvilNode,
    w3: Web3,
    sender: Sender,
    platform: Platform,
    deployed: DeployResult,
    artifacts: dict[str, Artifact],
    engine: Engine,
) -> None:
    world = build_world(w3, sender, platform, cores=1, suppliers=1, banks=1)
    core, supplier = world.cores[0], world.suppliers[0]
    rid = world.register(supplier, core, 10_000, days=10)
    indexer = make_indexer(w3, engine, deployed, artifacts)
    indexer.run_once()
    before = indexer.cursor()

    platform.ledger.repay(core, rid, 10_000)
    indexer.run_once()
    assert _history(engine, core.address).debtor_on_time == 1
    assert indexer.cursor()[0] == w3.eth.block_number

    # the repayment's block is replaced by an empty one and the chain grows on that branch
    rpc(anvil.url, "anvil_rollback", [w3.eth.block_number - before[0]])
    core.resync_nonce()
    rpc(anvil.url, "evm_mine", [])
    rpc(anvil.url, "evm_mine", [])
    result = indexer.run_once()
    assert result.reorgs == 1
    head = w3.eth.block_number
    assert indexer.cursor() == (head, w3.eth.get_block(head)["hash"].to_0x_hex())
    d = _history(engine, core.address)
    assert (d.debtor_on_time, d.debtor_late, d.debtor_payables) == (0, 0, "10000")

    # repaid again, on the new branch, after its due date: now a late one
    w3.provider.make_request("evm_increaseTime", [12 * DAY])  # type: ignore[arg-type]
    paid = platform.ledger.repay(core, rid, 10_000)
    indexer.run_once()
    d = _history(engine, core.address)
    due = platform.ledger.receivable(rid).due_date
    assert (d.debtor_on_time, d.debtor_late) == (0, 1)
    assert d.debtor_worst_days == _block_time(w3, paid) // DAY - due // DAY >= 2


class HeaderTimes(Indexer):
    """An indexer on a node whose logs carry no ``blockTimestamp`` (older clients): its times come
    from the blocks' headers, asked in JSON-RPC batches."""

    def _get_logs(self, frm: int, to: int) -> list[LogReceipt]:
        logs = super()._get_logs(frm, to)
        return [LogReceipt(**{k: v for k, v in e.items() if k != "blockTimestamp"}) for e in logs]  # type: ignore[typeddict-item]


def test_block_times_come_from_headers_when_logs_carry_none(
    w3: Web3,
    sender: Sender,
    platform: Platform,
    deployed: DeployResult,
    artifacts: dict[str, Artifact],
    engine: Engine,
    monkeypatch: Any,
) -> None:
    world = build_world(w3, sender, platform, cores=1, suppliers=1, banks=1)
    for _ in range(3):
        w3.provider.make_request("evm_increaseTime", [DAY])  # type: ignore[arg-type]
        world.register(world.suppliers[0], world.cores[0], 1_000)
    params: FilterParams = {"fromBlock": 0, "toBlock": "latest"}
    assert all("blockTimestamp" in dict(e) for e in w3.eth.get_logs(params)), "Anvil gives the field"
    monkeypatch.setattr("readmodel.indexer.HEADER_BATCH", 4)  # several batches
    indexer = HeaderTimes(w3, engine, deployed.addresses, abis_of(artifacts), batch_blocks=1000)
    indexer.run_once()
    with Session(engine) as s:
        events = s.exec(select(RmEvent)).all()
    assert len({e.block_number for e in events}) > 4
    for e in events:
        assert e.block_timestamp == w3.eth.get_block(e.block_number)["timestamp"]
