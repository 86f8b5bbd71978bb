"""`scf network besu`: the files a Hyperledger Besu QBFT network for the platform needs.

Written from Besu's documentation (docs/deploy-besu.md cites the pages), never run here (no Besu can
be installed on these machines):

- per validator ``Node-<n>/data/key`` (the secp256k1 private key, hex, as Besu reads it from its data
  path) and ``key.pub`` (the 64-byte public key, hex: the node id of its enode URL);
- ``genesis.json``: ``chainId``, every fork from block/time 0 up to Cancun (``cancunTime: 0``: the
  contracts use ``mcopy`` and transient storage), ``zeroBaseFee: true`` (free gas; nodes also run with
  ``min-gas-price=0``), ``config.qbft`` (block period, epoch length, request timeout) and the QBFT
  ``extraData``: ``RLP([32 bytes vanity, [validators], [] (no vote), round 0 (empty bytes), [] (no
  seals)])``, the validators in ascending order; ``alloc`` for the platform's deployer and verifier;
- ``toEncode.json``: the validators, to cross-check with ``besu rlp encode --type=QBFT_EXTRA_DATA``;
- per node ``Node-<n>/data/permissions_config.toml`` (``accounts-allowlist``: the platform's accounts
  and the onboarded participants' custodial addresses; ``nodes-allowlist``: the validators' enode URLs)
  and ``Node-<n>/config.toml`` (Besu's configuration file: ports, APIs, permissioning, gas price 0);
- ``.env``: the ``SCF_*`` settings that point the platform at node 1 (mode 0600: it holds keys).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from coincurve import PrivateKey
from eth_utils import is_address, keccak, to_checksum_address

from api.settings import Settings
from chain.files import private_dir, write_private

#: the QBFT genesis block's 32 bytes of vanity data (Besu's examples: zeros)
VANITY = bytes(32)
P2P_PORT = 30303
RPC_PORT = 8545
#: Cancun and every fork before it from the genesis block (block-numbered, then time-based forks)
FORK_BLOCKS = (
    "homesteadBlock",
    "eip150Block",
    "eip155Block",
    "eip158Block",
    "byzantiumBlock",
    "constantinopleBlock",
    "petersburgBlock",
    "istanbulBlock",
    "muirGlacierBlock",
    "berlinBlock",
    "londonBlock",
)
FORK_TIMES = ("shanghaiTime", "cancunTime")
#: gas for a block: far above a tokenization batch, yet a bound (Besu's free-gas page: a limit the
#: validators can process in the block time)
GAS_LIMIT = "0x1fffffffffffff"


# --- RLP (the Yellow Paper's appendix B; tests decode it with the ``rlp`` package) -------------------


def rlp_encode(item: bytes | Sequence[object]) -> bytes:
    """RLP of a byte string or a (nested) list of them."""
    if isinstance(item, bytes):
        if len(item) == 1 and item[0] < 0x80:
            return item
        return _length_prefix(len(item), 0x80) + item
    payload = b"".join(rlp_encode(x) for x in item)  # type: ignore[arg-type]
    return _length_prefix(len(payload), 0xC0) + payload


def _length_prefix(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes([offset + length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(encoded)]) + encoded


def qbft_extra_data(validators: Sequence[str]) -> str:
    """The QBFT genesis ``extraData`` for block-header validator selection, validators in the order given:
    ``RLP([vanity, [validators], [] (no vote), round 0 as empty bytes, [] (no seals)])``."""
    addresses = [bytes.fromhex(to_checksum_address(v)[2:]) for v in validators]
    return "0x" + rlp_encode([VANITY, addresses, [], b"", []]).hex()


# --- keys -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeKey:
    """A validator's secp256k1 node key."""

    private: bytes

    @classmethod
    def generate(cls) -> NodeKey:
        return cls(PrivateKey(secrets.token_bytes(32)).secret)

    @property
    def public(self) -> bytes:
        """The 64-byte uncompressed public key without its 0x04 prefix: the enode's node id."""
        return PrivateKey(self.private).public_key.format(compressed=False)[1:]

    @property
    def address(self) -> str:
        return to_checksum_address(keccak(self.public)[-20:])

    def enode(self, host: str, port: int) -> str:
        return f"enode://{self.public.hex()}@{host}:{port}"


def _account(key: str) -> str:
    """The account of a private key (hex)."""
    return NodeKey(bytes.fromhex(key.removeprefix("0x"))).address


# --- participants ---------------------------------------------------------------------------------


def read_addresses(path: Path) -> list[str]:
    """Chain addresses, one a line (blank lines and ``#`` comments skipped); ``ValueError`` on a bad one."""
    out: list[str] = []
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not is_address(line):
            raise ValueError(f"{path}:{n}: not a chain address: {line!r}")
        out.append(to_checksum_address(line))
    return out


def participant_addresses(settings: Settings, path: Path | None) -> list[str]:
    """The onboarded participants' custodial addresses: from ``path``, else from the gateway's database
    (none when it has not been created yet)."""
    if path is not None:
        return read_addresses(path)
    from sqlalchemy import create_engine, inspect
    from sqlmodel import Session, col, select

    from api.models import Participant

    url = settings.effective_database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return []
    engine = create_engine(url)
    try:
        if not inspect(engine).has_table(Participant.__tablename__):  # type: ignore[arg-type]
            return []
        with Session(engine) as session:
            rows = session.exec(select(Participant.chain_address).order_by(col(Participant.chain_address)))
            return [to_checksum_address(a) for a in rows if a]
    finally:
        engine.dispose()


# --- the network ----------------------------------------------------------------------------------


