"""Reading the indexed read model (``rm_`` tables) for the gateway's views and reports.

Every function brings the read model up to the chain's head first (a caller sees its own writes) and
returns rows (pydantic models); paging and CSV are the route layer's (``api.deps.Paging``,
``api.csvout``). The settlement maths (outstanding, a holding's claim) are ``readmodel.projector``'s,
the day count ``domain.maths``'s.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Literal

from sqlmodel import Session, col, select

from api.models import Participant
from api.schemas.reports import (
    CalendarDay,
    DiscountableOut,
    HoldingOut,
    OfferOut,
    PartyRefOut,
    Portfolio,
    PortfolioLine,
    ReceivableOut,
)
from api.services.lifecycle import Caller, address_of
from api.state import AppState
from domain.maths import days_to_maturity, portfolio_yield_bps
from domain.roles import OVERSEERS, Role
from readmodel.projector import claim, outstanding
from readmodel.tables import RmFill, RmHolding, RmOffer, RmPayment, RmReceivable, RmTransfer

GRACE_PERIOD = 3 * 86_400  # ReceivableLedger.GRACE_PERIOD


class Names:
    """Participant names by chain address (one query per request)."""

    def __init__(self, session: Session) -> None:
        self._by_address = {p.chain_address.lower(): p for p in session.exec(select(Participant)).all()}

    def ref(self, address: str) -> PartyRefOut:
        p = self._by_address.get(address.lower())
        return PartyRefOut(
            address=address, participant_id=p.id if p else None, name=p.legal_name if p else None
        )


def day(ts: int) -> date:
    return datetime.fromtimestamp(ts, UTC).date()


def is_overdue(r: RmReceivable, now: int) -> bool:
    """``ReceivableLedger.isOverdue``: confirmed (not settled) and past the due date plus the grace period."""
    return r.status == "CONFIRMED" and now > r.due_date + GRACE_PERIOD


def receivable_out(r: RmReceivable, names: Names, now: int) -> ReceivableOut:
    return ReceivableOut(
        id=r.id,
        creditor=names.ref(r.creditor),
        debtor=names.ref(r.debtor),
        face_value_minor=int(r.face_value),
        outstanding_minor=outstanding(r),
        repaid_minor=int(r.repaid),
        diluted_minor=int(r.diluted),
        issue_date=day(r.issue_date),
        due_date=day(r.due_date),
        status=r.status,
        disputed=r.disputed,
        overdue=is_overdue(r, now),
        bundle_hash=r.bundle_hash,
        delivery_hash=r.delivery_hash,
    )


def _receivable(session: Session, rid: int) -> RmReceivable:
    r = session.get(RmReceivable, rid)
    assert r is not None, f"read model: no rm_receivable {rid} behind its own rows"
    return r


# --------------------------------------------------------------------------------- core enterprise


def payables(
    state: AppState, session: Session, debtor: Participant, status: Literal["pending", "confirmed", "all"]
) -> list[ReceivableOut]:
    """Receivables owed by ``debtor`` (``pending``: awaiting its endorsement), by due date."""
    state.catch_up()
    query = select(RmReceivable).where(RmReceivable.debtor == debtor.chain_address)
    if status != "all":
        query = query.where(RmReceivable.status == status.upper())
    names, now = Names(session), state.chain_now()
    return [
        receivable_out(r, names, now) for r in session.exec(query.order_by(col(RmReceivable.due_date))).all()
    ]


def calendar(state: AppState, session: Session, debtor: Participant) -> list[CalendarDay]:
    """``debtor``'s confirmed, unpaid payables grouped by due date."""
    state.catch_up()
    by_day: dict[int, list[RmReceivable]] = defaultdict(list)
    query = select(RmReceivable).where(
        RmReceivable.debtor == debtor.chain_address, RmReceivable.status == "CONFIRMED"
    )
    for r in session.exec(query).all():
        by_day[r.due_date].append(r)
    return [
        CalendarDay(due_date=day(ts), receivables=len(rs), outstanding_minor=sum(outstanding(r) for r in rs))
        for ts, rs in sorted(by_day.items())
    ]


# ---------------------------------------------------------------------------------------- holders


