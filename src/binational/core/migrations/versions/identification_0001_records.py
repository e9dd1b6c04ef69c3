"""identification: missing persons, remains, family samples, DNA profiles, hits

Revision ID: identification_0001
Revises: 0003
Create Date: 2026-11-29 13:23:20.990647
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import binational.core.tables

revision: str = 'identification_0001'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = ('identification',)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ident_dna_profile',
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=64).with_variant(sa.String(length=64, collation='C'), 'postgresql'), nullable=False),
    sa.Column('subject_kind', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.String(length=64).with_variant(sa.String(length=64, collation='C'), 'postgresql'), nullable=False),
    sa.Column('kit', sa.String(length=64), nullable=False),
    sa.Column('n_loci', sa.Integer(), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', binational.core.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dataset'], ['dataset.name'], name=op.f('fk_ident_dna_profile_dataset_dataset')),
    sa.PrimaryKeyConstraint('dataset', 'id', name=op.f('pk_ident_dna_profile'))
    )
    with op.batch_alter_table('ident_dna_profile', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ident_dna_profile_dataset'), ['dataset'], unique=False)
        batch_op.create_index('ix_ident_dna_profile_subject', ['subject_kind', 'subject_id'], unique=False)

    op.create_table('ident_family_sample',
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=64).with_variant(sa.String(length=64, collation='C'), 'postgresql'), nullable=False),
    sa.Column('missing_id', sa.String(length=64).with_variant(sa.String(length=64, collation='C'), 'postgresql'), nullable=False),
    sa.Column('relationship', sa.String(length=32), nullable=False),
    sa.Column('consent_on', sa.Date(), nullable=False),
    sa.Column('consent_purposes', sa.JSON(), nullable=False),
    sa.Column('consent_international', sa.Boolean(), nullable=False),
    sa.Column('consent_withdrawn_on', sa.Date(), nullable=True),
    sa.Column('created_at', binational.core.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dataset'], ['dataset.name'], name=op.f('fk_ident_family_sample_dataset_dataset')),
    sa.PrimaryKeyConstraint('dataset', 'id', name=op.f('pk_ident_family_sample'))
    )
    with op.batch_alter_table('ident_family_sample', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ident_family_sample_dataset'), ['dataset'], unique=False)
        batch_op.create_index(batch_op.f('ix_ident_family_sample_missing_id'), ['missing_id'], unique=False)

    op.create_table('ident_hit',
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('ref', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('record_kind', sa.String(length=16), nullable=False),
    sa.Column('record_id', sa.String(length=64).with_variant(sa.String(length=64, collation='C'), 'postgresql'), nullable=False),
    sa.Column('owner_agency', sa.String(length=32), nullable=False),
    sa.Column('requester_agency', sa.String(length=32), nullable=False),
    sa.Column('requester', sa.String(length=64), nullable=False),
    sa.Column('query_id', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('case_ref', sa.String(length=128), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('justification', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', binational.core.tables.UTCDateTime(), nullable=True),
    sa.Column('grant_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', binational.core.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dataset'], ['dataset.name'], name=op.f('fk_ident_hit_dataset_dataset')),
    sa.PrimaryKeyConstraint('ref', name=op.f('pk_ident_hit'))
    )
    with op.batch_alter_table('ident_hit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ident_hit_dataset'), ['dataset'], unique=False)
        batch_op.create_index(batch_op.f('ix_ident_hit_owner_agency'), ['owner_agency'], unique=False)
        batch_op.create_index(batch_op.f('ix_ident_hit_requester_agency'), ['requester_agency'], unique=False)

    op.create_table('ident_missing_person',
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=64).with_variant(sa.String(length=64, collation='C'), 'postgresql'), nullable=False),
    sa.Column('folio', sa.String(length=64), nullable=True),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('age', sa.Integer(), nullable=True),
    sa.Column('disappeared_on', sa.Date(), nullable=True),
    sa.Column('state', sa.String(length=8), nullable=True),
    sa.Column('municipality', sa.String(length=128), nullable=True),
    sa.Column('stature_cm', sa.Float(), nullable=True),
    sa.Column('codes', sa.JSON(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', binational.core.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dataset'], ['dataset.name'], name=op.f('fk_ident_missing_person_dataset_dataset')),
    sa.PrimaryKeyConstraint('dataset', 'id', name=op.f('pk_ident_missing_person'))
    )
    with op.batch_alter_table('ident_missing_person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ident_missing_person_dataset'), ['dataset'], unique=False)

    op.create_table('ident_remains',
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=64).with_variant(sa.String(length=64, collation='C'), 'postgresql'), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('age_min', sa.Integer(), nullable=True),
    sa.Column('age_max', sa.Integer(), nullable=True),
    sa.Column('stature_min_cm', sa.Float(), nullable=True),
    sa.Column('stature_max_cm', sa.Float(), nullable=True),
    sa.Column('found_on', sa.Date(), nullable=True),
    sa.Column('state', sa.String(length=8), nullable=True),
    sa.Column('municipality', sa.String(length=128), nullable=True),
    sa.Column('place', sa.Text(), nullable=True),
    sa.Column('grave_ref', sa.String(length=128), nullable=True),
    sa.Column('codes', sa.JSON(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', binational.core.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dataset'], ['dataset.name'], name=op.f('fk_ident_remains_dataset_dataset')),
    sa.PrimaryKeyConstraint('dataset', 'id', name=op.f('pk_ident_remains'))
    )
    with op.batch_alter_table('ident_remains', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ident_remains_dataset'), ['dataset'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ident_remains', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ident_remains_dataset'))

    op.drop_table('ident_remains')
    with op.batch_alter_table('ident_missing_person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ident_missing_person_dataset'))

    op.drop_table('ident_missing_person')
    with op.batch_alter_table('ident_hit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ident_hit_requester_agency'))
        batch_op.drop_index(batch_op.f('ix_ident_hit_owner_agency'))
        batch_op.drop_index(batch_op.f('ix_ident_hit_dataset'))

    op.drop_table('ident_hit')
    with op.batch_alter_table('ident_family_sample', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ident_family_sample_missing_id'))
        batch_op.drop_index(batch_op.f('ix_ident_family_sample_dataset'))

    op.drop_table('ident_family_sample')
    with op.batch_alter_table('ident_dna_profile', schema=None) as batch_op:
        batch_op.drop_index('ix_ident_dna_profile_subject')
        batch_op.drop_index(batch_op.f('ix_ident_dna_profile_dataset'))

    op.drop_table('ident_dna_profile')
