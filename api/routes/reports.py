"""Views and reports from the indexed read model; each report answers JSON or, with ``?format=csv``, CSV."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlmodel import col, select

from api.auth import Principal, PrincipalDep, require
from api.deps import SessionDep, StateDep
from api.errors import error_responses
from api.schemas.common import Page
from api.schemas.reports import (
    CalendarDay,
    DiscountableOut,
    HoldingOut,
    OfferOut,
    Portfolio,
    PortfolioLine,
    ReceivableOut,
)
from api.services.reports import (
    Names,
    PagingDep,
    as_csv,
    chain_now,
    day,
    is_overdue,
    page_or_csv,
    receivable_out,
)
from domain.maths import days_to_maturity
from domain.roles import Role
from readmodel.projector import claim, outstanding
from readmodel.tables import RmFill, RmHolding, RmOffer, RmPayment, RmReceivable, RmTransfer

router = APIRouter(tags=["reports"])
ERRORS = error_responses(401, 403, 503)
Format = Annotated[Literal["json", "csv"], Query(description="`csv` for a spreadsheet.")]
CoreEnterprise = Annotated[Principal, require(Role.CORE_ENTERPRISE)]
Financier = Annotated[Principal, require(Role.FINANCIER)]
Overseer = (Role.OPERATOR, Role.REGULATOR)


def _me(principal: Principal) -> str:
    return principal.member.chain_address


@router.get("/payables", response_model=Page[ReceivableOut], responses=ERRORS)
def payables(
    principal: CoreEnterprise,
    state: StateDep,
    session: SessionDep,
    paging: PagingDep,
    status: Annotated[Literal["pending", "confirmed", "all"], Query()] = "all",
    format: Format = "json",
) -> Page[ReceivableOut] | Response:
    """What I owe: receivables with me as debtor (`status=pending`: awaiting my endorsement)."""
    state.catch_up()
    query = select(RmReceivable).where(RmReceivable.debtor == _me(principal))
    if status != "all":
        query = query.where(RmReceivable.status == status.upper())
    names, now = Names(session), chain_now(state)
    rows = [
        receivable_out(r, names, now) for r in session.exec(query.order_by(col(RmReceivable.due_date))).all()
    ]
    return page_or_csv(rows, paging, format, "payables")


@router.get("/payables/calendar", response_model=Page[CalendarDay], responses=ERRORS)
def calendar(
    principal: CoreEnterprise,
    state: StateDep,
    session: SessionDep,
    paging: PagingDep,
    format: Format = "json",
) -> Page[CalendarDay] | Response:
    """My confirmed, unpaid payables by due date."""
    state.catch_up()
    by_day: dict[int, list[RmReceivable]] = defaultdict(list)
    query = select(RmReceivable).where(
        RmReceivable.debtor == _me(principal), RmReceivable.status == "CONFIRMED"
    )
    for r in session.exec(query).all():
        by_day[r.due_date].append(r)
    rows = [
        CalendarDay(due_date=day(ts), receivables=len(rs), outstanding_minor=sum(outstanding(r) for r in rs))
        for ts, rs in sorted(by_day.items())
    ]
    return page_or_csv(rows, paging, format, "calendar")


@router.get("/holdings", response_model=Page[HoldingOut], responses=ERRORS)
def holdings(
    principal: PrincipalDep, state: StateDep, session: SessionDep, paging: PagingDep, format: Format = "json"
) -> Page[HoldingOut] | Response:
    """What I hold: each receivable with balance or cash to redeem, from whom, owed by whom, due when."""
    state.catch_up()
    me = _me(principal) if principal.participant else ""
    names, now = Names(session), chain_now(state)
    rows = []
    query = select(RmHolding).where(RmHolding.holder == me)
    for h in session.exec(query.order_by(col(RmHolding.receivable_id))).all():
        if int(h.balance) == 0 and int(h.redeemable) == 0:
            continue
        r = session.get(RmReceivable, h.receivable_id)
        assert r is not None
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
    return page_or_csv(rows, paging, format, "holdings")


@router.get("/discountable", response_model=Page[DiscountableOut], responses=ERRORS)
def discountable(
    _: Financier, state: StateDep, session: SessionDep, paging: PagingDep, format: Format = "json"
) -> Page[DiscountableOut] | Response:
    """Receivables a financier can bid for: confirmed, not disputed, not matured."""
    state.catch_up()
    names, now = Names(session), chain_now(state)
    query = select(RmReceivable).where(
        RmReceivable.status == "CONFIRMED", col(RmReceivable.disputed).is_(False), RmReceivable.due_date > now
    )
    rows = [
        DiscountableOut(
            receivable_id=r.id,
            debtor=names.ref(r.debtor),
            outstanding_minor=outstanding(r),
            due_date=day(r.due_date),
            tenor_days=days_to_maturity(r.due_date, now),
        )
        for r in session.exec(query.order_by(col(RmReceivable.due_date))).all()
    ]
    return page_or_csv(rows, paging, format, "discountable")


@router.get("/offers", response_model=Page[OfferOut], responses=ERRORS)
def list_offers(
    principal: PrincipalDep,
    state: StateDep,
    session: SessionDep,
    paging: PagingDep,
    receivable_id: int | None = None,
    format: Format = "json",
) -> Page[OfferOut] | Response:
    """Offers: a financier sees its own; a holder sees the offers on receivables it holds; operator and
    regulator see all. Filter by `receivable_id`."""
    state.catch_up()
    names, now = Names(session), chain_now(state)
    query = select(RmOffer)
    if receivable_id is not None:
        query = query.where(RmOffer.receivable_id == receivable_id)
    if principal.role == Role.FINANCIER:
        query = query.where(RmOffer.maker == _me(principal))
    elif principal.role not in Overseer:
        held = select(RmHolding.receivable_id).where(
            RmHolding.holder == _me(principal), RmHolding.balance != "0"
        )
        query = query.where(col(RmOffer.receivable_id).in_(held))
    rows = [
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
    return page_or_csv(rows, paging, format, "offers")


@router.get("/portfolio", response_model=Portfolio, responses=ERRORS)
def portfolio(
    principal: Financier, state: StateDep, session: SessionDep, format: Format = "json"
) -> Portfolio | Response:
    """My discounted receivables: purchase price, face value bought, yield, holding, overdue exposure."""
    state.catch_up()
    me = _me(principal)
    names, now = Names(session), chain_now(state)
    fills: dict[int, list[RmFill]] = defaultdict(list)
    for f in session.exec(select(RmFill).where(RmFill.maker == me)).all():
        fills[f.receivable_id].append(f)
    lines = []
    for rid, fs in sorted(fills.items()):
        r = session.get(RmReceivable, rid)
        assert r is not None
        h = session.get(RmHolding, (rid, me))
        holding = claim(r, int(h.balance)) if h else 0
        bought = sum(int(f.amount) for f in fs)
        price = sum(int(f.price) for f in fs)
        weighted_days = sum(f.days_to_maturity * int(f.price) for f in fs) / price if price else 0
        yield_bps = (
            (bought - price) / price * 365 / weighted_days * 10_000 if price and weighted_days else 0.0
        )
        redeemed = sum(
            int(p.amount)
            for p in session.exec(
                select(RmPayment).where(
                    RmPayment.receivable_id == rid, RmPayment.party == me, RmPayment.kind == "redemption"
                )
            ).all()
        )
        overdue = is_overdue(r, now)
        lines.append(
            PortfolioLine(
                receivable_id=rid,
                debtor=names.ref(r.debtor),
                bought_minor=bought,
                purchase_price_minor=price,
                yield_bps=round(yield_bps, 2),
                holding_minor=holding,
                redeemed_minor=redeemed,
                due_date=day(r.due_date),
                overdue=overdue,
                overdue_exposure_minor=holding if overdue else 0,
            )
        )
    if format == "csv":
        return as_csv(lines, "portfolio")
    return Portfolio(
        lines=lines,
        total_purchase_price_minor=sum(line.purchase_price_minor for line in lines),
        total_face_minor=sum(line.bought_minor for line in lines),
        overdue_exposure_minor=sum(line.overdue_exposure_minor for line in lines),
    )
