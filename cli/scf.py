"""The ``scf`` command line: local chain, deployment and the gateway.

Every failure the user can cause or fix (a port in use, an unreachable node, a compile error, a
reverted transaction) ends with one clear ``error:`` line and exit code 2, not a traceback.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from api.settings import Settings, get_settings
from chain.client import ChainUnavailableError, TransactionReverted
from chain.compiler import CompileError, compile_contracts
from chain.deploy import DeployResult, ensure_deployed
from chain.node import (
    NodeError,
    StateKeeper,
    background_status,
    port_is_free,
    start_background,
    stop_background,
)

app = typer.Typer(
    help="Supply-chain-finance platform: local chain, contract deployment and the HTTP gateway.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
chain_app = typer.Typer(help="Start, stop and inspect the local Anvil chain.", no_args_is_help=True)
app.add_typer(chain_app, name="chain")

F = TypeVar("F", bound=Callable[..., Any])
EXPECTED_ERRORS = (NodeError, ChainUnavailableError, CompileError, TransactionReverted, ValueError, KeyError)


def friendly(func: F) -> F:
    """Turn the errors a user can act on into one line on stderr and exit code 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except EXPECTED_ERRORS as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from None

    return wrapper  # type: ignore[return-value]


def _say(msg: str) -> None:
    typer.echo(msg, err=True)


def _settings(
    rpc_url: str | None = None, api_port: int | None = None, anvil_port: int | None = None
) -> Settings:
    s = get_settings()
    updates: dict[str, Any] = {}
    if rpc_url is not None:
        updates["rpc_url"] = rpc_url
    if api_port is not None:
        updates["api_port"] = api_port
    if anvil_port is not None:
        updates["anvil_port"] = anvil_port
    return s.model_copy(update=updates) if updates else s


RpcOpt = Annotated[
    str | None,
    typer.Option("--rpc-url", help="JSON-RPC URL of an external node (default: SCF_RPC_URL or local Anvil)."),
]


@app.command("compile")
@friendly
def compile_cmd(
    force: Annotated[bool, typer.Option(help="Recompile even if sources are unchanged.")] = False,
) -> None:
    """Compile the contracts with the pinned solc (cached by source hash)."""
    settings = get_settings()
    t0 = time.monotonic()
    artifacts, ran = compile_contracts(settings.artifacts_path, force=force)
    state = "compiled" if ran else "up to date"
    typer.echo(
        f"{len(artifacts)} artifacts {state} in {settings.artifacts_path} ({time.monotonic() - t0:.1f}s)"
    )


def _print_deploy(result: DeployResult) -> None:
    typer.echo(json.dumps({"chain_id": result.chain_id, "contracts": result.addresses}, indent=2))


@app.command()
@friendly
def deploy(rpc_url: RpcOpt = None) -> None:
    """Deploy the contracts to the configured node (idempotent: reuses what is already there)."""
    settings = _settings(rpc_url)
    if settings.rpc_url is None and background_status(settings) is None:
        raise NodeError("the local chain is not running: start it with `scf chain start` (or use `scf up`)")
    result = ensure_deployed(settings, log=_say)
    _say(f"deployed {len(result.deployed)}, reused {len(result.reused)}, {result.transactions} transactions")
    _print_deploy(result)


@chain_app.command("start")
@friendly
def chain_start(
    port: Annotated[
        int | None, typer.Option(help="Port for Anvil (default: SCF_ANVIL_PORT or 8545).")
    ] = None,
) -> None:
    """Start the local Anvil chain in the background (or reuse a running one), with its state file."""
    settings = _settings(anvil_port=port)
    info = start_background(settings)
    verb = "reusing" if info.get("reused") else "started"
    typer.echo(f"{verb} anvil at {info['url']} (pid {info['pid']}, state {info['state_file']})")


@chain_app.command("stop")
@friendly
def chain_stop() -> None:
    """Stop the local chain; Anvil writes its state file on the way out."""
    stopped = stop_background(get_settings())
    typer.echo("stopped anvil" if stopped else "no local chain was running")


