"""Which gateway process runs the indexer: exactly one leader at a time among the processes (workers,
hosts) that share one database.

Every worker runs the background indexer's loop (``api.services.bootstrap``); each turn it asks
``Leadership.try_lead()`` and only the leader indexes. Leadership is a lock that the holder's death
releases by itself, so nobody waits for a lease to run out and nobody compares clocks:

- **PostgreSQL**: a session-level advisory lock (``pg_try_advisory_lock``) held on a connection of its
  own. When the process dies, its connection closes and the server drops the lock at once (a host that
  vanishes without closing its TCP connection: after the connection's keepalives give up, about 30 s).
  The holder names itself in the connection's ``application_name``, which ``pg_stat_activity`` shows
  to every other process: ``/health`` reads the leader from there.
- **SQLite**: the database is a file on one host (SQLite does not support network file systems), so
  every process that shares it is on this host: an exclusive ``flock`` on a file beside the database,
  which the kernel drops when the process dies. The holder writes ``host:pid`` into the file.

A database in memory belongs to one process: that process leads. Losing the connection (the server
restarted) loses the lock: the holder notices on its next turn and competes again. The indexer is safe
against a second writer anyway (it checks the cursor it moves), so a stale leader costs work, never
correctness.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, NullPool, create_engine, text

from api.db import sqlite_file

log = logging.getLogger(__name__)

#: The advisory lock's key (any bigint the project does not use elsewhere; below 2**31, so that
#: ``pg_locks`` shows it as ``classid = 0, objid = key``).
ADVISORY_KEY = 0x5CF1DE
#: The prefix of the leader's ``application_name`` (PostgreSQL keeps 63 bytes of it).
APP_NAME_PREFIX = "scf-indexer-leader "
LOCK_SUFFIX = ".indexer-leader"


def process_id() -> str:
    """``host:pid`` of this process (computed now: a forked or spawned worker has its own)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Leadership:
    """This process's bid for the indexer's leadership on ``engine``'s database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.backend = engine.url.get_backend_name()
        self.me = process_id()
        self.is_leader = False
        #: another process held the leadership at our last try (it keeps the cursor moving)
        self.held_elsewhere = False
        self._conn: Connection | None = None
        self._lock_engine: Engine | None = None
        self._fd: int | None = None
        self._path: Path | None = None
        if self.backend == "sqlite":
            db = sqlite_file(engine.url.render_as_string(hide_password=False))
            self._path = None if db is None else db.with_name(db.name + LOCK_SUFFIX)

    # ------------------------------------------------------------------ taking and keeping it

    def try_lead(self) -> bool:
        """Take the leadership if nobody holds it, or check that we still hold it. Whether we lead."""
        try:
            if self.backend == "postgresql":
                self.is_leader = self._try_pg()
            elif self.backend == "sqlite" and self._path is not None:
                self.is_leader = self._try_file(self._path)
            else:  # a database of this process alone
                self.is_leader = True
            self.held_elsewhere = not self.is_leader
        except Exception:
            log.exception("indexer leadership: cannot reach the lock; not leading until it can")
            self._drop()
            self.is_leader = self.held_elsewhere = False
        return self.is_leader

    def release(self) -> None:
        """Give the leadership up (on shutdown; a killed process gives it up by dying)."""
        self._drop()
        self.is_leader = self.held_elsewhere = False

    def _try_pg(self) -> bool:
        if self._conn is not None:
            if self.is_leader:  # still ours while the connection lives
                self._conn.execute(text("SELECT 1")).scalar()
                return True
        else:
            self._conn = self._pg_engine().connect()
        held = bool(self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar())
        self._conn.commit()  # end the implicit transaction: the lock is the session's, not the transaction's
        return held

    def _pg_engine(self) -> Engine:
        if self._lock_engine is None:
            args: dict[str, Any] = {
                "application_name": (APP_NAME_PREFIX + self.me)[:63],
                # a leader's host gone without a word: the server notices in about 30 s and drops the lock
                "keepalives": 1,
                "keepalives_idle": 10,
                "keepalives_interval": 5,
                "keepalives_count": 3,
            }
            self._lock_engine = create_engine(self.engine.url, poolclass=NullPool, connect_args=args)
        return self._lock_engine

    def _try_file(self, path: Path) -> bool:
        if self._fd is not None:
            return True  # the kernel keeps an flock for as long as the descriptor is open
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.pwrite(fd, self.me.encode(), 0)
        self._fd = fd
        return True

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()  # the server drops the session's advisory lock with it
            except Exception:  # noqa: S110 - the connection is gone already: so is the lock
                pass
            self._conn = None
        if self._fd is not None:
            os.close(self._fd)  # drops the flock
            self._fd = None

    # ------------------------------------------------------------------ who leads

    def leader(self) -> str | None:
        """``host:pid`` of the process that leads now (this one included); None if nobody does."""
        return self.me if self.is_leader else current_leader(self.engine)


def current_leader(engine: Engine) -> str | None:
    """``host:pid`` of the indexer's leader on ``engine``'s database, as any process sees it; None if
    nobody leads (or it cannot be told)."""
    backend = engine.url.get_backend_name()
    if backend == "postgresql":
        with engine.connect() as conn:
            name = conn.execute(
                text(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = :k"
                    " AND a.datname = current_database()"
                ),
                {"k": ADVISORY_KEY},
            ).scalar()
        return str(name).removeprefix(APP_NAME_PREFIX) if name else None
    if backend != "sqlite":
        return None
    db = sqlite_file(engine.url.render_as_string(hide_password=False))
    if db is None:
        return None
    path = db.with_name(db.name + LOCK_SUFFIX)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:  # a shared lock we can take means nobody holds the exclusive one
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return os.pread(fd, 200, 0).decode(errors="replace") or None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
