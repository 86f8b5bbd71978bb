"""The gateway in a process of its own, to be killed (SIGKILL) and started again (fault tests) or
measured from outside (``make load``).

``python -m cli.gateway_process [--workers N]`` serves ``api.main:app_from_env`` (``create_app(Settings())``
with the background indexer, led by one process among all: ``api.leader``): its settings come from the
``SCF_*`` environment that ``GatewayProcess`` passes (the same data folder, database, deployments and
node as a test's stack, PostgreSQL too when the settings name it), so a restarted gateway finds
everything the killed one left. With ``workers`` > 1, uvicorn's supervisor serves N worker processes
on the one port (``scf up --workers N``); ``kill`` then kills the whole process group.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from api.settings import Settings
from chain.node import free_port
from chain.settings import PROJECT_ROOT


@dataclass
class GatewayProcess:
    settings: Settings
    log_file: Path
    port: int = 0
    workers: int = 1
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        s = self.settings
        env = {
            **os.environ,
            "SCF_DATA_DIR": str(s.data_path),
            "SCF_DEPLOYMENTS_DIR": str(s.deployments_path),
            "SCF_ARTIFACTS_DIR": str(s.artifacts_path),
            "SCF_API_PORT": str(self.port),
        }
        if s.rpc_url:
            env["SCF_RPC_URL"] = s.rpc_url
        else:  # the local node: secrets of the data folder, as ``scf up`` has them
            env["SCF_ANVIL_PORT"] = str(s.anvil_port)
        if s.database_url:
            env["SCF_DATABASE_URL"] = s.database_url
        return env

    def start(self, timeout: float = 60.0) -> None:
        self.port = self.port or free_port()
        log = open(self.log_file, "ab")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cli.gateway_process", "--workers", str(self.workers)],
                cwd=PROJECT_ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the workers are killed with it
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the gateway exited ({self.process.returncode}): {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the gateway did not start: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, like a crash or the OOM killer."""
        if self.process is not None and self.process.poll() is None:
            if self.workers > 1:  # the supervisor and its workers (the group it leads: see ``start``)
                os.killpg(self.process.pid, signal.SIGKILL)
            else:
                self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self) -> str:
        return self.log_file.read_text(errors="replace")[-3000:] if self.log_file.exists() else ""


def main() -> None:
    import argparse

    import uvicorn

    parser = argparse.ArgumentParser(description="The gateway in a process of its own (settings: SCF_*).")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    uvicorn.run(
        "api.main:app_from_env",
        factory=True,
        workers=args.workers,
        host="127.0.0.1",
        port=Settings().api_port,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