@chain_app.command("status")
@friendly
def chain_status() -> None:
    """Show whether the local chain runs, where, and its latest block."""
    info = background_status(get_settings())
    if info is None:
        typer.echo("local chain: not running")
        raise typer.Exit(code=1)
    typer.echo(json.dumps(info, indent=2))


@app.command()
@friendly
def up(
    rpc_url: RpcOpt = None,
    port: Annotated[int | None, typer.Option(help="Gateway port (default: SCF_API_PORT or 8000).")] = None,
    anvil_port: Annotated[
        int | None, typer.Option(help="Local Anvil port (default: SCF_ANVIL_PORT).")
    ] = None,
    with_demo: Annotated[
        bool,
        typer.Option(
            "--demo/--no-demo",
            help="On a new local ledger, run the demo story against the served gateway once.",
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Gateway worker processes on the one port (more than 1 needs PostgreSQL: SCF_DATABASE_URL).",
        ),
    ] = 1,
) -> None:
    """Start or reuse the local chain, deploy if needed, migrate the database and serve the gateway.

    With --demo, a new local ledger (no participants yet) is first walked through the whole story
    (the same as `scf demo`, but kept: the gateway then serves its results). With --workers N, N
    processes serve the gateway (docs/operations.md); one of them indexes the chain at a time."""
    import uvicorn

    from api.db import migrate
    from api.main import create_app
    from api.services.bootstrap import bootstrap, start_background_indexer, stop_background_indexer
    from api.services.webhooks import start_webhook_worker, stop_webhook_worker

    settings = _settings(rpc_url, port, anvil_port)
    check_workers(settings, workers)
    if not port_is_free(settings.api_host, settings.api_port):
        raise NodeError(
            f"port {settings.api_port} on {settings.api_host} is already in use; choose another with --port"
        )
    started_chain = False
    stop_indexer = threading.Event()
    indexer: threading.Thread | None = None
    stop_webhooks = threading.Event()
    deliverer: threading.Thread | None = None
    if settings.rpc_url is None:
        info = start_background(settings)
        started_chain = not info.get("reused", False)
        verb = "started" if started_chain else "reusing"
        _say(f"{verb} local chain at {info['url']} (state {info['state_file']})")
    try:
        result = ensure_deployed(settings, log=_say)
        _say(f"contracts: {', '.join(f'{k}={v}' for k, v in result.addresses.items())}")
        migrate(settings)
        _say(f"database: {settings.effective_database_url}")
        if workers > 1:
            _serve_workers(settings, workers, with_demo)
            return
        app = create_app(settings)
        if settings.rpc_url is None:  # the local node: nothing the gateway acknowledges is lost to a kill
            app.state.scf.durable = StateKeeper(settings.effective_rpc_url, settings.anvil_state_file).durable
        bootstrap(settings, app.state.scf)
        if settings.operator_api_key is None:
            _say(f"operator API key: in {settings.data_path / 'operator_api_key.secret'}")
        _say(f"gateway: http://{settings.api_host}:{settings.api_port} (health: /health, API docs: /docs)")
        _say(f"portal:  http://{settings.api_host}:{settings.api_port}/app (sign in with an API key)")
        _say(
            "stories: `scf demo` (receivables; `--profile cn|eu`), `scf demo --story warehouse` (soybeans"
            " pledged in a depot)"
        )
        indexer = start_background_indexer(app.state.scf, stop_indexer)
        deliverer = start_webhook_worker(app.state.scf.engine, settings, stop_webhooks)
        if with_demo:
            _demo_in_background(settings, app.state.scf)
        uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_level="warning")
    finally:
        if deliverer is not None:
            stop_webhook_worker(stop_webhooks, deliverer)
        if indexer is not None:  # its turn must end before the node it reads goes away
            stop_background_indexer(stop_indexer, indexer)
        if started_chain:
            stop_background(settings)
            _say("stopped the local chain (its state is kept for the next `scf up`)")


