"""Alembic environment: runs migrations against the URL the gateway's settings give."""

from __future__ import annotations

from alembic import context
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError
from sqlalchemy import Connection, engine_from_config, pool
from sqlmodel import SQLModel

import api.models  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


def refuse_old_history(connection: Connection) -> None:
    """The squashed history cannot read a version table of the old one: say how to upgrade it."""
    if config.attributes.get("legacy") or config.attributes.get("from_legacy"):
        return
    from api.db import legacy_revisions

    old = set(MigrationContext.configure(connection).get_current_heads()) & legacy_revisions()
    connection.rollback()  # end the reading transaction: alembic commits only a transaction it began
    if old:
        raise CommandError(
            f"the database is at {', '.join(sorted(old))} of the old migration history (before the squash "
            "to s0001_schema): upgrade it with api.db.upgrade(url) (what `scf up` runs), which finishes "
            "the old history first"
        )


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}), poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        refuse_old_history(connection)
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
