"""early warning: count series, alerts, substance register, subscriptions

Revision ID: early_warning_0001
Revises: 0003
Create Date: 2026-11-29 13:35:14.046549
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import binational.core.tables

revision: str = 'early_warning_0001'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = ('early_warning',)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ew_series',
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=40).with_variant(sa.String(length=40, collation='C'), 'postgresql'), nullable=False),
    sa.Column('place', sa.String(length=64), nullable=False),
    sa.Column('place_name', sa.String(length=255), nullable=True),
    sa.Column('indicator', sa.String(length=64), nullable=False),
    sa.Column('substance', sa.String(length=64), nullable=False),
    sa.Column('frequency', sa.String(length=8), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['dataset'], ['dataset.name'], name=op.f('fk_ew_series_dataset_dataset')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ew_series'))
    )
    with op.batch_alter_table('ew_series', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ew_series_dataset'), ['dataset'], unique=False)
        batch_op.create_index('ix_ew_series_place', ['place', 'indicator'], unique=False)

    op.create_table('ew_subscription',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('place', sa.String(length=64), nullable=False),
    sa.Column('indicator', sa.String(length=64), nullable=True),
    sa.Column('include_neighbours', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('created_at', binational.core.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_ew_subscription_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ew_subscription'))
    )
    with op.batch_alter_table('ew_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ew_subscription_user_id'), ['user_id'], unique=False)

    op.create_table('ew_substance',
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=40).with_variant(sa.String(length=40, collation='C'), 'postgresql'), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('substance_class', sa.String(length=64), nullable=False),
    sa.Column('first_detected', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('confidence', sa.String(length=16), nullable=False),
    sa.Column('risk_en', sa.Text(), nullable=False),
    sa.Column('risk_es', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', binational.core.tables.UTCDateTime(), nullable=False),
    sa.Column('retracted_at', binational.core.tables.UTCDateTime(), nullable=True),
    sa.Column('retraction_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['dataset'], ['dataset.name'], name=op.f('fk_ew_substance_dataset_dataset')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ew_substance'))
    )
    with op.batch_alter_table('ew_substance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ew_substance_dataset'), ['dataset'], unique=False)

    op.create_table('ew_alert',
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=40).with_variant(sa.String(length=40, collation='C'), 'postgresql'), nullable=False),
    sa.Column('series_id', sa.String(length=40).with_variant(sa.String(length=40, collation='C'), 'postgresql'), nullable=False),
    sa.Column('algorithm', sa.String(length=32), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('peak', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=True),
    sa.Column('peak_count', sa.Float(), nullable=False),
    sa.Column('peak_expected', sa.Float(), nullable=True),
    sa.Column('peak_upperbound', sa.Float(), nullable=True),
    sa.Column('created_at', binational.core.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dataset'], ['dataset.name'], name=op.f('fk_ew_alert_dataset_dataset')),
    sa.ForeignKeyConstraint(['series_id'], ['ew_series.id'], name=op.f('fk_ew_alert_series_id_ew_series')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ew_alert'))
    )
    with op.batch_alter_table('ew_alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ew_alert_dataset'), ['dataset'], unique=False)
        batch_op.create_index(batch_op.f('ix_ew_alert_series_id'), ['series_id'], unique=False)

    op.create_table('ew_count',
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('series_id', sa.String(length=40).with_variant(sa.String(length=40, collation='C'), 'postgresql'), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('count', sa.Float(), nullable=False),
    sa.Column('completeness', sa.Float(), nullable=True),
    sa.Column('predicted', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['dataset'], ['dataset.name'], name=op.f('fk_ew_count_dataset_dataset')),
    sa.ForeignKeyConstraint(['series_id'], ['ew_series.id'], name=op.f('fk_ew_count_series_id_ew_series')),
    sa.PrimaryKeyConstraint('series_id', 'period', name=op.f('pk_ew_count'))
    )
    with op.batch_alter_table('ew_count', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ew_count_dataset'), ['dataset'], unique=False)

    op.create_table('ew_notification',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.String(length=40).with_variant(sa.String(length=40, collation='C'), 'postgresql'), nullable=False),
    sa.Column('created_at', binational.core.tables.UTCDateTime(), nullable=False),
    sa.Column('read_at', binational.core.tables.UTCDateTime(), nullable=True),
    sa.Column('emailed_at', binational.core.tables.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['alert_id'], ['ew_alert.id'], name=op.f('fk_ew_notification_alert_id_ew_alert')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_ew_notification_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ew_notification'))
    )
    with op.batch_alter_table('ew_notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ew_notification_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ew_notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ew_notification_user_id'))

    op.drop_table('ew_notification')
    with op.batch_alter_table('ew_count', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ew_count_dataset'))

    op.drop_table('ew_count')
    with op.batch_alter_table('ew_alert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ew_alert_series_id'))
        batch_op.drop_index(batch_op.f('ix_ew_alert_dataset'))

    op.drop_table('ew_alert')
    with op.batch_alter_table('ew_substance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ew_substance_dataset'))

    op.drop_table('ew_substance')
    with op.batch_alter_table('ew_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ew_subscription_user_id'))

    op.drop_table('ew_subscription')
    with op.batch_alter_table('ew_series', schema=None) as batch_op:
        batch_op.drop_index('ix_ew_series_place')
        batch_op.drop_index(batch_op.f('ix_ew_series_dataset'))

    op.drop_table('ew_series')
