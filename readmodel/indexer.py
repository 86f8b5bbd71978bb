"""The event indexer: projects the platform contracts' events into the read model (``readmodel.projector``).

Plain JSON-RPC only (``eth_blockNumber``, ``eth_getLogs``, ``eth_getBlockByNumber``): works with any
EVM node. One batch of blocks is one database transaction — raw events, projections, block hashes and
the cursor commit together, so a crash at any point leaves the read model at the end of the last
committed batch and a restart continues from there (exactly once). ``rm_event`` is additionally
UNIQUE on (transaction hash, log index).

Reorganizations are noticed by block hash: before every batch the stored hash of the cursor block is
compared with the chain's; on a mismatch the indexer walks back through ``rm_block`` to the highest
block whose hash still matches (the fork point), deletes the events and blocks above it, rebuilds the
projections from the remaining ``rm_event`` rows and continues from the fork point. If no retained
block matches (a reorg deeper than the ``keep_blocks`` window, or a different chain), it starts over
from ``start_block``. See docs/indexer.md.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hexbytes import HexBytes
from sqlalchemy import Engine, func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select
from web3 import Web3
from web3.exceptions import BlockNotFound, Web3RPCError
from web3.types import FilterParams, LogReceipt

from chain.abi import EventSpec, checksum, event_specs
from chain.plan import ARTIFACT_OF, CONTRACT_NAMES
from readmodel import projector
from readmodel.projector import EventRecord
from readmodel.tables import RmBlock, RmCursor, RmEvent, event_subject

log = logging.getLogger(__name__)

#: Block headers asked in one JSON-RPC batch request (Besu's default limit is 1,024).
HEADER_BATCH = 100

#: Deployment names of the plan whose events are indexed: all of them.
CONTRACTS = CONTRACT_NAMES


# ------------------------------------------------------------------------------------------ decoding


class EventDecoder:
    """Decodes logs of known contracts by (address, topic0) with the contracts' ABIs."""

    def __init__(self, addresses: dict[str, str], abis: dict[str, list[dict[str, Any]]]) -> None:
        # events are named by compiled contract: every settlement token's are ("SettlementToken", ...)
        self.names: dict[str, str] = {checksum(a): ARTIFACT_OF.get(n, n) for n, a in addresses.items()}
        self._events: dict[tuple[str, bytes], EventSpec] = {
            (checksum(address), topic): spec
            for name, address in addresses.items()
            for topic, spec in event_specs(abis[name]).items()
        }

    def decode(self, entry: LogReceipt) -> tuple[str, str, dict[str, Any]]:
        """(contract name, event name, args); unknown logs become event ``"Unknown"`` with raw topics."""
        address = checksum(entry["address"])
        contract = self.names.get(address, address)
        topics = [bytes(t) for t in entry["topics"]]
        spec = self._events.get((address, topics[0])) if topics else None
        data = HexBytes(entry["data"])
        raw = {"topics": ["0x" + t.hex() for t in topics], "data": data.to_0x_hex()}
        if spec is None:
            return contract, "Unknown", raw
        try:
            return contract, spec.name, spec.decode(topics, bytes(data))
        except Exception:  # a log that does not match its ABI: keep it raw rather than lose it
            return contract, "Unknown", raw


# ------------------------------------------------------------------------------------------ indexer


@dataclass
class IndexResult:
    """What one ``run_once`` did."""

    first_block: int  # first block read (cursor + 1 at the start)
    cursor: int  # cursor block number at the end
    head: int  # the head it indexed to (latest - confirmations)
    batches: int = 0
    events: int = 0  # new rows in rm_event
    duplicates: int = 0  # logs skipped because already stored
    reorgs: int = 0
    orphaned: int = 0  # events removed by reorganizations
    retries: int = 0  # batches read again (the chain or another writer moved meanwhile)
    seconds: float = 0.0


class ChainMovedError(RuntimeError):
    """The chain (or another writer of the same read model) kept changing under a batch."""


class _Retry(Exception):
    """The chain moved under a batch (or another writer did): read it again."""


