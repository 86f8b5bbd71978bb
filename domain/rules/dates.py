"""Dates: ordered, then delivered, then invoiced; due after issue, within the tenor; and, by the
ledger's clock (``context.now``), issued by now and not yet due.

The rules never read the machine's clock: the gateway supplies the chain's time, the clock the
contracts judge maturity by (a receivable is matured from ``block.timestamp >= dueDate``, the due
date's first second at UTC).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta
from types import MappingProxyType

from domain.rules.context import Trade, VerificationContext, Violation, Violations, utc_date

__all__ = ["CHECKS", "CODES", "check_dates"]

CODES: Mapping[str, str] = MappingProxyType(
    {
        "DATE_DELIVERY_BEFORE_ORDER": "Goods were delivered before the purchase order was issued.",
        "DATE_INVOICE_BEFORE_DELIVERY": "The invoice was issued before the goods were delivered.",
        "DATE_ISSUE_IN_FUTURE": (
            "The invoice is dated after today by the ledger's clock (the chain's latest block time),"
            " beyond the allowed skew for time zones and clocks (SCF_ISSUE_DATE_SKEW_HOURS)."
        ),
        "DATE_DUE_MISSING": "The invoice states no due date (DueDate or PaymentMeans/PaymentDueDate).",
        "DATE_DUE_NOT_AFTER_ISSUE": "The invoice's due date is not after its issue date.",
        "DATE_TENOR_EXCEEDED": (
            "The invoice's due date is further from its issue date than the maximum tenor."
        ),
        "DUE_DATE_PASSED": (
            "The invoice is already due by the ledger's clock (the chain's latest block time): there is"
            " nothing left to finance."
        ),
    }
)

_v = Violations(CODES)


def check_dates(t: Trade, ctx: VerificationContext) -> Iterator[Violation]:
    inv = t.invoice
    for doc in t.deliveries:
        delivered = doc.evidence_date
        if t.order is not None and delivered < t.order.issue_date:
            yield _v(
                "DATE_DELIVERY_BEFORE_ORDER",
                f"{doc.kind.value} {doc.id} shows delivery on {delivered}, before purchase order"
                f" {t.order.id} was issued on {t.order.issue_date}.",
                doc,
            )
        if inv.issue_date < delivered:
            yield _v(
                "DATE_INVOICE_BEFORE_DELIVERY",
                f"The invoice was issued on {inv.issue_date}, before the delivery on {delivered}"
                f" ({doc.kind.value} {doc.id}).",
                inv,
                field="cbc:IssueDate",
            )
    latest_issue = utc_date(ctx.now + ctx.issue_date_skew)
    if inv.issue_date > latest_issue:
        yield _v(
            "DATE_ISSUE_IN_FUTURE",
            f"{inv.id} is dated {inv.issue_date}; the latest accepted issue date now is {latest_issue}.",
            inv,
            field="cbc:IssueDate",
        )
    if inv.due_date is None:
        yield _v("DATE_DUE_MISSING", "The invoice states no due date.", inv, field="cbc:DueDate")
        return
    if inv.due_date <= inv.issue_date:
        yield _v(
            "DATE_DUE_NOT_AFTER_ISSUE",
            f"The invoice is due on {inv.due_date}, not after its issue date {inv.issue_date}.",
            inv,
            field="cbc:DueDate",
        )
    latest = inv.issue_date + timedelta(days=ctx.max_tenor_days)
    if inv.due_date > latest:
        yield _v(
            "DATE_TENOR_EXCEEDED",
            f"The invoice is due on {inv.due_date}, {(inv.due_date - inv.issue_date).days} days after issue;"
            f" at most {ctx.max_tenor_days} days ({latest}) are allowed.",
            inv,
            field="cbc:DueDate",
        )
    if inv.due_date <= utc_date(ctx.now):
        yield _v("DUE_DATE_PASSED", f"{inv.id} was due on {inv.due_date}.", inv, field="cbc:DueDate")


CHECKS = (check_dates,)
