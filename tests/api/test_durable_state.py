"""The local chain loses nothing the gateway acknowledged, even to a SIGKILL of Anvil.

Anvil writes its state file every second and on exit: on the old code a kill right after a burst of
acknowledged writes lost the last of them (the participants were onboarded, said the gateway, and the
restarted chain had never heard of them). Now the gateway waits for the ``StateKeeper``'s atomic dump
of the block before it answers, and a start loads the later of the two files.
"""

from __future__ import annotations

from pathlib import Path

from chain.contracts import ParticipantStatus
from chain.node import AnvilNode, ack_file, state_block
from tests.api.harness import onboard, start_gateway


def test_a_killed_local_chain_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    gw = start_gateway(tmp_path, state_file=True)
    try:
        actors = [
            onboard(
                gw, "supplier", f"Burst Supplier {n}", f"SE55600000{n:02d}", [("0088", f"73500000009{n:02d}")]
            )
            for n in range(6)
        ]
        head = gw.state.chain().w3.eth.block_number
        gw.anvil.kill()  # at once: no exit dump, and Anvil's own last periodic dump is up to 1 s old
        assert gw.anvil.state_file is not None
        assert state_block(ack_file(gw.anvil.state_file)) == head
        node = AnvilNode(state_file=gw.anvil.state_file, port=gw.anvil.port, log_file=tmp_path / "anvil2.log")
        node.start()
        gw.anvil = node
        registry = gw.state.chain().platform.registry
        assert gw.state.chain().w3.eth.block_number == head
        for a in actors:
            assert registry.participant(a.address).status == ParticipantStatus.ACTIVE, a.legal_name
    finally:
        gw.stop()
