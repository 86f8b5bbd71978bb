"""The platform CA's certificate (public), for clients that verify signatures themselves."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from api.deps import StateDep

router = APIRouter(tags=["identity"])


@router.get("/ca.pem", response_class=PlainTextResponse)
def ca_certificate(state: StateDep) -> str:
    """The platform root certificate (PEM) every participant certificate chains to."""
    return state.ca().certificate_pem.decode()
