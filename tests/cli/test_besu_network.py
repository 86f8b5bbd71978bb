"""`scf network besu`: the QBFT network's files, checked as far as anything can be without Besu.

The extraData is decoded with the ``rlp`` package (not the encoder under test) and checked against the
example of Besu's QBFT page; the genesis, the TOML files and the .env are parsed; node keys are checked
against their public keys, enode URLs and validator addresses; the allowlists against the onboarded
participants of a gateway database.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path

import rlp  # type: ignore[import-untyped]
from coincurve import PrivateKey
from eth_utils import keccak, to_checksum_address
from sqlmodel import Session

from api.db import migrate
from api.models import Participant
from api.settings import Settings
from chain.settings import PROJECT_ROOT
from cli.besu import NodeKey, qbft_extra_data, rlp_encode, write_besu_network

# Besu's QBFT page ("Generate extra data"): toEncode.json and what `besu rlp encode --type=QBFT_EXTRA_DATA`
# printed for it (docs/private-networks/how-to/configure/consensus/qbft.md)
BESU_DOC_VALIDATORS = [
    "0x4592c8e45706cc08b8f44b11e43cba0cfc5892cb",
    "0x06e23768a0f59cf365e18c2e0c89e151bcdedc70",
    "0xc5327f96ee02d7bcbc1bf1236b8c15148971e1de",
    "0xab5e7f4061c605820d3744227eed91ff8e2c8908",
]
BESU_DOC_EXTRA_DATA = (
    "0xf87aa00000000000000000000000000000000000000000000000000000000000000000f854944592c8e45706cc08b8f44b"
    "11e43cba0cfc5892cb9406e23768a0f59cf365e18c2e0c89e151bcdedc7094c5327f96ee02d7bcbc1bf1236b8c15148971e1de"
    "94ab5e7f4061c605820d3744227eed91ff8e2c8908c080c0"
)
PARTICIPANTS = [to_checksum_address("0x" + keccak(text=f"participant {i}")[-20:].hex()) for i in range(3)]


def test_extra_data_equals_besus_own_example() -> None:
    assert qbft_extra_data(BESU_DOC_VALIDATORS) == BESU_DOC_EXTRA_DATA


def test_rlp_encoder_agrees_with_the_rlp_package() -> None:
    for item in [
        b"",
        b"\x00",
        b"\x7f",
        b"\x80",
        b"x" * 55,
        b"y" * 56,
        b"z" * 1024,
        [],
        [b"", [b"a" * 60]] * 9,
    ]:
        assert rlp_encode(item) == rlp.encode(item)


def _gateway_db(tmp_path: Path) -> Settings:
    """A migrated gateway database with PARTICIPANTS onboarded (rows as onboarding writes them)."""
    settings = Settings(data_dir=tmp_path / "gw", database_url=f"sqlite:///{tmp_path / 'gw.db'}")
    migrate(settings)
    from api.db import make_engine

    engine = make_engine(settings)
    with Session(engine) as session:
        for i, address in enumerate(PARTICIPANTS):
            session.add(
                Participant(
                    id=str(uuid.uuid4()),
                    legal_name=f"Participant {i}",
                    registration_id=f"REG{i}",
                    role="supplier",
                    chain_address=address,
                    certificate_pem="-",
                    certificate_serial=f"serial-{i}",
                    identity_hash="0x" + "00" * 32,
                    api_key_hash=f"{i:064x}",
                )
            )
        session.commit()
    engine.dispose()
    return settings


def test_scf_network_besu_writes_a_consistent_four_validator_network(tmp_path: Path) -> None:
    settings = _gateway_db(tmp_path)
    out = tmp_path / "net"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCF_") and k != "DATABASE_URL"}
    env["SCF_DATABASE_URL"] = settings.effective_database_url
    run = subprocess.run(
        [sys.executable, "-m", "cli.scf", "network", "besu", "--validators", "4", "--out", str(out)],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "4 validators, 3 participant accounts allowed" in run.stderr

    # node keys: the public key of each private key, its address, its enode
    nodes = []
    for n in range(1, 5):
        data = out / f"Node-{n}" / "data"
        private = bytes.fromhex((data / "key").read_text().strip().removeprefix("0x"))
        public = bytes.fromhex((data / "key.pub").read_text().strip().removeprefix("0x"))
        assert PrivateKey(private).public_key.format(compressed=False)[1:] == public
        assert stat.S_IMODE((data / "key").stat().st_mode) == 0o600
        nodes.append((public, to_checksum_address(keccak(public)[-20:])))
    validators = sorted((a for _, a in nodes), key=lambda a: int(a, 16))

    # the genesis: JSON, Cancun and every fork before it at 0, free gas, QBFT
    genesis = json.loads((out / "genesis.json").read_text())
    config = genesis["config"]
    assert config["chainId"] == 2026
    for fork in ("berlinBlock", "londonBlock", "shanghaiTime", "cancunTime", "istanbulBlock"):
        assert config[fork] == 0, fork
    assert config["zeroBaseFee"] is True
    assert config["qbft"] == {"blockperiodseconds": 2, "epochlength": 30000, "requesttimeoutseconds": 4}
    # extraData decodes back to exactly the validators: [vanity, validators, no vote, round 0, no seals]
    vanity, listed, votes, round_, seals = rlp.decode(bytes.fromhex(genesis["extraData"][2:]))
    assert vanity == bytes(32) and votes == [] and round_ == b"" and seals == []
    assert [to_checksum_address(a) for a in listed] == validators
    assert json.loads((out / "toEncode.json").read_text()) == [v.lower() for v in validators]

    # the .env points the platform at node 1 with gas price 0, and holds the platform's new keys
    dotenv = dict(
        line.split("=", 1) for line in (out / ".env").read_text().splitlines() if line and line[0] != "#"
    )
    assert dotenv["SCF_RPC_URL"] == "http://127.0.0.1:8545" and dotenv["SCF_GAS_PRICE"] == "0"
    assert stat.S_IMODE((out / ".env").stat().st_mode) == 0o600
    platform = [
        NodeKey(bytes.fromhex(dotenv[k][2:])).address for k in ("SCF_DEPLOYER_KEY", "SCF_VERIFIER_KEY")
    ]
    loaded = Settings(_env_file=out / ".env")  # type: ignore[call-arg]
    assert loaded.gas_price == 0 and loaded.effective_verifier_key == dotenv["SCF_VERIFIER_KEY"]
    assert {a.lower().removeprefix("0x") for a in platform} == set(genesis["alloc"])

    # permissioning: the platform's accounts and the onboarded participants; the validators' enodes
    enodes = [f"enode://{pub.hex()}@127.0.0.1:{30303 + i}" for i, (pub, _) in enumerate(nodes)]
    for n in range(1, 5):
        perms = tomllib.loads((out / f"Node-{n}" / "data" / "permissions_config.toml").read_text())
        allowed = perms["accounts-allowlist"]
        assert allowed[:2] == platform and sorted(allowed[2:]) == sorted(PARTICIPANTS)
        assert perms["nodes-allowlist"] == enodes
        node = tomllib.loads((out / f"Node-{n}" / "config.toml").read_text())
        assert node["min-gas-price"] == 0 and node["p2p-port"] == 30302 + n
        assert node["permissions-accounts-config-file-enabled"] is True
        assert node.get("bootnodes", [enodes[0]]) == [enodes[0]]


def test_participants_from_a_file_and_no_reuse_of_a_full_folder(tmp_path: Path) -> None:
    listed = tmp_path / "participants.txt"
    listed.write_text("# onboarded\n" + "\n".join(a.lower() for a in PARTICIPANTS) + "\n\n")
    settings = Settings(deployer_key="0x" + "11" * 32, verifier_key="0x" + "22" * 32)  # type: ignore[arg-type]
    from cli.besu import participant_addresses

    addresses = participant_addresses(settings, listed)
    assert addresses == PARTICIPANTS
    out = tmp_path / "net"
    write_besu_network(out, settings, validators=1, participants=addresses)
    perms = tomllib.loads((out / "Node-1" / "data" / "permissions_config.toml").read_text())
    ours = [NodeKey(bytes([b]) * 32).address for b in (0x11, 0x22)]
    assert perms["accounts-allowlist"] == ours + PARTICIPANTS
    assert "SCF_DEPLOYER_KEY" not in (out / ".env").read_text()  # given keys are not copied around
    try:
        write_besu_network(out, settings)
    except ValueError as exc:
        assert "not empty" in str(exc)
    else:
        raise AssertionError("an existing network folder was overwritten")
    bad = tmp_path / "bad.txt"
    bad.write_text("0x1234\n")
    try:
        participant_addresses(settings, bad)
    except ValueError as exc:
        assert "bad.txt:1" in str(exc)
    else:
        raise AssertionError("a bad address was accepted")
