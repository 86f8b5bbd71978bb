"""Participants' track records, projected event by event, and the histories a credit profile scores.

The projector (``readmodel.projector``) calls :func:`apply_ledger` after each ledger event about a
receivable and :func:`apply_fill` after each discount; they move the counters of ``rm_credit_history``
and ``rm_credit_pair``. A profile reads one row and a few index look-ups, never the history (see
``docs/credit.md`` for each counter). They are rebuilt with the other projections after a
reorganization, so a profile's as-of block (the indexer's cursor) is always the state it shows.

**Delays** are counted by the chain's clock: dates on chain are UTC midnights, and a receivable repaid in
full in a block of day ``d`` is ``d - due day`` days past due (0 on or before its due date). A
receivable counts as one repayment when a repayment settles it; one closed by a credit note counts none.
**Overdue** is the ledger's ``isOverdue``: confirmed, unpaid, past the due date plus the grace period.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlmodel import Session, col, select

from domain.credit import (
    DebtorHistory,
    PointsTable,
    Scorecard,
    ScoreRole,
    SupplierHistory,
    score_debtor,
    score_supplier,
)
from domain.roles import Role
from readmodel.rows import get as _get
from readmodel.rows import put as _put
from readmodel.tables import RmCreditHistory, RmCreditLine, RmCreditPair, RmParticipant, RmReceivable

DAY = 86_400

#: the roles with a scored profile, and as what
SCORED: dict[Role, ScoreRole] = {Role.CORE_ENTERPRISE: ScoreRole.DEBTOR, Role.SUPPLIER: ScoreRole.SUPPLIER}

#: ``ReceivableLedger.GRACE_PERIOD``: a confirmed receivable unpaid this long after its due date is overdue.
GRACE_PERIOD = 3 * DAY


def is_overdue(r: RmReceivable, now: int) -> bool:
    """``ReceivableLedger.isOverdue``: confirmed (not settled) and past the due date plus the grace period."""
    return r.status == "CONFIRMED" and now > r.due_date + GRACE_PERIOD


def days_past_due(due_date: int, paid_at: int) -> int:
    """Whole UTC days from the due date to the day of ``paid_at`` (0 on or before the due date)."""
    return max(0, paid_at // DAY - due_date // DAY)


# ------------------------------------------------------------------------------------ projection


def _history(session: Session, party: str) -> RmCreditHistory:
    return _get(session, RmCreditHistory, party) or _put(session, RmCreditHistory(party=party), party)


def _plus(a: str, b: int) -> str:
    return str(int(a) + b)


def apply_ledger(
    session: Session, event: str, args: dict[str, Any], at: int, r: RmReceivable, was: str | None
) -> None:
    """Count one ledger event about ``r`` (already projected; ``was``: its status before, None if new)."""
    face = int(r.face_value)
    if event == "InvoiceRegistered":
        supplier = _history(session, r.creditor)
        supplier.supplier_receivables += 1
        supplier.supplier_face = _plus(supplier.supplier_face, face)
        key = (r.creditor, r.debtor)
        pair = _get(session, RmCreditPair, key) or _put(
            session, RmCreditPair(creditor=r.creditor, debtor=r.debtor), key
        )
        pair.face = _plus(pair.face, face)
        if int(pair.face) > int(supplier.supplier_largest_buyer):
            supplier.supplier_largest_buyer = pair.face
    elif event == "Endorsed":
        debtor = _history(session, r.debtor)
        debtor.debtor_payables = _plus(debtor.debtor_payables, face)
    elif event == "Rejected":
        _history(session, r.creditor).supplier_rejected += 1
    elif event == "Repaid" and r.status == "SETTLED" and was != "SETTLED":
        debtor = _history(session, r.debtor)
        late = days_past_due(r.due_date, at)
        if late == 0:
            debtor.debtor_on_time += 1
        else:
            debtor.debtor_late += 1
            debtor.debtor_days_late += late
            debtor.debtor_worst_days = max(debtor.debtor_worst_days, late)
    elif event == "Disputed" and r.disputes == 1:  # a receivable's first dispute (only a confirmed one)
        _history(session, r.creditor).supplier_disputed += 1
        debtor = _history(session, r.debtor)
        debtor.debtor_disputed = _plus(debtor.debtor_disputed, face)
    elif event == "DisputeResolved" and int(args["creditNote"]) > 0:
        supplier = _history(session, r.creditor)
        supplier.supplier_diluted = _plus(supplier.supplier_diluted, int(args["creditNote"]))


def apply_fill(session: Session, args: dict[str, Any], r: RmReceivable) -> None:
    """Count one discount (``OfferFilled``): the financier's purchase, the supplier's financing."""
    amount, price, days = int(args["amount"]), int(args["price"]), int(args["daysToMaturity"])
    financier = _history(session, args["maker"])
    financier.financier_fills += 1
    financier.financier_bought = _plus(financier.financier_bought, amount)
    financier.financier_paid = _plus(financier.financier_paid, price)
    financier.financier_weighted = _plus(financier.financier_weighted, price * days)
    if args["holder"] == r.creditor:  # the supplier sold its own receivable: financing
        supplier = _history(session, r.creditor)
        supplier.supplier_financed = _plus(supplier.supplier_financed, amount)


# ------------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class Record:
    """What the read model holds about one participant at one time: its counters, its joining time,
    and the present state a profile adds to them (credit line, overdue payables). Lines in different
    settlement currencies are never added up: ``credit_limit`` and ``credit_used`` are those of the debtor's
    most fully used line."""

    history: RmCreditHistory
    joined: int  # the onboarding block's timestamp
    credit_limit: int
    credit_used: int
    overdue: int  # outstanding of its overdue payables (minor units)


def records(session: Session, parties: Iterable[str], now: int) -> dict[str, Record]:
    """The records of ``parties`` as of ``now`` (the cursor block's time), unknown participants left out:
    four indexed statements, whatever the number of parties or the length of their histories."""
    wanted = sorted(set(parties))
    if not wanted:
        return {}
    known = session.exec(select(RmParticipant).where(col(RmParticipant.address).in_(wanted))).all()
    histories = {
        h.party: h
        for h in session.exec(select(RmCreditHistory).where(col(RmCreditHistory.party).in_(wanted)))
    }
    lines: dict[str, tuple[int, int]] = {}
    for c in session.exec(select(RmCreditLine).where(col(RmCreditLine.debtor).in_(wanted))):
        line = (int(c.credit_limit), int(c.used))
        if c.debtor not in lines or _fill(line) > _fill(lines[c.debtor]):
            lines[c.debtor] = line
    overdue: dict[str, int] = {}
    for r in session.exec(  # the index (debtor, status, due date): open overdue payables only
        select(RmReceivable).where(
            col(RmReceivable.debtor).in_(wanted),
            RmReceivable.status == "CONFIRMED",
            col(RmReceivable.due_date) < now - GRACE_PERIOD,
        )
    ):
        overdue[r.debtor] = overdue.get(r.debtor, 0) + int(r.face_value) - int(r.repaid) - int(r.diluted)
    out = {}
    for p in known:
        limit, used = lines.get(p.address, (0, 0))
        out[p.address] = Record(
            history=histories.get(p.address) or RmCreditHistory(party=p.address),
            joined=p.onboarded_time,
            credit_limit=limit,
            credit_used=used,
            overdue=overdue.get(p.address, 0),
        )
    return out


def _fill(line: tuple[int, int]) -> tuple[bool, Fraction]:
    """How fully a line (limit, used) is used, to compare lines: usage without a limit is fullest."""
    limit, used = line
    return (limit == 0 and used > 0), Fraction(used, limit) if limit else Fraction(0)


def record(session: Session, party: str, now: int) -> Record | None:
    """``party``'s record as of ``now``; None for an unknown participant (:func:`records` of one)."""
    return records(session, [party], now).get(party)


def tenure_days(record: Record, now: int) -> int:
    return max(0, now - record.joined) // DAY


def debtor_history(record: Record, now: int) -> DebtorHistory:
    """The scorecard's history of a debtor. Overdue and disputed parts are never more than the payables
    this read model saw (one started after the deployment, ``start_block``, misses earlier events)."""
    h = record.history
    payables = int(h.debtor_payables)
    return DebtorHistory(
        repayments_on_time=h.debtor_on_time,
        repayments_late=h.debtor_late,
        days_past_due_total=h.debtor_days_late,
        days_past_due_worst=h.debtor_worst_days,
        overdue_minor=min(record.overdue, payables),
        disputed_minor=min(int(h.debtor_disputed), payables),
        payables_minor=payables,
        credit_limit_minor=record.credit_limit,
        credit_used_minor=record.credit_used,
        tenure_days=tenure_days(record, now),
    )


def supplier_history(record: Record, now: int) -> SupplierHistory:
    """The scorecard's history of a supplier (parts capped at what this read model saw, as above)."""
    h = record.history
    face = int(h.supplier_face)
    return SupplierHistory(
        receivables=h.supplier_receivables,
        receivables_minor=face,
        # units bought back and sold again count once more: never more than it ever issued
        financed_minor=min(int(h.supplier_financed), face),
        disputed=min(h.supplier_disputed, h.supplier_receivables),
        diluted_minor=int(h.supplier_diluted),
        rejected_endorsements=h.supplier_rejected,
        largest_buyer_minor=int(h.supplier_largest_buyer),
        tenure_days=tenure_days(record, now),
    )


def scorecard_of(role: ScoreRole, record: Record, now: int, table: PointsTable) -> Scorecard:
    if role == ScoreRole.DEBTOR:
        return score_debtor(debtor_history(record, now), table)
    return score_supplier(supplier_history(record, now), table)


class Scores:
    """Scorecards by chain address for one read, each computed once (a page names a party many times);
    ``None`` for an address that is no scored participant."""

    def __init__(self, session: Session, now: int, table: PointsTable, roles: dict[str, ScoreRole]) -> None:
        self._session, self._now, self._table, self._roles = session, now, table, roles
        self._cards: dict[str, Scorecard | None] = {}

    def prefetch(self, addresses: Iterable[str]) -> None:
        """Score every one of ``addresses`` at once (:func:`records`: four statements for all)."""
        missing = [a for a in set(addresses) if a not in self._cards]
        found = records(self._session, [a for a in missing if a in self._roles], self._now)
        for a in missing:
            role, rec = self._roles.get(a), found.get(a)
            self._cards[a] = (
                None if role is None or rec is None else scorecard_of(role, rec, self._now, self._table)
            )

    def of(self, address: str) -> Scorecard | None:
        self.prefetch([address])
        return self._cards[address]
