"""homicide: monthly series, area outlines, task-force cases, the best-practice registry

Revision ID: homicide_0001
Revises: 0003
Create Date: 2026-11-29 13:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from binational.core.tables import UTCDateTime

revision: str = 'homicide_0001'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = ('homicide',)
depends_on: str | Sequence[str] | None = None


def _key(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length=length).with_variant(sa.String(length=length, collation='C'), 'postgresql')


def _dataset() -> sa.Column[str]:
    return sa.Column('dataset', sa.String(length=64), nullable=False)


def _fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(['dataset'], ['dataset.name'], name=op.f(f'fk_{table}_dataset_dataset'))


def upgrade() -> None:
    op.create_table('homicide_series',
    _dataset(),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('area_code', _key(32), nullable=False),
    sa.Column('area_name', sa.String(length=255), nullable=True),
    sa.Column('crime', sa.String(length=128), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.Column('population', sa.Float(), nullable=True),
    _fk('homicide_series'),
    sa.PrimaryKeyConstraint('dataset', 'source', 'level', 'area_code', 'crime', 'year', 'month', name=op.f('pk_homicide_series')),
    )
    op.create_table('homicide_area',
    _dataset(),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('area_code', _key(32), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('population', sa.Float(), nullable=True),
    sa.Column('geometry', sa.JSON(), nullable=False),
    _fk('homicide_area'),
    sa.PrimaryKeyConstraint('dataset', 'level', 'area_code', name=op.f('pk_homicide_area')),
    )
    op.create_table('homicide_case',
    _dataset(),
    sa.Column('id', _key(40), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('crime', sa.String(length=64), nullable=False),
    sa.Column('occurred_on', sa.String(length=10), nullable=True),
    sa.Column('place', sa.String(length=255), nullable=True),
    sa.Column('area_code', sa.String(length=16), nullable=True),
    sa.Column('entities', sa.JSON(), nullable=False),
    sa.Column('firearms', sa.JSON(), nullable=False),
    sa.Column('lab_requests', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    _fk('homicide_case'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_homicide_case')),
    )
    op.create_table('homicide_programme',
    _dataset(),
    sa.Column('id', _key(40), nullable=False),
    sa.Column('name_en', sa.String(length=255), nullable=False),
    sa.Column('name_es', sa.String(length=255), nullable=False),
    sa.Column('summary_en', sa.Text(), nullable=False),
    sa.Column('summary_es', sa.Text(), nullable=False),
    sa.Column('rating', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=16), nullable=False),
    sa.Column('jurisdictions', sa.JSON(), nullable=False),
    sa.Column('costs_en', sa.Text(), nullable=True),
    sa.Column('costs_es', sa.Text(), nullable=True),
    sa.Column('contact', sa.String(length=255), nullable=True),
    sa.Column('links', sa.JSON(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    _fk('homicide_programme'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_homicide_programme')),
    )
    op.create_table('homicide_programme_note',
    _dataset(),
    sa.Column('id', _key(40), nullable=False),
    sa.Column('programme_id', _key(40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('lang', sa.String(length=2), nullable=False),
    sa.Column('jurisdiction', sa.String(length=255), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    _fk('homicide_programme_note'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_homicide_programme_note')),
    )
    for table in ('homicide_series', 'homicide_area', 'homicide_case', 'homicide_programme',
                  'homicide_programme_note'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f'ix_{table}_dataset'), ['dataset'], unique=False)
    with op.batch_alter_table('homicide_programme_note', schema=None) as batch_op:
        batch_op.create_index('ix_homicide_programme_note_programme', ['programme_id'], unique=False)


def downgrade() -> None:
    for table in ('homicide_programme_note', 'homicide_programme', 'homicide_case',
                  'homicide_area', 'homicide_series'):
        op.drop_table(table)
