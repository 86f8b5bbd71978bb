"""Liveness and deployment status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from api.auth import Principal, require
from api.db import current_revision
from api.deps import StateDep
from api.errors import ErrorResponse
from api.schemas.health import ChainHealth, DatabaseHealth, DeployedContract, Health
from chain.deploy import load_deployments
from chain.plan import CONTRACT_NAMES
from domain.roles import Role
from readmodel.reconcile import compare_with_chain

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": ErrorResponse, "description": "The chain node does not answer."}},
)
def health(state: StateDep) -> Health:
    """Chain id, latest block and the deployed contracts (with a live code check)."""
    w3 = state.w3()
    chain_id = w3.eth.chain_id
    latest = w3.eth.block_number
    recorded = load_deployments(state.settings.deployments_path, chain_id)
    contracts = {
        name: DeployedContract(address=entry["address"], has_code=len(w3.eth.get_code(entry["address"])) > 0)
        for name, entry in recorded.items()
    }
    missing = [n for n in CONTRACT_NAMES if n not in contracts or not contracts[n].has_code]
    try:
        db = DatabaseHealth(ok=True, revision=current_revision(state.engine))
    except Exception:
        db = DatabaseHealth(ok=False, revision=None)
    return Health(
        status="ok" if not missing and db.ok else "degraded",
        chain=ChainHealth(rpc_url=state.settings.effective_rpc_url, chain_id=chain_id, latest_block=latest),
        database=db,
        contracts=contracts,
        missing_contracts=missing,
    )


class ReadModelCheck(BaseModel):
    in_sync: bool
    differences: list[str]
    indexed_block: int


@router.get("/health/read-model", response_model=ReadModelCheck)
def read_model_check(
    _: Annotated[Principal, require(Role.OPERATOR, Role.REGULATOR)], state: StateDep
) -> ReadModelCheck:
    """Index up to the head, then compare every indexed receivable, holding, offer, credit line and
    participant with the contracts' own state (operator and regulator)."""
    state.catch_up()
    chain = state.chain()
    diffs = compare_with_chain(chain.platform, state.engine)
    return ReadModelCheck(in_sync=not diffs, differences=diffs[:100], indexed_block=chain.indexer.cursor()[0])
