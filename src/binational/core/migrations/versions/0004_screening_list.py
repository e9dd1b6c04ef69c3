"""Screening: one row per indexed list with its generation (cache invalidation).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from binational.core.tables import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "screening_list",
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("entities", sa.Integer(), nullable=False),
        sa.Column("built_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["dataset"], ["dataset.name"],
                                name=op.f("fk_screening_list_dataset_dataset")),
        sa.PrimaryKeyConstraint("dataset", name=op.f("pk_screening_list")),
    )
    op.create_index(op.f("ix_screening_list_dataset"), "screening_list", ["dataset"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_screening_list_dataset"), table_name="screening_list")
    op.drop_table("screening_list")
