"""evaluation: scores

Revision ID: e0001_evaluation
Revises:
Create Date: 2026-11-25 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "e0001_evaluation"
down_revision = None
branch_labels = ("evaluation",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "evaluation_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("criterion", sa.String(length=60), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_evaluation_score_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["idea_id"],
            ["idea.id"],
            name=op.f("fk_evaluation_score_idea_id_idea"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_score")),
        sa.UniqueConstraint(
            "idea_id",
            "account_id",
            "criterion",
            name=op.f("uq_evaluation_score_idea_id_account_id_criterion"),
        ),
    )
    op.create_index(
        op.f("ix_evaluation_score_idea_id"), "evaluation_score", ["idea_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("evaluation_score")
