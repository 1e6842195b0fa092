"""peers remember whether they serve partial bundles

``peer.changes_since`` is true when the sibling said (in its well-known document or the
``Innoplat-Changes`` header of its last answer) that ``/api/v1/exchange?since=`` serves only
what changed since a moment; ``innoplat sync`` then asks for just that.

Revision ID: 0008_peer_changes_since
Revises: 0007_organisation_description
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_peer_changes_since"
down_revision = "0007_organisation_description"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("peer") as batch:
        batch.add_column(
            sa.Column("changes_since", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("peer") as batch:
        batch.drop_column("changes_since")
