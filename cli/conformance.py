"""`scf conformance`: the whole story against any JSON-RPC endpoint, with standard JSON-RPC only.

Production is a permissioned network (Hyperledger Besu with QBFT): blocks every few seconds, gas
price 0, final at one block, and no development methods. This run proves the platform works on such
a node: it probes the node (``web3_clientVersion``, ``rpc_modules`` where offered, the block interval
and base fee), deploys the contracts (or reuses the deployment recorded for that chain id), serves a
gateway of its own against the node (a throw-away database and secrets), and runs the demo's story
(``cli.demo.STEPS``) through the HTTP API, timing each step:

- it sends no ``anvil_*``/``evm_*``/``hardhat_*`` call at all (they are not needed, so the probe only
  reports whether the node advertises them), and it never moves the chain's clock;
- it relies on no instant mining: every write waits for its receipt (a block later on an
  interval-mining node), and the story dates everything by the chain's latest block;
- gas price 0 by default (``--gas-price`` or ``SCF_GAS_PRICE`` for a fixed price);
- finality at one block: at the end every transaction the gateway reported must still be in the
  canonical chain, in the block it was reported in, and ``/health`` must report no lost blocks.

Maturity without time travel: the rules let an invoice fall due at the earliest on the day after its
issue date, and the ledger judges maturity by ``block.timestamp >= dueDate``, the due date's first
second at UTC. So the run dates the invoice on the chain's current day and makes it due on the next
(the shortest tenor the rules allow). If the chain's clock reaches that midnight within
``--maturity-wait`` seconds, the run waits for it (by reading blocks), shows that the ledger now
refuses to move the matured receivable, and repays at maturity; otherwise the core enterprise repays
early (the ledger accepts repayment before the due date) and the holders redeem. A run that would
tokenize too close before midnight to finish the discount first waits for the new day.
"""

from __future__ import annotations

import secrets
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from api.settings import Settings
from chain.deploy import ensure_deployed
from chain.node import NodeError, free_port, rpc
from chain.settings import ANVIL_DEV_KEY, ANVIL_VERIFIER_KEY
from cli.demo import Client, DemoFailure, Story, midnight, run_story
from cli.local import serve_gateway

#: the blocks the steps from tokenization to the discount's acceptance need before the due date (six
#: transactions, each mined a block later, and some slack); closer to the chain's midnight than this many
#: block intervals (plus ``MARGIN_SECONDS``), the run waits for the new day before it tokenizes
PRE_MATURITY_BLOCKS = 8
MARGIN_SECONDS = 5
#: the prefixes of methods that exist on development nodes only (never called here)
DEV_PREFIXES = ("anvil_", "evm_", "hardhat_")


class ConformanceFailure(RuntimeError):
    """The node, the deployment or a step of the story did not behave."""


@dataclass
class NodeProfile:
    """What the node says about itself, through standard JSON-RPC."""

    url: str
    client_version: str
    chain_id: int
    latest_block: int
    base_fee: int | None
    block_interval: int
    modules: dict[str, str] | None
    dev_methods_advertised: bool

    @property
    def is_anvil(self) -> bool:
        return self.client_version.lower().startswith("anvil")


@dataclass
class Report:
    profile: NodeProfile | None = None
    steps: list[tuple[str, float]] = field(default_factory=list)
    matured: bool = False
    transactions: int = 0
    failure: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def total(self) -> float:
        return sum(t for _, t in self.steps)


def _block(url: str, tag: str | int = "latest") -> dict[str, Any]:
    block: dict[str, Any] | None = rpc(
        url, "eth_getBlockByNumber", [tag if isinstance(tag, str) else hex(tag), False]
    )
    if block is None:
        raise ConformanceFailure(f"the node has no block {tag}")
    return block


def chain_time(url: str) -> int:
    """The chain's clock: the latest block's timestamp (what the contracts judge by)."""
    return int(_block(url)["timestamp"], 16)


