# house: upgrade() is the first schema written out table by table; split, it reads as no schema.
"""Create the initial tables: recipients, sources, reports, blobs, source sessions.

Written out in full (not importing portal.models) so it keeps meaning the
same schema however the models change later.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 18:15:38.793724
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('box_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('verify_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('fingerprint', sa.String(length=40), nullable=False),
    sa.Column('regions', sa.String(length=500), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_day', sa.Date(), nullable=False),
    sa.Column('revoked_day', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recipients')),
    sa.UniqueConstraint('box_key', name=op.f('uq_recipients_box_key')),
    sa.UniqueConstraint('verify_key', name=op.f('uq_recipients_verify_key'))
    )
    op.create_table('sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lookup_digest', sa.String(length=64), nullable=False),
    sa.Column('box_public_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_day', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sources'))
    )
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sources_lookup_digest'), ['lookup_digest'], unique=True)

    op.create_table('reports',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_day', sa.Date(), nullable=False),
    sa.Column('updated_day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_reports_source_id_sources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_source_id'), ['source_id'], unique=False)

    op.create_table('source_sessions',
    sa.Column('id_digest', sa.String(length=64), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_source_sessions_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_digest', name=op.f('pk_source_sessions'))
    )
    with op.batch_alter_table('source_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_source_sessions_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_source_sessions_source_id'), ['source_id'], unique=False)

    op.create_table('blobs',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('report_id', sa.String(length=26), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('author', sa.String(length=20), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('storage_name', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('receipt', sa.LargeBinary(), nullable=False),
    sa.Column('created_day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['recipient_id'], ['recipients.id'], name=op.f('fk_blobs_recipient_id_recipients')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_blobs_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blobs')),
    sa.UniqueConstraint('storage_name', name=op.f('uq_blobs_storage_name'))
    )
    with op.batch_alter_table('blobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_blobs_report_id'), ['report_id'], unique=False)

    op.create_table('report_recipients',
    sa.Column('report_id', sa.String(length=26), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['recipient_id'], ['recipients.id'], name=op.f('fk_report_recipients_recipient_id_recipients')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_recipients_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', 'recipient_id', name=op.f('pk_report_recipients'))
    )


def downgrade() -> None:
    op.drop_table('report_recipients')
    with op.batch_alter_table('blobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blobs_report_id'))

    op.drop_table('blobs')
    with op.batch_alter_table('source_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_source_sessions_source_id'))
        batch_op.drop_index(batch_op.f('ix_source_sessions_expires_at'))

    op.drop_table('source_sessions')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_source_id'))

    op.drop_table('reports')
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sources_lookup_digest'))

    op.drop_table('sources')
    op.drop_table('recipients')
