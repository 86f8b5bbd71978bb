"""The read-model tests' database: a real SQLite file migrated by Alembic."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine

from api.db import alembic_config


def migrated_engine(path: Path) -> Engine:
    """A SQLite file at ``path`` migrated to the head by Alembic."""
    url = f"sqlite:///{path}"
    command.upgrade(alembic_config(url), "heads")
    return create_engine(url)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return migrated_engine(tmp_path / "rm.db")
