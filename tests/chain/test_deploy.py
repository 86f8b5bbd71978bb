"""compile -> deploy -> call -> event; idempotent deploys; reverts decoded; gas price 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3

from chain.abi import ErrorDecoder
from chain.client import Sender, TransactionReverted, connect
from chain.compiler import Artifact
from chain.deploy import DeployResult, deploy_all, deployments_file
from chain.node import AnvilNode
from chain.plan import CONTRACT_NAMES, DEPLOYS, ROLE_CORE_ENTERPRISE
from chain.settings import ANVIL_DEV_KEY
from tests.conftest import DEV_KEYS


def test_plan_deploys_every_contract_with_code(w3: Web3, deployed: DeployResult, tmp_path: Path) -> None:
    assert list(deployed.addresses) == list(CONTRACT_NAMES)
    assert deployed.deployed == list(CONTRACT_NAMES)
    for address in deployed.addresses.values():
        assert len(w3.eth.get_code(address)) > 0
    recorded = json.loads(deployments_file(tmp_path / "deployments", 31337).read_text())
    assert recorded["chain_id"] == 31337
    assert {k: v["address"] for k, v in recorded["contracts"].items()} == deployed.addresses


def test_call_a_contract_and_read_its_event(
    w3: Web3, sender: Sender, deployed: DeployResult, artifacts: dict[str, Artifact]
) -> None:
    registry = w3.eth.contract(
        address=deployed.addresses["ParticipantRegistry"], abi=artifacts["ParticipantRegistry"].abi
    )
    core = Account.from_key(DEV_KEYS[1]).address
    receipt = sender.send(
        {
            "to": registry.address,
            "data": registry.encode_abi("onboard", [core, ROLE_CORE_ENTERPRISE, b"\x22" * 32]),
        }
    )
    events = registry.events.ParticipantOnboarded().process_receipt(receipt)
    assert len(events) == 1
    args = events[0]["args"]
    assert (args["account"], args["role"], args["identityHash"], args["operator"]) == (
        core,
        ROLE_CORE_ENTERPRISE,
        b"\x22" * 32,
        sender.address,
    )
    # the same event is found again by a log query, as an indexer would read it
    logs = registry.events.ParticipantOnboarded().get_logs(from_block=receipt["blockNumber"])
    assert [log["transactionHash"] for log in logs] == [receipt["transactionHash"]]


def test_second_deploy_is_idempotent(
    w3: Web3, sender: Sender, deployed: DeployResult, artifacts: dict[str, Artifact], tmp_path: Path
) -> None:
    block = w3.eth.block_number
    again = deploy_all(w3, sender, artifacts, tmp_path / "deployments")
    assert again.addresses == deployed.addresses
    assert again.reused == list(CONTRACT_NAMES)
    assert again.deployed == [] and again.calls_made == [] and again.transactions == 0
    assert w3.eth.block_number == block


def test_deployments_file_from_another_chain_is_not_trusted(
    artifacts: dict[str, Artifact], deployed: DeployResult, tmp_path: Path
) -> None:
    # a new chain with the same chain id: the recorded addresses hold no code there
    other = AnvilNode(state_file=None)
    other.start()
    try:
        w3 = connect(other.url)
        result = deploy_all(w3, Sender(w3, ANVIL_DEV_KEY), artifacts, tmp_path / "deployments")
        assert result.deployed == list(CONTRACT_NAMES)
        for address in result.addresses.values():
            assert len(w3.eth.get_code(address)) > 0
    finally:
        other.stop()


def test_revert_is_decoded_from_the_custom_error(
    w3: Web3, sender: Sender, deployed: DeployResult, artifacts: dict[str, Artifact]
) -> None:
    registry = w3.eth.contract(
        address=deployed.addresses["ParticipantRegistry"], abi=artifacts["ParticipantRegistry"].abi
    )
    core = Account.from_key(DEV_KEYS[1]).address
    data = registry.encode_abi("onboard", [core, ROLE_CORE_ENTERPRISE, b"\x00" * 32])
    sender.send({"to": registry.address, "data": data})
    with pytest.raises(TransactionReverted) as info:
        sender.send({"to": registry.address, "data": data})
    assert info.value.revert.name == "AlreadyOnboarded"
    assert info.value.revert.args == {"account": core}
    # an outsider lacks the operator role: OpenZeppelin's AccessControlUnauthorizedAccount
    outsider = Sender(w3, DEV_KEYS[2], decoder=ErrorDecoder(a.abi for a in artifacts.values()))
    with pytest.raises(TransactionReverted) as info2:
        outsider.send({"to": registry.address, "data": registry.encode_abi("suspend", [core])})
    assert info2.value.revert.name == "AccessControlUnauthorizedAccount"


def test_gas_price_zero_network(artifacts: dict[str, Artifact], tmp_path: Path) -> None:
    """Permissioned networks (Besu/Quorum) often run gas-free: legacy transactions at price 0."""
    node = AnvilNode(state_file=None, extra_args=("--gas-price", "0", "--base-fee", "0"))
    node.start()
    try:
        w3 = connect(node.url)
        sender = Sender(w3, ANVIL_DEV_KEY, gas_price=0)
        before = w3.eth.get_balance(sender.address)
        result = deploy_all(w3, sender, artifacts, tmp_path / "deployments", deploys=DEPLOYS[:1], calls=())
        assert result.deployed == ["ParticipantRegistry"]
        assert w3.eth.get_balance(sender.address) == before  # nothing was paid for gas
    finally:
        node.stop()
