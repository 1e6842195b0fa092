"""comments: comments and reports

Revision ID: c0001_comments
Revises:
Create Date: 2026-11-25 12:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c0001_comments"
down_revision = None
branch_labels = ("comments",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "comments_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("author_name", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("hidden_at", sa.DateTime(), nullable=True),
        sa.Column("hidden_by", sa.String(length=200), nullable=True),
        sa.Column("hidden_reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_comments_comment_account_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["idea_id"],
            ["idea.id"],
            name=op.f("fk_comments_comment_idea_id_idea"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments_comment")),
    )
    op.create_index(
        "ix_comments_comment_idea_created",
        "comments_comment",
        ["idea_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "comments_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments_comment.id"],
            name=op.f("fk_comments_report_comment_id_comments_comment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments_report")),
    )
    op.create_index(
        op.f("ix_comments_report_comment_id"), "comments_report", ["comment_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("comments_report")
    op.drop_table("comments_comment")
