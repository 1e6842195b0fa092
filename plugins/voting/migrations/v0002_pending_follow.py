"""voting: a wish to follow, kept with the pending support until its link is opened

Revision ID: v0002_pending_follow
Revises: v0001_voting
Create Date: 2026-12-01 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "v0002_pending_follow"
down_revision = "v0001_voting"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voting_pending_follow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["idea_id"],
            ["idea.id"],
            name=op.f("fk_voting_pending_follow_idea_id_idea"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voting_pending_follow")),
        sa.UniqueConstraint("key", name=op.f("uq_voting_pending_follow_key")),
    )
    op.create_index(
        op.f("ix_voting_pending_follow_idea_id"), "voting_pending_follow", ["idea_id"], unique=False
    )
    op.create_index(
        op.f("ix_voting_pending_follow_created_at"),
        "voting_pending_follow",
        ["created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("voting_pending_follow")
