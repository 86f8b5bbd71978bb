"""Reading the indexed read model (``rm_`` tables) for the gateway's views and reports.

Every function first waits until the read model holds the caller's own transactions
(``AppState.read_after``: read-your-own-writes, no catch-up of the whole chain) and answers as of the
read model's cursor, with the chain's clock of that block. Lists are filtered, ordered and cut to a page
in SQL (``limit`` None: every row, for CSV) and return ``(rows, total)``, the total from the projector's
tallies; so a page costs the same few statements whatever the ledger's size. The settlement maths
(outstanding, a holding's claim) are ``readmodel.projector``'s, the day count ``domain.maths``'s.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Literal, TypeVar

from sqlalchemy import and_, false, func, or_
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
    PortfolioTotal,
    ReceivableOut,
)
from api.services.currencies import currency_of
from api.services.lifecycle import Caller, address_of
from api.state import AppState, ReadView
from domain.credit import ScoreRole
from domain.maths import days_to_maturity, portfolio_yield_bps
from domain.roles import OVERSEERS, Role
from readmodel import credit
from readmodel.credit import is_overdue
from readmodel.projector import ALL, claim, outstanding, tally
from readmodel.tables import (
    RmCalendar,
    RmFill,
    RmHolding,
    RmOffer,
    RmPayment,
    RmReceivable,
    RmTransfer,
)

_Row = TypeVar("_Row")
#: one page of a list and the number of rows across all pages
Found = tuple[list[_Row], int]


class Names:
    """Participant names by chain address (one query per request), and the currencies of the settlement
    tokens (``currency``: the platform's deployment, no query)."""

    def __init__(self, session: Session, state: AppState | None = None) -> None:
        self._by_address = {p.chain_address.lower(): p for p in session.exec(select(Participant)).all()}
        self._state = state

    def currency(self, token: str) -> str:
        """The ISO 4217 code of the settlement token at ``token`` ("" for none of the platform's): for the
        reads of receivables, which pass the gateway's state."""
        assert self._state is not None, "Names(session, state) reads currencies"
        return currency_of(self._state, token)

    def scored_roles(self) -> dict[str, ScoreRole]:
        """As what each participant with a scored profile is scored, by chain address."""
        out = {}
        for p in self._by_address.values():
            scored = credit.SCORED.get(Role(p.role))
            if scored is not None:
                out[p.chain_address] = scored
        return out

    def ref(self, address: str) -> PartyRefOut:
        p = self._by_address.get(address.lower())
        return PartyRefOut(
            address=address, participant_id=p.id if p else None, name=p.legal_name if p else None
        )


def as_of(state: AppState, caller: Caller) -> ReadView:
    """``AppState.read_after`` for a caller (the operator: its requests and its own account)."""
    p = caller.participant
    if p is None:
        return state.read_after("operator", state.operator_address())
    return state.read_after(p.id, p.chain_address)


def of(state: AppState, participant: Participant) -> ReadView:
    return state.read_after(participant.id, participant.chain_address)


def day(ts: int) -> date:
    return datetime.fromtimestamp(ts, UTC).date()


def receivable_out(r: RmReceivable, names: Names, now: int) -> ReceivableOut:
    return ReceivableOut(
        id=r.id,
        creditor=names.ref(r.creditor),
        debtor=names.ref(r.debtor),
        currency=names.currency(r.token),
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
        fingerprint=r.fingerprint,
        delivery_hash=r.delivery_hash,
    )


# --------------------------------------------------------------------------------- core enterprise


def payables(
    state: AppState,
    session: Session,
    debtor: Participant,
    status: Literal["pending", "confirmed", "all"],
    limit: int | None = None,
    offset: int = 0,
) -> Found[ReceivableOut]:
    """Receivables owed by ``debtor`` (``pending``: awaiting its endorsement), by due date."""
    view = of(state, debtor)
    me = debtor.chain_address
    query = select(RmReceivable).where(RmReceivable.debtor == me)
    kind = "payables"
    if status != "all":
        query = query.where(RmReceivable.status == status.upper())
        kind = f"payables:{status.upper()}"
    query = query.order_by(col(RmReceivable.due_date), col(RmReceivable.id)).offset(offset).limit(limit)
    names = Names(session, state)
    rows = [receivable_out(r, names, view.now) for r in session.exec(query).all()]
    return rows, tally(session, kind, me)


def calendar(
    state: AppState, session: Session, debtor: Participant, limit: int | None = None, offset: int = 0
) -> Found[CalendarDay]:
    """``debtor``'s confirmed, unpaid payables grouped by due date (the projector's ``rm_calendar``)."""
    of(state, debtor)
    me = debtor.chain_address
    query = (
        select(RmCalendar)
        .where(RmCalendar.debtor == me, col(RmCalendar.receivables) > 0)
        .order_by(col(RmCalendar.due_date), col(RmCalendar.token))
        .offset(offset)
        .limit(limit)
    )
    rows = [
        CalendarDay(
            due_date=day(c.due_date),
            currency=currency_of(state, c.token),
            receivables=c.receivables,
            outstanding_minor=int(c.outstanding),
        )
        for c in session.exec(query).all()
    ]
    return rows, tally(session, "calendar", me)


# ---------------------------------------------------------------------------------------- holders


def holdings(
    state: AppState, session: Session, caller: Caller, limit: int | None = None, offset: int = 0
) -> Found[HoldingOut]:
    """The caller's positions with units or cash to redeem (none for the operator): one query for the
    page (each position with its receivable and the sender of its last receipt), the total a tally."""
    view = as_of(state, caller)
    me = address_of(caller)
    last_in = (
        select(RmTransfer.from_address)
        .where(RmTransfer.receivable_id == RmHolding.receivable_id, RmTransfer.to_address == me)
        .order_by(
            col(RmTransfer.block_number).desc(),
            col(RmTransfer.log_index).desc(),
            col(RmTransfer.batch_index).desc(),
        )
        .limit(1)
        .correlate(RmHolding)
        .scalar_subquery()
    )
    query = (
        select(RmHolding, RmReceivable, last_in)
        .join(RmReceivable, col(RmReceivable.id) == col(RmHolding.receivable_id))
        .where(RmHolding.holder == me, or_(col(RmHolding.balance) != "0", col(RmHolding.redeemable) != "0"))
        .order_by(col(RmHolding.receivable_id))
        .offset(offset)
        .limit(limit)
    )
    names = Names(session, state)
    rows = []
    for h, r, sender in session.exec(query).all():
        came_from = sender if sender is not None and int(sender, 16) != 0 else None
        rows.append(
            HoldingOut(
                receivable_id=r.id,
                currency=names.currency(r.token),
                balance_minor=int(h.balance),
                claim_minor=claim(r, int(h.balance)),
                redeemable_minor=int(h.redeemable),
                received_from=names.ref(came_from) if came_from else None,
                creditor=names.ref(r.creditor),
                debtor=names.ref(r.debtor),
                due_date=day(r.due_date),
                status=r.status,
                disputed=r.disputed,
                overdue=is_overdue(r, view.now),
            )
        )
    return rows, tally(session, "holdings", me) if me else 0


def offers(state: AppState, session: Session, caller: Caller, receivable_id: int | None) -> list[OfferOut]:
    """A financier's own offers; a holder's: those on receivables it holds; the overseers': all."""
    now = as_of(state, caller).now
    names = Names(session, state)
    query = select(RmOffer, RmReceivable.token).join(
        RmReceivable, col(RmReceivable.id) == col(RmOffer.receivable_id)
    )
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
            currency=names.currency(token),
            max_amount_minor=int(o.max_amount),
            filled_minor=int(o.filled),
            rate_bps=o.rate_bps,
            expiry=o.expiry,
            cancelled=o.cancelled,
            open=not o.cancelled and o.expiry >= now and int(o.filled) < int(o.max_amount),
            standard_rate_bps=o.standard_rate_bps,
            green_discount_bps=o.green_discount_bps,
        )
        for o, token in session.exec(query.order_by(col(RmOffer.offer_id))).all()
    ]


