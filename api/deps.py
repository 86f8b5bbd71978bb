"""Dependencies shared by the routers: settings, database engine, chain connection."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from web3 import Web3

from chain.client import connect
from chain.settings import Settings


@dataclass
class AppState:
    """What the app holds for its lifetime. The chain connection is made on first use."""

    settings: Settings
    engine: Engine
    _w3: Web3 | None = field(default=None, repr=False)

    def w3(self) -> Web3:
        """The Web3 connection; raises ChainUnavailableError (answered as 503) if the node is down."""
        if self._w3 is None or not self._w3.is_connected():
            self._w3 = connect(self.settings.effective_rpc_url, self.settings.rpc_timeout)
        return self._w3


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.scf
    return state


StateDep = Annotated[AppState, Depends(get_state)]
