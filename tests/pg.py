"""A throw-away PostgreSQL cluster for tests that need concurrency across processes."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from chain.node import free_port


def pg_bin() -> Path | None:
    """The folder of PostgreSQL's server binaries (Debian keeps them off PATH)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def _as_postgres(cmd: list[str]) -> list[str]:
    """initdb refuses to run as root: run the server tools as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@dataclass
class PgCluster:
    data: Path
    port: int
    bin: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://scf@127.0.0.1:{self.port}/scf"

    @classmethod
    def start(cls) -> PgCluster:
        bindir = pg_bin()
        if bindir is None:
            raise RuntimeError("PostgreSQL server binaries not found: install the `postgresql` package")
        # not under pytest's tmp folders: those are private to root, and the server runs as `postgres`
        top = Path(tempfile.mkdtemp(prefix="scf-pg-"))
        data = top / "pgdata"
        data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(top, "postgres")
            shutil.chown(data, "postgres")
        port = free_port()
        run = lambda cmd: subprocess.run(_as_postgres(cmd), check=True, capture_output=True)  # noqa: E731
        run([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "scf", "--no-sync"])
        opts = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off"
        run([str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(data / "log"), "-w", "start"])
        run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "scf", "scf"])
        return cls(data, port, bindir)

    def stop(self) -> None:
        subprocess.run(
            _as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(self.data.parent, ignore_errors=True)
