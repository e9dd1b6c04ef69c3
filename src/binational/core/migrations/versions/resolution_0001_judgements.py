"""resolution: candidate pairs and the judgement log

Revision ID: resolution_0001
Revises: 0003
Create Date: 2026-11-29 13:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from binational.core.tables import UTCDateTime

revision: str = 'resolution_0001'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = ('resolution',)
depends_on: str | Sequence[str] | None = None


def _key(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length=length).with_variant(sa.String(length=length, collation='C'), 'postgresql')


def upgrade() -> None:
    op.create_table('resolution_candidate',
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=32), nullable=False),
    sa.Column('left_id', _key(255), nullable=False),
    sa.Column('left_schema', sa.String(length=64), nullable=False),
    sa.Column('right_id', _key(255), nullable=False),
    sa.Column('right_dataset', sa.String(length=64), nullable=False),
    sa.Column('right_schema', sa.String(length=64), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dataset'], ['dataset.name'], name=op.f('fk_resolution_candidate_dataset_dataset')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resolution_candidate'))
    )
    with op.batch_alter_table('resolution_candidate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resolution_candidate_dataset'), ['dataset'], unique=False)
        batch_op.create_index(batch_op.f('ix_resolution_candidate_run_id'), ['run_id'], unique=False)
        batch_op.create_index('ix_resolution_candidate_pair', ['left_id', 'right_id'], unique=False)

    op.create_table('resolution_judgement',
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('left_id', _key(255), nullable=False),
    sa.Column('left_schema', sa.String(length=64), nullable=False),
    sa.Column('right_id', _key(255), nullable=False),
    sa.Column('right_dataset', sa.String(length=64), nullable=False),
    sa.Column('right_schema', sa.String(length=64), nullable=False),
    sa.Column('judgement', sa.String(length=16), nullable=False),
    sa.Column('undoes', sa.String(length=32), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('agency', sa.String(length=32), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dataset'], ['dataset.name'], name=op.f('fk_resolution_judgement_dataset_dataset')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resolution_judgement'))
    )
    with op.batch_alter_table('resolution_judgement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resolution_judgement_dataset'), ['dataset'], unique=False)
        batch_op.create_index(batch_op.f('ix_resolution_judgement_seq'), ['seq'], unique=False)
        batch_op.create_index('ix_resolution_judgement_pair', ['left_id', 'right_id'], unique=False)


def downgrade() -> None:
    op.drop_table('resolution_judgement')
    op.drop_table('resolution_candidate')
