"""Local Anvil node lifecycle: start on a (free) port, wait until it answers, stop cleanly.

The ledger lives in a state file (``--state``): Anvil loads it at start and writes it on exit
and every ``state_interval`` seconds, so a restart finds every contract and balance again. A kill
loses what came after Anvil's last dump, and a kill during a dump leaves a torn file; so a gateway
served by the local tooling also keeps a ``StateKeeper``: before it acknowledges a transaction, the
block is in ``<state>.ack.json`` (written atomically, flushed). A start loads whichever of the two
files holds the later block (a torn one is passed over).
Anvil is a development and test tool; production talks to any EVM node over JSON-RPC.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from chain.files import (
    DIR_MODE,
    FILE_MODE,
    append_private,
    private_dir,
    tighten,
    write_private,
    write_private_durably,
)
from chain.settings import PROJECT_ROOT, ChainSettings


class NodeError(RuntimeError):
    """The node could not be started, reached or stopped; the message says why."""


class PortInUseError(NodeError):
    """The requested port is already taken by another process."""


def anvil_binary() -> str:
    """The pinned Anvil from node_modules, else one on PATH."""
    local = PROJECT_ROOT / "node_modules" / ".bin" / "anvil"
    if local.exists():
        return str(local)
    found = shutil.which("anvil")
    if found is None:
        raise NodeError("anvil not found: run `npm ci` in the project root (it installs the pinned Anvil)")
    return found


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def rpc(url: str, method: str, params: list[Any] | None = None, timeout: float = 5.0) -> Any:
    """One JSON-RPC call with plain HTTP; raises NodeError when unreachable or on an RPC error."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    try:
        resp = httpx.post(url, json=body, timeout=timeout)
        resp.raise_for_status()
        data = resp.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise NodeError(f"JSON-RPC endpoint {url} is unreachable: {exc}") from exc
    if "error" in data:
        raise NodeError(f"{method} failed at {url}: {data['error']}")
    return data["result"]


def probe_chain_id(url: str, timeout: float = 2.0) -> int | None:
    """The chain id at ``url``, or None if nothing answers there."""
    try:
        return int(rpc(url, "eth_chainId", timeout=timeout), 16)
    except NodeError:
        return None


