"""Private files and folders: the data folder, the database, secrets, keys, the chain's state and logs
belong to the service user alone (folders 0700, files 0600), whatever the process's umask.

Each helper sets the mode explicitly (``os.open``/``mkdir`` with the mode, then ``chmod``, because a
umask only ever takes bits away and an existing path keeps the mode it has). A path found looser than
that is tightened and a warning is logged: someone (an older version, a copy, a restore) left it open.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600


def tighten(path: Path, mode: int) -> None:
    """Take away every permission bit of ``path`` beyond ``mode`` (warn when there were any)."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if current & ~mode:
        log.warning("%s was readable by others (mode %o); made private (%o)", path, current, current & mode)
        path.chmod(current & mode)


def private_dir(path: Path) -> Path:
    """``path`` (and missing parents) as a folder only its owner may enter (0700)."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    tighten(path, DIR_MODE)
    return path


def _parent(path: Path) -> None:
    """A missing parent folder is made private; an existing one is left as it is (it may be shared,
    like ``/tmp``: only the data folder itself is tightened, by ``private_dir``)."""
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)


def private_file(path: Path) -> Path:
    """``path`` created empty if missing, with mode 0600; an existing one tightened to 0600."""
    _parent(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    os.close(fd)
    tighten(path, FILE_MODE)
    return path


def append_private(path: Path) -> BinaryIO:
    """``path`` opened for appending (a log), created 0600, an existing one tightened to 0600."""
    _parent(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    tighten(path, FILE_MODE)
    return os.fdopen(fd, "ab")


def write_private(path: Path, text: str) -> None:
    """Replace ``path``'s content with ``text``, the file private (0600) from its first byte on."""
    _parent(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    tmp.replace(path)


def write_private_durably(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically and durably: a private temporary file, flushed to disk,
    renamed over ``path``, the folder flushed too. A crash at any point leaves the old file or the new
    one, never a torn one."""
    _parent(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    tmp.replace(path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
