"""Reference financial maths, in exact fractions, that the contracts must agree with: discounting (below)
and loans against warehouse receipts (at the end).

Discounting (``DiscountMarket.quote``):

- day count **ACT/365**: actual seconds to maturity, in days, where a started day counts as a
  full day: ``days = ceil((due - now) / 86400)``; the year has 365 days (leap years too);
- **simple (bank) discount**: ``price = amount * (1 - rate * days / 365)``, rate annual in basis
  points (1 bp = 1/10,000);
- **rounding**: the price is rounded **down** to a whole minor unit (in the buyer's favour, and so
  never above face value).

The Python here is written from that statement with ``fractions.Fraction``, independently of the
Solidity integer formula, so that a test comparing the two over many inputs means something.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction

SECONDS_PER_DAY = 86_400
DAYS_PER_YEAR = 365
BPS = 10_000


class NotDiscountable(ValueError):
    """The inputs have no positive price: matured, or the discount eats the whole amount."""


def days_to_maturity(due: int, now: int) -> int:
    """ACT/365 days from ``now`` to ``due``; a started day counts. ``due`` must be after ``now``."""
    if now >= due:
        raise NotDiscountable(f"matured: now {now} is not before due {due}")
    return math.ceil(Fraction(due - now, SECONDS_PER_DAY))


def discount_price(amount: int, rate_bps: int, due: int, now: int) -> tuple[int, int]:
    """Price of ``amount`` minor units discounted at ``rate_bps`` p.a. from ``due`` back to ``now``.

    Returns (price, days). Raises NotDiscountable when the discount is 100 % or more.
    """
    days = days_to_maturity(due, now)
    factor = 1 - Fraction(rate_bps, BPS) * Fraction(days, DAYS_PER_YEAR)
    if factor <= 0:
        raise NotDiscountable(f"rate {rate_bps} bp over {days} days discounts 100 % or more")
    return math.floor(amount * factor), days


def green_rate_bps(rate_bps: int, discount_bps: int) -> int:
    """The rate a green programme applies: ``discount_bps`` below the offered ``rate_bps``, never below 0
    (``DiscountMarket``: fixed when the offer is made, for a green receivable of a programme's debtor)."""
    if rate_bps < 0 or discount_bps < 0:
        raise ValueError("rates are not negative")
    return max(0, rate_bps - discount_bps)


def green_quote(amount: int, rate_bps: int, discount_bps: int, due: int, now: int) -> tuple[int, int, int]:
    """``DiscountMarket.quoteWithPreference``: (price, days, applied rate) of ``amount`` at the rate a
    programme of ``discount_bps`` applies to an offer of ``rate_bps``."""
    applied = green_rate_bps(rate_bps, discount_bps)
    price, days = discount_price(amount, applied, due, now)
    return price, days, applied


def annual_yield_bps(price: int, face: int, days: int) -> Fraction:
    """Simple annual yield (ACT/365) of buying ``face`` for ``price`` ``days`` before maturity, in bp."""
    if price <= 0 or days <= 0:
        raise ValueError("price and days must be positive")
    return Fraction(face - price, price) * Fraction(DAYS_PER_YEAR, days) * BPS


YIELD_QUANTUM = Decimal("0.01")


def portfolio_yield_bps(fills: Iterable[tuple[int, int, int]]) -> Decimal:
    """Simple annual yield (ACT/365), in basis points, of discount purchases ``(face bought, price paid,
    days to maturity)``: what was earned over what was paid, per price-weighted day:

        (sum face - sum price) / sum price * 365 / (sum days*price / sum price) * 10,000
      = (sum face - sum price) * 365 * 10,000 / sum days*price

    (for one purchase: :func:`annual_yield_bps`). Computed exactly and rounded once, half to
    even, to 0.01 bp; 0 when nothing was paid.
    """
    face = price = weighted = 0
    for f, p, d in fills:
        face, price, weighted = face + f, price + p, weighted + d * p
    return yield_of_sums_bps(face, price, weighted)


def yield_of_sums_bps(face: int, price: int, weighted: int) -> Decimal:
    """:func:`portfolio_yield_bps` from its three sums (face bought, price paid, sum of days x price), as
    a record kept event by event holds them (``readmodel.credit``)."""
    if price <= 0 or weighted <= 0:
        return Decimal(0).quantize(YIELD_QUANTUM)
    hundredths = round(Fraction((face - price) * DAYS_PER_YEAR * BPS * 100, weighted))  # exact, half-even
    return Decimal(hundredths).scaleb(-2)


# ---------------------------------------------------------------------------------------------
# Loans against warehouse receipts (``WarehouseReceipts``): simple interest and valuation.
#
# - interest is **simple**, day count **ACT/365**, a started day counted whole, fixed when the loan
#   starts: ``due = principal * (1 + rate * days / 365)``, ``days = ceil((maturity - start) / 86400)``;
# - **rounding**: the interest is rounded **down** to a whole minor unit (in the borrower's favour);
# - a receipt is worth ``quantity * price / 1000`` rounded down, the price being minor units per 1,000
#   units of the receipt's unit (per tonne for kilograms); a loan's collateral is worth the sum;
# - a loan starts only when ``principal <= value * limit``; its margin can be called when
#   ``outstanding > value * threshold`` (both in basis points, compared exactly).

#: A price is per this many units of its unit (``WarehouseReceipts.PRICE_QUANTITY``).
PRICE_QUANTITY = 1_000


def loan_due(principal: int, rate_bps: int, maturity: int, start: int) -> int:
    """Principal plus simple ACT/365 interest from ``start`` to ``maturity``, the interest rounded down
    (``WarehouseReceipts.dueAmount``). Raises ``ValueError`` unless ``maturity`` is after ``start``."""
    if maturity <= start:
        raise ValueError(f"maturity {maturity} is not after the start {start}")
    days = math.ceil(Fraction(maturity - start, SECONDS_PER_DAY))
    return principal + math.floor(principal * Fraction(rate_bps, BPS) * Fraction(days, DAYS_PER_YEAR))


def collateral_value(lots: Iterable[tuple[int, int]]) -> int:
    """What receipts of ``(quantity, price per PRICE_QUANTITY units)`` are worth: each rounded down,
    summed."""
    return sum(math.floor(Fraction(quantity * price, PRICE_QUANTITY)) for quantity, price in lots)


def within_loan_to_value(principal: int, value: int, limit_bps: int) -> bool:
    """Whether a loan of ``principal`` may start against collateral worth ``value``."""
    return Fraction(principal) <= Fraction(value * limit_bps, BPS)


def margin_callable(outstanding: int, value: int, threshold_bps: int) -> bool:
    """Whether what is still due is above the margin-call threshold of the collateral's value."""
    return Fraction(outstanding) > Fraction(value * threshold_bps, BPS)
