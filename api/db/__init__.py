"""Database engine and migrations (SQLModel on SQLite by default, PostgreSQL via DATABASE_URL)."""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, NullPool, event, make_url, text
from sqlalchemy import exc as sa_exc
from sqlmodel import create_engine

from api.settings import Settings
from chain.files import FILE_MODE, private_dir, private_file, tighten

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSIONS_DIR = MIGRATIONS_DIR / "versions"
LEGACY_DIR = MIGRATIONS_DIR / "legacy"
#: The old history's last revision, and the first of the squashed history: the same schema.
LEGACY_HEAD = "0006_quantity"
SQUASHED = "s0001_schema"


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (``sqlite:///path`` or ``sqlite:///file:path?mode=ro&uri=true``);
    None for another database or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    name = parsed.database
    if parsed.query.get("uri") == "true":
        if not name.startswith("file:"):
            return None
        name = name.removeprefix("file:").split("?", 1)[0]
        if not name or name == ":memory:" or parsed.query.get("mode") == "memory":
            return None
    return Path(name)


def make_engine(settings: Settings) -> Engine:
    """The engine. A write waits at most ``db_busy_timeout`` seconds for a lock (SQLite's busy timeout,
    PostgreSQL's ``lock_timeout``); then the driver raises and the gateway answers 503 (``database_fault``).
    SQL parameters are kept out of error messages and logs (they may hold sealed keys or key hashes)."""
    url = settings.effective_database_url
    timeout = settings.db_busy_timeout
    pool = {"pool_size": settings.db_pool_size, "max_overflow": settings.db_max_overflow}
    if make_url(url).get_backend_name() == "sqlite":
        path = sqlite_file(url)
        if path is not None:
            _private_sqlite_files(path, settings.data_path)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": timeout},
            hide_parameters=True,
            **pool,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        if path is not None:
            event.listen(engine, "connect", lambda *_: _tighten_journals(path))
        WriterTurns(timeout).attach(engine)
        return engine
    connect_args: dict[str, Any] = {}
    if make_url(url).get_backend_name() == "postgresql":
        # a statement waiting for a row or table lock gives up after the busy timeout (55P03)
        connect_args["options"] = f"-c lock_timeout={int(timeout * 1000)}"
    return create_engine(url, pool_pre_ping=True, hide_parameters=True, connect_args=connect_args, **pool)


class WriterTurns:
    """SQLite writers of one process take turns on a lock of the process before they ask SQLite's.

    SQLite lets one writer at a time; a writer that finds the database locked sleeps in its busy
    handler, 1, 2, 5, 10 ... up to 100 ms at a time, however soon the lock is free. With sixteen
    concurrent tokenizations (five short write transactions each) most of a request's time went to
    those sleeps, and the unluckiest waited past the busy timeout (503 ``DATABASE_BUSY``). Here the
    first write statement of a transaction (pysqlite begins the transaction there) waits on a
    ``threading.Lock`` instead, which wakes the next writer as soon as the holder commits or rolls back;
    at most ``timeout`` seconds, then SQLite's own waiting applies as before. Other processes on the
    same file still meet SQLite's lock."""

    _HELD = "scf_writer_turn"

    def __init__(self, timeout: float) -> None:
        self._lock = threading.Lock()
        self._timeout = timeout

    def attach(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._before_execute)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)
        event.listen(engine.pool, "checkin", self._checkin)

    def _before_execute(self, conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if conn.info.get(self._HELD) or not _WRITE.match(statement):
            return
        if self._lock.acquire(timeout=self._timeout):
            conn.info[self._HELD] = True

    def _end(self, conn: Connection) -> None:
        if conn.info.pop(self._HELD, False):
            self._lock.release()

    def _checkin(self, _dbapi: Any, record: Any) -> None:  # a connection returned without commit/rollback
        if record.info.pop(self._HELD, False):
            self._lock.release()


#: statements before which pysqlite begins a write transaction
_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def _private_sqlite_files(path: Path, data_dir: Path) -> None:
    """The database file exists with mode 0600 before SQLite opens it (SQLite gives its ``-wal`` and
    ``-shm`` files the database file's mode); the data folder is 0700. Looser ones are tightened."""
    if path.parent.resolve() == data_dir.resolve():
        private_dir(path.parent)
    if not path.exists():
        private_file(path)  # an empty file is a new SQLite database
    _tighten_journals(path)


def _tighten_journals(path: Path) -> None:
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            tighten(p, FILE_MODE)
        except PermissionError:  # a read-only copy that is not ours: leave it
            pass


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL: readers never block the writer (several threads and processes share the file)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# ---------------------------------------------------------------------------------------- faults


#: 503 codes: the database is locked or overloaded (retry soon), or it cannot be written at all.
DATABASE_BUSY = "DATABASE_BUSY"
DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"

_SQLITE_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED")
_SQLITE_DOWN = ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL", "SQLITE_PERM")
_BUSY_TEXT = ("database is locked", "database is busy", "database table is locked")
_DOWN_TEXT = ("readonly database", "read-only database", "unable to open", "disk i/o error", "disk is full")
#: PostgreSQL SQLSTATEs: lock_timeout, statement_timeout, deadlock, serialization, too many connections
_PG_BUSY = ("55P03", "57014", "40P01", "40001", "53300")
#: read-only transaction (hot standby), shutdown, disk full, out of memory; class 08: the connection
_PG_DOWN = ("25006", "57P01", "57P02", "57P03", "53100", "53200")


@dataclass(frozen=True)
class DatabaseFault:
    """A database error that is the database's state, not the request's: answered 503."""

    code: str
    reason: str
    retry_after: int

    @property
    def message(self) -> str:
        if self.code == DATABASE_BUSY:
            return "The database is busy (locked by another writer); nothing was changed. Retry shortly."
        return f"The database cannot be written right now ({self.reason}); nothing was changed."


def database_fault(exc: BaseException) -> DatabaseFault | None:
    """What a database error says about the database (locked, read-only, unreachable), or None when it
    is something else (a constraint, a bug) that the caller must not take for a passing fault."""
    busy = DatabaseFault(DATABASE_BUSY, "locked", 1)
    if isinstance(exc, sa_exc.TimeoutError):  # every pooled connection in use
        return busy
    if not isinstance(exc, sa_exc.DBAPIError):
        return None
    orig = exc.orig
    text_ = str(orig).lower()
    if isinstance(orig, sqlite3.Error):
        name = getattr(orig, "sqlite_errorname", "") or ""
        if name.startswith(_SQLITE_BUSY) or any(t in text_ for t in _BUSY_TEXT):
            return busy
        if name.startswith("SQLITE_READONLY") or "readonly" in text_ or "read-only" in text_:
            return DatabaseFault(DATABASE_UNAVAILABLE, "read-only", 5)
        if name.startswith(_SQLITE_DOWN) or any(t in text_ for t in _DOWN_TEXT):
            return DatabaseFault(DATABASE_UNAVAILABLE, "unavailable", 5)
        return None
    state = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)
    if state in _PG_BUSY:
        return busy
    if state == "25006":
        return DatabaseFault(DATABASE_UNAVAILABLE, "read-only", 5)
    if state in _PG_DOWN or (state or "").startswith("08"):
        return DatabaseFault(DATABASE_UNAVAILABLE, "unavailable", 5)
    if exc.connection_invalidated or (state is None and isinstance(exc, sa_exc.OperationalError)):
        return DatabaseFault(DATABASE_UNAVAILABLE, "unreachable", 5)
    return None


