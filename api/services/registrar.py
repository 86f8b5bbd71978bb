"""Concurrent tokenizations registered together: one ``registerInvoices`` for the invoices that wait.

Each ``POST /bundles`` is verified, claimed and stored by its own request thread, which then hands its
invoice to the process's :class:`Registrar` and waits for the outcome. The registrar has no thread of
its own: the first request that finds it idle sends (it *leads*); requests that arrive meanwhile queue.
When the leader's transaction is mined it wakes the requests it served, and hands the lead to the first
one still queued, which sends everything queued by then in one transaction (at most the ledger's batch
size). Under load a transaction's wait is shared by everything that arrived during the previous one; a
request alone is sent at once, as ``registerInvoice`` (no waiting for company).

What each request learns is what its own transaction would have told it:

- registered: its receivable id and the receipt;
- the ledger refuses the batch (one invoice over its debtor's credit line, say): nothing happened on
  chain, so each invoice is sent again on its own, and only the refused ones fail, with their own error;
- unknown (the node went away, a timeout): every request of the batch gets the error; the journal
  names the transaction as each request's (``api.journal.on_behalf_of``), so each request's recovery,
  a lost-block release, and its reads find it.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from web3.types import TxReceipt

from api import journal
from api.errors import ApiError
from api.services.txerrors import on_chain
from api.state import AppState
from chain.contracts import InvoiceTerms

__all__ = ["Registrar", "register", "registrar_of"]


@dataclass(eq=False)
class _Job:
    terms: InvoiceTerms
    scope: journal.Scope | None
    wake: threading.Event = field(default_factory=threading.Event)
    finished: bool = False
    result: tuple[int, TxReceipt] | None = None
    error: BaseException | None = None

    def finish(self, result: tuple[int, TxReceipt] | None, error: BaseException | None) -> None:
        self.result, self.error, self.finished = result, error, True

    def outcome(self) -> tuple[int, TxReceipt]:
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


class Registrar:
    """The verifier's registrations in this process, coalesced (see the module)."""

    def __init__(self, state: AppState) -> None:
        self._state = state
        self._lock = threading.Lock()
        self._queue: deque[_Job] = deque()
        self._busy = False
        #: transactions sent and invoices they registered, for the bench and the tests
        self.transactions = 0
        self.registered = 0

    def register(self, terms: InvoiceTerms) -> tuple[int, TxReceipt]:
        """Register one invoice; its receivable id and the receipt of the transaction that did it.
        Raises what ``on_chain`` raises for a transaction of this invoice alone."""
        job = _Job(terms, journal.current())
        with self._lock:
            self._queue.append(job)
            lead = not self._busy
            self._busy = True
        if not lead:
            job.wake.wait()  # served by a leader, or woken to lead
        if not job.finished:
            try:
                self._lead()
            finally:
                self._hand_over()
        return job.outcome()

    def _lead(self) -> None:
        """Send what is queued (this thread's job first) in one transaction, and wake those it served."""
        batch: list[_Job] = []
        try:
            size = self._state.chain().platform.ledger.max_batch()
            with self._lock:
                batch = [self._queue.popleft() for _ in range(min(size, len(self._queue)))]
            self._send(batch)
        except BaseException as exc:  # whatever it was, each waiting request (this one too) learns it
            if not batch:  # failed before taking any: this thread's own job (first in the queue) alone
                with self._lock:
                    batch = [self._queue.popleft()]
            for job in batch:
                if not job.finished:
                    job.finish(None, exc)
        finally:
            for job in batch:
                job.wake.set()

    def hold(self) -> None:
        """Queue every registration until ``release`` (as if a transaction were on its way): for tests
        that need several requests in one transaction whatever the timing."""
        with self._lock:
            self._busy = True

    def release(self) -> None:
        """End a ``hold``: the first queued registration leads, with everything queued by then."""
        self._hand_over()

    def queued(self) -> int:
        with self._lock:
            return len(self._queue)

    def _hand_over(self) -> None:
        with self._lock:
            if self._queue:
                self._queue[0].wake.set()  # it leads next (the registrar stays busy)
            else:
                self._busy = False

    def _send(self, batch: list[_Job]) -> None:
        chain = self._state.chain()
        ledger, verifier = chain.platform.ledger, chain.verifier
        scopes = [job.scope for job in batch if job.scope is not None]
        self.transactions += 1
        if len(batch) == 1:
            (job,) = batch
            with journal.on_behalf_of(scopes):
                job.finish(_alone(lambda: ledger.register_invoice(verifier, **vars(job.terms))), None)
            self.registered += 1
            return
        try:
            with journal.on_behalf_of(scopes):
                ids, receipt = on_chain(lambda: ledger.register_invoices(verifier, [j.terms for j in batch]))
        except ApiError as exc:
            if exc.status >= 500:
                raise
            self._one_by_one(batch, exc)
            return
        for job, rid in zip(batch, ids, strict=True):
            job.finish((rid, receipt), None)
        self.registered += len(batch)

    def _one_by_one(self, batch: list[_Job], refused: ApiError) -> None:
        """The ledger refused the batch as a whole: nothing of it happened; each invoice is sent alone."""
        mined = _tx_hash_of(refused)
        if mined is not None:  # reverted when mined: not any request's transaction
            journal.unlink(self._state.engine, mined)
        chain = self._state.chain()
        ledger, verifier = chain.platform.ledger, chain.verifier
        for job in batch:
            self.transactions += 1
            try:
                with journal.on_behalf_of([job.scope] if job.scope is not None else []):
                    job.finish(_alone(lambda j=job: ledger.register_invoice(verifier, **vars(j.terms))), None)
                self.registered += 1
            except ApiError as exc:
                if exc.status >= 500:
                    raise
                job.finish(None, exc)


def _alone(action: Any) -> tuple[int, TxReceipt]:
    rid, receipt = on_chain(action)
    return int(rid), receipt


def _tx_hash_of(error: ApiError) -> str | None:
    """The mined transaction of a revert (``revert_to_api_error``'s details); none if refused before
    it was sent (by the gas estimate)."""
    details = error.details
    found = details.get("tx_hash") if isinstance(details, dict) else None
    return found if isinstance(found, str) else None


_registrars_lock = threading.Lock()


def registrar_of(state: AppState) -> Registrar:
    """``state``'s registrar (one per app state, made on first use)."""
    with _registrars_lock:
        registrar = state.services.get("registrar")
        if registrar is None:
            registrar = state.services["registrar"] = Registrar(state)
    assert isinstance(registrar, Registrar)
    return registrar


def register(state: AppState, terms: InvoiceTerms) -> tuple[int, TxReceipt]:
    """Register ``terms`` through ``state``'s registrar."""
    return registrar_of(state).register(terms)