# ------------------------------------------------------------------------------------- financiers


def discountable(
    state: AppState, session: Session, caller: Caller, limit: int | None = None, offset: int = 0
) -> Found[DiscountableOut]:
    """Receivables a financier can bid for: confirmed, not disputed, not matured; by due date. The total
    is the tally of confirmed, undisputed ones less those already matured (an index range)."""
    now = as_of(state, caller).now
    market = and_(col(RmReceivable.status) == "CONFIRMED", col(RmReceivable.disputed) == false())
    query = (
        select(RmReceivable)
        .where(market, RmReceivable.due_date > now)
        .order_by(col(RmReceivable.due_date), col(RmReceivable.id))
        .offset(offset)
        .limit(limit)
    )
    matured = session.exec(
        select(func.count()).select_from(RmReceivable).where(market, RmReceivable.due_date <= now)
    ).one()
    names = Names(session, state)
    scores = credit.Scores(session, now, state.settings.credit_table, names.scored_roles())
    rows = []
    page = session.exec(query).all()
    scores.prefetch([a for r in page for a in (r.debtor, r.creditor)])
    for r in page:  # each party's profile: the financier may read it (its market)
        debtor, creditor = scores.of(r.debtor), scores.of(r.creditor)
        rows.append(
            DiscountableOut(
                receivable_id=r.id,
                debtor=names.ref(r.debtor),
                currency=names.currency(r.token),
                outstanding_minor=outstanding(r),
                due_date=day(r.due_date),
                tenor_days=days_to_maturity(r.due_date, now),
                creditor=names.ref(r.creditor),
                debtor_score=debtor.score if debtor else None,
                debtor_grade=debtor.grade if debtor else None,
                creditor_score=creditor.score if creditor else None,
                creditor_grade=creditor.grade if creditor else None,
            )
        )
    return rows, tally(session, "discountable", ALL) - matured


