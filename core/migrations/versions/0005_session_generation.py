"""staff sessions that end: a session generation per account

Every signed-in session carries its account's generation; signing out or changing the
password increases it, so a session cookie saved earlier no longer opens anything.

Revision ID: 0005_session_generation
Revises: 0004_reference_counter
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_session_generation"
down_revision = "0004_reference_counter"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.add_column(
            sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.drop_column("session_generation")
