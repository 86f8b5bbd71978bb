from __future__ import annotations

from pydantic import BaseModel, Field


class DeployedContract(BaseModel):
    address: str
    has_code: bool = Field(description="Whether the node holds code at that address right now.")


class ChainHealth(BaseModel):
    rpc_url: str | None = Field(
        description="The node's JSON-RPC URL, for the operator only (it may carry credentials); else null."
    )
    chain_id: int
    latest_block: int


class DatabaseHealth(BaseModel):
    ok: bool
    revision: str | None


class Health(BaseModel):
    status: str = Field(description="`ok` when the chain answers and every contract of the plan is deployed.")
    chain: ChainHealth
    database: DatabaseHealth
    contracts: dict[str, DeployedContract]
    missing_contracts: list[str]

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "status": "ok",
                    "chain": {"rpc_url": None, "chain_id": 31337, "latest_block": 7},
                    "database": {"ok": True, "revision": "0001_baseline"},
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
