"""A whole local stack in one process: Anvil, deployed contracts, migrated database, the gateway.

Used by ``scf demo`` and by the tests and benchmarks that need a real gateway.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from api.db import migrate
from api.main import create_app
from api.services.bootstrap import bootstrap
from api.settings import Settings
from api.state import AppState
from chain.deploy import ensure_deployed
from chain.files import private_dir
from chain.node import AnvilNode, NodeError, StateKeeper, free_port, rpc
from chain.settings import PROJECT_ROOT


@dataclass
class LocalStack:
    url: str
    settings: Settings
    state: AppState
    anvil: AnvilNode
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def operator_key(self) -> str:
        return self.settings.effective_operator_api_key

    def advance_time(self, seconds: int) -> None:
        """Move the local chain's clock (Anvil only: a local tool, never used against a real network)."""
        rpc(self.anvil.url, "evm_increaseTime", [seconds])
        rpc(self.anvil.url, "evm_mine", [])

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.anvil.stop()


def start_local_stack(
    data_dir: Path, *, state_file: bool = False, settings: Settings | None = None
) -> LocalStack:
    """Start Anvil (fresh, or from ``data_dir``'s state file), deploy, migrate and serve on free ports."""
    anvil = AnvilNode(
        state_file=data_dir / "anvil-state.json" if state_file else None, log_file=data_dir / "anvil.log"
    )
    private_dir(data_dir)  # the stack's folder: chain state, logs, database and secrets, all private
    anvil.start()
    try:
        base = settings or Settings(artifacts_dir=PROJECT_ROOT / "build" / "contracts")
        settings = base.model_copy(
            update={
                "rpc_url": None,
                "anvil_port": anvil.port,
                "data_dir": data_dir / "data",
                "deployments_dir": data_dir / "deployments",
                "database_url": None,
                "api_port": free_port(),
            }
        )
        ensure_deployed(settings)
        keeper = StateKeeper(anvil.url, anvil.state_file) if anvil.state_file is not None else None
        # with a state file, nothing the gateway acknowledges is lost to a kill
        state, server, thread = serve_gateway(settings, durable=keeper.durable if keeper else None)
    except BaseException:
        anvil.stop()
        raise
    return LocalStack(f"http://127.0.0.1:{settings.api_port}", settings, state, anvil, server, thread)


def serve_gateway(
    settings: Settings, *, durable: Callable[[int], None] | None = None
) -> tuple[AppState, uvicorn.Server, threading.Thread]:
    """Migrate the database, bootstrap and serve the gateway for ``settings`` (contracts deployed) in a
    thread of this process, on 127.0.0.1:``settings.api_port``; also used against external nodes
    (``cli.conformance``)."""
    migrate(settings)
    app = create_app(settings)
    state: AppState = app.state.scf
    if durable is not None:
        state.durable = durable
    bootstrap(settings, state)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=settings.api_port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        server.should_exit = True
        raise NodeError("the gateway did not start")
    return state, server, thread
