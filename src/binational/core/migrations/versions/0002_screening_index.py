"""screening candidate index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('screening_key',
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=64).with_variant(sa.String(length=64, collation='C'), 'postgresql'), nullable=False),
    sa.Column('entity_id', sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql'), nullable=False),
    sa.Column('schema', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['dataset'], ['dataset.name'], name=op.f('fk_screening_key_dataset_dataset')),
    sa.PrimaryKeyConstraint('dataset', 'key', 'entity_id', name=op.f('pk_screening_key')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('screening_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_screening_key_dataset'), ['dataset'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('screening_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_screening_key_dataset'))
    op.drop_table('screening_key')
