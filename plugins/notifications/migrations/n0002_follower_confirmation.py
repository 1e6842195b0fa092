"""notifications: followers confirm their address (double opt-in)

Followers stored before this revision never confirmed: they stay, unconfirmed, and get no
more e-mail until they follow again and open the link; ``notifications send`` deletes
unconfirmed followers after a week.

Revision ID: n0002_follower_confirmation
Revises: n0001_notifications
"""

import sqlalchemy as sa
from alembic import op

revision = "n0002_follower_confirmation"
down_revision = "n0001_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notifications_follower", sa.Column("confirmed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications_follower") as batch:
        batch.drop_column("confirmed_at")
