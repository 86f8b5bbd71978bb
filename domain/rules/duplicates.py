"""Duplicates: an invoice is tokenized once, by its (seller, normalized number) fingerprints and by
its exact bytes. Fingerprints are computed in :mod:`domain.fingerprint`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType

from domain.fingerprint import invoice_fingerprints
from domain.rules.context import Trade, VerificationContext, Violation, Violations

__all__ = ["CHECKS", "CODES", "check_duplicates"]

CODES: Mapping[str, str] = MappingProxyType(
    {
        "DUPLICATE_INVOICE_NUMBER": (
            "An invoice with this seller and (normalized) number is already tokenized."
        ),
        "DUPLICATE_INVOICE_DOCUMENT": "This exact invoice document (same bytes) is already tokenized.",
    }
)

_v = Violations(CODES)


def check_duplicates(t: Trade, ctx: VerificationContext) -> Iterator[Violation]:
    inv = t.invoice
    fingerprints = invoice_fingerprints(inv, ctx.supplier_ids, ctx.supplier_registration_id)
    if any(ctx.is_fingerprint_tokenized(fp) for fp in fingerprints):
        yield _v(
            "DUPLICATE_INVOICE_NUMBER",
            f"Invoice number {inv.id} of this seller is already tokenized.",
            inv,
            field="cbc:ID",
        )
    if ctx.is_document_tokenized(inv.source_hash):
        yield _v(
            "DUPLICATE_INVOICE_DOCUMENT",
            f"This invoice document (keccak256 0x{inv.source_hash.hex()}) is already tokenized.",
            inv,
        )


CHECKS = (check_duplicates,)
