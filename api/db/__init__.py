"""Database engine and migrations (SQLModel on SQLite by default, PostgreSQL via DATABASE_URL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, event, text
from sqlmodel import create_engine

from chain.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


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


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def migrate(settings: Settings) -> None:
    """Bring the schema to the newest revision (``alembic upgrade head``)."""
    make_engine(settings).dispose()  # creates the SQLite folder if needed
    command.upgrade(alembic_config(settings.effective_database_url), "heads")


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision(s), comma-separated if several branches are applied."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        heads = sorted(MigrationContext.configure(conn).get_current_heads())
        return ",".join(heads) or None


def head_revisions() -> str:
    """The newest revision(s) the code knows, in the form ``current_revision`` reports."""
    from alembic.script import ScriptDirectory

    return ",".join(sorted(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()))
