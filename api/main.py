"""The FastAPI gateway: ``create_app(settings)`` builds it; ``scf up`` serves it."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from api.db import make_engine
from api.handlers import install_error_handlers
from api.middleware import BodySizeLimit, JsonDepthLimit, UnexpectedErrors
from api.openapi import install_openapi
from api.routes import (
    bundles,
    ca,
    credit_lines,
    documents,
    health,
    offers,
    participants,
    receivables,
    reports,
    rules,
    settlement,
)
from api.services.recovery import on_start
from api.settings import Settings, get_settings
from api.state import AppState

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


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    sys.setrecursionlimit(RECURSION_LIMIT)
    engine = make_engine(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # finish what a crash of the last run left open (needs the node; skipped while it is down)
        await anyio.to_thread.run_sync(on_start, app.state.scf)
        yield
        engine.dispose()

    app = FastAPI(title="SCF gateway", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
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
        bundles,
        documents,
        rules,
        receivables,
        offers,
        settlement,
        reports,
    ):
        app.include_router(module.router)
    install_openapi(app)  # every status each operation can answer, from its dependencies
    return app
