"""Many ``eth_call``s of one contract function in JSON-RPC batches: the contract-against-reference tests'
one way to ask a deployed contract thousands of questions quickly."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from web3.contract import Contract

BATCH = 250


def batch_call(url: str, contract: Contract, fn: str, cases: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """The JSON-RPC answer (``result`` or ``error``) of ``fn(*case)`` for every case, in order."""
    answers: list[dict[str, Any]] = []
    for start in range(0, len(cases), BATCH):
        chunk = cases[start : start + BATCH]
        batch = [
            {
                "jsonrpc": "2.0",
                "id": i,
                "method": "eth_call",
                "params": [{"to": contract.address, "data": contract.encode_abi(fn, args=list(c))}, "latest"],
            }
            for i, c in enumerate(chunk)
        ]
        answers += sorted(httpx.post(url, json=batch, timeout=60).json(), key=lambda a: a["id"])
    return answers
