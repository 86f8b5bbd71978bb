"""The one home of invoice fingerprints, document hashes and the claim keys built from them.

* :func:`document_hash`: keccak256 of a document's exact bytes (``Document.source_hash``; the
  ledger records it as the document hash).
* :func:`invoice_fingerprint`: ``keccak256(abi.encode(string seller, string number))`` with the
  seller as ``"<scheme>:<id>"`` and the number normalized (:func:`normalize_invoice_number`), so a
  contract can recompute it from the same two strings.
* :func:`chain_fingerprint`: the fingerprint registered on chain, under the submitting supplier's
  platform registration id (scheme ``SCF``).
* :func:`invoice_fingerprints`: every fingerprint of an invoice that duplicate detection looks up
  and a tokenization claims (one per seller identifier, and the on-chain one).
* :func:`claim_keys`: the keys under which a tokenizing bundle claims its invoice.

Purity: like the rest of ``domain`` this module does no I/O and imports no web3, database or web
framework. It is the only module of ``domain`` that uses ``eth_abi`` and ``eth_utils``: both are
pure libraries (ABI encoding, keccak256), needed so a fingerprint equals what a contract computes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from eth_abi import encode as abi_encode
from eth_utils import keccak

from domain.documents.model import Invoice, PartyRef
from domain.documents.numbers import normalize_invoice_number

__all__ = [
    "PLATFORM_SCHEME",
    "chain_fingerprint",
    "claim_keys",
    "document_claim_key",
    "document_hash",
    "fingerprint_claim_key",
    "invoice_fingerprint",
    "invoice_fingerprints",
]

PLATFORM_SCHEME: Final = "SCF"
"""The scheme of a participant's platform registration id, as a seller identifier of fingerprints."""


def document_hash(data: bytes) -> bytes:
    """keccak256 of the document's exact bytes (what the ledger records as the document hash)."""
    return keccak(bytes(data))


def invoice_fingerprint(seller: PartyRef, number: str) -> bytes:
    """keccak256(abi.encode(string seller, string normalizedNumber)) for duplicate detection.

    ``seller`` is encoded as ``"<scheme>:<id>"`` (e.g. ``"0088:7300010000001"``), the number as
    :func:`normalize_invoice_number` returns it. Both are ABI-encoded as Solidity ``string`` so a
    contract can recompute ``keccak256(abi.encode(seller, number))`` from the same two strings.
    """
    return keccak(abi_encode(["string", "string"], [seller.key, normalize_invoice_number(number)]))


def chain_fingerprint(registration_id: str, number: str) -> bytes:
    """The fingerprint registered on chain: (the supplier's platform registration id, the number)."""
    return invoice_fingerprint(PartyRef(PLATFORM_SCHEME, registration_id), number)


def invoice_fingerprints(
    invoice: Invoice, supplier_ids: Iterable[PartyRef], registration_id: str | None = None
) -> tuple[bytes, ...]:
    """Every duplicate-detection fingerprint of the invoice, without repetition.

    One per seller identifier, in identifier order: each the invoice states and each the submitting
    supplier registered (``supplier_ids``), so the same number sent under another of the seller's
    identifiers (a VAT id instead of a GLN) is still caught; then, given the supplier's
    ``registration_id``, the one registered on chain (:func:`chain_fingerprint`).
    """
    sellers = sorted(invoice.seller.refs | frozenset(supplier_ids))
    found = [invoice_fingerprint(seller, invoice.id) for seller in sellers]
    if registration_id is not None:
        found.append(chain_fingerprint(registration_id, invoice.id))
    return tuple(dict.fromkeys(found))


def fingerprint_claim_key(fingerprint: bytes) -> str:
    """The claim key of one invoice fingerprint (``fp:0x<hex>``)."""
    return "fp:0x" + fingerprint.hex()


def document_claim_key(source_hash: bytes) -> str:
    """The claim key of an invoice document's hash (``doc:0x<hex>``)."""
    return "doc:0x" + source_hash.hex()


def claim_keys(fingerprints: Iterable[bytes], source_hash: bytes) -> list[str]:
    """An invoice's claim keys: one per distinct fingerprint, in order, then its document hash.

    Of concurrent tokenizations of one invoice, the unique keys let exactly one commit.
    """
    return [fingerprint_claim_key(fp) for fp in dict.fromkeys(fingerprints)] + [
        document_claim_key(source_hash)
    ]