def _next_block(url: str, after: int, *, timeout: float) -> dict[str, Any]:
    """The first block after block ``after``, once it is mined (read, never asked for)."""
    deadline = time.monotonic() + timeout
    while True:
        block = _block(url)
        if int(block["number"], 16) > after:
            return block
        if time.monotonic() > deadline:
            raise ConformanceFailure(
                f"the node mined no block within {timeout:.0f} s: a QBFT network mines empty blocks"
                " at its block period; an Anvil for this run needs --block-time"
            )
        time.sleep(0.2)


def probe(url: str, *, new_block_timeout: float = 30.0) -> NodeProfile:
    """Ask the node who it is, its chain id, its latest blocks (their interval, read from the next block
    it mines on its own, the base fee) and, where it answers ``rpc_modules`` (Besu, geth), which method
    namespaces it offers."""
    version = str(rpc(url, "web3_clientVersion"))
    chain_id = int(rpc(url, "eth_chainId"), 16)
    first = _block(url)
    latest = _next_block(url, int(first["number"], 16), timeout=new_block_timeout)
    number = int(latest["number"], 16)
    interval = int(latest["timestamp"], 16) - int(_block(url, number - 1)["timestamp"], 16)
    base_fee = latest.get("baseFeePerGas")
    try:
        modules: dict[str, str] | None = rpc(url, "rpc_modules")
    except NodeError:  # Anvil does not offer it
        modules = None
    dev = any(m.lower() in ("anvil", "evm", "hardhat") for m in modules or {}) or version.lower().startswith(
        ("anvil", "hardhat")
    )
    return NodeProfile(
        url, version, chain_id, number, int(base_fee, 16) if base_fee else None, interval, modules, dev
    )


def conformance_settings(base: Settings, profile: NodeProfile, workdir: Path, gas_price: int) -> Settings:
    """The gateway's settings for a run against ``profile``'s node: its keys from ``base`` (Anvil's public
    development keys only when the node is Anvil), a throw-away database and secrets in ``workdir``."""
    updates: dict[str, Any] = {
        "rpc_url": profile.url,
        "gas_price": gas_price,
        "data_dir": workdir / "data",
        "database_url": f"sqlite:///{workdir / 'conformance.db'}",
        "api_port": free_port(),
        "secret_key": base.secret_key or SecretStr(secrets.token_urlsafe(32)),
        "operator_api_key": SecretStr("scf_" + secrets.token_urlsafe(32)),
    }
    for name, dev_key in (("deployer_key", ANVIL_DEV_KEY), ("verifier_key", ANVIL_VERIFIER_KEY)):
        if getattr(base, name) is None:
            if not profile.is_anvil:
                raise ConformanceFailure(
                    f"SCF_{name.upper()} must be set for {profile.client_version} (an account the network"
                    " permits; with gas price 0 it needs no funds)"
                )
            updates[name] = SecretStr(dev_key)
    return base.model_copy(update=updates)


def _short_tenor(url: str, block_interval: int, say: Callable[[str], None]) -> tuple[date, date]:
    """The invoice's dates: issued on the chain's current day, due on the next (the shortest tenor the
    rules allow). Too close to the chain's midnight to discount before it: wait for the new day."""
    now = chain_time(url)
    today = datetime.fromtimestamp(now, UTC).date()
    left = midnight(today + timedelta(days=1)) - now
    if left < PRE_MATURITY_BLOCKS * max(block_interval, 1) + MARGIN_SECONDS:
        say(f"   the chain's midnight is {left} s away: waiting for the new day before tokenizing")
        wait_for_chain_time(url, midnight(today + timedelta(days=1)), timeout=left + 60)
        today += timedelta(days=1)
    return today, today + timedelta(days=1)


def wait_for_chain_time(url: str, instant: int, *, timeout: float) -> dict[str, Any]:
    """The first block whose timestamp is ``instant`` or later, read as it is mined (no clock moved)."""
    deadline = time.monotonic() + timeout
    while True:
        block = _block(url)
        if int(block["timestamp"], 16) >= instant:
            return block
        if time.monotonic() > deadline:
            raise ConformanceFailure(f"no block reached the chain time {instant} within {timeout:.0f} s")
        time.sleep(0.5)


