"""Liveness and deployment status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from api.auth import OptionalPrincipalDep, Principal, require
from api.deps import StateDep
from api.errors import ErrorResponse
from api.schemas.health import Health, ReadModelCheck
from api.services import health as service
from domain.roles import Role

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": ErrorResponse, "description": "The chain node does not answer."}},
)
def health(state: StateDep, principal: OptionalPrincipalDep) -> Health:
    """Chain id, latest block, the deployed contracts (with a live code check) and whether the database
    takes a write; public. A database that is locked, read-only or unreachable makes the status
    `degraded`, still with HTTP 200 (reads go on; every replica shares the database, so taking them out
    of a load balancer would not help). The node's URL only for the operator (it may carry credentials)."""
    return service.health(state, show_rpc_url=principal is not None and principal.role == Role.OPERATOR)


@router.get("/health/read-model", response_model=ReadModelCheck)
def read_model_check(
    _: Annotated[Principal, require(Role.OPERATOR, Role.REGULATOR)], state: StateDep
) -> ReadModelCheck:
    """Index up to the head, then compare every indexed receivable, holding, offer, credit line and
    participant with the contracts' own state (operator and regulator)."""
    return service.read_model_check(state)
