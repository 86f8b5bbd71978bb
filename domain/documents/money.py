"""Exact money arithmetic for trade documents.

Amounts enter and leave the gateway as :class:`~decimal.Decimal`; they are never floats. EN 16931
fixes document amounts at two decimals (BR-DEC-*), so every computed amount is rounded half-up to
two decimals, whatever the currency. Where an amount must be compared with ledger state it is
converted to integer minor units of its ISO 4217 currency.
"""

from __future__ import annotations

import re
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext

__all__ = [
    "AMOUNT_QUANTUM",
    "currency_exponent",
    "format_minor",
    "from_minor_units",
    "is_currency_code",
    "round_amount",
    "to_minor_units",
]

AMOUNT_QUANTUM = Decimal("0.01")
"""EN 16931 amounts carry at most two decimals."""

# ISO 4217 currencies whose minor unit is not 1/100. Every other code has exponent 2.
_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}

_CURRENCY_RE = re.compile(r"[A-Z]{3}")

# Enough precision that no sum or product of document amounts is ever rounded implicitly.
_PRECISION = 60


def is_currency_code(code: str) -> bool:
    """True for a syntactically valid ISO 4217 alphabetic code (three upper-case letters)."""
    return _CURRENCY_RE.fullmatch(code) is not None


def currency_exponent(currency: str) -> int:
    """Number of decimals of the currency's minor unit (ISO 4217), 2 unless listed otherwise."""
    return _EXPONENTS.get(currency, 2)


def round_amount(value: Decimal) -> Decimal:
    """Round half-up to two decimals, as EN 16931 does for every computed amount."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return value.quantize(AMOUNT_QUANTUM, rounding=ROUND_HALF_UP)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Convert ``amount`` to integer minor units of ``currency``, exactly.

    An amount finer than the currency's minor unit (100.50 JPY) is a ``ValueError``: it has no
    exact value in minor units, and nothing is rounded.
    """
    if not amount.is_finite():
        raise ValueError(f"amount {amount!r} is not finite")
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        scaled = amount.scaleb(currency_exponent(currency))
        integral = scaled.to_integral_value(rounding=ROUND_FLOOR)
        if integral != scaled:
            raise ValueError(f"{amount} {currency} is finer than the currency's minor unit")
        return int(integral)


def from_minor_units(minor: int, currency: str) -> Decimal:
    """``minor`` minor units of ``currency`` as an exact decimal amount with the currency's own number of
    decimals (ISO 4217): 309050 CNY -> Decimal("3090.50"), 309050 JPY -> Decimal("309050")."""
    with localcontext() as ctx:
        ctx.prec = max(_PRECISION, len(str(abs(minor))) + 1)  # never rounded, however large
        return Decimal(minor).scaleb(-currency_exponent(currency))


def format_minor(minor: int, currency: str) -> str:
    """``minor`` minor units of ``currency`` for a person, exactly: grouped thousands, the currency's own
    decimals, its code after ("3,090.50 CNY", "309,050 JPY", "1,234.567 KWD")."""
    digits = currency_exponent(currency)
    with localcontext() as ctx:
        ctx.prec = max(_PRECISION, len(str(abs(minor))) + 1)
        return f"{from_minor_units(minor, currency):,.{digits}f} {currency}"
