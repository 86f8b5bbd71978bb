"""Execute the deployment plan (``chain/plan.py``) with web3.py, idempotently.

Addresses go to ``build/deployments/<chain_id>.json``. An entry is reused only when the code at
its address is still the code that was deployed there (``bytecode_hash``) and, when recorded,
the creation code and constructor arguments are unchanged (``artifact_hash``). Wiring calls are
made only when their check says they are not done yet. A second run on the same chain
therefore sends no transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import keccak, to_checksum_address
from web3 import Web3

from chain.abi import ErrorDecoder
from chain.client import Sender, connect_settings
from chain.compiler import Artifact, compile_contracts
from chain.plan import CALLS, DEPLOYS, Arg, Call, Deploy, Deployer, Ref
from chain.settings import ChainSettings


@dataclass
class DeployResult:
    chain_id: int
    addresses: dict[str, str]
    deployed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    calls_made: list[str] = field(default_factory=list)
    transactions: int = 0


def deployments_file(directory: Path, chain_id: int) -> Path:
    return directory / f"{chain_id}.json"


def load_deployments(directory: Path, chain_id: int) -> dict[str, dict[str, Any]]:
    path = deployments_file(directory, chain_id)
    if not path.exists():
        return {}
    contracts: dict[str, dict[str, Any]] = json.loads(path.read_text()).get("contracts", {})
    return contracts


def save_deployments(directory: Path, chain_id: int, contracts: dict[str, dict[str, Any]]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    path = deployments_file(directory, chain_id)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"chain_id": chain_id, "contracts": contracts}, indent=2, sort_keys=True))
    tmp.replace(path)


def _resolve(arg: Arg, addresses: dict[str, str], deployer: str) -> Any:
    if isinstance(arg, Ref):
        return addresses[arg.contract]
    if isinstance(arg, Deployer):
        return deployer
    return arg


def _creation_data(w3: Web3, artifact: Artifact, args: list[Any]) -> bytes:
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    return bytes.fromhex(factory.constructor(*args).data_in_transaction[2:])


def _still_there(w3: Web3, entry: dict[str, Any], artifact_hash: str) -> bool:
    code = w3.eth.get_code(to_checksum_address(entry["address"]))
    if len(code) == 0 or "0x" + keccak(code).hex() != entry.get("bytecode_hash"):
        return False
    recorded = entry.get("artifact_hash")
    return recorded is None or recorded == artifact_hash


def _check_done(
    w3: Web3, call: Call, addresses: dict[str, str], abi: list[dict[str, Any]], deployer: str
) -> bool:
    contract = w3.eth.contract(address=to_checksum_address(addresses[call.contract]), abi=abi)
    args = [_resolve(a, addresses, deployer) for a in call.check_args]
    value = contract.functions[call.check](*args).call()
    if call.check_index is not None:
        value = value[call.check_index]
    if isinstance(value, str) and value.startswith("0x"):
        value = value.lower()

    def norm(x: Arg | None) -> Any:
        r = _resolve(x, addresses, deployer) if x is not None else None
        return r.lower() if isinstance(r, str) and r.startswith("0x") else r

    if call.expect is not None:
        return bool(value == norm(call.expect))
    return bool(value != norm(call.expect_not))


def deploy_all(
    w3: Web3,
    sender: Sender,
    artifacts: dict[str, Artifact],
    deployments_dir: Path,
    *,
    deploys: tuple[Deploy, ...] = DEPLOYS,
    calls: tuple[Call, ...] = CALLS,
    log: Any = None,
) -> DeployResult:
    """Deploy what is missing, wire what is not wired, and record the addresses."""
    say = log or (lambda _msg: None)
    chain_id = w3.eth.chain_id
    recorded = load_deployments(deployments_dir, chain_id)
    result = DeployResult(chain_id=chain_id, addresses={})
    for step in deploys:
        artifact = artifacts.get(step.source)
        if artifact is None:
            raise KeyError(f"no compiled artifact for {step.source}; is contracts/{step.source}.sol missing?")
        args = [_resolve(a, result.addresses, sender.address) for a in step.args]
        creation = _creation_data(w3, artifact, args)
        artifact_hash = "0x" + keccak(creation).hex()
        entry = recorded.get(step.contract)
        if entry is not None and _still_there(w3, entry, artifact_hash):
            result.addresses[step.contract] = to_checksum_address(entry["address"])
            result.reused.append(step.contract)
            say(f"reuse  {step.contract} at {entry['address']}")
            continue
        receipt = sender.send({"data": creation})
        address = to_checksum_address(str(receipt["contractAddress"]))
        code = w3.eth.get_code(address)
        recorded[step.contract] = {
            "address": address,
            "tx_hash": receipt["transactionHash"].to_0x_hex(),
            "block_number": receipt["blockNumber"],
            "bytecode_hash": "0x" + keccak(code).hex(),
            "artifact_hash": artifact_hash,
        }
        save_deployments(deployments_dir, chain_id, recorded)
        result.addresses[step.contract] = address
        result.deployed.append(step.contract)
        result.transactions += 1
        say(f"deploy {step.contract} at {address} (gas {receipt['gasUsed']})")
    source = {d.contract: d.source for d in deploys}
    for call in calls:
        abi = artifacts[source[call.contract]].abi
        if _check_done(w3, call, result.addresses, abi, sender.address):
            continue
        contract = w3.eth.contract(address=to_checksum_address(result.addresses[call.contract]), abi=abi)
        args = [_resolve(a, result.addresses, sender.address) for a in call.args]
        data = contract.encode_abi(call.function, args=args)
        sender.send({"to": contract.address, "data": data})
        result.calls_made.append(f"{call.contract}.{call.function}")
        result.transactions += 1
        say(f"call   {call.contract}.{call.function}: {call.description}")
    return result


def ensure_deployed(settings: ChainSettings, *, log: Any = None) -> DeployResult:
    """Compile (cached), connect to the configured node and deploy what is missing."""
    artifacts, _ = compile_contracts(settings.artifacts_path)
    w3 = connect_settings(settings)
    decoder = ErrorDecoder(a.abi for a in artifacts.values())
    sender = Sender(w3, settings.effective_deployer_key, gas_price=settings.gas_price, decoder=decoder)
    return deploy_all(w3, sender, artifacts, settings.deployments_path, log=log)