def probe_writable(engine: Engine, timeout: float, busy_timeout: float) -> DatabaseFault | None:
    """Prove the database takes a write, within ``timeout`` seconds: a transaction that updates the
    schema's version row to itself (a real write: it takes the write lock, needs a writable file or a
    primary server) and rolls back, so nothing stays. None when it could write, else the fault.
    ``busy_timeout`` is the engine's own, given back to the pooled SQLite connection afterwards."""
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as conn:
            try:
                if sqlite:
                    _sqlite_busy_timeout(conn, timeout)
                else:
                    ms = str(max(1, int(timeout * 1000)))
                    conn.execute(text("SELECT set_config('lock_timeout', :ms, true)"), {"ms": ms})
                    conn.execute(text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": ms})
                conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
            finally:
                conn.rollback()
                if sqlite:
                    _sqlite_busy_timeout(conn, busy_timeout)
    except (sa_exc.DBAPIError, sa_exc.TimeoutError) as exc:
        fault = database_fault(exc)
        if fault is None:
            log.warning("database write probe failed: %s", type(getattr(exc, "orig", exc)).__name__)
            return DatabaseFault(DATABASE_UNAVAILABLE, "unavailable", 5)
        return fault
    return None


def _sqlite_busy_timeout(conn: Connection, seconds: float) -> None:
    ms = max(1, int(seconds * 1000))  # an int: PRAGMA takes no bound parameter
    conn.exec_driver_sql(f"PRAGMA busy_timeout = {ms}")  # nosemgrep: scf-sql-built-from-strings


def _config(url: str, versions: Path) -> Config:
    cfg = Config()
    # ConfigParser interpolates "%": a path or a URL (an escaped password) may contain one
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    # one location per line: a checkout's path may contain spaces (alembic splits on them otherwise)
    cfg.set_main_option("path_separator", "newline")
    cfg.set_main_option("version_locations", str(versions).replace("%", "%%"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def alembic_config(url: str) -> Config:
    """The schema's history (``migrations/versions/``): linear, starting at ``s0001_schema``."""
    return _config(url, VERSIONS_DIR)


def legacy_config(url: str) -> Config:
    """The old history (``migrations/legacy/``, 0001_baseline .. 0006_quantity, branched at 0003), kept
    only to finish it on a database it migrated before that database moves to the squashed history."""
    cfg = _config(url, LEGACY_DIR)
    cfg.attributes["legacy"] = True
    return cfg


@cache
def legacy_revisions() -> frozenset[str]:
    """Every revision id of the old history."""
    return frozenset(
        s.revision for s in ScriptDirectory.from_config(legacy_config("sqlite://")).walk_revisions()
    )


def upgrade(url: str) -> None:
    """Bring the database at ``url`` to the newest revision.

    A database still on the old history (any of its revisions, also both 0003 branches at once) first
    runs the rest of the old migrations, up to ``LEGACY_HEAD``, whose schema is ``SQUASHED``'s; its
    version table then records ``SQUASHED`` (a stamp, nothing else changes) and the squashed history
    continues from there.
    """
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            heads = set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
    if heads & legacy_revisions():
        if heads - legacy_revisions():
            raise RuntimeError(f"the database records revisions of both histories: {sorted(heads)}")
        command.upgrade(legacy_config(url), LEGACY_HEAD)
        stamp = alembic_config(url)
        stamp.attributes["from_legacy"] = True
        command.stamp(stamp, SQUASHED, purge=True)
    command.upgrade(alembic_config(url), "head")


def migrate(settings: Settings) -> None:
    """Bring the schema to the newest revision (``alembic upgrade head``, see ``upgrade``)."""
    make_engine(settings).dispose()  # creates the SQLite folder if needed
    upgrade(settings.effective_database_url)


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision(s), comma-separated if several branches are applied."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        heads = sorted(MigrationContext.configure(conn).get_current_heads())
        return ",".join(heads) or None


def head_revisions() -> str:
    """The newest revision(s) the code knows, in the form ``current_revision`` reports."""
    return ",".join(sorted(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()))
