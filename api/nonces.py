"""Nonces shared through the database, for several gateway processes sending from one account.

Each allocation is one atomic ``UPDATE ... RETURNING`` on the account's row (a row lock on
PostgreSQL, the write lock on SQLite), so two processes never get the same nonce. A nonce whose
transaction never reached the node is parked in ``tx_nonce_gap`` and handed out again first, so
no gap is left behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from web3 import Web3
from web3.types import TxReceipt

from api import journal
from chain.client import Sender


class DbNonceSender(Sender):
    """A ``Sender`` whose nonces come from the database (safe across processes and threads)."""

    def __init__(
        self,
        w3: Web3,
        key: str,
        engine: Engine,
        *,
        durable: Callable[[int], None] | None = None,
        watch: Callable[[], object] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(w3, key, **kwargs)
        self.engine = engine
        #: returns once the given block is safe from a node crash (local tooling only; see AppState)
        self.durable = durable
        #: looks for lost blocks before a nonce is taken (``api.chainwatch.check``)
        self.watch = watch

    def _before_send(self) -> None:
        if self.watch is not None:
            self.watch()

    def fill_holes_below(self, nonce: int, waited: float) -> None:
        if self.watch is not None:  # lost blocks explain a long wait too
            self.watch()
        super().fill_holes_below(nonce, waited)

    def fill_nonce(self, nonce: int, *, timeout: float = 30.0) -> TxReceipt:
        drop_parked_nonce(self.engine, self.address, nonce)  # used now: never handed out again
        with journal.outside_request():
            return super().fill_nonce(nonce, timeout=timeout)

    def _on_signed(self, tx_hash: str, nonce: int) -> None:
        journal.sent(self.engine, tx_hash, self.address, nonce)

    def _on_unsent(self, tx_hash: str) -> None:
        journal.mark(self.engine, tx_hash, journal.UNSENT)

    def _on_mined(self, receipt: TxReceipt) -> None:
        block = int(receipt["blockNumber"])
        journal.mark(
            self.engine,
            receipt["transactionHash"].to_0x_hex(),
            journal.MINED,
            block,
            receipt["blockHash"].to_0x_hex(),
        )
        if self.durable is not None:
            self.durable(block)

    def _ensure_row(self) -> None:
        pending = self.w3.eth.get_transaction_count(self.account.address, "pending")
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    text("INSERT INTO tx_nonce (address, next_nonce) VALUES (:a, :n)"),
                    {"a": self.address, "n": pending},
                )
        except IntegrityError:
            pass  # another process created it

    def _next_nonce(self) -> int:
        for _ in range(2):
            with self.engine.begin() as conn:
                gap = conn.execute(
                    text("SELECT nonce FROM tx_nonce_gap WHERE address = :a ORDER BY nonce LIMIT 1"),
                    {"a": self.address},
                ).scalar()
                if gap is not None:
                    taken = conn.execute(
                        text("DELETE FROM tx_nonce_gap WHERE address = :a AND nonce = :n"),
                        {"a": self.address, "n": gap},
                    ).rowcount
                    if taken == 1:
                        return int(gap)
                row = conn.execute(
                    text(
                        "UPDATE tx_nonce SET next_nonce = next_nonce + 1 WHERE address = :a "
                        "RETURNING next_nonce - 1"
                    ),
                    {"a": self.address},
                ).scalar()
                if row is not None:
                    return int(row)
            self._ensure_row()
        raise RuntimeError(f"cannot allocate a nonce for {self.address}")

    def _release_nonce(self, nonce: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO tx_nonce_gap (address, nonce) VALUES (:a, :n)"),
                {"a": self.address, "n": nonce},
            )

    def resync_nonce(self) -> None:
        """Move the counter up to the node's pending count (after another tool used the key)."""
        pending = self.w3.eth.get_transaction_count(self.account.address, "pending")
        with self.engine.begin() as conn:
            conn.execute(
                text("UPDATE tx_nonce SET next_nonce = :n WHERE address = :a AND next_nonce < :n"),
                {"a": self.address, "n": pending},
            )


def reset_nonces(w3: Web3, engine: Engine, waiting: Callable[[str, int], set[int]]) -> int:
    """After the node lost blocks: set every account's counter to the node's pending count, down as well
    as up, with the parked gaps replaced. ``waiting(address, count)`` names the account's nonces at or
    above ``count`` whose transactions wait in the node's pool (sent after the loss, before it was seen):
    the counter goes past them and the nonces below them are parked, so the next transactions fill the
    holes instead of colliding with them. The number of accounts moved."""
    moved = 0
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT address, next_nonce FROM tx_nonce")).all()
        for address, ours in rows:
            theirs = w3.eth.get_transaction_count(Web3.to_checksum_address(address), "pending")
            queued = waiting(address, theirs)
            top = max([theirs, *(n + 1 for n in queued)])
            if top != ours:
                moved += 1
                conn.execute(
                    text("UPDATE tx_nonce SET next_nonce = :n WHERE address = :a"), {"a": address, "n": top}
                )
            conn.execute(text("DELETE FROM tx_nonce_gap WHERE address = :a"), {"a": address})
            for hole in sorted(set(range(theirs, top)) - queued):
                conn.execute(
                    text("INSERT INTO tx_nonce_gap (address, nonce) VALUES (:a, :n)"),
                    {"a": address, "n": hole},
                )
    return moved


def park_nonce(w3: Web3, engine: Engine, address: str, nonce: int) -> bool:
    """Give back ``nonce`` of a transaction that never ran, if the node has not used it yet (a later
    allocation takes it first, leaving no gap). True if parked."""
    if nonce < w3.eth.get_transaction_count(Web3.to_checksum_address(address), "pending"):
        return False
    try:
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO tx_nonce_gap (address, nonce) VALUES (:a, :n)"), {"a": address, "n": nonce}
            )
    except IntegrityError:
        return False
    return True


def drop_parked_nonce(engine: Engine, address: str, nonce: int) -> None:
    """``nonce`` is about to be used by a filler: it must not be handed out again."""
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM tx_nonce_gap WHERE address = :a AND nonce = :n"), {"a": address, "n": nonce}
        )
