"""Liveness, deployment status, and the read model checked against the chain."""

from __future__ import annotations

from sqlmodel import Session, col, select

from api import chainwatch
from api.db import current_revision, probe_writable
from api.leader import current_leader, process_id
from api.models import Bundle
from api.schemas.health import (
    ChainHealth,
    DatabaseHealth,
    DeployedContract,
    Health,
    IndexerHealth,
    LostBlocks,
    ReadModelCheck,
)
from api.state import AppState
from chain.deploy import load_deployments
from chain.plan import CONTRACT_NAMES
from readmodel.reconcile import compare_with_chain
from readmodel.tables import RmCursor

#: The name of the gateway's indexer (its row of ``rm_cursor``).
INDEXER_NAME = "default"


def health(state: AppState, *, show_rpc_url: bool = False) -> Health:
    """Chain id, latest block, the deployed contracts (with a live code check) and the database; the
    node's URL only with ``show_rpc_url`` (the operator's view)."""
    w3 = state.w3()
    chain_id = w3.eth.chain_id
    head = w3.eth.get_block("latest")
    latest, latest_time = int(head["number"]), int(head["timestamp"])
    recorded = load_deployments(state.settings.deployments_path, chain_id)
    contracts = {
        name: DeployedContract(address=entry["address"], has_code=len(w3.eth.get_code(entry["address"])) > 0)
        for name, entry in recorded.items()
    }
    missing = [n for n in CONTRACT_NAMES if n not in contracts or not contracts[n].has_code]
    db = database_health(state)
    incident = chainwatch.latest_incident(state.engine) if db.ok else None
    return Health(
        status="ok" if not missing and db.ok else "degraded",
        chain=ChainHealth(
            rpc_url=state.settings.effective_rpc_url if show_rpc_url else None,
            chain_id=chain_id,
            latest_block=latest,
            latest_block_time=latest_time,
            lost_blocks=LostBlocks.model_validate(incident, from_attributes=True) if incident else None,
        ),
        database=db,
        contracts=contracts,
        missing_contracts=missing,
        indexer=indexer_health(state, latest) if db.ok else None,
    )


def indexer_health(state: AppState, latest: int) -> IndexerHealth | None:
    """The indexer's leader (``api.leader``) and the read model's cursor against the chain's head."""
    try:
        leader = state.leadership.leader() if state.leadership else current_leader(state.engine)
        with Session(state.engine) as s:
            row = s.get(RmCursor, INDEXER_NAME)
    except Exception:  # the database went away since the probe: /health still answers
        return None
    cursor = None if row is None else row.block_number
    return IndexerHealth(
        leader=leader,
        this_process=process_id(),
        cursor=cursor,
        lag=None if cursor is None else max(0, latest - cursor),
    )


def database_health(state: AppState) -> DatabaseHealth:
    """The schema revision (a read), then a write probe bounded by ``db_health_timeout``."""
    settings = state.settings
    try:
        revision = current_revision(state.engine)
    except Exception:
        return DatabaseHealth(
            ok=False, revision=None, writable=False, problem="DATABASE_UNAVAILABLE", reason="unreachable"
        )
    fault = probe_writable(state.engine, settings.db_health_timeout, settings.db_busy_timeout)
    if fault is None:
        return DatabaseHealth(ok=True, revision=revision, writable=True)
    return DatabaseHealth(
        ok=False, revision=revision, writable=False, problem=fault.code, reason=fault.reason
    )


def read_model_check(state: AppState) -> ReadModelCheck:
    """Look for lost blocks, index up to the head, then compare the read model, and the gateway's
    tokenized bundles, with the contracts' own state."""
    chain = state.chain()
    chainwatch.check(chain.w3, state.engine, force=True)
    state.catch_up()
    diffs = compare_with_chain(chain.platform, state.engine) + compare_bundles(state)
    return ReadModelCheck(in_sync=not diffs, differences=diffs[:100], indexed_block=chain.indexer.cursor()[0])


def compare_bundles(state: AppState) -> list[str]:
    """Every tokenized bundle's receivable must be on the chain, under the bundle's fingerprint."""
    ledger = state.chain().platform.ledger
    diffs = []
    with Session(state.engine) as s:
        for b in s.exec(select(Bundle).where(col(Bundle.status) == "tokenized")).all():
            on_chain = ledger.receivable_id_by_fingerprint(bytes.fromhex(b.fingerprint[2:]))
            if on_chain != b.receivable_id:
                diffs.append(f"bundle {b.id} receivable: gateway {b.receivable_id!r} != chain {on_chain!r}")
    return diffs
