"""The scf command line, run as a user would: as a subprocess."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from api.db import head_revisions
from chain.node import free_port, probe_chain_id
from chain.plan import CONTRACT_NAMES
from chain.settings import PROJECT_ROOT

SCF = [sys.executable, "-m", "cli.scf"]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCF_")}
    env.update(
        SCF_DATA_DIR=str(tmp_path / "data"),
        SCF_DEPLOYMENTS_DIR=str(tmp_path / "deployments"),
        SCF_ANVIL_PORT=str(free_port()),
        SCF_API_PORT=str(free_port()),
    )
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        SCF + args, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["up"],
        ["deploy"],
        ["compile"],
        ["chain"],
        ["chain", "start"],
        ["chain", "stop"],
        ["chain", "status"],
        ["demo"],
        ["conformance"],
    ],
)
def test_every_command_has_help(args: list[str], tmp_path: Path) -> None:
    res = _run([*args, "--help"], _env(tmp_path))
    assert res.returncode == 0, res.stderr
    assert "Usage:" in res.stdout


def test_up_serves_health_with_chain_id_and_addresses(tmp_path: Path) -> None:
    env = _env(tmp_path)
    proc = subprocess.Popen(
        [*SCF, "up"], env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{env['SCF_API_PORT']}/health"
    try:
        body = None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                resp = httpx.get(url, timeout=5)
                if resp.status_code == 200:
                    body = resp.json()
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        assert body is not None, f"gateway never answered; exit={proc.poll()}"
        assert body["status"] == "ok"
        assert body["chain"]["chain_id"] == 31337
        recorded = json.loads((tmp_path / "deployments" / "31337.json").read_text())["contracts"]
        assert set(body["contracts"]) == set(CONTRACT_NAMES)
        for name, entry in body["contracts"].items():
            assert entry["address"] == recorded[name]["address"] and entry["has_code"] is True
        assert body["database"] == {
            "ok": True,
            "revision": head_revisions(),
            "writable": True,
            "problem": None,
            "reason": None,
        }
        assert body["chain"]["lost_blocks"] is None
        sign_in = httpx.get(f"http://127.0.0.1:{env['SCF_API_PORT']}/app/sign-in", timeout=10)
        assert sign_in.status_code == 200 and 'id="sign-in"' in sign_in.text
        assert (tmp_path / "data" / "anvil-state.json").exists() or (
            tmp_path / "data" / "anvil.json"
        ).exists()
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    assert "Traceback" not in err, err
    portal_url = f"http://127.0.0.1:{env['SCF_API_PORT']}/app"
    assert f"portal:  {portal_url}" in err, err  # make up prints the portal's address next to the API's
    # `scf up` started the chain, so it stopped it again and kept the state file
    assert probe_chain_id(f"http://127.0.0.1:{env['SCF_ANVIL_PORT']}", timeout=0.5) is None
    assert (tmp_path / "data" / "anvil-state.json").stat().st_size > 0


def test_up_refuses_a_taken_gateway_port(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        res = _run(["up", "--port", str(port)], _env(tmp_path))
    assert res.returncode == 2
    assert f"port {port}" in res.stderr and "already in use" in res.stderr
    assert "Traceback" not in res.stderr


def test_chain_start_refuses_a_taken_port_and_status_stop_work(tmp_path: Path) -> None:
    env = _env(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        res = _run(["chain", "start", "--port", str(port)], env)
    assert res.returncode == 2 and "already in use" in res.stderr and "Traceback" not in res.stderr

    assert _run(["chain", "status"], env).returncode == 1
    started = _run(["chain", "start"], env)
    assert started.returncode == 0 and "started anvil" in started.stdout
    try:
        assert "reusing anvil" in _run(["chain", "start"], env).stdout
        status = _run(["chain", "status"], env)
        assert status.returncode == 0 and json.loads(status.stdout)["chain_id"] == 31337
        deployed = _run(["deploy"], env)
        assert deployed.returncode == 0, deployed.stderr
        assert set(json.loads(deployed.stdout)["contracts"]) == set(CONTRACT_NAMES)
        again = _run(["deploy"], env)
        assert "deployed 0, reused" in again.stderr and ", 0 transactions" in again.stderr
    finally:
        stopped = _run(["chain", "stop"], env)
    assert stopped.returncode == 0 and "stopped anvil" in stopped.stdout
    assert _run(["chain", "status"], env).returncode == 1


def test_unreachable_rpc_url_is_a_clear_error(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    res = _run(
        ["deploy", "--rpc-url", f"http://127.0.0.1:{port}"], _env(tmp_path, SCF_DEPLOYER_KEY="0x" + "11" * 32)
    )
    assert res.returncode == 2
    assert "cannot reach the JSON-RPC endpoint" in res.stderr
    assert "Traceback" not in res.stderr


def test_deploy_without_a_running_local_chain_says_how_to_start_it(tmp_path: Path) -> None:
    res = _run(["deploy"], _env(tmp_path))
    assert res.returncode == 2
    assert "scf chain start" in res.stderr and "Traceback" not in res.stderr


def test_demo_tells_its_story_in_either_profile(tmp_path: Path) -> None:
    # `scf demo --profile cn|eu`; without it, the gateway's profile (SCF_PROFILE); an unknown one is refused
    # before anything starts
    shown = _run(["demo", "--help"], _env(tmp_path))
    assert shown.returncode == 0 and "--profile" in shown.stdout and "cn|eu" in shown.stdout, shown.stdout
    assert "SCF_PROFILE" in shown.stdout
    res = _run(["demo", "--profile", "us"], _env(tmp_path))
    assert res.returncode == 2 and "'us' is not one of 'cn', 'eu'" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr and "starting a fresh local chain" not in res.stderr
