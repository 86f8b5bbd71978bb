"""Anvil lifecycle: start, answer, stop, and a ledger that survives restarts through its state file."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from eth_account import Account

from chain.client import Sender, connect
from chain.compiler import Artifact
from chain.deploy import deploy_all
from chain.node import AnvilNode, PortInUseError, probe_chain_id
from chain.plan import DEPLOYS, ROLE_SUPPLIER
from chain.settings import ANVIL_DEV_KEY
from tests.conftest import DEV_KEYS


def test_start_answers_and_stop_frees_the_port(tmp_path: Path) -> None:
    node = AnvilNode(state_file=None, chain_id=4242)
    node.start()
    assert probe_chain_id(node.url) == 4242
    node.stop()
    assert probe_chain_id(node.url, timeout=0.5) is None


def test_taken_port_is_a_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"port {port} .* already in use"):
            AnvilNode(state_file=None, port=port).start()


def _write_ledger(url: str, artifacts: dict[str, Artifact], deployments: Path) -> tuple[str, str, int]:
    w3 = connect(url)
    sender = Sender(w3, ANVIL_DEV_KEY)
    result = deploy_all(w3, sender, artifacts, deployments, deploys=DEPLOYS[:1], calls=())
    registry = w3.eth.contract(
        address=result.addresses["ParticipantRegistry"], abi=artifacts["ParticipantRegistry"].abi
    )
    supplier = Account.from_key(DEV_KEYS[0]).address
    sender.send(
        {
            "to": registry.address,
            "data": registry.encode_abi("onboard", [supplier, ROLE_SUPPLIER, b"\x11" * 32]),
        }
    )
    payee = Account.create().address
    sender.send({"to": payee, "value": 123_456_789})
    return registry.address, payee, w3.eth.block_number


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_restart_from_state_file_keeps_contracts_and_balances(
    tmp_path: Path, artifacts: dict[str, Artifact], how: str
) -> None:
    state = tmp_path / "state.json"
    node = AnvilNode(state_file=state, state_interval=1, log_file=tmp_path / "anvil.log")
    node.start()
    registry_address, payee, block = _write_ledger(node.url, artifacts, tmp_path / "deployments")
    if how == "stop":
        node.stop()  # SIGTERM: Anvil dumps its state on exit
    else:
        time.sleep(2.5)  # let the periodic dump (every second) happen, then kill without a final dump
        node.kill()
    assert state.exists() and state.stat().st_size > 0

    again = AnvilNode(state_file=state, port=0, log_file=tmp_path / "anvil2.log")
    again.start()
    try:
        w3 = connect(again.url)
        assert w3.eth.get_balance(payee) == 123_456_789
        assert w3.eth.block_number >= block
        registry = w3.eth.contract(address=registry_address, abi=artifacts["ParticipantRegistry"].abi)
        role, status, identity = registry.functions.participant(Account.from_key(DEV_KEYS[0]).address).call()
        assert (role, status, identity) == (ROLE_SUPPLIER, 1, b"\x11" * 32)
        # the deployment is recognised as still there: a second deploy reuses it
        again_result = deploy_all(
            w3, Sender(w3, ANVIL_DEV_KEY), artifacts, tmp_path / "deployments", deploys=DEPLOYS[:1], calls=()
        )
        assert again_result.reused == ["ParticipantRegistry"] and again_result.transactions == 0
    finally:
        again.stop()
