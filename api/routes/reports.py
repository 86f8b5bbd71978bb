"""Views and reports from the indexed read model; each report answers JSON or, with ``?format=csv``, CSV."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.auth import Principal, PrincipalDep, require
from api.csvout import CSV_ALTERNATIVE, Format, csv_response, found_or_csv, page_or_csv, window
from api.deps import PagingDep, SessionDep, StateDep
from api.errors import error_responses
from api.schemas.common import DB_INT_MAX, Page
from api.schemas.reports import CalendarDay, DiscountableOut, HoldingOut, OfferOut, Portfolio, ReceivableOut
from api.services import reports
from domain.roles import Role

router = APIRouter(tags=["reports"])
ERRORS = error_responses(401, 403, 503)
RESPONSES = {**ERRORS, **CSV_ALTERNATIVE}
CoreEnterprise = Annotated[Principal, require(Role.CORE_ENTERPRISE)]
Financier = Annotated[Principal, require(Role.FINANCIER)]


@router.get("/payables", response_model=Page[ReceivableOut], responses=RESPONSES)
def payables(
    principal: CoreEnterprise,
    state: StateDep,
    session: SessionDep,
    paging: PagingDep,
    status: Annotated[Literal["pending", "confirmed", "all"], Query()] = "all",
    format: Format = "json",
) -> Page[ReceivableOut] | Response:
    """What I owe: receivables with me as debtor (`status=pending`: awaiting my endorsement)."""
    found = reports.payables(state, session, principal.member, status, *window(paging, format))
    return found_or_csv(found, paging, format, "payables")


@router.get("/payables/calendar", response_model=Page[CalendarDay], responses=RESPONSES)
def calendar(
    principal: CoreEnterprise,
    state: StateDep,
    session: SessionDep,
    paging: PagingDep,
    format: Format = "json",
) -> Page[CalendarDay] | Response:
    """My confirmed, unpaid payables by due date."""
    found = reports.calendar(state, session, principal.member, *window(paging, format))
    return found_or_csv(found, paging, format, "calendar")


@router.get("/holdings", response_model=Page[HoldingOut], responses=RESPONSES)
def holdings(
    principal: PrincipalDep, state: StateDep, session: SessionDep, paging: PagingDep, format: Format = "json"
) -> Page[HoldingOut] | Response:
    """What I hold: each receivable with balance or cash to redeem, from whom, owed by whom, due when."""
    found = reports.holdings(state, session, principal, *window(paging, format))
    return found_or_csv(found, paging, format, "holdings")


@router.get("/discountable", response_model=Page[DiscountableOut], responses=RESPONSES)
def discountable(
    principal: Financier, state: StateDep, session: SessionDep, paging: PagingDep, format: Format = "json"
) -> Page[DiscountableOut] | Response:
    """Receivables a financier can bid for: confirmed, not disputed, not matured."""
    found = reports.discountable(state, session, principal, *window(paging, format))
    return found_or_csv(found, paging, format, "discountable")


@router.get("/offers", response_model=Page[OfferOut], responses=RESPONSES)
def list_offers(
    principal: PrincipalDep,
    state: StateDep,
    session: SessionDep,
    paging: PagingDep,
    receivable_id: Annotated[int | None, Query(ge=0, le=DB_INT_MAX)] = None,
    format: Format = "json",
) -> Page[OfferOut] | Response:
    """Offers: a financier sees its own; a holder sees the offers on receivables it holds; operator and
    regulator see all. Filter by `receivable_id`."""
    return page_or_csv(reports.offers(state, session, principal, receivable_id), paging, format, "offers")


@router.get("/portfolio", response_model=Portfolio, responses=RESPONSES)
def portfolio(
    principal: Financier, state: StateDep, session: SessionDep, format: Format = "json"
) -> Portfolio | Response:
    """My discounted receivables: purchase price, face value bought, yield, holding, overdue exposure
    (CSV: the lines)."""
    folio = reports.portfolio(state, session, principal.member)
    return csv_response(folio.lines, "portfolio") if format == "csv" else folio
