"""Nonces shared through the database, for several gateway processes sending from one account.

Each allocation is one atomic ``UPDATE ... RETURNING`` on the account's row (a row lock on
PostgreSQL, the write lock on SQLite), so two processes never get the same nonce. A nonce whose
transaction never reached the node is parked in ``tx_nonce_gap`` and handed out again first, so
no gap is left behind.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from web3 import Web3

from chain.client import Sender


class DbNonceSender(Sender):
    """A ``Sender`` whose nonces come from the database (safe across processes and threads)."""

    def __init__(self, w3: Web3, key: str, engine: Engine, **kwargs: Any) -> None:
        super().__init__(w3, key, **kwargs)
        self.engine = engine

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