def check_workers(settings: Settings, workers: int) -> None:
    """More than one worker needs PostgreSQL: SQLite lets one process write at a time, and every
    tokenization, onboarding and indexing batch writes, so extra workers would only queue on its lock
    (or answer 503 DATABASE_BUSY)."""
    from sqlalchemy import make_url

    if workers > 1 and make_url(settings.effective_database_url).get_backend_name() != "postgresql":
        raise ValueError(
            f"--workers {workers} needs PostgreSQL (set SCF_DATABASE_URL): SQLite lets one process write at"
            " a time, so more workers would only wait for its lock; use --workers 1 with SQLite"
        )


def _serve_workers(settings: Settings, workers: int, with_demo: bool) -> None:
    """Serve ``api.main:app_from_env`` in ``workers`` processes (uvicorn's supervisor restarts a worker
    that dies). The once-only start-up (verifier, CA, operator key) runs here first; the workers read
    their settings from the environment, so this command's overrides are passed on through it."""
    import os

    import uvicorn

    from api.db import make_engine
    from api.main import DURABLE_STATE_ENV
    from api.services.bootstrap import bootstrap
    from api.state import AppState

    state = AppState(settings=settings, engine=make_engine(settings))
    bootstrap(settings, state)
    if settings.operator_api_key is None:
        _say(f"operator API key: in {settings.data_path / 'operator_api_key.secret'}")
    os.environ["SCF_API_PORT"] = str(settings.api_port)
    os.environ["SCF_ANVIL_PORT"] = str(settings.anvil_port)
    if settings.rpc_url is not None:
        os.environ["SCF_RPC_URL"] = settings.rpc_url
    else:  # the local node: every worker waits for Anvil's state file before it acknowledges a block
        os.environ[DURABLE_STATE_ENV] = "1"
    _say(
        f"gateway: http://{settings.api_host}:{settings.api_port} ({workers} workers; health: /health,"
        " API docs: /docs)"
    )
    _say(f"portal:  http://{settings.api_host}:{settings.api_port}/app (sign in with an API key)")
    if with_demo:
        _demo_in_background(settings, state)
    uvicorn.run(
        "api.main:app_from_env",
        factory=True,
        workers=workers,
        host=settings.api_host,
        port=settings.api_port,
        log_level="warning",
    )
    state.engine.dispose()


