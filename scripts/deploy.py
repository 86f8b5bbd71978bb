"""Deploy the SCF contracts with brownie, following the shared plan in ``chain/plan.py``.

    .venv-brownie/bin/brownie run scripts/deploy.py                    # brownie's `development` (anvil)
    SCF_RPC_URL=http://127.0.0.1:8545 SCF_DEPLOYER_KEY=0x... \\
        .venv-brownie/bin/brownie run scripts/deploy.py --network scf-rpc   # a node that is running

The plan (``DEPLOYS`` and ``CALLS``) is imported, not copied, so this path and the web3.py path
(``chain/deploy.py``) deploy the same contracts with the same arguments and wiring. Both read and
write ``build/deployments/<chain_id>.json`` (``$SCF_DEPLOYMENTS_DIR`` overrides the folder):

    {"chain_id": 31337, "contracts": {"Name": {"address": "0x..", "tx_hash": "0x..",
                                                "block_number": 12, "bytecode_hash": "0x.."}}}

``bytecode_hash`` is the keccak-256 of the runtime code at the address (``eth_getCode``). A recorded
entry is reused only while the code there still hashes to it; otherwise the contract is deployed
again. A wiring call is sent only when its view check says it is not done yet. So a second run on the
same chain sends no transaction at all.

Deployer: ``$SCF_DEPLOYER_KEY`` when set; otherwise ``accounts[0]`` on a development network. A live
network without ``$SCF_DEPLOYER_KEY`` is an error. ``$SCF_GAS_PRICE`` (wei) forces a legacy gas price,
e.g. 0 on a gas-free permissioned chain, as in chain/settings.py.

Any failure raises, and ``brownie run`` then exits with status 1.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from brownie import accounts, history, network, project, web3
from brownie._config import CONFIG

#: The repository root: brownie's project folder (set in main()); this file's parent's parent before.
ROOT = Path(__file__).absolute().parent.parent
DEFAULT_DEPLOYMENTS_DIR = Path("build/deployments")


class DeployError(RuntimeError):
    """The plan could not be carried out."""


# ------------------------------------------------------------------------------------------ plan
def load_plan() -> Any:
    """``chain.plan`` from this checkout, imported with the repository root on ``sys.path``.

    ``$SCF_PLAN_FILE`` points at another plan file instead (for trying out a reduced plan).
    """
    override = os.environ.get("SCF_PLAN_FILE")
    if override:
        return _load_file("scf_plan_override", Path(override))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    try:
        module = importlib.import_module("chain.plan")
    except ImportError as exc:
        # chain/__init__.py may one day import things that only the main .venv has; the plan
        # itself is stdlib-only, so fall back to loading the file.
        print(f"note: 'import chain.plan' failed ({exc}); loading chain/plan.py directly")
        return _load_file("scf_chain_plan", ROOT / "chain" / "plan.py")
    if Path(module.__file__).resolve() != (ROOT / "chain" / "plan.py").resolve():
        raise DeployError(f"'chain.plan' was imported from {module.__file__}, not from {ROOT}/chain")
    return module


def _load_file(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise DeployError(f"cannot load a plan from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- deployments file
def deployments_dir() -> Path:
    """``$SCF_DEPLOYMENTS_DIR`` (relative paths from the project root), else build/deployments."""
    d = Path(os.environ.get("SCF_DEPLOYMENTS_DIR") or DEFAULT_DEPLOYMENTS_DIR)
    return d if d.is_absolute() else ROOT / d


def load_deployments(path: Path, chain_id: int) -> dict[str, Any]:
    if not path.exists():
        return {"chain_id": chain_id, "contracts": {}}
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise DeployError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("contracts", {}), dict):
        raise DeployError(f"{path} does not look like a deployments file")
    if data.get("chain_id", chain_id) != chain_id:
        raise DeployError(f"{path} is for chain {data.get('chain_id')}, but the node is chain {chain_id}")
    data["chain_id"] = chain_id
    data.setdefault("contracts", {})
    return data


def save_deployments(path: Path, data: dict[str, Any]) -> None:
    """Write atomically, in the same layout chain/deploy.py writes (sorted keys, indent 2)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    tmp.replace(path)


def code_hash(address: str) -> tuple[int, str]:
    """(length, keccak-256) of the runtime code at ``address``."""
    code = bytes(web3.eth.get_code(web3.to_checksum_address(address)))
    return len(code), "0x" + bytes(web3.keccak(code)).hex()


# ---------------------------------------------------------------------------- plan arguments
def resolve(arg: Any, plan: Any, addresses: dict[str, str], deployer: str) -> Any:
    if isinstance(arg, plan.Ref):
        if arg.contract not in addresses:
            raise DeployError(f"Ref({arg.contract!r}) used before {arg.contract} is deployed")
        return addresses[arg.contract]
    if isinstance(arg, plan.Deployer):
        return deployer
    return arg


