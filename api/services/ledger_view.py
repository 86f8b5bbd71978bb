"""The ledger as bundle verification reads it: the latest block, and views pinned to that block.

Verification asks the ledger three things: its clock (the latest block's timestamp, which the date
rules judge by), the debtor's credit line, and whether the invoice's fingerprint is registered. Through
web3's contract machinery each was a JSON-RPC call costing milliseconds of Python (ABI matching, a
keccak per ABI entry, middleware). Here:

* the latest block (number, hash, timestamp) is one raw ``eth_getBlockByNumber`` per verification;
* ``creditLine`` and ``receivableIdByFingerprint`` are raw ``eth_call`` s pinned to that block's hash
  (EIP-1898), encoded once per process, and their answers are cached *per block hash*: the state of
  a block never changes, so a cached answer is exactly what the node would say for that block. A new
  block (every tokenization mines one) is a new key; answers of older blocks are dropped.

Nothing here is fresher or staler than before: each verification sees the chain as of the latest
block when it starts, as ``AppState.chain_now`` did.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils.abi import function_abi_to_4byte_selector, get_abi_input_types, get_abi_output_types
from web3 import Web3
from web3.types import RPCEndpoint

from api.errors import ApiError
from api.state import AppState

__all__ = ["LedgerView", "ledger_view"]

#: how many blocks' answers are kept (the latest few: concurrent requests may straddle a new block)
_BLOCKS_KEPT = 4


@dataclass(frozen=True)
class _Function:
    address: str
    selector: bytes
    inputs: list[str]
    outputs: list[str]
    names: list[str]

    def data(self, *args: Any) -> str:
        return "0x" + (self.selector + abi_encode(self.inputs, list(args))).hex()


def _function(contract: Any, name: str) -> _Function:
    abi = next(e for e in contract.abi if e.get("type") == "function" and e.get("name") == name)
    return _Function(
        address=str(contract.address),
        selector=function_abi_to_4byte_selector(abi),
        inputs=list(get_abi_input_types(abi)),
        outputs=list(get_abi_output_types(abi)),
        names=[o.get("name", "") for o in abi["outputs"]],
    )


def _rpc(w3: Web3, method: str, params: list[Any]) -> Any:
    """A raw JSON-RPC call through the connection's provider (no middleware, no formatters)."""
    response = w3.provider.make_request(RPCEndpoint(method), params)
    if response.get("error") is not None or response.get("result") is None:
        raise ApiError(503, "CHAIN_UNAVAILABLE", f"The node did not answer {method}.")
    return response["result"]


def _rpc_batch(w3: Web3, calls: list[tuple[RPCEndpoint, Any]]) -> list[str] | None:
    """The results of a JSON-RPC batch request (standard JSON-RPC 2.0; Besu takes batches up to
    ``--rpc-http-max-batch-size``), in order; ``None`` if the provider or the node refuses batches or
    any call failed (the caller then asks one by one)."""
    make_batch = getattr(w3.provider, "make_batch_request", None)
    if make_batch is None:
        return None
    try:
        responses = make_batch(calls)
    except Exception:  # a refused batch is asked again call by call
        return None
    if not isinstance(responses, list) or len(responses) != len(calls):
        return None
    results = [r.get("result") for r in responses]
    if any(
        r.get("error") is not None or not isinstance(v, str) for r, v in zip(responses, results, strict=True)
    ):
        return None
    return [str(v) for v in results]


class LedgerView:
    """The ledger at one block: its clock, and cached pinned reads."""

    def __init__(self, w3: Web3, ledger: Any, block: dict[str, Any], answers: dict[Any, Any]) -> None:
        self._w3 = w3
        self._ledger = ledger
        self.number = int(block["number"], 16)
        self.hash: str = block["hash"]
        self.timestamp = int(block["timestamp"], 16)
        self._answers = answers

    def _call(self, name: str, *args: Any) -> dict[str, Any]:
        key = (name, *args)
        found = self._answers.get(key)
        if found is None:
            fn = _functions(self._ledger)[name]
            raw = _rpc(
                self._w3,
                "eth_call",
                [{"to": fn.address, "data": fn.data(*args)}, {"blockHash": self.hash}],
            )
            values = abi_decode(fn.outputs, bytes.fromhex(raw.removeprefix("0x")))
            found = dict(zip(fn.names, values, strict=True))
            self._answers[key] = found
        return found

    def prefetch_fingerprints(self, fingerprints: list[bytes]) -> None:
        """Ask for every fingerprint not cached yet in one JSON-RPC batch request (a batch of bundles
        verified together: one round trip instead of one per bundle)."""
        fn = _functions(self._ledger)["receivableIdByFingerprint"]
        wanted = sorted({f for f in fingerprints if ("receivableIdByFingerprint", f) not in self._answers})
        if len(wanted) < 2:
            return  # one is asked on its own when the rule needs it
        calls = [
            (RPCEndpoint("eth_call"), [{"to": fn.address, "data": fn.data(f)}, {"blockHash": self.hash}])
            for f in wanted
        ]
        answers = _rpc_batch(self._w3, calls)
        if answers is None:
            return  # the provider takes no batches, or the node refused it: asked one by one later
        for f, raw in zip(wanted, answers, strict=True):
            (value,) = abi_decode(fn.outputs, bytes.fromhex(raw.removeprefix("0x")))
            self._answers[("receivableIdByFingerprint", f)] = {"": value}

    def credit_line(self, debtor: str, token: str) -> tuple[int, int]:
        """``(limit, used)`` of the debtor's credit line in a token (``ReceivableLedger.creditLine``)."""
        line = self._call("creditLine", Web3.to_checksum_address(debtor), Web3.to_checksum_address(token))
        return int(line["limit"]), int(line["used"])

    def fingerprint_registered(self, fingerprint: bytes) -> bool:
        """Whether a receivable carries this fingerprint (``receivableIdByFingerprint`` is not 0)."""
        return int(self._call("receivableIdByFingerprint", fingerprint)[""]) != 0


_FUNCTIONS: dict[str, dict[str, _Function]] = {}
_ANSWERS: dict[tuple[str, str, str], dict[Any, Any]] = {}
_lock = threading.Lock()


def _functions(ledger: Any) -> dict[str, _Function]:
    key = str(ledger.address)
    found = _FUNCTIONS.get(key)
    if found is None:
        found = {n: _function(ledger, n) for n in ("creditLine", "receivableIdByFingerprint")}
        _FUNCTIONS[key] = found
    return found


def ledger_view(state: AppState) -> LedgerView:
    """The ledger at its latest block (one JSON-RPC call), with the answers cached for that block."""
    chain = state.chain()
    block = _rpc(chain.w3, "eth_getBlockByNumber", ["latest", False])
    ledger = chain.platform.ledger.contract
    key = (state.settings.effective_rpc_url, str(ledger.address), str(block["hash"]))
    with _lock:
        answers = _ANSWERS.get(key)
        if answers is None:
            answers = _ANSWERS[key] = {}
            while len(_ANSWERS) > _BLOCKS_KEPT:
                del _ANSWERS[next(iter(_ANSWERS))]
    return LedgerView(chain.w3, ledger, block, answers)