def genesis(
    chain_id: int,
    validators: Sequence[str],
    accounts: Iterable[str],
    *,
    block_period: int,
    epoch: int = 30000,
) -> dict[str, object]:
    """A QBFT genesis (block-header validator selection) with Cancun from the start and a zero base fee."""
    config: dict[str, object] = {"chainId": chain_id}
    config |= {name: 0 for name in FORK_BLOCKS}
    config |= {name: 0 for name in FORK_TIMES}
    config |= {
        "zeroBaseFee": True,
        "contractSizeLimit": 2147483647,
        "qbft": {
            "blockperiodseconds": block_period,
            "epochlength": epoch,
            "requesttimeoutseconds": 2 * block_period,
        },
    }
    return {
        "config": config,
        "nonce": "0x0",
        "timestamp": "0x0",
        "extraData": qbft_extra_data(validators),
        "gasLimit": GAS_LIMIT,
        "difficulty": "0x1",
        "mixHash": "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365",
        "coinbase": "0x0000000000000000000000000000000000000000",
        # gas is free: the balance is only for tools that insist on one
        "alloc": {a.lower().removeprefix("0x"): {"balance": "0x0"} for a in accounts},
    }


def permissions_toml(accounts: Sequence[str], enodes: Sequence[str]) -> str:
    def array(items: Sequence[str]) -> str:
        return "[" + ", ".join(json.dumps(i) for i in items) + "]"

    return (
        "# Besu local permissioning (docs/deploy-besu.md): who may send transactions, which nodes connect\n"
        f"accounts-allowlist={array(accounts)}\n\n"
        f"nodes-allowlist={array(enodes)}\n"
    )


def node_toml(n: int, host: str, bootnode: str | None) -> str:
    lines = [
        f"# Besu node {n} of the platform's QBFT network: besu --config-file=config.toml (from Node-{n}/)",
        'data-path="data"',
        'genesis-file="../genesis.json"',
        'profile="ENTERPRISE"',
        f'p2p-host="{host}"',
        f"p2p-port={P2P_PORT + n - 1}",
        "rpc-http-enabled=true",
        'rpc-http-host="127.0.0.1"',
        f"rpc-http-port={RPC_PORT + n - 1}",
        'rpc-http-api=["ETH","NET","WEB3","QBFT","PERM"]',
        'host-allowlist=["localhost","127.0.0.1"]',
        "min-gas-price=0",
        "permissions-nodes-config-file-enabled=true",
        "permissions-accounts-config-file-enabled=true",
    ]
    if bootnode is not None:
        lines.append(f'bootnodes=["{bootnode}"]')
    return "\n".join(lines) + "\n"


def write_besu_network(
    out: Path,
    settings: Settings,
    *,
    validators: int = 4,
    chain_id: int = 2026,
    block_period: int = 2,
    participants: Sequence[str] = (),
    hosts: Sequence[str] = (),
) -> list[Path]:
    """Write the network into ``out`` (which must not exist or be empty); return the files written."""
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} is not empty: give a new folder to --out")
    if validators < 1:
        raise ValueError("a network needs at least one validator (four tolerate one faulty)")
    hosts = list(hosts) or ["127.0.0.1"] * validators
    if len(hosts) != validators:
        raise ValueError(f"{len(hosts)} hosts for {validators} validators")
    private_dir(out)
    keys = [NodeKey.generate() for _ in range(validators)]
    enodes = [k.enode(hosts[i], P2P_PORT + i) for i, k in enumerate(keys)]
    env: dict[str, str] = {}
    platform: list[str] = []
    for name, value in (("deployer_key", settings.deployer_key), ("verifier_key", settings.verifier_key)):
        secret = value.get_secret_value() if value is not None else "0x" + NodeKey.generate().private.hex()
        if value is None:  # new accounts of this network's own: their keys go to the .env
            env[f"SCF_{name.upper()}"] = secret
        platform.append(_account(secret))
    accounts = list(dict.fromkeys([*platform, *(to_checksum_address(p) for p in participants)]))
    ordered = sorted((k.address for k in keys), key=lambda a: int(a, 16))
    written: list[Path] = []

    def put(path: Path, text: str, *, secret: bool = False) -> None:
        if secret:
            write_private(path, text)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        written.append(path)

    put(
        out / "genesis.json",
        json.dumps(genesis(chain_id, ordered, platform, block_period=block_period), indent=2) + "\n",
    )
    put(out / "toEncode.json", json.dumps([a.lower() for a in ordered], indent=2) + "\n")
    for i, key in enumerate(keys, 1):
        node = out / f"Node-{i}"
        put(node / "data" / "key", "0x" + key.private.hex(), secret=True)
        put(node / "data" / "key.pub", "0x" + key.public.hex())
        put(node / "data" / "permissions_config.toml", permissions_toml(accounts, enodes))
        put(node / "config.toml", node_toml(i, hosts[i - 1], enodes[0] if i > 1 else None))
    env = {
        "SCF_RPC_URL": f"http://127.0.0.1:{RPC_PORT}",
        "SCF_GAS_PRICE": "0",
        "SCF_CUSTODIAL_FUNDING_WEI": "0",
        **env,
        "SCF_SECRET_KEY": secrets.token_urlsafe(32),
        "SCF_OPERATOR_API_KEY": "scf_" + secrets.token_urlsafe(32),
    }
    lines = [
        "# The platform's settings for this Besu network (node 1's JSON-RPC). Keep this file secret.",
        "# Set DATABASE_URL to the gateway's PostgreSQL for production.",
        *(f"{k}={v}" for k, v in env.items()),
    ]
    put(out / ".env", "\n".join(lines) + "\n", secret=True)
    return written