def normalize(value: Any) -> Any:
    """Make brownie's return types and plan values comparable (addresses and hex case-insensitive)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, str) and value[:2].lower() == "0x":
        return value.lower()
    if isinstance(value, (list, tuple)):
        return tuple(normalize(v) for v in value)
    return value


def check_done(
    call: Any, plan: Any, contracts: dict[str, Any], addresses: dict[str, str], deployer: str
) -> bool:
    """Whether the call's view check already returns its ``expect`` (or not its ``expect_not``)."""
    contract = contracts[call.contract]
    view = getattr(contract, call.check, None)
    if view is None:
        raise DeployError(f"{call.contract} has no function {call.check!r} (check of {call.function})")
    value = view(*[resolve(a, plan, addresses, deployer) for a in call.check_args])
    if call.check_index is not None:
        value = value[call.check_index]
    value = normalize(value)

    def wanted(x: Any) -> Any:
        return normalize(resolve(x, plan, addresses, deployer))

    if call.expect is not None and value != wanted(call.expect):
        return False
    if call.expect_not is not None and value == wanted(call.expect_not):
        return False
    return True


# ------------------------------------------------------------------------- brownie quirks
def disable_brownie_live_records() -> None:
    """Stop brownie from keeping its own records of live-network deployments.

    On a live network (``scf-rpc``) brownie 1.22.2 records every contract it deploys or attaches
    to twice, and both records hurt here:

    * ``build/brownie/deployments/<label>/<address>.json``: reloaded on every later connect, and a
      record whose address has no code (a fresh Anvil, a reset chain) makes ``brownie run`` die in
      ``network.connect`` with ``ContractNotFound`` before any script runs;
    * the per-user sqlite cache ``~/.brownie/deployments.db`` via ``state._add_deployment``, which
      fails with ``TypeError: dict object expected; got brownie.project.sources.Sources`` (its
      compiled code expects a dict of sources).

    The deployments file of this project (build/deployments/<chain_id>.json) is the one record we
    keep, so both are switched off for this process.
    """
    import brownie.network.contract as brownie_contract

    brownie_contract._add_deployment = lambda *args, **kwargs: None  # type: ignore[attr-defined]
    brownie_contract._DeployedContractBase._deployment_path = lambda self: None  # type: ignore[method-assign]


# -------------------------------------------------------------------------------- accounts
def get_deployer() -> Any:
    key = os.environ.get("SCF_DEPLOYER_KEY", "").strip()
    if key:
        return accounts.add(key if key.startswith("0x") else "0x" + key)
    if CONFIG.network_type == "development":
        if len(accounts) == 0:
            raise DeployError("the development network has no unlocked accounts; set SCF_DEPLOYER_KEY")
        return accounts[0]
    raise DeployError(
        f"network '{network.show_active()}' is live: set SCF_DEPLOYER_KEY to the deploying account's key"
    )


def tx_params(deployer: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"from": deployer}
    gas_price = os.environ.get("SCF_GAS_PRICE", "").strip()
    if gas_price:
        params["gas_price"] = int(gas_price)
    elif CONFIG.network_type == "development":
        # brownie's development defaults send gas price 0, which only works on a chain with a zero
        # base fee (as brownie launches anvil); a node it attached to may have a base fee.
        base_fee = web3.eth.get_block("latest").get("baseFeePerGas") or 0
        if base_fee:
            params["gas_price"] = web3.eth.gas_price
    return params


