"""A change sequence numbered at commit: the reviewers' listing cursor (portal.sequence).

Existing reports are numbered in the order a day cursor would have listed
them (last change day, then creation day, then id), and the counter starts
after them, so a vault that still holds a day cursor lists everything once
and then follows the numbers.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 12:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('change_counter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_counter'))
    )
    # Not batch mode: on SQLite that copies the table and drops the old one,
    # and dropping reports would cascade to every blob. ADD COLUMN with a
    # default is native on both databases.
    op.add_column('reports', sa.Column('change_seq', sa.BigInteger(), server_default='0', nullable=False))
    op.create_index(op.f('ix_reports_change_seq'), 'reports', ['change_seq'], unique=False)
    connection = op.get_bind()
    ids = connection.execute(
        sa.text('SELECT id FROM reports ORDER BY updated_day, created_day, id')
    ).scalars().all()
    for number, report_id in enumerate(ids, start=1):
        connection.execute(
            sa.text('UPDATE reports SET change_seq = :n WHERE id = :id'),
            {'n': number, 'id': report_id},
        )
    connection.execute(
        sa.text('INSERT INTO change_counter (id, value) VALUES (1, :n)'), {'n': len(ids)}
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_reports_change_seq'), table_name='reports')
    op.drop_column('reports', 'change_seq')  # SQLite 3.35 and later drop a column natively
    op.drop_table('change_counter')
