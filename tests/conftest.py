"""Shared fixtures: real Anvil processes, the real compiler, real deployments. No chain mocks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web3 import Web3

from api.settings import Settings
from chain.abi import ErrorDecoder
from chain.client import Sender, connect
from chain.compiler import Artifact, compile_contracts
from chain.contracts import Platform
from chain.deploy import DeployResult, deploy_all
from chain.node import AnvilNode
from chain.settings import ANVIL_DEV_KEY, PROJECT_ROOT

#: Anvil's deterministic dev accounts 1..3 (mnemonic "test test ... junk"), for test participants.
DEV_KEYS = [
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
]


@pytest.fixture(scope="session")
def artifacts() -> dict[str, Artifact]:
    """The project's contracts, compiled once (cached by source hash, shared by workers)."""
    compiled, _ = compile_contracts(PROJECT_ROOT / "build" / "contracts")
    return compiled


@pytest.fixture
def anvil(tmp_path: Path) -> Iterator[AnvilNode]:
    """A fresh Anvil on a free port, without a state file."""
    node = AnvilNode(state_file=None, log_file=tmp_path / "anvil.log")
    node.start()
    yield node
    node.stop()


@pytest.fixture(scope="session")
def session_anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnvilNode]:
    node = AnvilNode(state_file=None, log_file=tmp_path_factory.mktemp("anvil") / "anvil.log")
    node.start()
    yield node
    node.stop()


@pytest.fixture
def w3(anvil: AnvilNode) -> Web3:
    return connect(anvil.url)


@pytest.fixture
def sender(w3: Web3, artifacts: dict[str, Artifact]) -> Sender:
    return Sender(w3, ANVIL_DEV_KEY, decoder=ErrorDecoder(a.abi for a in artifacts.values()))


@pytest.fixture
def deployed(w3: Web3, sender: Sender, artifacts: dict[str, Artifact], tmp_path: Path) -> DeployResult:
    """The whole deployment plan on the per-test Anvil."""
    return deploy_all(w3, sender, artifacts, tmp_path / "deployments")


@pytest.fixture
def platform(w3: Web3, deployed: DeployResult, artifacts: dict[str, Artifact]) -> Platform:
    """Clients of the per-test deployment's contracts."""
    return Platform.from_addresses(w3, artifacts, deployed.addresses)


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings isolated in ``tmp_path`` (artifacts shared with the session's compile cache)."""
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "deployments_dir": tmp_path / "deployments",
        "artifacts_dir": PROJECT_ROOT / "build" / "contracts",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


#: The longest test files (measured on this 2-core machine, 2026-11-30), collected first. ``make
#: pytest`` runs ``-n 2 --dist loadfile``: xdist hands whole files to the workers in collection order,
#: so a long file collected last (the portal's, alphabetically near the end) kept one worker busy for
#: minutes after the other had finished. Longest first is the classic greedy balance.
SLOW_FIRST = (
    "tests/portal/test_portal_roles.py",  # ~140 s
    "tests/portal/test_portal_story.py",  # ~65 s
    "tests/api/test_schemathesis.py",  # ~60 s
    "tests/cli/test_conformance.py",  # ~50 s, mostly waiting for the chain's clock
    "tests/api/test_recovery.py",
    "tests/api/test_migrations.py",
    "tests/api/test_faults.py",
    "tests/cli/test_cli.py",
    "tests/chain/test_compiler.py",
    "tests/api/test_bundle_integrity.py",
    "tests/portal/test_docs_offline.py",
    "tests/readmodel/test_indexer.py",
    "tests/api/test_coalesced_tokenization.py",
    "tests/api/test_workers.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files of :data:`SLOW_FIRST` first, in its order; the rest as collected (a stable sort by
    file: a file's tests stay together, as module fixtures and ``loadfile`` expect)."""
    rank = {path: i for i, path in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(SLOW_FIRST)))
