"""Merge the custody and read-model branches into one head.

Revision ID: 0004_merge
Revises: 0003_custody, 0003_read_model
Create Date: 2026-11-28
"""

from collections.abc import Sequence

revision: str = "0004_merge"
down_revision: str | tuple[str, ...] | None = ("0003_custody", "0003_read_model")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
