"""homicide: geocoded incidents (points and dates) for hot spots of stored data

Revision ID: homicide_0002
Revises: homicide_0001
Create Date: 2026-11-29 14:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'homicide_0002'
down_revision: str | None = 'homicide_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('homicide_incident',
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=40).with_variant(sa.String(length=40, collation='C'), 'postgresql'), nullable=False),
    sa.Column('crime', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Float(), nullable=False),
    sa.Column('x', sa.Float(), nullable=False),
    sa.Column('y', sa.Float(), nullable=False),
    sa.Column('crs', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['dataset'], ['dataset.name'], name=op.f('fk_homicide_incident_dataset_dataset')),
    sa.PrimaryKeyConstraint('dataset', 'id', name=op.f('pk_homicide_incident')),
    )
    with op.batch_alter_table('homicide_incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_homicide_incident_dataset'), ['dataset'], unique=False)
        batch_op.create_index('ix_homicide_incident_crime', ['crime', 'day'], unique=False)


def downgrade() -> None:
    op.drop_table('homicide_incident')
