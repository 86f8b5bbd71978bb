"""Verification rules for a trade-background bundle: purchase order, delivery evidence, invoice.

Pure functions: no database, no chain, no clock. Whatever the rules need to know about the world
(registered participants, credit, what is tokenized, the time by the ledger's clock) comes from a
:class:`VerificationContext`. :func:`verify_bundle` runs every rule and returns every violation, in
rule order; an empty list means the invoice may be tokenized as far as the documents are
concerned. A caller's own rules (the gateway's, signatures) plug in through ``extra_rules``.

This package exports the engine; each rule family is a module of its own (``structure``,
``parties``, ``references``, ``lines``, ``match``, ``amounts``, ``dates``, ``duplicates``; see
:mod:`domain.rules.engine`). :data:`RULE_CODES` lists every code with its meaning.
"""

from domain.rules.context import (
    Bundle,
    Check,
    Rule,
    StaticContext,
    Trade,
    VerificationContext,
    Violation,
)
from domain.rules.engine import RULE_CODES, verify_bundle

__all__ = [
    "RULE_CODES",
    "Bundle",
    "Check",
    "Rule",
    "StaticContext",
    "Trade",
    "VerificationContext",
    "Violation",
    "verify_bundle",
]
