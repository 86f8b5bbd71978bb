"""The gateway's view of the ledger: contract clients and the platform's own sending accounts.

One ``Sender`` per sending account per process (its nonce counter is locked), shared by all
requests. Built lazily: a gateway can start while the node is down and answer 503 until it is up.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from web3 import Web3

from api.errors import ApiError
from api.services.nonces import DbNonceSender
from chain.client import ErrorDecoder, Sender
from chain.compiler import load_artifacts
from chain.contracts import Platform
from chain.deploy import load_deployments
from chain.plan import CONTRACT_NAMES
from chain.settings import Settings
from readmodel.indexer import Indexer, abis_of


@dataclass
class GatewayChain:
    w3: Web3
    platform: Platform
    operator: Sender
    verifier: Sender
    decoder: ErrorDecoder
    indexer: Indexer


def build_gateway_chain(settings: Settings, w3: Web3, engine: Engine) -> GatewayChain:
    artifacts = load_artifacts(settings.artifacts_path)
    addresses = {
        k: v["address"] for k, v in load_deployments(settings.deployments_path, w3.eth.chain_id).items()
    }
    missing = [n for n in CONTRACT_NAMES if n not in addresses or n not in artifacts]
    if missing:
        raise ApiError(
            503, "CONTRACTS_NOT_DEPLOYED", f"contracts not deployed on this chain: {', '.join(missing)}"
        )
    decoder = ErrorDecoder(a.abi for a in artifacts.values())
    return GatewayChain(
        w3=w3,
        platform=Platform.from_addresses(w3, artifacts, addresses),
        operator=DbNonceSender(
            w3, settings.effective_deployer_key, engine, gas_price=settings.gas_price, decoder=decoder
        ),
        verifier=DbNonceSender(
            w3, settings.effective_verifier_key, engine, gas_price=settings.gas_price, decoder=decoder
        ),
        decoder=decoder,
        indexer=Indexer(w3, engine, addresses, abis_of(artifacts)),
    )
