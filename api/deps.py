"""Dependencies shared by the routers: the app state, a database session per request, paging."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Path, Query, Request
from sqlmodel import Session

from api.schemas.common import DB_INT_MAX, Page
from api.state import AppState


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.scf
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def get_session(state: StateDep) -> Iterator[Session]:
    with Session(state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

#: The settlement currency a read is about (ISO 4217; the services answer 422 ``CURRENCY_NOT_SETTLEABLE``
#: when the platform has no token in it).
CurrencyQuery = Annotated[
    str, Query(pattern=r"^[A-Z]{3}$", description="ISO 4217 code of a settlement currency.", examples=["CNY"])
]


# ---------------------------------------------------------------------------------------------- paging
# One convention for every list route.

MAX_LIMIT = 500
DEFAULT_LIMIT = 100

_Row = TypeVar("_Row")


@dataclass
class Paging:
    """``limit`` (1..500, default 100) and ``offset`` of a list answered as JSON ``Page``.
    A CSV export (``?format=csv``) is not paged: it has every row."""

    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page (at most 500).")] = (
        DEFAULT_LIMIT
    )
    offset: Annotated[int, Query(ge=0, le=DB_INT_MAX, description="Items to skip.")] = 0

    def page(self, rows: Sequence[_Row]) -> Page[_Row]:
        """The page of a whole list (``total`` is its length)."""
        return self.page_of(list(rows[self.offset : self.offset + self.limit]), len(rows))

    def page_of(self, items: Sequence[_Row], total: int) -> Page[_Row]:
        """A page whose ``items`` were already cut by the query (``OFFSET``/``LIMIT``) out of ``total``."""
        return Page(items=list(items), total=total, limit=self.limit, offset=self.offset)


PagingDep = Annotated[Paging, Depends()]


#: A receivable or offer id in a path: what the read model and the ledger can hold (422 otherwise).
IdPath = Annotated[int, Path(ge=0, le=DB_INT_MAX, description="A receivable, offer, receipt or loan id.")]