def _demo_in_background(settings: Settings, state: Any) -> None:
    """Run the demo story once the served gateway answers (local ledgers without participants only)."""
    from sqlmodel import Session, select

    from api.models import Participant
    from chain.node import rpc
    from cli.demo import DemoFailure, run_demo
    from cli.warehouse_demo import run_warehouse_demo

    if settings.rpc_url is not None:
        _say("demo skipped: it moves the chain's clock, which only a local chain allows")
        return
    with Session(state.engine) as session:
        if session.exec(select(Participant)).first() is not None:
            _say("demo skipped: this ledger already has participants (it ran before); see /docs")
            return
    url = f"http://{settings.api_host}:{settings.api_port}"

    def advance(seconds: int) -> None:
        rpc(settings.local_rpc_url, "evm_increaseTime", [seconds])
        rpc(settings.local_rpc_url, "evm_mine", [])

    def run() -> None:
        import httpx

        for _ in range(100):
            try:
                httpx.get(f"{url}/health", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        try:
            run_demo(
                url,
                settings.effective_operator_api_key,
                advance_time=advance,
                say=typer.echo,
                profile=settings.profile,
            )
            typer.echo("\nthe warehouse story (soybeans pledged in a grain depot):")
            run_warehouse_demo(url, settings.effective_operator_api_key, say=typer.echo)
            typer.echo(
                f"\ndemo finished: every step behaved. The gateway keeps serving at {url} (Ctrl-C stops it)."
            )
        except (DemoFailure, Exception) as exc:
            typer.echo(f"demo failed: {exc}", err=True)

    threading.Thread(target=run, name="scf-demo", daemon=True).start()


class Story(StrEnum):
    """The demo's stories."""

    RECEIVABLES = "receivables"
    WAREHOUSE = "warehouse"


class Market(StrEnum):
    """The market profiles the receivables story is told in (``cli.demo.DEMO_PROFILES``)."""

    CN = "cn"
    EU = "eu"


@app.command()
@friendly
def demo(
    keep: Annotated[
        bool, typer.Option(help="Keep the demo's chain and gateway running until Ctrl-C.")
    ] = False,
    story: Annotated[
        Story,
        typer.Option(
            help="receivables: invoices tokenized, split, discounted, repaid; warehouse: soybeans pledged."
        ),
    ] = Story.RECEIVABLES,
    profile: Annotated[
        Market | None,
        typer.Option(
            help="The receivables story's market: cn (CNY, a Chinese core enterprise, suppliers and banks"
            " identified by unified social credit codes) or eu (EUR, Swedish and German parties)."
            " Default: the gateway's profile (SCF_PROFILE, else cn)."
        ),
    ] = None,
) -> None:
    """Run a whole story on a fresh local chain through the HTTP API, and print a summary.

    Exits 1 if any step misbehaves. Uses a temporary data folder and free ports, so it never
    touches the ledger of `scf up`.
    """
    import tempfile
    from pathlib import Path

    from cli.demo import DemoFailure, run_demo
    from cli.local import start_local_stack
    from cli.warehouse_demo import run_warehouse_demo

    settings = get_settings()
    market = profile.value if profile is not None else settings.profile
    with tempfile.TemporaryDirectory(prefix="scf-demo-") as tmp:
        _say("starting a fresh local chain, deploying the contracts and serving the gateway ...")
        stack = start_local_stack(Path(tmp), settings=settings)
        try:
            typer.echo(f"gateway at {stack.url} (chain {stack.anvil.url})\n")
            if story == Story.WAREHOUSE:
                run_warehouse_demo(stack.url, stack.operator_key, say=typer.echo)
            else:
                run_demo(
                    stack.url,
                    stack.operator_key,
                    advance_time=stack.advance_time,
                    say=typer.echo,
                    profile=market,
                )
            typer.echo("\ndemo finished: every step behaved.")
            if keep:
                typer.echo(
                    # nosemgrep: scf-secret-in-log - asked for (--keep): the throw-away demo's own key
                    f"the gateway stays up at {stack.url}; operator key {stack.operator_key}; Ctrl-C ends it"
                )
                while True:
                    time.sleep(3600)
        except DemoFailure as exc:
            typer.echo(f"demo failed: {exc}", err=True)
            raise typer.Exit(code=1) from None
        except KeyboardInterrupt:
            pass
        finally:
            stack.stop()


@app.command()
@friendly
def conformance(
    rpc_url: RpcOpt = None,
    gas_price: Annotated[
        int | None, typer.Option(help="Fixed gas price in wei (default: SCF_GAS_PRICE, else 0).")
    ] = None,
    maturity_wait: Annotated[
        int,
        typer.Option(
            help="Wait this long at most for the chain's clock to reach the invoice's due date (the next UTC"
            " midnight); further away, the core enterprise repays before maturity."
        ),
    ] = 120,
) -> None:
    """Run the whole story against any JSON-RPC node with standard JSON-RPC only, timing each step.

    Deploys the contracts (or reuses the deployment recorded for the chain id), serves a gateway of its
    own (throw-away database) against the node, onboards, tokenizes, endorses, splits, discounts, repays
    and redeems through the HTTP API, then checks the read model and that every transaction stayed in
    its block. Keys: SCF_DEPLOYER_KEY and SCF_VERIFIER_KEY (Anvil's development keys on Anvil).
    Exits 1 if any step fails."""
    from cli.conformance import print_report, run_conformance

    settings = get_settings()
    url = rpc_url or settings.rpc_url
    if url is None:
        raise ValueError(
            "give the node's JSON-RPC URL: --rpc-url or SCF_RPC_URL (`make conformance` starts one)"
        )
    price = gas_price if gas_price is not None else (settings.gas_price or 0)
    report = run_conformance(
        url, settings=settings, gas_price=price, maturity_wait=maturity_wait, say=typer.echo
    )
    print_report(report, say=typer.echo)
    if not report.ok:
        raise typer.Exit(code=1)


network_app = typer.Typer(help="Write the configuration of a permissioned network for the platform.")
app.add_typer(network_app, name="network")


@network_app.command("besu")
@friendly
def network_besu(
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write the network's files into (must be empty).")
    ],
    validators: Annotated[int, typer.Option(min=1, help="Number of QBFT validators.")] = 4,
    chain_id: Annotated[int, typer.Option(help="The network's chain id.")] = 2026,
    block_period: Annotated[int, typer.Option(help="QBFT block period in seconds.")] = 2,
    participants: Annotated[
        Path | None,
        typer.Option(
            help="A file of participants' chain addresses (one a line) for the account allowlist; default:"
            " read from the gateway's database (SCF_DATABASE_URL) when it has any."
        ),
    ] = None,
) -> None:
    """Write a Hyperledger Besu QBFT network: node keys, genesis (Cancun, zero base fee, QBFT extraData),
    permissions_config.toml (accounts and nodes allowlists), one config.toml per node and the platform's
    .env pointing at node 1. See docs/deploy-besu.md."""
    from cli.besu import participant_addresses, write_besu_network

    settings = get_settings()
    addresses = participant_addresses(settings, participants)
    written = write_besu_network(
        out,
        settings,
        validators=validators,
        chain_id=chain_id,
        block_period=block_period,
        participants=addresses,
    )
    for path in written:
        typer.echo(str(path))
    _say(
        f"{validators} validators, {len(addresses)} participant accounts allowed;"
        " how to start it: docs/deploy-besu.md"
    )