def portfolio(state: AppState, session: Session, financier: Participant) -> Portfolio:
    """``financier``'s discounted receivables: purchase price, face bought, yield, holding, redemptions,
    overdue exposure (four queries, whatever the number of lines)."""
    now = of(state, financier).now
    me = financier.chain_address
    names = Names(session, state)
    fills: dict[int, list[RmFill]] = defaultdict(list)
    for f in session.exec(select(RmFill).where(RmFill.maker == me)).all():
        fills[f.receivable_id].append(f)
    bought = col(RmReceivable.id).in_(select(RmFill.receivable_id).where(RmFill.maker == me))
    receivables = {r.id: r for r in session.exec(select(RmReceivable).where(bought)).all()}
    held = select(RmHolding).where(
        RmHolding.holder == me,
        col(RmHolding.receivable_id).in_(select(RmFill.receivable_id).where(RmFill.maker == me)),
    )
    holding_of = {h.receivable_id: h for h in session.exec(held).all()}
    redeemed: dict[int, int] = defaultdict(int)
    mine = select(RmPayment).where(RmPayment.party == me, RmPayment.kind == "redemption")
    for p in session.exec(mine).all():
        redeemed[p.receivable_id] += int(p.amount)
    lines = []
    for rid, fs in sorted(fills.items()):
        r = receivables.get(rid)
        assert r is not None, f"read model: no rm_receivable {rid} behind its own rows"
        h = holding_of.get(rid)
        holding = claim(r, int(h.balance)) if h else 0
        overdue = is_overdue(r, now)
        lines.append(
            PortfolioLine(
                receivable_id=rid,
                debtor=names.ref(r.debtor),
                currency=names.currency(r.token),
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
    by_currency: dict[str, list[PortfolioLine]] = defaultdict(list)
    for line in lines:
        by_currency[line.currency].append(line)
    totals = [
        PortfolioTotal(
            currency=code,
            total_purchase_price_minor=sum(line.purchase_price_minor for line in of_code),
            total_face_minor=sum(line.bought_minor for line in of_code),
            overdue_exposure_minor=sum(line.overdue_exposure_minor for line in of_code),
        )
        for code, of_code in sorted(by_currency.items())
    ]
    return Portfolio(lines=lines, totals=totals)
