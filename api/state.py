"""What the gateway holds for its lifetime: settings, the database engine, the chain, the platform CA.

FastAPI-free: routers reach it through ``api.deps.StateDep``; services, the CLI and tests take it as a
plain argument. The chain connection and the CA are made on first use, so a gateway can start while
the node is down and answer 503 until it is up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import requests
from eth_account import Account
from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from web3 import Web3

from api import chainwatch, journal
from api.errors import ApiError
from api.leader import Leadership
from api.models import PlatformSecret, TxJournal, TxRequest
from api.nonces import DbNonceSender
from api.settings import Settings
from chain.abi import ErrorDecoder
from chain.client import ChainUnavailableError, Sender, connect
from chain.compiler import load_artifacts
from chain.contracts import Platform
from chain.deploy import load_deployments
from chain.node import NodeError
from chain.plan import ARTIFACT_OF, CONTRACT_NAMES
from domain.documents.money import currency_exponent
from domain.identity import CertificateAuthority, create_ca, load_ca
from readmodel.indexer import Indexer, abis_of
from readmodel.tables import RmCursor

#: What a call to a node that is down or restarting raises: answered 503 ``CHAIN_UNAVAILABLE`` by the
#: API (``api.handlers``), a one-line warning in the background indexer (``api.services.bootstrap``).
NODE_UNREACHABLE: tuple[type[Exception], ...] = (
    ChainUnavailableError,
    NodeError,  # the local tooling's node (its state keeper) does not answer
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
)

#: the name of the gateway's indexer (its ``rm_cursor`` row)
INDEXER = "default"
#: how long a read waits for a background indexer (here or in another process) before indexing itself
READ_WAIT_SECONDS = 2.0


@dataclass(frozen=True)
class ReadView:
    """What a read sees: the read model at ``block``, with the chain's clock of that block (``now``)."""

    block: int
    now: int


@dataclass
class GatewayChain:
    """The gateway's view of the ledger: contract clients and the platform's own sending accounts.

    One ``Sender`` per sending account per process (its nonce counter is locked), shared by all
    requests; the nonces themselves are shared by every process through the database.
    """

    w3: Web3
    platform: Platform
    operator: Sender
    verifier: Sender
    decoder: ErrorDecoder
    indexer: Indexer


#: seconds between two probes of the node (``AppState.chain``)
PROBE_INTERVAL = 1.0


