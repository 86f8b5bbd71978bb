"""Compile the project's contracts with the pinned solc-js (through ``tools/solc``).

Standard JSON in, one artifact per contract out (``build/contracts/<Name>.json``). The output is
cached by a hash over every source file, the lock file of the node tools (which pins
OpenZeppelin and solc) and the compiler settings: an unchanged tree is not recompiled.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solcx

from chain.settings import PROJECT_ROOT

SOLC_VERSION = "0.8.37"
WRAPPER = PROJECT_ROOT / "tools" / "solc"
CONTRACTS_DIR = PROJECT_ROOT / "contracts"
COMPILER_SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 200},
    "evmVersion": "cancun",
    # the same remapping as forge and brownie, so every path produces the same metadata and bytecode
    "remappings": ["@openzeppelin/=node_modules/@openzeppelin/"],
    "outputSelection": {
        "*": {
            "*": [
                "abi",
                "evm.bytecode.object",
                "evm.deployedBytecode.object",
                "evm.methodIdentifiers",
                "metadata",
            ]
        }
    },
}


class CompileError(RuntimeError):
    """The compiler reported errors; ``errors`` holds its formatted messages."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("Solidity compilation failed:\n" + "\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Artifact:
    """A compiled contract."""

    name: str
    source: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str

    @classmethod
    def load(cls, path: Path) -> Artifact:
        data = json.loads(path.read_text())
        return cls(
            name=data["contractName"],
            source=data["sourceName"],
            abi=data["abi"],
            bytecode=data["bytecode"],
            deployed_bytecode=data["deployedBytecode"],
        )


def source_files(contracts_dir: Path = CONTRACTS_DIR) -> list[Path]:
    """Every ``.sol`` file of the project, sorted."""
    return sorted(contracts_dir.rglob("*.sol"))


def standard_json_input(files: list[Path] | None = None, root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """The standard-JSON compiler input for ``files`` (default: all project sources)."""
    files = source_files() if files is None else files
    sources = {f.relative_to(root).as_posix(): {"content": f.read_text()} for f in files}
    return {"language": "Solidity", "sources": sources, "settings": COMPILER_SETTINGS}


def source_hash(compiler_input: dict[str, Any], root: Path = PROJECT_ROOT) -> str:
    """Cache key: the input (sources + settings), the compiler version and the npm lock file."""
    h = hashlib.sha256()
    h.update(SOLC_VERSION.encode())
    h.update(json.dumps(compiler_input, sort_keys=True).encode())
    lock = root / "package-lock.json"
    if lock.exists():
        h.update(lock.read_bytes())
    return h.hexdigest()


def run_solc(compiler_input: dict[str, Any], solc_binary: Path = WRAPPER) -> dict[str, Any]:
    """Compile through py-solc-x with the wrapper binary; raise CompileError on errors."""
    try:
        output: dict[str, Any] = solcx.compile_standard(
            compiler_input, solc_binary=solc_binary, allow_paths=[str(PROJECT_ROOT)]
        )
    except solcx.exceptions.SolcError as exc:  # compile_standard raises on any "error" severity
        raise CompileError([str(exc)]) from exc
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise CompileError(errors)
    return output


def solc_version(solc_binary: Path = WRAPPER) -> str:
    """The version line the wrapper reports."""
    out = subprocess.run([str(solc_binary), "--version"], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1].removeprefix("Version: ")


def compile_contracts(
    artifacts_dir: Path, *, force: bool = False, root: Path = PROJECT_ROOT
) -> tuple[dict[str, Artifact], bool]:
    """Compile all contracts under ``root/contracts`` into ``artifacts_dir``.

    Returns the artifacts by contract name and whether the compiler actually ran (False when
    the cache key matched). Concurrent callers (e.g. parallel test workers) serialize on a
    lock file, so only one of them compiles.
    """
    compiler_input = standard_json_input(source_files(root / "contracts"), root)
    key = source_hash(compiler_input, root)
    key_file = artifacts_dir / ".source-hash"
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    with open(artifacts_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and key_file.exists() and key_file.read_text() == key:
            return load_artifacts(artifacts_dir), False
        output = run_solc(compiler_input)
        key_file.unlink(missing_ok=True)
        for stale in artifacts_dir.glob("*.json"):
            stale.unlink()
        for source, contracts in output["contracts"].items():
            if not source.startswith("contracts/"):
                continue  # dependencies (OpenZeppelin) are not artifacts of this project
            for name, data in contracts.items():
                artifact = {
                    "contractName": name,
                    "sourceName": source,
                    "abi": data["abi"],
                    "bytecode": "0x" + data["evm"]["bytecode"]["object"],
                    "deployedBytecode": "0x" + data["evm"]["deployedBytecode"]["object"],
                    "methodIdentifiers": data["evm"]["methodIdentifiers"],
                    "compiler": SOLC_VERSION,
                    "sourceHash": key,
                }
                (artifacts_dir / f"{name}.json").write_text(json.dumps(artifact, indent=1))
        key_file.write_text(key)
        return load_artifacts(artifacts_dir), True


def load_artifacts(artifacts_dir: Path) -> dict[str, Artifact]:
    """Artifacts already on disk, by contract name."""
    return {p.stem: Artifact.load(p) for p in sorted(artifacts_dir.glob("*.json"))}