def _maturity(url: str, maturity_wait: int, report: Report) -> Callable[[Story], str]:
    def mature(s: Story) -> str:
        assert s.due is not None
        due = midnight(s.due)
        left = due - chain_time(url)
        if left > maturity_wait:
            return (
                f"due {s.due} (UTC midnight) is {left / 3600:.1f} h away by the chain's clock, more than"
                f" --maturity-wait {maturity_wait} s: the core enterprise repays early, as the ledger allows"
            )
        t0 = time.monotonic()
        block = wait_for_chain_time(url, due, timeout=max(left, 0) + 60)
        waited = time.monotonic() - t0
        # the proof that the ledger sees it matured: a transfer of the matured receivable is refused
        resp = s.c.http.post(
            f"/receivables/{s.rid}/transfers",
            headers={"Authorization": f"Bearer {s.tier1.api_key}", "Idempotency-Key": str(uuid.uuid4())},
            json={"to_participant_id": s.tier2.id, "amount": 1},
        )
        # the ledger's reason is the bytes32 "MATURED" (hex in the error's message)
        if resp.status_code != 409 or b"MATURED".hex() not in resp.text.lower():
            raise DemoFailure(
                f"a transfer after the due date answered {resp.status_code} (expected MATURED):"
                f" {resp.text[:300]}"
            )
        report.matured = True
        return (
            f"block {int(block['number'], 16)} is the first at or after the due date {s.due} (waited"
            f" {waited:.0f} s, no clock moved); the ledger now refuses transfers: MATURED"
        )

    return mature


def check_finality(url: str, c: Client) -> int:
    """Every transaction the gateway reported is still where it said, in the canonical chain."""
    for tx_hash, number in c.transactions:
        receipt = rpc(url, "eth_getTransactionReceipt", [tx_hash])
        if receipt is None or int(receipt["blockNumber"], 16) != number:
            raise ConformanceFailure(f"transaction {tx_hash} left block {number}: {receipt}")
        if _block(url, number)["hash"] != receipt["blockHash"]:
            raise ConformanceFailure(f"block {number} of {tx_hash} is no longer canonical")
    health = c.call("GET", "/health", c.operator_key)
    if health["chain"].get("lost_blocks") is not None:
        raise ConformanceFailure(f"the gateway saw lost blocks: {health['chain']['lost_blocks']}")
    return len(c.transactions)


def run_conformance(
    rpc_url: str,
    *,
    settings: Settings,
    gas_price: int = 0,
    maturity_wait: int = 120,
    say: Callable[[str], None] = print,
) -> Report:
    """Run the whole conformance against ``rpc_url``; the report says which step failed, if one did."""
    report = Report()

    def timed(name: str, run: Callable[[], None]) -> None:
        say(f"-- {name}")
        t0 = time.monotonic()
        try:
            run()
        finally:
            report.steps.append((name, time.monotonic() - t0))
        say(f"   ({report.steps[-1][1]:.1f} s)")

    with tempfile.TemporaryDirectory(prefix="scf-conformance-") as tmp:
        server = None
        try:

            def do_probe() -> None:
                p = report.profile = probe(rpc_url)
                say(f"   {p.client_version}, chain id {p.chain_id}, block {p.latest_block}")
                interval = (
                    "unknown (one block so far)" if p.block_interval is None else f"{p.block_interval} s"
                )
                say(f"   block interval {interval}, base fee {p.base_fee}")
                advertised = "advertised (never called)" if p.dev_methods_advertised else "not advertised"
                say(
                    f"   rpc_modules: {sorted(p.modules) if p.modules else 'not offered'};"
                    f" dev methods {advertised}"
                )
                if p.base_fee and p.base_fee > gas_price:
                    raise ConformanceFailure(
                        f"the node's base fee {p.base_fee} is above the gas price {gas_price}: start it"
                        " with a zero base fee (Besu: genesis zeroBaseFee) or pass --gas-price"
                    )

            timed("probe the node", do_probe)
            profile = report.profile
            assert profile is not None
            run_settings = conformance_settings(settings, profile, Path(tmp), gas_price)

            def do_deploy() -> None:
                result = ensure_deployed(run_settings)
                say(
                    f"   deployed {len(result.deployed)}, reused {len(result.reused)},"
                    f" {result.transactions} transactions"
                )

            timed("deploy (or reuse) the contracts", do_deploy)
            served: dict[str, Any] = {}

            def do_serve() -> None:
                served["state"], served["server"], _ = serve_gateway(run_settings)
                say(f"   gateway at http://127.0.0.1:{run_settings.api_port}, against {rpc_url}")

            timed("serve a gateway against the node", do_serve)
            server = served["server"]
            c = Client(
                f"http://127.0.0.1:{run_settings.api_port}", run_settings.effective_operator_api_key, say
            )
            dates: dict[str, date] = {}

            def story_step(name: str, run: Callable[[], None]) -> None:
                if name.startswith("2.") and not dates:  # the short tenor, decided just before tokenizing

                    def short_tenor() -> None:
                        dates["issue"], dates["due"] = _short_tenor(rpc_url, profile.block_interval, say)
                        story.invoice_date, story.due_date = dates["issue"], dates["due"]
                        say(f"   invoice dated {dates['issue']}, due {dates['due']} (the chain's days, UTC)")

                    timed("date the invoice: the shortest tenor", short_tenor)
                timed(name, run)

            story = Story(
                c,
                run_settings.effective_operator_api_key,
                say,
                mature=_maturity(rpc_url, maturity_wait, report),
                clock=lambda: chain_time(rpc_url),
                invoice_number=f"CONF-{uuid.uuid4().hex[:10].upper()}",
            )
            run_story(story, timed=story_step)
            timed(
                "finality: every transaction still in its block", lambda: _finality(rpc_url, c, report, say)
            )
        except (ConformanceFailure, DemoFailure, NodeError, ValueError) as exc:
            report.failure = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a bug or an unexpected answer: still a failed run, with its reason
            report.failure = f"{type(exc).__name__}: {exc}"
        finally:
            if server is not None:
                server.should_exit = True
    return report