def holdings(state: AppState, session: Session, caller: Caller) -> list[HoldingOut]:
    """The caller's positions with units or cash to redeem (none for the operator)."""
    state.catch_up()
    me = address_of(caller)
    names, now = Names(session), state.chain_now()
    rows = []
    query = select(RmHolding).where(RmHolding.holder == me)
    for h in session.exec(query.order_by(col(RmHolding.receivable_id))).all():
        if int(h.balance) == 0 and int(h.redeemable) == 0:
            continue
        r = _receivable(session, h.receivable_id)
        last_in = session.exec(
            select(RmTransfer)
            .where(RmTransfer.receivable_id == h.receivable_id, RmTransfer.to_address == me)
            .order_by(col(RmTransfer.block_number).desc(), col(RmTransfer.log_index).desc())
        ).first()
        sender = last_in.from_address if last_in and int(last_in.from_address, 16) != 0 else None
        rows.append(
            HoldingOut(
                receivable_id=r.id,
                balance_minor=int(h.balance),
                claim_minor=claim(r, int(h.balance)),
                redeemable_minor=int(h.redeemable),
                received_from=names.ref(sender) if sender else None,
                creditor=names.ref(r.creditor),
                debtor=names.ref(r.debtor),
                due_date=day(r.due_date),
                status=r.status,
                disputed=r.disputed,
                overdue=is_overdue(r, now),
            )
        )
    return rows


def offers(state: AppState, session: Session, caller: Caller, receivable_id: int | None) -> list[OfferOut]:
    """A financier's own offers; a holder's: those on receivables it holds; the overseers': all."""
    state.catch_up()
    names, now = Names(session), state.chain_now()
    query = select(RmOffer)
    if receivable_id is not None:
        query = query.where(RmOffer.receivable_id == receivable_id)
    if caller.role == Role.FINANCIER:
        query = query.where(RmOffer.maker == address_of(caller))
    elif caller.role not in OVERSEERS:
        held = select(RmHolding.receivable_id).where(
            RmHolding.holder == address_of(caller), RmHolding.balance != "0"
        )
        query = query.where(col(RmOffer.receivable_id).in_(held))
    return [
        OfferOut(
            offer_id=o.offer_id,
            receivable_id=o.receivable_id,
            maker=names.ref(o.maker),
            max_amount_minor=int(o.max_amount),
            filled_minor=int(o.filled),
            rate_bps=o.rate_bps,
            expiry=o.expiry,
            cancelled=o.cancelled,
            open=not o.cancelled and o.expiry >= now and int(o.filled) < int(o.max_amount),
        )
        for o in session.exec(query.order_by(col(RmOffer.offer_id))).all()
    ]


# ------------------------------------------------------------------------------------- financiers


def discountable(state: AppState, session: Session) -> list[DiscountableOut]:
    """Receivables a financier can bid for: confirmed, not disputed, not matured; by due date."""
    state.catch_up()
    names, now = Names(session), state.chain_now()
    query = select(RmReceivable).where(
        RmReceivable.status == "CONFIRMED", col(RmReceivable.disputed).is_(False), RmReceivable.due_date > now
    )
    return [
        DiscountableOut(
            receivable_id=r.id,
            debtor=names.ref(r.debtor),
            outstanding_minor=outstanding(r),
            due_date=day(r.due_date),
            tenor_days=days_to_maturity(r.due_date, now),
        )
        for r in session.exec(query.order_by(col(RmReceivable.due_date))).all()
    ]


def portfolio(state: AppState, session: Session, financier: Participant) -> Portfolio:
    """``financier``'s discounted receivables: purchase price, face bought, yield, holding, redemptions,
    overdue exposure."""
    state.catch_up()
    me = financier.chain_address
    names, now = Names(session), state.chain_now()
    fills: dict[int, list[RmFill]] = defaultdict(list)
    for f in session.exec(select(RmFill).where(RmFill.maker == me)).all():
        fills[f.receivable_id].append(f)
    redeemed: dict[int, int] = defaultdict(int)
    mine = select(RmPayment).where(RmPayment.party == me, RmPayment.kind == "redemption")
    for p in session.exec(mine).all():
        redeemed[p.receivable_id] += int(p.amount)
    lines = []
    for rid, fs in sorted(fills.items()):
        r = _receivable(session, rid)
        h = session.get(RmHolding, (rid, me))
        holding = claim(r, int(h.balance)) if h else 0
        overdue = is_overdue(r, now)
        lines.append(
            PortfolioLine(
                receivable_id=rid,
                debtor=names.ref(r.debtor),
                bought_minor=sum(int(f.amount) for f in fs),
                purchase_price_minor=sum(int(f.price) for f in fs),
                yield_bps=portfolio_yield_bps((int(f.amount), int(f.price), f.days_to_maturity) for f in fs),
                holding_minor=holding,
                redeemed_minor=redeemed[rid],
                due_date=day(r.due_date),
                overdue=overdue,
                overdue_exposure_minor=holding if overdue else 0,
            )
        )
    return Portfolio(
        lines=lines,
        total_purchase_price_minor=sum(line.purchase_price_minor for line in lines),
        total_face_minor=sum(line.bought_minor for line in lines),
        overdue_exposure_minor=sum(line.overdue_exposure_minor for line in lines),
    )
