"""Every custom error of every contract becomes an API code a person can read: words joined by ``_``, an
acronym kept whole (``ERC20_INSUFFICIENT_BALANCE``, not ``E_R_C20_INSUFFICIENT_BALANCE``)."""

from __future__ import annotations

import re

from api.services.txerrors import _snake
from chain.compiler import Artifact


def test_names_and_acronyms() -> None:
    assert _snake("DuplicateLot") == "DUPLICATE_LOT"
    assert _snake("NotInDefault") == "NOT_IN_DEFAULT"
    assert _snake("ERC20InsufficientBalance") == "ERC20_INSUFFICIENT_BALANCE"
    assert _snake("ECDSAInvalidSignatureS") == "ECDSA_INVALID_SIGNATURE_S"
    assert _snake("ERC721NonexistentToken") == "ERC721_NONEXISTENT_TOKEN"
    assert _snake("ERC2612InvalidSigner") == "ERC2612_INVALID_SIGNER"


def test_every_contract_error_reads_as_words(artifacts: dict[str, Artifact]) -> None:
    names = {e["name"] for a in artifacts.values() for e in a.abi if e.get("type") == "error"}
    assert {"DuplicateLot", "ERC20InsufficientBalance", "ECDSAInvalidSignature"} <= names
    for name in names:
        code = _snake(name)
        assert re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*", code), (name, code)
        # no word of one letter but a trailing S (ECDSA's s value): "E_R_C" would be letters, not words
        assert all(len(w) > 1 for w in code.split("_")[:-1]), (name, code)
