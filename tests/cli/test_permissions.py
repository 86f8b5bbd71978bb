"""The data folder and what lives in it are private to the service user, whatever the umask: folders
0700, files 0600 (the SQLite database and its -wal/-shm journals, the generated secrets, the Anvil state
file, its log and PID file). Looser ones found at start are tightened, with a warning."""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from api.db import make_engine, migrate
from api.settings import Settings
from chain.node import free_port, start_background, stop_background


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def settings_in(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", anvil_port=free_port(), anvil_state_interval=1)


def use_everything(settings: Settings) -> None:
    """What `scf up` does with the data folder: secrets, the database, the background chain."""
    settings.effective_operator_api_key
    settings.effective_secret_key
    migrate(settings)
    engine = make_engine(settings)
    try:
        with engine.begin() as conn:  # a write: the WAL journal and its shared memory exist now
            conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
            assert (settings.data_path / "scf.db-wal").exists()
            assert (settings.data_path / "scf.db-shm").exists()
            check_files(settings.data_path, ["scf.db", "scf.db-wal", "scf.db-shm"])
    finally:
        engine.dispose()
    start_background(settings)
    try:
        assert (settings.data_path / "anvil.json").exists()
        deadline = time.monotonic() + 10
        while not settings.anvil_state_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        assert stop_background(settings)


def check_files(data: Path, names: list[str]) -> None:
    assert mode(data) == 0o700, oct(mode(data))
    modes = {name: oct(mode(data / name)) for name in names}
    assert modes == dict.fromkeys(names, oct(0o600))


def test_everything_in_the_data_folder_is_created_private(tmp_path: Path, umask_022: None) -> None:
    settings = settings_in(tmp_path)
    use_everything(settings)
    names = ["operator_api_key.secret", "secret_key.secret", "scf.db", "anvil-state.json", "anvil.log"]
    check_files(settings.data_path, names)
    leftovers = {p.name: oct(mode(p)) for p in settings.data_path.iterdir() if mode(p) & 0o077}
    assert leftovers == {}


def test_loose_files_from_before_are_tightened_with_a_warning(
    tmp_path: Path, umask_022: None, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_in(tmp_path)
    data = settings.data_path
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "operator_api_key.secret").write_text("scf_an-old-key-left-world-readable")
    (data / "anvil.log").write_text("")
    for name in ("operator_api_key.secret", "anvil.log"):
        (data / name).chmod(0o644)
    caplog.set_level(logging.WARNING, logger="chain.files")
    assert settings.effective_operator_api_key == "scf_an-old-key-left-world-readable"
    # an old database with loose journals
    migrate(settings)
    for name in ("scf.db",):
        (data / name).chmod(0o664)
    use_everything(settings)
    check_files(data, ["operator_api_key.secret", "scf.db", "anvil.log", "anvil-state.json"])
    warned = " ".join(r.getMessage() for r in caplog.records)
    for name in ("data", "operator_api_key.secret", "scf.db", "anvil.log"):
        assert f"{name} was readable by others" in warned
