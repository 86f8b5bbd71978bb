"""Fingerprints are what a contract computes: keccak256(abi.encode(string seller, string number)).

The fingerprint module encodes the two strings itself and hashes with eth_hash directly; these
properties hold it to eth_abi's encoding and eth_utils' keccak256 for any seller and number.
"""

from __future__ import annotations

from eth_abi import encode as abi_encode
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from domain.documents.model import PartyRef
from domain.documents.numbers import normalize_invoice_number
from domain.fingerprint import chain_fingerprint, document_hash, invoice_fingerprint

_ids = st.text(min_size=1).filter(lambda s: "".join(s.split()))


@given(scheme=st.text(), ident=_ids, number=st.text())
def test_invoice_fingerprint_is_keccak_of_the_abi_encoding(scheme: str, ident: str, number: str) -> None:
    seller = PartyRef(scheme, ident)
    expected = keccak(abi_encode(["string", "string"], [seller.key, normalize_invoice_number(number)]))
    assert invoice_fingerprint(seller, number) == expected


@given(registration=_ids, number=st.text(max_size=80))
def test_chain_fingerprint_is_under_the_platform_scheme(registration: str, number: str) -> None:
    assert chain_fingerprint(registration, number) == invoice_fingerprint(
        PartyRef("SCF", registration), number
    )


@given(st.binary())
def test_document_hash_is_keccak256(data: bytes) -> None:
    assert document_hash(data) == keccak(data)