# ------------------------------------------------------------------------------------- main
def deploy_plan() -> dict[str, Any]:
    global ROOT
    started = time.monotonic()
    proj = next(iter(project.get_loaded_projects()), None)
    if proj is None:
        raise DeployError("no brownie project is loaded: run this from the repository root")
    ROOT = Path(proj._path)
    plan = load_plan()
    if CONFIG.network_type == "live":
        disable_brownie_live_records()

    chain_id = int(web3.eth.chain_id)
    path = deployments_dir() / f"{chain_id}.json"
    data = load_deployments(path, chain_id)
    recorded: dict[str, Any] = data["contracts"]
    deployer = get_deployer()
    params = tx_params(deployer)
    print(
        f"SCF deploy: network {network.show_active()} (chain {chain_id}), deployer {deployer.address}, "
        f"plan {len(plan.DEPLOYS)} contracts / {len(plan.CALLS)} calls, records {path}"
    )

    addresses: dict[str, str] = {}
    contracts: dict[str, Any] = {}
    summary: dict[str, Any] = {"deployed": [], "reused": [], "calls_made": [], "calls_skipped": []}

    for step in plan.DEPLOYS:
        if step.source not in proj.keys():
            raise DeployError(
                f"contract {step.source} is not in the compiled project"
                f" (is contracts/{step.source}.sol there, and does it compile?)"
            )
        container = proj[
            step.source
        ]  # one artifact may be deployed under several names (a token per currency)
        entry = recorded.get(step.contract)
        if entry and entry.get("address"):
            size, digest = code_hash(entry["address"])
            if size and digest == entry.get("bytecode_hash"):
                address = web3.to_checksum_address(entry["address"])
                addresses[step.contract] = address
                contracts[step.contract] = container.at(address)
                summary["reused"].append(step.contract)
                print(f"  reuse   {step.contract:<22} {address}")
                continue
            why = "no code" if size == 0 else "code changed"
            print(f"  stale   {step.contract:<22} {entry['address']} ({why}): deploying again")
        args = [resolve(a, plan, addresses, deployer.address) for a in step.args]
        contract = container.deploy(*args, dict(params))
        address = web3.to_checksum_address(contract.address)
        # contract.tx is None when brownie already knew a contract at that address (its own live
        # artifacts from an earlier chain with the same deterministic address): use the history.
        tx = contract.tx or next(
            (t for t in reversed(history) if (t.contract_address or "").lower() == address.lower()),
            None,
        )
        if tx is None or tx.status != 1:
            raise DeployError(f"deployment of {step.contract} failed (no successful creation transaction)")
        size, digest = code_hash(address)
        if size == 0:
            raise DeployError(f"{step.contract}: no code at {address} after deployment")
        recorded[step.contract] = {
            "address": address,
            "tx_hash": tx.txid if tx.txid.startswith("0x") else "0x" + tx.txid,
            "block_number": int(tx.block_number),
            "bytecode_hash": digest,
        }
        save_deployments(path, data)  # after every deployment, so a failed run loses nothing
        addresses[step.contract] = address
        contracts[step.contract] = contract
        summary["deployed"].append(step.contract)
        print(f"  deploy  {step.contract:<22} {address} (tx {tx.txid}, gas {tx.gas_used})")

    for call in plan.CALLS:
        label = f"{call.contract}.{call.function}"
        if call.contract not in contracts:
            raise DeployError(f"call {label}: {call.contract} is not in the plan's DEPLOYS")
        if check_done(call, plan, contracts, addresses, deployer.address):
            summary["calls_skipped"].append(label)
            print(f"  done    {label:<30} {call.description}")
            continue
        fn = getattr(contracts[call.contract], call.function, None)
        if fn is None:
            raise DeployError(f"{call.contract} has no function {call.function!r}")
        tx = fn(*[resolve(a, plan, addresses, deployer.address) for a in call.args], dict(params))
        if tx.status != 1:
            raise DeployError(f"call {label} failed (tx {tx.txid})")
        if not check_done(call, plan, contracts, addresses, deployer.address):
            raise DeployError(f"call {label} went through but its check '{call.check}' still says not done")
        summary["calls_made"].append(label)
        print(f"  call    {label:<30} {call.description} (tx {tx.txid})")

    print(
        f"SCF deploy: {len(summary['deployed'])} deployed, {len(summary['reused'])} reused, "
        f"{len(summary['calls_made'])} calls made, {len(summary['calls_skipped'])} already done "
        f"in {time.monotonic() - started:.1f}s -> {path}"
    )
    summary["addresses"] = addresses
    summary["chain_id"] = chain_id
    return summary


def known_errors() -> dict[str, str]:
    """4-byte selector -> ``Name(types)`` of every custom error in the project's ABIs."""
    errors: dict[str, str] = {}
    for proj in project.get_loaded_projects():
        for name in proj.keys():
            for item in proj[name].abi:
                if item.get("type") == "error":
                    signature = f"{item['name']}({','.join(_abi_type(i) for i in item.get('inputs', []))})"
                    errors["0x" + bytes(web3.keccak(text=signature)[:4]).hex()] = signature
    return errors


def _abi_type(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item.get("components", [])) + ")" + item["type"][5:]
    return str(item["type"])


def explain(exc: Exception) -> str | None:
    """Name the custom error in a revert, if its selector belongs to one of our contracts."""
    text = " ".join(str(a) for a in (exc.args or [exc]))
    try:
        errors = known_errors()
    except Exception:  # best effort only
        return None
    found = [sig for sel, sig in errors.items() if sel in text.lower()]
    return ", ".join(sorted(set(found))) or None


def main() -> dict[str, Any]:
    try:
        return deploy_plan()
    except DeployError:
        raise
    except Exception as exc:
        reason = explain(exc)
        if reason:
            raise DeployError(f"reverted with {reason}: {exc}") from exc
        raise
