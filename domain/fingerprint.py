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
* :func:`lot_ref` and :func:`lot_fingerprint`: a warehouse lot's identity (its lot number normalized
  like an invoice number) and ``keccak256(abi.encode(address warehouse, bytes32 lotRef))``, as
  ``WarehouseReceipts.issue`` computes it: the same lot can't be issued twice.

Purity: like the rest of ``domain`` this module does no I/O and imports no web3, database or web
framework. It is the only module of ``domain`` that uses ``eth_abi`` and ``eth_hash`` (through which
``eth_utils`` hashes): both are pure libraries (ABI encoding, keccak256), needed so a fingerprint
equals what a contract computes. keccak256 is asked of ``eth_hash`` directly (``eth_utils.keccak``
adds a type dispatch that costs as much as the hash of a short input), and the ABI encoding of two
strings is written out here (``eth_abi`` takes about 15 times as long); a string UTF-8 cannot encode
is left to ``eth_abi``, so it fails exactly as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from eth_abi import encode as abi_encode
from eth_hash.auto import keccak

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
    "lot_fingerprint",
    "lot_ref",
]

PLATFORM_SCHEME: Final = "SCF"
"""The scheme of a participant's platform registration id, as a seller identifier of fingerprints."""


_HEAD: Final = (64).to_bytes(32, "big")
"""The offset of the first of two dynamic ABI values: just after the two-word head."""


def _abi_string(encoded: bytes) -> bytes:
    """An ABI ``string`` tail: its length in a word, then its bytes padded with zeros to a word."""
    return len(encoded).to_bytes(32, "big") + encoded + bytes(-len(encoded) % 32)


def _abi_encode_strings(first: str, second: str) -> bytes:
    """``abi.encode(string first, string second)``, as ``eth_abi.encode(["string", "string"], ...)``."""
    try:
        tail = _abi_string(first.encode("utf-8"))
        rest = _abi_string(second.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates: eth_abi's own error
        return abi_encode(["string", "string"], [first, second])
    return _HEAD + (64 + len(tail)).to_bytes(32, "big") + tail + rest


def document_hash(data: bytes) -> bytes:
    """keccak256 of the document's exact bytes (what the ledger records as the document hash)."""
    return keccak(bytes(data))


def invoice_fingerprint(seller: PartyRef, number: str) -> bytes:
    """keccak256(abi.encode(string seller, string normalizedNumber)) for duplicate detection.

    ``seller`` is encoded as ``"<scheme>:<id>"`` (e.g. ``"0088:7300010000001"``), the number as
    :func:`normalize_invoice_number` returns it. Both are ABI-encoded as Solidity ``string`` so a
    contract can recompute ``keccak256(abi.encode(seller, number))`` from the same two strings.
    """
    return keccak(_abi_encode_strings(seller.key, normalize_invoice_number(number)))


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


def lot_ref(lot_number: str) -> bytes:
    """keccak256 of a lot number normalized like an invoice number (``normalize_invoice_number``:
    case, separators and look-alike characters folded), so ``LOT-0042`` and ``lot 0042`` are one lot."""
    return keccak(normalize_invoice_number(lot_number).encode())


def lot_fingerprint(warehouse: str, ref: bytes) -> bytes:
    """``keccak256(abi.encode(warehouse, lotRef))``: a lot's identity on the ledger."""
    return keccak(abi_encode(["address", "bytes32"], [warehouse, ref]))