class Indexer:
    """Indexes the events of the four platform contracts into the read model.

    One indexer (one ``name``) writes one read model. ``run_once`` may be called from several threads
    (calls on one object are serialized); a second writer elsewhere (another object or process on the
    same database) fails its batch on the cursor check or the unique key, rolls it back and retries.
    """

    def __init__(
        self,
        w3: Web3,
        engine: Engine,
        addresses: dict[str, str],
        abis: dict[str, list[dict[str, Any]]],
        name: str = "default",
        confirmations: int = 0,
        batch_blocks: int = 500,
        *,
        start_block: int = 0,
        keep_blocks: int = 128,
        max_retries: int = 5,
    ) -> None:
        if batch_blocks < 1 or confirmations < 0 or keep_blocks < 1:
            raise ValueError("batch_blocks and keep_blocks must be >= 1, confirmations >= 0")
        self.w3 = w3
        self.engine = engine
        self.name = name
        self.confirmations = confirmations
        self.batch_blocks = batch_blocks
        self.start_block = start_block
        self.keep_blocks = keep_blocks
        self.max_retries = max_retries
        known = {n: a for n, a in addresses.items() if n in abis}
        self.addresses = [Web3.to_checksum_address(a) for a in known.values()]
        self.decoder = EventDecoder(known, abis)
        self._lock = threading.Lock()

    # -------------------------------------------------------------- state

    def cursor(self) -> tuple[int, str | None]:
        """(last processed block, its hash); (start_block - 1, None) before the first batch."""
        with Session(self.engine) as s:
            row = s.get(RmCursor, self.name)
            if row is None:
                return self.start_block - 1, None
            return row.block_number, row.block_hash

    def _hash_at(self, number: int) -> tuple[str, str] | None:
        """(hash, parent hash) of the chain's block ``number``, None if the chain has no such block."""
        header = self._header(number)
        return None if header is None else (header[0], header[1])

    def _header(self, number: int) -> tuple[str, str, int] | None:
        """(hash, parent hash, timestamp) of the chain's block ``number``, None if there is none."""
        if number < 0:
            return None
        try:
            block = self.w3.eth.get_block(number)
        except BlockNotFound:
            return None
        return (
            HexBytes(block["hash"]).to_0x_hex(),
            HexBytes(block["parentHash"]).to_0x_hex(),
            int(block["timestamp"]),
        )

    # -------------------------------------------------------------- main loop

    def run_once(self, max_batches: int | None = None, until: int | None = None) -> IndexResult:
        """Index from the cursor to the head (minus ``confirmations``), handling reorganizations.

        ``max_batches`` stops early, ``until`` at that block if the head is further (the rest is picked
        up by the next call).
        """
        with self._lock:  # one batch at a time per object (a request thread and a background thread)
            return self._run(max_batches, until)

    def _run(self, max_batches: int | None, until: int | None = None) -> IndexResult:
        t0 = time.perf_counter()
        number, _ = self.cursor()
        head = self.w3.eth.block_number - self.confirmations
        if until is not None:
            head = min(head, until)
        result = IndexResult(first_block=number + 1, cursor=number, head=head)
        retries = 0
        while max_batches is None or result.batches < max_batches:
            number, stored_hash = self.cursor()
            if stored_hash is not None:
                chain = self._hash_at(number)
                if chain is None or chain[0] != stored_hash:
                    result.orphaned += self._handle_reorg()
                    result.reorgs += 1
                    continue
            if number >= head:
                break
            to = min(head, number + self.batch_blocks)
            try:
                new, dup = self._batch(number, stored_hash, to)
            except _Retry as exc:
                retries += 1
                result.retries += 1
                log.info("indexer %s: %s; reading the batch again", self.name, exc)
                if retries > self.max_retries:
                    raise ChainMovedError(f"indexer {self.name}: {exc} ({retries} attempts)") from exc
                # the head may have moved too (a shorter chain after a reorganization)
                head = result.head = min(head, self.w3.eth.block_number - self.confirmations)
                continue
            retries = 0
            result.batches += 1
            result.events += new
            result.duplicates += dup
        result.cursor = self.cursor()[0]
        result.seconds = time.perf_counter() - t0
        return result

    def run_forever(self, stop_event: threading.Event, poll_interval: float = 1.0) -> None:
        """Call ``run_once`` until ``stop_event`` is set; errors are logged and retried."""
        while not stop_event.is_set():
            try:
                result = self.run_once()
                if result.events or result.reorgs:
                    log.info("indexer %s: %s", self.name, result)
            except Exception:
                log.exception("indexer %s: run failed; retrying in %.1fs", self.name, poll_interval)
            stop_event.wait(poll_interval)

    # -------------------------------------------------------------- one batch

    def _get_logs(self, frm: int, to: int) -> list[LogReceipt]:
        params: FilterParams = {"fromBlock": frm, "toBlock": to, "address": self.addresses}
        try:
            return list(self.w3.eth.get_logs(params))
        except Web3RPCError:
            if to == frm:
                raise
            # providers limit the range or the result size: split the range in two
            mid = (frm + to) // 2
            return self._get_logs(frm, mid) + self._get_logs(mid + 1, to)

    def _batch(self, number: int, stored_hash: str | None, to: int) -> tuple[int, int]:
        before = self._hash_at(to)
        logs = self._get_logs(number + 1, to)
        header = self._header(to)
        after = None if header is None else (header[0], header[1])
        if before is None or after is None or header is None or before != after:
            raise _Retry(f"block {to} changed while reading logs")
        if stored_hash is not None and (self._hash_at(number) or ("",))[0] != stored_hash:
            raise _Retry(f"block {number} (the cursor) was replaced while reading logs")
        blocks: dict[int, tuple[str, str | None]] = {to: after}
        for entry in logs:
            bn, bh = int(entry["blockNumber"]), HexBytes(entry["blockHash"]).to_0x_hex()
            known = blocks.setdefault(bn, (bh, None))
            if known[0] != bh:
                raise _Retry(f"logs of block {bn} from two different blocks")
        logs.sort(key=lambda e: (int(e["blockNumber"]), int(e["logIndex"])))
        times = self._block_times(logs, blocks)
        try:
            return self._store(number, stored_hash, to, header, logs, blocks, times)
        except IntegrityError as exc:  # another writer stored the same events or blocks first
            raise _Retry(f"another writer stored blocks {number + 1}..{to} meanwhile") from exc

    def _block_times(
        self, logs: list[LogReceipt], blocks: dict[int, tuple[str, str | None]]
    ) -> dict[int, int]:
        """The timestamp of every block with logs: the logs' ``blockTimestamp`` where the node gives it
        (Anvil, recent execution clients), else the headers, asked in JSON-RPC batches of
        :data:`HEADER_BATCH` (standard JSON-RPC, as a node without the field needs); each header's hash
        must be the logs' block hash."""
        times: dict[int, int] = {}
        for entry in logs:
            raw: object = dict(entry).get("blockTimestamp")  # not in web3's LogReceipt yet
            if not isinstance(raw, (str, int)):
                continue
            bn, value = int(entry["blockNumber"]), int(raw, 16) if isinstance(raw, str) else raw
            if times.setdefault(bn, value) != value:
                raise _Retry(f"logs of block {bn} with two different timestamps")
        missing = sorted(bn for bn in {int(e["blockNumber"]) for e in logs} if bn not in times)
        for i in range(0, len(missing), HEADER_BATCH):
            numbers = missing[i : i + HEADER_BATCH]
            try:
                with self.w3.batch_requests() as batch:
                    for bn in numbers:
                        batch.add(self.w3.eth.get_block(bn))
                    headers = batch.execute()
            except (BlockNotFound, Web3RPCError) as exc:
                raise _Retry(f"a block of {numbers[0]}..{numbers[-1]} is gone: {exc}") from exc
            block: Any
            for bn, block in zip(numbers, headers, strict=True):
                if HexBytes(block["hash"]).to_0x_hex() != blocks[bn][0]:
                    raise _Retry(f"block {bn} changed while reading its header")
                times[bn] = int(block["timestamp"])
        return times

    def _store(
        self,
        number: int,
        stored_hash: str | None,
        to: int,
        after: tuple[str, str, int],
        logs: list[LogReceipt],
        blocks: dict[int, tuple[str, str | None]],
        times: dict[int, int],
    ) -> tuple[int, int]:
        """The batch's one database transaction: events, projections, blocks, cursor."""
        dup = 0
        rows: list[dict[str, Any]] = []
        with Session(self.engine) as s:
            existing = {
                (tx, ix)
                for tx, ix in s.exec(
                    select(RmEvent.tx_hash, RmEvent.log_index).where(
                        col(RmEvent.block_number) > number, col(RmEvent.block_number) <= to
                    )
                ).all()
            }
            for entry in logs:
                tx_hash = HexBytes(entry["transactionHash"]).to_0x_hex()
                log_index = int(entry["logIndex"])
                if (tx_hash, log_index) in existing:
                    dup += 1
                    continue
                existing.add((tx_hash, log_index))
                contract, event, args = self.decoder.decode(entry)
                record = EventRecord(
                    address=checksum(entry["address"]),
                    contract=contract,
                    event=event,
                    args=args,
                    block_number=int(entry["blockNumber"]),
                    tx_hash=tx_hash,
                    log_index=log_index,
                    block_timestamp=times[int(entry["blockNumber"])],
                )
                receivable_id, offer_id = event_subject(args)
                if event == "OfferCancelledBy" and offer_id is not None:  # about its offer's receivable
                    receivable_id = projector.offer_receivable(s, offer_id)
                rows.append(
                    {
                        "block_number": record.block_number,
                        "block_hash": HexBytes(entry["blockHash"]).to_0x_hex(),
                        "tx_hash": tx_hash,
                        "tx_index": int(entry["transactionIndex"]),
                        "log_index": log_index,
                        "block_timestamp": record.block_timestamp,
                        "address": record.address,
                        "contract": contract,
                        "event": event,
                        "args": json.dumps(args, separators=(",", ":")),
                        "receivable_id": receivable_id,
                        "offer_id": offer_id,
                    }
                )
                projector.apply_event(s, record)
            if rows:  # one multi-row INSERT (the args dicts are JSON-plain: replay sees the same values)
                s.connection().execute(insert(RmEvent), rows)
            new = len(rows)
            stored_blocks = {
                b.number: b
                for b in s.exec(
                    select(RmBlock).where(col(RmBlock.number) > number, col(RmBlock.number) <= to)
                ).all()
            }
            for bn, (bh, parent) in blocks.items():
                block = stored_blocks.get(bn)
                if block is None:
                    s.add(RmBlock(number=bn, hash=bh, parent_hash=parent))
                else:
                    block.hash, block.parent_hash = bh, parent or block.parent_hash
            s.exec(delete(RmBlock).where(col(RmBlock.number) < to - self.keep_blocks))
            self._advance(s, number, stored_hash, to, after[0], after[2])
            s.commit()
        return new, dup

    def _advance(
        self, s: Session, number: int, stored_hash: str | None, to: int, to_hash: str, to_time: int
    ) -> None:
        """Move the cursor from (number, stored_hash) to (to, to_hash); _Retry if someone else moved it."""
        if s.get(RmCursor, self.name) is None:
            if stored_hash is not None:
                raise _Retry("cursor vanished")
            s.add(RmCursor(name=self.name, block_number=to, block_hash=to_hash, block_timestamp=to_time))
            return
        moved = s.exec(
            update(RmCursor)
            .where(col(RmCursor.name) == self.name, col(RmCursor.block_number) == number)
            .values(block_number=to, block_hash=to_hash, block_timestamp=to_time)
        )
        if moved.rowcount != 1:
            raise _Retry("the cursor was moved by another writer")

    # -------------------------------------------------------------- reorganizations

    def find_fork_point(self) -> tuple[int, str | None]:
        """The highest retained block whose hash the chain still has, else (start_block - 1, None)."""
        with Session(self.engine) as s:
            blocks: Sequence[RmBlock] = s.exec(select(RmBlock).order_by(col(RmBlock.number).desc())).all()
        for b in blocks:
            chain = self._hash_at(b.number)
            if chain is not None and chain[0] == b.hash:
                return b.number, b.hash
        return self.start_block - 1, None

    def _handle_reorg(self) -> int:
        fork, fork_hash = self.find_fork_point()
        number, _ = self.cursor()
        log.warning("indexer %s: reorganization below block %d, fork point %d", self.name, number, fork)
        return self.rollback_to(fork, fork_hash)

    def rollback_to(self, fork: int, fork_hash: str | None) -> int:
        """Delete events and blocks above ``fork``, rebuild the projections, set the cursor to ``fork``.

        Returns the number of events removed. One transaction.
        """
        with Session(self.engine) as s:
            orphaned = s.exec(
                select(func.count()).select_from(RmEvent).where(col(RmEvent.block_number) > fork)
            ).one()
            s.exec(delete(RmEvent).where(col(RmEvent.block_number) > fork))
            s.exec(delete(RmBlock).where(col(RmBlock.number) > fork))
            projector.rebuild_projections(s)
            cursor = s.get(RmCursor, self.name)
            if cursor is None:
                cursor = RmCursor(name=self.name, block_number=fork)
            cursor.block_number, cursor.block_hash, cursor.block_timestamp = fork, fork_hash, None
            s.add(cursor)
            s.commit()
        return int(orphaned)


def abis_of(artifacts: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The ABIs of the indexed contracts, by deployment name, from compiled artifacts
    (``chain.compiler.Artifact``)."""
    return {name: artifacts[ARTIFACT_OF[name]].abi for name in CONTRACTS if ARTIFACT_OF[name] in artifacts}
