"""``WarehouseReceipts.dueAmount`` (Solidity, integers) equals ``domain.maths.loan_due`` (exact fractions).
(Valuation, the loan-to-value limit and the margin-call condition are compared once the gateway reads
them from a deployed contract; forge checks them against the same formulas today.)

3,000+ inputs for the interest (day boundaries, zero and maximum rates, huge principals, seeded random
ones) in JSON-RPC batches of ``eth_call`` against a deployed contract.
"""

from __future__ import annotations

import random

from web3 import Web3

from chain.compiler import Artifact
from chain.deploy import DeployResult
from chain.node import AnvilNode
from domain.maths import loan_due
from tests.chain.batch import batch_call

DAY = 86_400
T0 = 1_800_000_000
U128 = 2**128 - 1


def _cases(n_random: int, seed: int) -> list[tuple[int, int, int, int]]:
    cases: list[tuple[int, int, int, int]] = []
    for seconds in (1, DAY - 1, DAY, DAY + 1, 30 * DAY, 365 * DAY, 366 * DAY, 3650 * DAY):
        for rate in (0, 1, 799, 800, 10_000):
            for principal in (1, 99, 10_000, 150_000_00, 10**24):
                cases.append((principal, rate, T0 + seconds, T0))
    rng = random.Random(seed)
    while len(cases) < n_random + 200:
        principal = rng.choice([rng.randint(1, 10**6), rng.randint(1, 10**15), rng.randint(1, U128 // 20)])
        rate = rng.randint(0, 10_000)
        seconds = rng.choice([rng.randint(1, 730 * DAY), rng.randint(1, 5) * DAY + rng.randint(-2, 2)])
        cases.append((principal, rate, T0 + max(seconds, 1), T0))
    return cases


def test_due_amount_matches_python_reference(
    anvil: AnvilNode, w3: Web3, deployed: DeployResult, artifacts: dict[str, Artifact]
) -> None:
    receipts = w3.eth.contract(
        address=deployed.addresses["WarehouseReceipts"], abi=artifacts["WarehouseReceipts"].abi
    )
    cases = _cases(3_000, seed=20261130)
    answers = batch_call(anvil.url, receipts, "dueAmount", cases)
    interest = 0
    for (principal, rate, maturity, start), answer in zip(cases, answers, strict=True):
        assert "error" not in answer, (principal, rate, maturity, start, answer)
        (due,) = w3.codec.decode(["uint256"], bytes.fromhex(str(answer["result"])[2:]))
        assert due == loan_due(principal, rate, maturity, start), (principal, rate, maturity, start)
        interest += due > principal
    assert interest > 2_000  # most cases carry interest: the comparison is not vacuous
