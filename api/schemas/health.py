from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class DeployedContract(BaseModel):
    address: str
    has_code: bool = Field(description="Whether the node holds code at that address right now.")


class LostBlocks(BaseModel):
    """The latest time the node lost blocks the gateway had seen, and what the gateway did about it."""

    detected_at: datetime
    fork_block: int = Field(description="The newest block of ours the chain still had (-1: none).")
    chain_head: int = Field(description="The chain's head when it was found.")
    vanished_transactions: int = Field(description="Transactions of ours gone with the lost blocks.")
    released_bundles: int = Field(description="Bundles marked `vanished`, their invoice claims released.")
    resynced_accounts: int = Field(description="Sending accounts whose nonce counter was set back.")


class ChainHealth(BaseModel):
    rpc_url: str | None = Field(
        description="The node's JSON-RPC URL, for the operator only (it may carry credentials); else null."
    )
    chain_id: int
    latest_block: int
    latest_block_time: int = Field(
        description="The latest block's timestamp (unix seconds): the chain's clock, which every maturity"
        " and price time is judged by."
    )
    lost_blocks: LostBlocks | None = Field(
        default=None, description="The latest loss of blocks seen (null: never). See RELIABILITY.md."
    )


class DatabaseHealth(BaseModel):
    ok: bool = Field(description="The database answers reads and is writable.")
    revision: str | None
    writable: bool = Field(
        description=(
            "A write went through just now: a short transaction that takes the write lock (and needs a"
            " writable file or a primary server), rolled back so nothing stays, bounded by a short timeout."
        )
    )
    problem: str | None = Field(
        default=None,
        description="Why not: `DATABASE_BUSY` (locked by another writer) or `DATABASE_UNAVAILABLE`.",
    )
    reason: str | None = Field(
        default=None, description="`locked`, `read-only`, `unreachable` or `unavailable`; null when writable."
    )


class IndexerHealth(BaseModel):
    """Who indexes the chain's events, and how far behind the chain's head the read model is."""

    leader: str | None = Field(
        description="`host:pid` of the gateway process that indexes (one among all; null: none right now)."
    )
    this_process: str = Field(description="`host:pid` of the process that answered.")
    cursor: int | None = Field(description="The last block in the read model (null: none yet).")
    lag: int | None = Field(description="The chain's latest block minus the cursor (blocks not indexed yet).")


class Health(BaseModel):
    status: str = Field(
        description=(
            "`ok` when the chain answers, every contract of the plan is deployed and the database is"
            " writable; else `degraded` (still HTTP 200: see docs/gateway.md, Health)."
        )
    )
    chain: ChainHealth
    database: DatabaseHealth
    contracts: dict[str, DeployedContract]
    missing_contracts: list[str]
    indexer: IndexerHealth | None = Field(
        default=None, description="The indexer's leader and lag (null: the database did not answer)."
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "status": "ok",
                    "chain": {"rpc_url": None, "chain_id": 31337, "latest_block": 7},
                    "database": {"ok": True, "revision": "s0001_schema", "writable": True},
                    "contracts": {
                        "ParticipantRegistry": {
                            "address": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
                            "has_code": True,
                        }
                    },
                    "missing_contracts": [],
                }
            ]
        }
    }


class ReadModelCheck(BaseModel):
    in_sync: bool
    differences: list[str]
    indexed_block: int