@dataclass
class AppState:
    """The app's lifetime state. The chain connection and the CA are made on first use."""

    settings: Settings
    engine: Engine
    _w3: Web3 | None = field(default=None, repr=False)
    _chain: GatewayChain | None = field(default=None, repr=False)
    _ca: CertificateAuthority | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _probed: float = field(default=float("-inf"), repr=False)  # when the node last answered a probe
    #: the services' per-process state (``api.services.registrar``'s registrar)
    services: dict[str, object] = field(default_factory=dict, repr=False)
    senders: dict[str, Sender] = field(default_factory=dict, repr=False)
    _index_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    #: returns once a block is safe from a node crash, before the gateway acknowledges what it holds.
    #: ``None`` on a real network (a QBFT block is final once sealed); local tooling sets it to wait for
    #: Anvil's state file (``chain.node.StateKeeper``).
    durable: Callable[[int], None] | None = field(default=None, repr=False)
    #: set while a background indexer runs in this process (``api.services.bootstrap``): reads then wait
    #: for the read model's cursor instead of indexing themselves
    background: threading.Event = field(default_factory=threading.Event, repr=False)
    _operator_address: str | None = field(default=None, repr=False)
    #: this process's bid for the indexer's leadership (``api.leader``); set by the background indexer
    leadership: Leadership | None = field(default=None, repr=False)

    def w3(self) -> Web3:
        """The Web3 connection; raises ChainUnavailableError (answered as 503) if the node is down."""
        if self._w3 is None or not self._alive(self._w3):
            self._w3 = connect(self.settings.effective_rpc_url, self.settings.rpc_timeout)
            self._probed = time.monotonic()
        return self._w3

    def chain(self) -> GatewayChain:
        """The chain's clients, made again once the node is found down (at most one probe a second:
        a call to a node that went down meanwhile fails on its own, as 503 ``CHAIN_UNAVAILABLE``)."""
        with self._lock:
            if self._chain is None or not self._alive(self._chain.w3):
                self._chain = build_gateway_chain(
                    self.settings, self.w3(), self.engine, self.durable, self.watch_chain
                )
            return self._chain

    def _alive(self, w3: Web3) -> bool:
        """Whether the node answers; asked once every ``PROBE_INTERVAL`` seconds at most (every request
        asked it several times: four JSON-RPC round trips per tokenization, under the state's lock)."""
        if time.monotonic() - self._probed < PROBE_INTERVAL:
            return True
        alive = bool(w3.is_connected())
        if alive:
            self._probed = time.monotonic()
        return alive

    def catch_up(self) -> None:
        """Bring the read model up to the chain's head, after the lost-block check (the background
        indexer, ``/health/read-model``, tokenization; reads call ``read_after`` instead)."""
        chain = self.chain()
        self.watch_chain()
        with self._index_lock:
            chain.indexer.run_once()

    def indexer_leader_elsewhere(self) -> bool:
        """Whether another gateway process leads the indexer (so the cursor moves without us): true in
        a follower while the leader lives (as of the follower's last try, one poll interval at most)."""
        return self.leadership is not None and self.leadership.held_elsewhere

    def read_after(self, participant_id: str, address: str | None) -> ReadView:
        """Wait until the read model holds the caller's own transactions (read-your-own-writes) and
        return what a read sees (docs/indexer.md, "Consistency of reads").

        The caller's newest mined block is looked up in the journal (by the request's participant, or by
        its chain address as sender); without a background indexer, by any caller (nothing else moves
        the read model). When the cursor is there already: two or three indexed queries, no JSON-RPC call,
        no lock. Otherwise it waits for the background indexer, or indexes up to that block itself."""
        target = self._newest_block(participant_id, address, anyone=not self.background.is_set())
        view = self._view()
        deadline = time.monotonic() + READ_WAIT_SECONDS
        while view.block < target and self.background.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)
            view = self._view()
        if view.block < target:
            with self._index_lock:
                if self._view().block < target:
                    self.watch_chain()
                    self.chain().indexer.run_once(until=target)
            view = self._view()
        return view if view.now >= 0 else ReadView(view.block, self.chain_now())

    def operator_address(self) -> str:
        """The operator's chain account (from its key: no JSON-RPC call)."""
        if self._operator_address is None:
            self._operator_address = str(Account.from_key(self.settings.effective_deployer_key).address)
        return self._operator_address

    def _newest_block(self, participant_id: str, address: str | None, *, anyone: bool) -> int:
        # only what the chain still has: a transaction lost with blocks (vanished) keeps its old number
        newest = select(func.max(TxJournal.block_number)).where(col(TxJournal.state) == journal.MINED)
        with Session(self.engine) as s:
            if anyone:
                return int(s.exec(newest).one() or -1)
            mine = s.exec(newest.where(col(TxJournal.participant_id) == participant_id)).one()
            shared = s.exec(
                select(func.max(TxRequest.block_number)).where(
                    col(TxRequest.participant_id) == participant_id
                )
            ).one()
            sent = s.exec(newest.where(col(TxJournal.sender) == address)).one() if address else None
        return max(mine or -1, shared or -1, sent or -1)

    def _view(self) -> ReadView:
        """The read model's cursor (block, timestamp; -1 when unknown), from the database."""
        with Session(self.engine) as s:
            row = s.get(RmCursor, INDEXER)
        if row is None:
            return ReadView(-1, -1)
        return ReadView(row.block_number, row.block_timestamp if row.block_timestamp is not None else -1)

    def watch_chain(self) -> None:
        """Reconcile with the chain if the node lost blocks we saw (``api.chainwatch``; throttled)."""
        chainwatch.check(self.chain().w3, self.engine)

    def chain_now(self) -> int:
        """The chain's clock: the latest block's timestamp. Every rule that compares with a maturity
        uses this, as the contracts do, never the gateway's wall clock."""
        return int(self.chain().w3.eth.get_block("latest")["timestamp"])

    def ca(self) -> CertificateAuthority:
        with self._lock:
            if self._ca is None:
                self._ca = load_or_create_ca(self.settings, self.engine)
            return self._ca

    def sender(self, address: str, key: Callable[[], str]) -> Sender:
        """The one sender of ``address`` in this process (made with the private key ``key()`` returns,
        on first use only: a sealed key is unsealed once per process)."""
        with self._lock:
            cached = self.senders.get(address)
        if cached is not None:
            return cached
        chain = self.chain()
        sender = DbNonceSender(
            chain.w3,
            key(),
            self.engine,
            durable=self.durable,
            watch=self.watch_chain,
            gas_price=self.settings.gas_price,
            decoder=chain.decoder,
        )
        with self._lock:
            return self.senders.setdefault(address, sender)