iot_app = typer.Typer(help="Simulated warehouse devices (issue 13).", no_args_is_help=True)
app.add_typer(iot_app, name="iot")


@iot_app.command("simulate")
@friendly
def iot_simulate(
    receipt: Annotated[int, typer.Option(help="The warehouse receipt the devices watch.")],
    api_key: Annotated[
        str,
        typer.Option(
            envvar="SCF_WAREHOUSE_API_KEY", help="The warehouse's API key (it registers the devices)."
        ),
    ],
    gateway: Annotated[str, typer.Option(help="The gateway's URL.")] = "http://127.0.0.1:8000",
    rounds: Annotated[int, typer.Option(min=1, help="Rounds of normal readings (one per device each).")] = 20,
    theft: Annotated[
        bool, typer.Option("--theft/--no-theft", help="End with a theft: weight short, seal open.")
    ] = True,
    theft_percent: Annotated[int, typer.Option(min=1, max=99, help="How much weight the theft takes.")] = 5,
) -> None:
    """Register a scale, a seal, a thermometer and a GPS tag for a receipt, send normal signed readings,
    then (by default) a theft; show the progress and the alerts the gateway recorded on chain."""
    from rich.progress import Progress

    from cli.demo import Client, DemoFailure
    from cli.iot import Lot, register_devices, simulate

    c = Client(gateway, api_key, _say)
    try:
        r = c.call("GET", f"/warehouse/receipts/{receipt}", api_key)
        if r["unit"] not in ("KGM", "TNE"):
            raise ValueError(f"receipt {receipt} is in {r['unit']}: the simulator weighs kilograms or tonnes")
        kg = int(r["quantity"]) * (1000 if r["unit"] == "TNE" else 1)
        lot = Lot(receipt, kg, r["location"])
        devices = register_devices(c, api_key, lot)
        _say("devices: " + ", ".join(f"{d.device_id} ({d.kind})" for d in devices))
        with Progress() as bar:
            task = bar.add_task("readings", total=rounds * len(devices) + (2 if theft else 0))
            result = simulate(
                c,
                devices,
                lot,
                rounds=rounds,
                with_theft=theft,
                theft_bps=theft_percent * 100,
                progress=lambda done, _total: bar.update(task, completed=done),
            )
    except DemoFailure as exc:
        raise ValueError(str(exc)) from None
    _say(f"{result.accepted} readings accepted")
    for a in result.alerts:
        _say(f"alert {a['alert_id']} {a['code']}: {a['message']}")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
