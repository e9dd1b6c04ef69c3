"""Reverse look-up of entity references (who points at an entity).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_statement_references", "statement", ["value", "dataset"], unique=False,
        sqlite_where=sa.text("prop_type = 'entity'"),
        postgresql_where=sa.text("prop_type = 'entity'"),
    )


def downgrade() -> None:
    op.drop_index("ix_statement_references", table_name="statement")
