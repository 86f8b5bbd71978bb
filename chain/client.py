"""Connecting to an EVM JSON-RPC node and sending transactions from a local key.

Works with any EVM node: Anvil locally; in production a permissioned network such as
Hyperledger Besu (QBFT) or GoQuorum, where gas is often free (``gas_price=0``) and blocks carry
long ``extraData`` (hence the POA middleware). Nothing here uses Anvil-only RPC methods.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    TimeExhausted,
    TransactionNotFound,
    Web3RPCError,
)
from web3.middleware import ExtraDataToPOAMiddleware
from web3.types import TxParams, TxReceipt

from chain.abi import DecodedRevert, ErrorDecoder
from chain.settings import ChainSettings
from chain.transport import KeepAliveTransport, usable_for

#: seconds between looks at a transaction that is not mined yet, and how long it must have waited behind
#: a hole in its account's nonces before the hole is filled (an allocation on its way takes milliseconds)
STALL_CHECK = 5.0
HOLE_AGE = 10.0
#: the first and the longest pause between two asks for a receipt
RECEIPT_POLL_MIN = 0.002
RECEIPT_POLL_MAX = 0.25
#: how long a base fee read from the latest block is used for new transactions (``Sender._fees``)
FEES_MAX_AGE = 1.0


class ChainUnavailableError(RuntimeError):
    """The JSON-RPC endpoint does not answer."""


class TransactionReverted(RuntimeError):
    """A transaction (or its gas estimate) reverted."""

    def __init__(self, revert: DecodedRevert, tx_hash: str | None = None) -> None:
        super().__init__(f"reverted: {revert}" + (f" (tx {tx_hash})" if tx_hash else ""))
        self.revert = revert
        self.tx_hash = tx_hash


def connect(url: str, timeout: float = 10.0) -> Web3:
    """A Web3 for ``url`` that works with Anvil and with POA/QBFT networks."""
    provider = Web3.HTTPProvider(url, request_kwargs={"timeout": timeout})
    if usable_for(url):  # http.client on kept-alive connections instead of requests (chain.transport)
        provider._request_session_manager = KeepAliveTransport()  # type: ignore[assignment]
    # cache what cannot change for a connection (eth_chainId, asked before every call by the
    # validation middleware): one JSON-RPC round trip per contract call instead of four
    provider.cache_allowed_requests = True
    w3 = Web3(provider)
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    try:
        w3.eth.chain_id  # noqa: B018 - a cheap liveness probe
    except Exception as exc:
        raise ChainUnavailableError(f"cannot reach the JSON-RPC endpoint {url}: {exc}") from exc
    return w3


def connect_settings(settings: ChainSettings) -> Web3:
    return connect(settings.effective_rpc_url, settings.rpc_timeout)


def _revert_data(exc: Exception) -> str | None:
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str):
        return data
    return None


class Sender:
    """Signs and sends transactions from one local key, with an in-process nonce counter.

    The counter is taken under a lock, so threads never share a nonce (measured on these
    machines: 16 of 20 threads collided when each asked the node for the "pending" nonce).
    """

    def __init__(
        self, w3: Web3, key: str, *, gas_price: int | None = None, decoder: ErrorDecoder | None = None
    ):
        self.w3 = w3
        self.account: LocalAccount = Account.from_key(key)
        self.gas_price = gas_price
        self.decoder = decoder or ErrorDecoder()
        self.chain_id = w3.eth.chain_id
        self._lock = threading.Lock()
        self._nonce: int | None = None
        self._fees_cache: tuple[float, dict[str, int]] | None = None

    @property
    def address(self) -> str:
        return str(self.account.address)

    def _next_nonce(self) -> int:
        with self._lock:
            if self._nonce is None:
                self._nonce = self.w3.eth.get_transaction_count(self.account.address, "pending")
            nonce = self._nonce
            self._nonce += 1
            return nonce

    def resync_nonce(self) -> None:
        with self._lock:
            self._nonce = None

    def _release_nonce(self, nonce: int) -> None:
        """``nonce`` was taken but never reached the node: give it back, leaving no gap."""
        with self._lock:
            if self._nonce == nonce + 1:
                self._nonce = nonce
            else:  # later nonces are out already: ask the node again next time
                self._nonce = None

    def _await_receipt(self, tx_hash: Any, nonce: int, timeout: float) -> TxReceipt:
        """The receipt: asked at once (a node that mines on arrival has it), then at growing intervals
        up to ``RECEIPT_POLL_MAX`` (a QBFT block every few seconds needs no more); no fixed sleep. Every
        ``STALL_CHECK`` seconds it looks whether the transaction waits behind a hole in this account's
        nonces (a nonce taken by a transaction that never reached the node): after ``HOLE_AGE`` seconds
        such holes are filled, so that a wait never runs out for nothing."""
        started = time.monotonic()
        next_stall_check = started + STALL_CHECK
        pause = RECEIPT_POLL_MIN
        while True:
            try:
                return self.w3.eth.get_transaction_receipt(tx_hash)
            except TransactionNotFound:
                pass
            now = time.monotonic()
            if now - started >= timeout:
                raise TimeExhausted(
                    f"transaction {HexBytes(tx_hash).to_0x_hex()} not mined in {timeout:.0f} s"
                )
            if now >= next_stall_check:
                self.fill_holes_below(nonce, now - started)
                next_stall_check = now + STALL_CHECK
            time.sleep(pause)
            pause = min(pause * 2, RECEIPT_POLL_MAX)

    def fill_holes_below(self, nonce: int, waited: float) -> None:
        """The transaction with ``nonce`` has waited ``waited`` seconds: fill the holes below it."""
        if waited < HOLE_AGE:
            return
        for _ in range(64):  # bounded: the holes between the node's count and ``nonce``
            missing = self.w3.eth.get_transaction_count(self.account.address, "pending")
            if missing >= nonce:
                return
            try:
                self.fill_nonce(missing)
            except Web3RPCError:  # taken meanwhile: look again
                continue

    def fill_nonce(self, nonce: int, *, timeout: float = 30.0) -> TxReceipt:
        """Send a transaction that does nothing (no value, to itself) with ``nonce``: it fills a hole that
        a transaction which never reached the node left in this account's nonces, so that the ones
        after it, waiting in the node's pool, can run. Moves no value."""
        params: dict[str, Any] = {
            "from": self.account.address,
            "to": self.account.address,
            "value": 0,
            "gas": 21_000,
            "nonce": nonce,
            "chainId": self.chain_id,
            **self._fees(),
        }
        signed = self.account.sign_transaction(params)
        self._on_signed(signed.hash.to_0x_hex(), nonce)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)
        self._on_mined(receipt)
        return receipt

    def _node_lacks(self, tx_hash: bytes) -> bool:
        """True only if the node answers that it does not know ``tx_hash``."""
        try:
            self.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            return True
        except Exception:  # the node cannot say: not known to be absent
            return False
        return False

    # hooks of a journaling sender (``api.nonces.DbNonceSender``); nothing to do here
    def _before_send(self) -> None:
        """A transaction is about to take a nonce."""

    def _on_signed(self, tx_hash: str, nonce: int) -> None:
        """``tx_hash`` (with ``nonce``) is signed and about to be sent."""

    def _on_unsent(self, tx_hash: str) -> None:
        """``tx_hash`` did not reach the node."""

    def _on_mined(self, receipt: TxReceipt) -> None:
        """``receipt``'s transaction was mined (successfully or not)."""

    def _fees(self) -> dict[str, int]:
        """The fee fields: the fixed gas price if one is set (a permissioned network's 0), else twice the
        latest base fee plus a tip, read at most once every ``FEES_MAX_AGE`` seconds (a base fee moves
        by at most 12.5 % a block; twice it covers several full blocks)."""
        if self.gas_price is not None:
            return {"gasPrice": self.gas_price}
        now = time.monotonic()
        cached = self._fees_cache
        if cached is not None and now - cached[0] < FEES_MAX_AGE:
            return dict(cached[1])
        base = self.w3.eth.get_block("latest").get("baseFeePerGas")
        if base is None:  # pre-London network: legacy pricing
            fees = {"gasPrice": int(self.w3.eth.gas_price)}
        else:
            tip = 1_000_000_000
            fees = {"maxFeePerGas": 2 * int(base) + tip, "maxPriorityFeePerGas": tip}
        self._fees_cache = (now, fees)
        return dict(fees)

    def send(self, tx: TxParams, *, timeout: float = 120.0) -> TxReceipt:
        """Estimate, sign, send and (by default) await the receipt; raise TransactionReverted on revert."""
        params: dict[str, Any] = dict(tx)
        params.setdefault("from", self.account.address)
        params["chainId"] = self.chain_id
        params.update(self._fees())
        if "gas" not in params:
            try:
                estimate = self.w3.eth.estimate_gas(params)  # type: ignore[arg-type]
            except (ContractCustomError, ContractLogicError, Web3RPCError) as exc:
                raise TransactionReverted(self.decoder.decode(_revert_data(exc))) from exc
            params["gas"] = estimate + estimate // 5 + 10_000
        self._before_send()
        for attempt in range(2):
            nonce = params["nonce"] = self._next_nonce()
            signed = self.account.sign_transaction(params)
            try:
                self._on_signed(signed.hash.to_0x_hex(), nonce)
            except BaseException:  # not journaled, so not sent: the nonce goes back
                self._release_nonce(nonce)
                raise
            try:
                tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
                break
            except (Web3RPCError, requests.exceptions.ConnectionError) as exc:
                # the node refused it, or was never reached: this transaction is not out there
                self._fees_cache = None  # (a fee below a base fee that rose: read it again next time)
                self._on_unsent(signed.hash.to_0x_hex())
                if "nonce too low" in str(exc).lower() and attempt == 0:
                    self.resync_nonce()  # another tool sent from this key: catch up, once
                    continue
                self._release_nonce(nonce)
                raise
            except Exception:
                # unknown (a timeout): ask the node whether it arrived; if it cannot say, the nonce
                # stays taken, the journal says "sent", and recovery asks the chain later
                if self._node_lacks(signed.hash):
                    self._on_unsent(signed.hash.to_0x_hex())
                    self._release_nonce(nonce)
                raise
        receipt = self._await_receipt(tx_hash, nonce, timeout)
        self._on_mined(receipt)
        if receipt["status"] != 1:
            raise TransactionReverted(self._replay_revert(params, receipt), tx_hash.to_0x_hex())
        return receipt

    def _replay_revert(self, params: dict[str, Any], receipt: TxReceipt) -> DecodedRevert:
        call: dict[str, Any] = {k: params[k] for k in ("from", "to", "data", "value") if k in params}
        return _replay(self.w3, self.decoder, call, receipt)


def replay_revert(w3: Web3, decoder: ErrorDecoder, receipt: TxReceipt) -> DecodedRevert:
    """Why the mined transaction of ``receipt`` reverted: its call replayed on the block before."""
    tx = w3.eth.get_transaction(receipt["transactionHash"])
    call: dict[str, Any] = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "value": tx["value"]}
    return _replay(w3, decoder, call, receipt)


def _replay(w3: Web3, decoder: ErrorDecoder, call: dict[str, Any], receipt: TxReceipt) -> DecodedRevert:
    try:
        w3.eth.call(call, receipt["blockNumber"] - 1)  # type: ignore[arg-type]
    except (ContractCustomError, ContractLogicError, Web3RPCError) as exc:
        return decoder.decode(_revert_data(exc))
    return DecodedRevert("UnknownRevert", {}, "0x")