@dataclass
class AnvilNode:
    """One Anvil process with a state file."""

    state_file: Path | None
    host: str = "127.0.0.1"
    port: int = 0
    chain_id: int = 31337
    state_interval: int = 1
    log_file: Path | None = None
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        cmd = [
            anvil_binary(),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--chain-id",
            str(self.chain_id),
        ]
        if self.state_file is not None:
            cmd += ["--state", str(self.state_file), "--state-interval", str(self.state_interval)]
        return cmd + list(self.extra_args)

    def start(self, timeout: float = 30.0, *, detach: bool = False) -> None:
        """Start Anvil and wait until it answers ``eth_chainId``.

        Raises PortInUseError if the port is taken, NodeError if it does not come up.
        """
        if self.port == 0:
            self.port = free_port(self.host)
        elif not port_is_free(self.host, self.port):
            raise PortInUseError(
                f"port {self.port} on {self.host} is already in use; choose another with "
                f"SCF_ANVIL_PORT or stop what is listening there"
            )
        if self.state_file is not None:
            self.state_file.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            tighten(self.state_file, FILE_MODE)
            restore_latest_state(self.state_file)
        log = append_private(self.log_file) if self.log_file else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                self.command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=detach,
                umask=0o077,  # the state file Anvil writes (every balance, every key it holds) is 0600
            )
        finally:
            if self.log_file:
                log.close()  # type: ignore[union-attr]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise NodeError(
                    f"anvil exited with code {self.process.returncode} during start{self._log_tail()}"
                )
            if probe_chain_id(self.url, timeout=1.0) is not None:
                return
            time.sleep(0.1)
        self.stop()
        raise NodeError(f"anvil did not answer on {self.url} within {timeout:.0f}s{self._log_tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (Anvil writes its state file on exit), then SIGKILL if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL: no final state dump (only the periodic one survives)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def _log_tail(self) -> str:
        if self.log_file and self.log_file.exists():
            return "\n--- anvil log ---\n" + "\n".join(
                self.log_file.read_text(errors="replace").splitlines()[-15:]
            )
        return ""


# --- nothing acknowledged is lost: the state keeper -----------------------------------------

_log = logging.getLogger(__name__)


def ack_file(state_file: Path) -> Path:
    """Where the ``StateKeeper`` of ``state_file`` writes."""
    return state_file.with_name(state_file.stem + ".ack.json")


def state_block(path: Path) -> int | None:
    """The block number a state file holds; ``None`` if it is missing or torn."""
    try:
        return int(json.loads(path.read_bytes())["block"]["number"], 16)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def restore_latest_state(state_file: Path) -> None:
    """Before Anvil starts: if the keeper's file holds a later block than Anvil's own (Anvil was killed
    after the keeper's last write, or during its own dump), put it in place of Anvil's."""
    ack = ack_file(state_file)
    acked = state_block(ack)
    if acked is None:
        return
    own = state_block(state_file)
    if own is None or own < acked:
        _log.warning("restoring the chain state of block %d from %s (Anvil's own: %s)", acked, ack, own)
        write_private_durably(state_file, ack.read_bytes())


class StateKeeper:
    """Writes Anvil's state (``anvil_dumpState``) to ``ack_file(state_file)`` on demand, atomically and
    flushed to disk, and remembers the newest block written. ``durable(block)`` returns once ``block``
    is in the file: the gateway calls it before it acknowledges a transaction of that block
    (``api.state.AppState.durable``). Concurrent callers share one dump. Local tooling only (the
    ``anvil_*`` methods exist on Anvil alone); on a real network a sealed QBFT block is final."""

    def __init__(self, url: str, state_file: Path) -> None:
        self.url = url
        self.path = ack_file(state_file)
        self.saved = state_block(self.path) or -1
        self._lock = threading.Lock()
        self.dumps = 0

    def durable(self, block: int) -> None:
        """Return once ``block`` is in the keeper's file; ``NodeError`` if the node cannot be asked (the
        block may then be lost with it: the gateway answers 503 and the retry learns the truth)."""
        with self._lock:
            if self.saved >= block:
                return
            data = gzip.decompress(bytes.fromhex(str(rpc(self.url, "anvil_dumpState", timeout=30))[2:]))
            number = int(json.loads(data)["block"]["number"], 16)
            write_private_durably(self.path, data)
            self.saved = number
            self.dumps += 1


# --- building big ledgers fast (benches, tests) -----------------------------------------


def mine_as_one_block(url: str, sender: str, to: str, calls: list[bytes], *, gas: int = 600_000) -> None:
    """``calls`` to ``to`` from ``sender`` (impersonated: no key needed) sent as one batch of JSON-RPC
    requests and mined into one block. Anvil only (``anvil_*``/``evm_*``): local tooling, never a real
    network. Raises ``NodeError`` if a transaction is refused or the block's last one reverted."""
    rpc(url, "anvil_impersonateAccount", [sender])
    rpc(url, "anvil_setBalance", [sender, hex(10**24)])
    nonce = int(rpc(url, "eth_getTransactionCount", [sender, "latest"]), 16)  # Anvil numbers a batch racily
    rpc(url, "evm_setAutomine", [False])
    try:
        batch = [
            {
                "jsonrpc": "2.0",
                "id": i,
                "method": "eth_sendTransaction",
                "params": [
                    {
                        "from": sender,
                        "to": to,
                        "data": "0x" + c.hex(),
                        "gas": hex(gas),
                        "nonce": hex(nonce + i),
                    }
                ],
            }
            for i, c in enumerate(calls)
        ]
        answers = httpx.post(url, json=batch, timeout=300).json()
        rpc(url, "evm_mine", [], timeout=300)
    finally:
        rpc(url, "evm_setAutomine", [True])
    failed = [a for a in answers if "result" not in a]
    if failed:
        raise NodeError(f"{len(failed)} transactions refused: {failed[:2]}")
    last = max(answers, key=lambda a: int(a["id"]))["result"]
    if int(rpc(url, "eth_getTransactionReceipt", [last])["status"], 16) != 1:
        raise NodeError("the block's last transaction reverted")


# --- a background node managed across CLI invocations ----------------------------------------


def _pid_file(settings: ChainSettings) -> Path:
    return settings.data_path / "anvil.json"


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def background_status(settings: ChainSettings) -> dict[str, Any] | None:
    """The background node recorded in the data folder, if it is alive and answering."""
    pid_file = _pid_file(settings)
    if not pid_file.exists():
        return None
    info: dict[str, Any] = json.loads(pid_file.read_text())
    if not pid_alive(int(info["pid"])):
        pid_file.unlink(missing_ok=True)
        return None
    chain_id = probe_chain_id(info["url"])
    info["answering"] = chain_id is not None
    info["chain_id"] = chain_id
    return info


def start_background(settings: ChainSettings) -> dict[str, Any]:
    """Start (or reuse) the local Anvil in the background, keeping the ledger in the data folder."""
    running = background_status(settings)
    if running is not None and running["answering"]:
        running["reused"] = True
        return running
    node = AnvilNode(
        state_file=settings.anvil_state_file,
        host=settings.anvil_host,
        port=settings.anvil_port,
        chain_id=settings.anvil_chain_id,
        state_interval=settings.anvil_state_interval,
        log_file=settings.data_path / "anvil.log",
    )
    private_dir(settings.data_path)
    node.start(detach=True)
    assert node.process is not None
    info: dict[str, Any] = {
        "pid": node.process.pid,
        "url": node.url,
        "state_file": str(settings.anvil_state_file),
        "chain_id": node.chain_id,
        "answering": True,
        "reused": False,
    }
    write_private(_pid_file(settings), json.dumps(info))
    return info


def stop_background(settings: ChainSettings, timeout: float = 15.0) -> bool:
    """Stop the background node (state is written on exit). False if none was running."""
    pid_file = _pid_file(settings)
    if not pid_file.exists():
        return False
    pid = int(json.loads(pid_file.read_text())["pid"])
    pid_file.unlink(missing_ok=True)
    if not pid_alive(pid):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        try:  # reap if it is our child
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return True
