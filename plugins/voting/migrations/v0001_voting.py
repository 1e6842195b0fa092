"""voting: supports

Revision ID: v0001_voting
Revises:
Create Date: 2026-11-25 12:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "v0001_voting"
down_revision = None
branch_labels = ("voting",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "voting_support",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("supporter", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["idea_id"],
            ["idea.id"],
            name=op.f("fk_voting_support_idea_id_idea"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voting_support")),
        sa.UniqueConstraint(
            "idea_id", "supporter", name=op.f("uq_voting_support_idea_id_supporter")
        ),
    )
    op.create_index(op.f("ix_voting_support_idea_id"), "voting_support", ["idea_id"], unique=False)


def downgrade() -> None:
    op.drop_table("voting_support")
