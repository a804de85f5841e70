"""Sessions and nonces keep the day they expire, never a moment.

source_sessions.expires_at and api_nonces.expires_at held times to the
microsecond, refreshed on every page: a seized disk told when each source
was active. Both become a day (expires_day). Open sessions and remembered
nonces are dropped, not converted: sources log in again, and a replayed
request is refused as stale by its timestamp anyway.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 12:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('source_sessions', 'api_nonces')


def upgrade() -> None:
    for table in TABLES:
        op.execute(sa.text(f'DELETE FROM {table}'))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_expires_at'))
            batch_op.drop_column('expires_at')
            batch_op.add_column(sa.Column('expires_day', sa.Date(), nullable=False))
            batch_op.create_index(batch_op.f(f'ix_{table}_expires_day'), ['expires_day'], unique=False)


def downgrade() -> None:
    for table in TABLES:
        op.execute(sa.text(f'DELETE FROM {table}'))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_expires_day'))
            batch_op.drop_column('expires_day')
            batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False))
            batch_op.create_index(batch_op.f(f'ix_{table}_expires_at'), ['expires_at'], unique=False)