def _finality(url: str, c: Client, report: Report, say: Callable[[str], None]) -> None:
    report.transactions = check_finality(url, c)
    say(f"   {report.transactions} transactions, each in the block the gateway reported; no lost blocks")


def print_report(report: Report, say: Callable[[str], None] = print) -> None:
    say("\nConformance")
    for name, seconds in report.steps:
        say(f"   {name:<52}{seconds:>8.1f} s")
    say(f"   {'total':<52}{report.total:>8.1f} s")
    if report.ok:
        path = "repaid at maturity" if report.matured else "repaid before maturity"
        say(f"conformance passed ({path}, {report.transactions} transactions)")
    else:
        say(f"conformance FAILED: {report.failure}")


__all__ = [
    "ConformanceFailure",
    "NodeProfile",
    "Report",
    "chain_time",
    "print_report",
    "probe",
    "run_conformance",
]


def run_on_fresh_anvil(block_time: int = 2, *, say: Callable[[str], None] = print) -> Report:
    """The conformance against a fresh Anvil shaped like QBFT (``make conformance`` without
    ``SCF_RPC_URL``): interval mining every ``block_time`` seconds, gas price and base fee 0, Cancun; its
    deployment recorded in a throw-away folder."""
    from chain.node import AnvilNode

    with tempfile.TemporaryDirectory(prefix="scf-conformance-anvil-") as tmp:
        args = (
            "--block-time",
            str(block_time),
            "--gas-price",
            "0",
            "--base-fee",
            "0",
            "--hardfork",
            "cancun",
        )
        anvil = AnvilNode(state_file=None, log_file=Path(tmp) / "anvil.log", extra_args=args)
        anvil.start()
        say(f"anvil at {anvil.url}: a block every {block_time} s, gas price and base fee 0, Cancun")
        try:
            base = Settings().model_copy(update={"deployments_dir": Path(tmp) / "deployments"})
            return run_conformance(anvil.url, settings=base, say=say)
        finally:
            anvil.stop()


if __name__ == "__main__":  # `make conformance` without SCF_RPC_URL
    import os
    import sys

    result = run_on_fresh_anvil(int(os.environ.get("SCF_BLOCK_TIME", "2")))
    print_report(result)
    sys.exit(0 if result.ok else 1)
