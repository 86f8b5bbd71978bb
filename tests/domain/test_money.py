"""Money formatting by currency (ISO 4217 minor units), exact: no float is ever involved."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.documents.money import format_minor, from_minor_units, to_minor_units


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (309_050, "CNY", "3,090.50 CNY"),
        (309_050, "EUR", "3,090.50 EUR"),
        (5, "USD", "0.05 USD"),
        (309_050, "JPY", "309,050 JPY"),
        (1_234_567, "KWD", "1,234.567 KWD"),
        (-1_050, "CNY", "-10.50 CNY"),
        (2**64 - 1, "CNY", "184,467,440,737,095,516.15 CNY"),  # the ledger's largest face: no float rounding
    ],
)
def test_format_minor(minor: int, currency: str, text: str) -> None:
    assert format_minor(minor, currency) == text


@given(
    minor=st.integers(min_value=0, max_value=2**128), currency=st.sampled_from(["CNY", "JPY", "KWD", "CLF"])
)
def test_minor_units_round_trip_exactly(minor: int, currency: str) -> None:
    assert to_minor_units(from_minor_units(minor, currency), currency) == minor
    assert Decimal(format_minor(minor, currency).split()[0].replace(",", "")) == from_minor_units(
        minor, currency
    )
