"""Liveness and deployment status."""

from __future__ import annotations

from fastapi import APIRouter

from api.db import current_revision
from api.deps import StateDep
from api.errors import ErrorResponse
from api.schemas.health import ChainHealth, DatabaseHealth, DeployedContract, Health
from chain.deploy import load_deployments
from chain.plan import CONTRACT_NAMES

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
