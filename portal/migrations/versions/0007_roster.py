"""The organisation's signed rosters, as the operator published them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rosters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.BigInteger(), nullable=False),
    sa.Column('organisation_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('published_day', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rosters'))
    )


def downgrade() -> None:
    op.drop_table('rosters')
