"""Dependencies shared by the routers: settings, database sessions, chain, the platform CA."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session
from web3 import Web3

from chain.client import Sender, connect
from chain.settings import Settings

if TYPE_CHECKING:
    from api.services.chain import GatewayChain
    from domain.identity import CertificateAuthority


@dataclass
class AppState:
    """What the app holds for its lifetime. The chain connection and the CA are made on first use."""

    settings: Settings
    engine: Engine
    _w3: Web3 | None = field(default=None, repr=False)
    _chain: GatewayChain | None = field(default=None, repr=False)
    _ca: CertificateAuthority | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    senders: dict[str, Sender] = field(default_factory=dict, repr=False)
    _index_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def w3(self) -> Web3:
        """The Web3 connection; raises ChainUnavailableError (answered as 503) if the node is down."""
        if self._w3 is None or not self._w3.is_connected():
            self._w3 = connect(self.settings.effective_rpc_url, self.settings.rpc_timeout)
        return self._w3

    def chain(self) -> GatewayChain:
        from api.services.chain import build_gateway_chain

        with self._lock:
            if self._chain is None or not self._chain.w3.is_connected():
                self._chain = build_gateway_chain(self.settings, self.w3(), self.engine)
            return self._chain

    def catch_up(self) -> None:
        """Bring the read model up to the chain's head (reads call this first: they see their own writes)."""
        chain = self.chain()
        with self._index_lock:
            chain.indexer.run_once()

    def ca(self) -> CertificateAuthority:
        from api.services.ca import load_or_create_ca

        with self._lock:
            if self._ca is None:
                self._ca = load_or_create_ca(self.settings, self.engine)
            return self._ca


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.scf
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def get_session(state: StateDep) -> Iterator[Session]:
    with Session(state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


# ---------------------------------------------------------------------------------------------- paging
# One convention for every list route (self-contained block: its imports are here).

from collections.abc import Sequence  # noqa: E402
from typing import TypeVar  # noqa: E402

from fastapi import Query  # noqa: E402

from api.schemas.common import Page  # noqa: E402

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
    offset: Annotated[int, Query(ge=0, description="Items to skip.")] = 0

    def page(self, rows: Sequence[_Row]) -> Page[_Row]:
        """The page of a whole list (``total`` is its length)."""
        return self.page_of(list(rows[self.offset : self.offset + self.limit]), len(rows))

    def page_of(self, items: Sequence[_Row], total: int) -> Page[_Row]:
        """A page whose ``items`` were already cut by the query (``OFFSET``/``LIMIT``) out of ``total``."""
        return Page(items=list(items), total=total, limit=self.limit, offset=self.offset)


PagingDep = Annotated[Paging, Depends()]
