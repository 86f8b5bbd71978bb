"""Database engine and migrations (SQLModel on SQLite by default, PostgreSQL via DATABASE_URL)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, NullPool, event, text
from sqlmodel import create_engine

from api.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSIONS_DIR = MIGRATIONS_DIR / "versions"
LEGACY_DIR = MIGRATIONS_DIR / "legacy"
#: The old history's last revision, and the first of the squashed history: the same schema.
LEGACY_HEAD = "0006_quantity"
SQUASHED = "s0001_schema"


def make_engine(settings: Settings) -> Engine:
    url = settings.effective_database_url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url, pool_pre_ping=True, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL: readers never block the writer (several threads and processes share the file)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


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
