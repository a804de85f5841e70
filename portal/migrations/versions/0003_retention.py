"""Retention and key replacement: blob deliveries, and slots granted to a new key.

Written out in full (not importing portal.models) so it keeps meaning the
same schema however the models change later.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('blob_deliveries',
    sa.Column('blob_id', sa.String(length=26), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['blob_id'], ['blobs.id'], name=op.f('fk_blob_deliveries_blob_id_blobs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['recipients.id'], name=op.f('fk_blob_deliveries_recipient_id_recipients')),
    sa.PrimaryKeyConstraint('blob_id', 'recipient_id', name=op.f('pk_blob_deliveries'))
    )
    # Existing slots were all sealed: the server default fills them in.
    with op.batch_alter_table('report_recipients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('report_recipients', schema=None) as batch_op:
        batch_op.drop_column('sealed')

    op.drop_table('blob_deliveries')
