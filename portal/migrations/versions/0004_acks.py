"""Delivery acknowledgements signed by reviewers replace downloads the server saw.

A download that started proves nothing about what a reviewer's vault kept,
so the old rows are dropped, not carried over: each vault acknowledges what
it holds at its next sync.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('blob_acks',
    sa.Column('blob_id', sa.String(length=26), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('signature', sa.LargeBinary(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['blob_id'], ['blobs.id'], name=op.f('fk_blob_acks_blob_id_blobs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['recipients.id'], name=op.f('fk_blob_acks_recipient_id_recipients')),
    sa.PrimaryKeyConstraint('blob_id', 'recipient_id', name=op.f('pk_blob_acks'))
    )
    op.drop_table('blob_deliveries')


def downgrade() -> None:
    op.create_table('blob_deliveries',
    sa.Column('blob_id', sa.String(length=26), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['blob_id'], ['blobs.id'], name=op.f('fk_blob_deliveries_blob_id_blobs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['recipients.id'], name=op.f('fk_blob_deliveries_recipient_id_recipients')),
    sa.PrimaryKeyConstraint('blob_id', 'recipient_id', name=op.f('pk_blob_deliveries'))
    )
    op.drop_table('blob_acks')
