"""The FastAPI gateway: ``create_app(settings)`` builds it; ``scf up`` serves it.

``app_from_env`` is the app of one worker process among several (``scf up --workers N``, or
``uvicorn --factory api.main:app_from_env --workers N``): settings from the environment, the
background indexer, which only the leader among the processes runs (``api.leader``), and the webhook
delivery worker (``api.services.webhooks``), which every process runs.
"""

from __future__ import annotations

import fcntl
import gc
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.db import make_engine
from api.handlers import install_error_handlers
from api.middleware import BodySizeLimit, JsonDepthLimit, UnexpectedErrors
from api.openapi import install_openapi
from api.routes import (
    bundles,
    ca,
    credit,
    credit_lines,
    devices,
    docs,
    documents,
    green,
    health,
    offers,
    participants,
    portal,
    receivables,
    reports,
    rules,
    settlement,
    warehouse,
    webhooks,
)
from api.services.bootstrap import start_background_indexer, stop_background_indexer
from api.services.recovery import on_start
from api.services.webhooks import start_webhook_worker, stop_webhook_worker
from api.settings import Settings, get_settings
from api.state import AppState
from chain.files import private_file
from chain.node import StateKeeper

DESCRIPTION = """
Gateway of the supply-chain-finance platform. Suppliers prove a trade with signed documents and
receive a receivable on a permissioned EVM ledger; core enterprises endorse it; holders split,
transfer and discount it; at maturity the core enterprise repays and every holder redeems.

Every error is JSON: `{"error": {"code": "...", "message": "...", "details": ...}}`.

**Authentication**: every call but `/health` and `/ca.pem` carries `Authorization: Bearer <API key>`.
The operator's key comes from `SCF_OPERATOR_API_KEY` (locally: `data/operator_api_key.secret`);
a participant receives its key once, in the answer to its onboarding (`POST /participants`).
POSTs that send transactions take an `Idempotency-Key` header.
"""


#: Python's own default. ``py_ecc`` (imported with web3) raises the limit to 100,000 for itself, far
#: beyond what the C stack holds: a deep enough recursion then crashes the process instead of raising
#: ``RecursionError``. Nothing of the gateway recurses deeper than this.
RECURSION_LIMIT = 1000


def freeze_startup_objects() -> None:
    """Keep what exists at start (the imported libraries, the app: about 230,000 objects) out of the
    cyclic garbage collector's full collections: one full collection scanned them all, about 145 ms on
    this machine, and whichever request it fell on waited (the p99 of ``/holdings``, 190 ms against a
    p50 of 18 ms, in the 100k-receivable read bench). What requests make later is collected as before."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    sys.setrecursionlimit(RECURSION_LIMIT)
    engine = make_engine(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # finish what a crash of the last run left open (needs the node; skipped while it is down)
        await anyio.to_thread.run_sync(on_start, app.state.scf)
        freeze_startup_objects()
        yield
        engine.dispose()

    # /docs and /redoc are api.routes.docs: FastAPI's own load their scripts from a CDN
    app = FastAPI(
        title="SCF gateway",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.scf = AppState(settings=settings, engine=engine)
    install_error_handlers(app)
    # the last added runs first: the size limit bounds what the depth check reads
    app.add_middleware(JsonDepthLimit, max_depth=settings.max_json_depth)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    # outermost of ours: a bug anywhere inside (guards included) is answered in the envelope
    app.add_middleware(UnexpectedErrors)
    for module in (
        health,
        ca,
        participants,
        credit_lines,
        credit,
        green,
        bundles,
        documents,
        rules,
        receivables,
        offers,
        settlement,
        reports,
        webhooks,
        warehouse,
        devices,
        docs,
        portal,
    ):
        app.include_router(module.router)
    app.mount("/app/static", StaticFiles(directory=portal.PORTAL_DIR / "static"), name="portal-static")
    install_openapi(app)  # every status each operation can answer, from its dependencies
    return app


#: Set to ``1`` by ``scf up`` on a local Anvil: each worker waits for Anvil's state file before it
#: acknowledges a block (``chain.node.StateKeeper``), one dump at a time across the workers.
DURABLE_STATE_ENV = "SCF_DURABLE_STATE"


def app_from_env() -> FastAPI:
    """One gateway worker: ``create_app(Settings())`` plus the background indexer (every worker runs its
    loop; only the leader among all processes on the database indexes). An import string for uvicorn's
    ``workers=`` (with ``factory=True``). Start-up work that must run once (deploy, migrate, the verifier,
    the CA) is done before the workers start (``scf up``)."""
    settings = get_settings()
    app = create_app(settings)
    state: AppState = app.state.scf
    if os.environ.get(DURABLE_STATE_ENV) == "1" and settings.rpc_url is None:
        state.durable = shared_durable(settings)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        stop_webhooks = threading.Event()
        async with inner(app):
            thread = start_background_indexer(state, stop)
            # webhook deliveries: every worker runs one, database claims share the messages out
            deliverer = start_webhook_worker(state.engine, settings, stop_webhooks)
            try:
                yield
            finally:
                await anyio.to_thread.run_sync(stop_webhook_worker, stop_webhooks, deliverer)
                await anyio.to_thread.run_sync(stop_background_indexer, stop, thread)

    app.router.lifespan_context = lifespan
    return app


def shared_durable(settings: Settings) -> Callable[[int], None]:
    """``StateKeeper.durable`` for several processes: its file is written by one at a time (an flock)."""
    keeper = StateKeeper(settings.effective_rpc_url, settings.anvil_state_file)
    lock_path = private_file(keeper.path.with_name(keeper.path.name + ".lock"))

    def durable(block: int) -> None:
        if keeper.saved >= block:
            return
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            keeper.durable(block)
        finally:
            os.close(fd)  # drops the lock

    return durable