def build_gateway_chain(
    settings: Settings,
    w3: Web3,
    engine: Engine,
    durable: Callable[[int], None] | None = None,
    watch: Callable[[], object] | None = None,
) -> GatewayChain:
    artifacts = load_artifacts(settings.artifacts_path)
    addresses = {
        k: v["address"] for k, v in load_deployments(settings.deployments_path, w3.eth.chain_id).items()
    }
    missing = [n for n in CONTRACT_NAMES if n not in addresses or ARTIFACT_OF[n] not in artifacts]
    if missing:
        raise ApiError(
            503, "CONTRACTS_NOT_DEPLOYED", f"contracts not deployed on this chain: {', '.join(missing)}"
        )
    decoder = ErrorDecoder(a.abi for a in artifacts.values())

    def sender(key: str) -> DbNonceSender:
        return DbNonceSender(
            w3, key, engine, durable=durable, watch=watch, gas_price=settings.gas_price, decoder=decoder
        )

    platform = Platform.from_addresses(w3, artifacts, addresses)
    for code, token in platform.tokens.items():  # what the amounts of that currency mean: its minor unit
        if (token.currency(), token.decimals()) != (code, currency_exponent(code)):
            raise ApiError(
                503,
                "SETTLEMENT_TOKEN_MISCONFIGURED",
                f"the settlement token {token.address} deployed for {code} is in {token.currency()} with"
                f" {token.decimals()} decimals; ISO 4217 gives {code} {currency_exponent(code)}",
            )
    return GatewayChain(
        w3=w3,
        platform=platform,
        operator=sender(settings.effective_deployer_key),
        verifier=sender(settings.effective_verifier_key),
        decoder=decoder,
        indexer=Indexer(w3, engine, addresses, abis_of(artifacts), name=INDEXER),
    )


CA_CERT = "ca_certificate"
CA_KEY = "ca_private_key"
_CA_AAD = b"scf/platform-ca"


def load_or_create_ca(settings: Settings, engine: Engine) -> CertificateAuthority:
    """The platform CA stored in the database (key sealed), or a new one stored there. Race-safe."""
    secret = settings.effective_secret_key
    with Session(engine) as session:
        cert = session.get(PlatformSecret, CA_CERT)
        key = session.get(PlatformSecret, CA_KEY)
        if cert is not None and key is not None:
            return load_ca(cert.value, key.value, secret, associated_data=_CA_AAD)
    # backdated a day, so that participant clocks a little behind ours still see valid certificates
    ca = create_ca(
        "SCF Platform Root CA", organization="SCF Platform", not_before=datetime.now(UTC) - timedelta(days=1)
    )
    try:
        with Session(engine) as session:
            session.add(PlatformSecret(name=CA_CERT, value=ca.certificate_pem))
            session.add(
                PlatformSecret(name=CA_KEY, value=ca.export_private_key(secret, associated_data=_CA_AAD))
            )
            session.commit()
    except IntegrityError:  # another worker created it first: use that one
        return load_or_create_ca(settings, engine)
    return ca
