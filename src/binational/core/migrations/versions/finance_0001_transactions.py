"""finance: transactions, accounts, models, alerts and cases

Revision ID: finance_0001
Revises: 0003
Create Date: 2026-11-29 13:20:45.530172
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from binational.core.tables import UTCDateTime

revision: str = 'finance_0001'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = ('finance',)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('finance_model',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('agency', sa.String(length=32), nullable=False),
    sa.Column('datasets', sa.JSON(), nullable=False),
    sa.Column('features', sa.JSON(), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('booster', sa.Text(), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agency'], ['agency.code'], name=op.f('fk_finance_model_agency_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_model'))
    )
    with op.batch_alter_table('finance_model', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_model_agency'), ['agency'], unique=False)

    op.create_table('finance_account',
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('account', sa.String(length=128).with_variant(sa.String(length=128, collation='C'), 'postgresql'), nullable=False),
    sa.Column('entity_id', sa.String(length=255), nullable=False),
    sa.Column('holder', sa.String(length=255), nullable=True),
    sa.Column('is_fraud', sa.Boolean(), nullable=True),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['dataset'], ['dataset.name'], name=op.f('fk_finance_account_dataset_dataset')),
    sa.PrimaryKeyConstraint('dataset', 'account', name=op.f('pk_finance_account'))
    )
    with op.batch_alter_table('finance_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_account_dataset'), ['dataset'], unique=False)

    op.create_table('finance_alert',
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('account', sa.String(length=128).with_variant(sa.String(length=128, collation='C'), 'postgresql'), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('rule_score', sa.Float(), nullable=False),
    sa.Column('model_score', sa.Float(), nullable=True),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('model_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dataset'], ['dataset.name'], name=op.f('fk_finance_alert_dataset_dataset')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_alert'))
    )
    with op.batch_alter_table('finance_alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_alert_dataset'), ['dataset'], unique=False)

    op.create_table('finance_case',
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('agency', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('alert_id', sa.String(length=32), nullable=True),
    sa.Column('accounts', sa.JSON(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('assignee', sa.String(length=64), nullable=True),
    sa.Column('narrative', sa.Text(), nullable=False),
    sa.Column('close_reason', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agency'], ['agency.code'], name=op.f('fk_finance_case_agency_agency')),
    sa.ForeignKeyConstraint(['dataset'], ['dataset.name'], name=op.f('fk_finance_case_dataset_dataset')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_case'))
    )
    with op.batch_alter_table('finance_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_case_agency'), ['agency'], unique=False)
        batch_op.create_index(batch_op.f('ix_finance_case_dataset'), ['dataset'], unique=False)

    op.create_table('finance_transaction',
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('txn_id', sa.String(length=128).with_variant(sa.String(length=128, collation='C'), 'postgresql'), nullable=False),
    sa.Column('source', sa.String(length=128).with_variant(sa.String(length=128, collation='C'), 'postgresql'), nullable=False),
    sa.Column('target', sa.String(length=128).with_variant(sa.String(length=128, collation='C'), 'postgresql'), nullable=False),
    sa.Column('amount', sa.Float(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_usd', sa.Float(), nullable=False),
    sa.Column('ts', sa.BigInteger(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=True),
    sa.Column('location', sa.String(length=64), nullable=True),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['dataset'], ['dataset.name'], name=op.f('fk_finance_transaction_dataset_dataset')),
    sa.PrimaryKeyConstraint('dataset', 'txn_id', name=op.f('pk_finance_transaction'))
    )
    with op.batch_alter_table('finance_transaction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_transaction_dataset'), ['dataset'], unique=False)
        batch_op.create_index('ix_finance_transaction_source', ['dataset', 'source'], unique=False)
        batch_op.create_index('ix_finance_transaction_target', ['dataset', 'target'], unique=False)

    op.create_table('finance_case_event',
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('ts', UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['finance_case.id'], name=op.f('fk_finance_case_event_case_id_finance_case')),
    sa.ForeignKeyConstraint(['dataset'], ['dataset.name'], name=op.f('fk_finance_case_event_dataset_dataset')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_case_event'))
    )
    with op.batch_alter_table('finance_case_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_case_event_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finance_case_event_dataset'), ['dataset'], unique=False)

    op.create_table('finance_case_share',
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('recipient_agency', sa.String(length=32), nullable=False),
    sa.Column('grant_id', sa.String(length=32), nullable=False),
    sa.Column('shared_by', sa.String(length=64), nullable=False),
    sa.Column('shared_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['finance_case.id'], name=op.f('fk_finance_case_share_case_id_finance_case')),
    sa.ForeignKeyConstraint(['dataset'], ['dataset.name'], name=op.f('fk_finance_case_share_dataset_dataset')),
    sa.ForeignKeyConstraint(['grant_id'], ['share_grant.id'], name=op.f('fk_finance_case_share_grant_id_share_grant')),
    sa.ForeignKeyConstraint(['recipient_agency'], ['agency.code'], name=op.f('fk_finance_case_share_recipient_agency_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_case_share'))
    )
    with op.batch_alter_table('finance_case_share', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_case_share_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finance_case_share_dataset'), ['dataset'], unique=False)
        batch_op.create_index(batch_op.f('ix_finance_case_share_recipient_agency'), ['recipient_agency'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('finance_case_share', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finance_case_share_recipient_agency'))
        batch_op.drop_index(batch_op.f('ix_finance_case_share_dataset'))
        batch_op.drop_index(batch_op.f('ix_finance_case_share_case_id'))

    op.drop_table('finance_case_share')
    with op.batch_alter_table('finance_case_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finance_case_event_dataset'))
        batch_op.drop_index(batch_op.f('ix_finance_case_event_case_id'))

    op.drop_table('finance_case_event')
    with op.batch_alter_table('finance_transaction', schema=None) as batch_op:
        batch_op.drop_index('ix_finance_transaction_target')
        batch_op.drop_index('ix_finance_transaction_source')
        batch_op.drop_index(batch_op.f('ix_finance_transaction_dataset'))

    op.drop_table('finance_transaction')
    with op.batch_alter_table('finance_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finance_case_dataset'))
        batch_op.drop_index(batch_op.f('ix_finance_case_agency'))

    op.drop_table('finance_case')
    with op.batch_alter_table('finance_alert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finance_alert_dataset'))

    op.drop_table('finance_alert')
    with op.batch_alter_table('finance_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finance_account_dataset'))

    op.drop_table('finance_account')
    with op.batch_alter_table('finance_model', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finance_model_agency'))

    op.drop_table('finance_model')
