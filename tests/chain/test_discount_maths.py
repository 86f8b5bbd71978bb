"""DiscountMarket.quote (Solidity, integers) equals the Python reference (exact fractions).

5,000+ inputs: edge cases (day boundaries, rate x days at the 100 % limit, huge amounts) and
seeded random ones, checked in JSON-RPC batches of eth_call against the deployed contract.
"""

from __future__ import annotations

import random
from fractions import Fraction

from web3 import Web3

from chain.compiler import Artifact
from chain.deploy import DeployResult
from chain.node import AnvilNode
from domain.maths import NotDiscountable, annual_yield_bps, days_to_maturity, discount_price, green_quote
from tests.chain.batch import batch_call

DAY = 86_400
T0 = 1_800_000_000
U128 = 2**128 - 1


def _inputs(n_random: int, seed: int) -> list[tuple[int, int, int, int]]:
    cases: list[tuple[int, int, int, int]] = []
    for seconds in (1, DAY - 1, DAY, DAY + 1, 30 * DAY, 365 * DAY, 366 * DAY, 3650 * DAY):
        for rate in (0, 1, 250, 999, 10_000):
            for amount in (1, 99, 10_000, 123_456_789, U128):
                cases.append((amount, rate, T0 + seconds, T0))
    for days in (365, 730, 3650):  # rate x days exactly at / around the 100 % limit
        rate = 3_650_000 // days
        for r in (rate - 1, rate, rate + 1):
            cases.append((1_000_000, r, T0 + days * DAY, T0))
    cases += [(5, 100, T0, T0), (5, 100, T0 - 1, T0)]  # matured: both sides must refuse
    rng = random.Random(seed)
    while len(cases) < n_random + 200:
        amount = rng.choice([rng.randint(1, 10**6), rng.randint(1, 10**15), rng.randint(1, U128)])
        rate = rng.randint(0, 10_000)
        seconds = rng.choice([rng.randint(1, 400 * DAY), rng.randint(1, 5) * DAY + rng.randint(-2, 2)])
        cases.append((amount, rate, T0 + max(seconds, 1), T0))
    return cases


def test_quote_matches_python_reference(
    anvil: AnvilNode, w3: Web3, deployed: DeployResult, artifacts: dict[str, Artifact]
) -> None:
    market = w3.eth.contract(
        address=deployed.addresses["DiscountMarket"], abi=artifacts["DiscountMarket"].abi
    )
    cases = _inputs(5_000, seed=20261128)
    assert len(cases) >= 5_000
    results = batch_call(anvil.url, market, "quote", cases)
    checked = refused = 0
    for (amount, rate, due, now), answer in zip(cases, results, strict=True):
        try:
            expected = discount_price(amount, rate, due, now)
        except NotDiscountable:
            assert "error" in answer, (amount, rate, due, now)
            refused += 1
            continue
        assert "error" not in answer, (amount, rate, due, now, answer)
        price, days = w3.codec.decode(["uint256", "uint256"], bytes.fromhex(answer["result"][2:]))
        assert (price, days) == expected, (amount, rate, due, now)
        assert price <= amount  # never above face value
        checked += 1
    assert checked >= 5_000 and refused >= 3


def test_reference_statement() -> None:
    # a started day counts as a full day
    assert days_to_maturity(T0 + 1, T0) == 1
    assert days_to_maturity(T0 + DAY, T0) == 1
    assert days_to_maturity(T0 + DAY + 1, T0) == 2
    # 1,000.00 at 5 % for 73 days: 1000 * (1 - 0.05 * 73/365) = 990.00 exactly
    assert discount_price(100_000, 500, T0 + 73 * DAY, T0) == (99_000, 73)
    # rounding is down: 1 unit at 1 bp for 1 day is worth 0.99999726 -> 0
    assert discount_price(1, 1, T0 + DAY, T0) == (0, 1)
    assert (
        annual_yield_bps(99_000, 100_000, 73)
        == Fraction(100_000 - 99_000, 99_000) * Fraction(365, 73) * 10_000
    )


def test_a_programmes_rate_is_applied_exactly(
    anvil: AnvilNode, w3: Web3, deployed: DeployResult, artifacts: dict[str, Artifact]
) -> None:
    """``quoteWithPreference`` (a green programme's discount below the offered rate, never below 0)
    equals the exact-fraction reference (``domain.maths.green_quote``) on 5,000+ inputs."""
    market = w3.eth.contract(
        address=deployed.addresses["DiscountMarket"], abi=artifacts["DiscountMarket"].abi
    )
    rng = random.Random(20261130)
    base = _inputs(5_000, seed=20261130)
    discounts = [0, 1, 25, 50, 10_000]
    cases = [
        (amount, rate, discounts[i] if i < len(discounts) else rng.randint(0, 600), due, now)
        for i, (amount, rate, due, now) in enumerate(base)
    ]
    cases += [(10**6, r, d, T0 + 90 * DAY, T0) for r, d in ((500, 500), (500, 501), (500, 499), (0, 7))]
    results = batch_call(anvil.url, market, "quoteWithPreference", cases)
    checked = 0
    for (amount, rate, discount, due, now), answer in zip(cases, results, strict=True):
        try:
            expected = green_quote(amount, rate, discount, due, now)
        except NotDiscountable:
            assert "error" in answer, (amount, rate, discount, due, now)
            continue
        assert "error" not in answer, (amount, rate, discount, due, now, answer)
        got = w3.codec.decode(["uint256", "uint256", "uint256"], bytes.fromhex(answer["result"][2:]))
        assert got == expected, (amount, rate, discount, due, now)
        assert expected[2] == max(0, rate - discount)
        checked += 1
    assert checked >= 5_000
