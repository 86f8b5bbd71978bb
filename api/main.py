"""The FastAPI gateway: ``create_app(settings)`` builds it; ``scf up`` serves it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.db import make_engine
from api.deps import AppState
from api.errors import install_error_handlers
from api.routes import health
from chain.settings import Settings, get_settings

DESCRIPTION = """
Gateway of the supply-chain-finance platform. Suppliers prove a trade with signed documents and
receive a receivable on a permissioned EVM ledger; core enterprises endorse it; holders split,
transfer and discount it; at maturity the core enterprise repays and every holder redeems.

Every error is JSON: `{"error": {"code": "...", "message": "...", "details": ...}}`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = make_engine(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(title="SCF gateway", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.scf = AppState(settings=settings, engine=engine)
    install_error_handlers(app)
    app.include_router(health.router)
    return app
