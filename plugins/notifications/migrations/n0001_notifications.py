"""notifications: followers and the outbox

Revision ID: n0001_notifications
Revises:
Create Date: 2026-11-25 12:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "n0001_notifications"
down_revision = None
branch_labels = ("notifications",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "notifications_follower",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["idea_id"],
            ["idea.id"],
            name=op.f("fk_notifications_follower_idea_id_idea"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications_follower")),
        sa.UniqueConstraint(
            "idea_id", "email", name=op.f("uq_notifications_follower_idea_id_email")
        ),
        sa.UniqueConstraint("token", name=op.f("uq_notifications_follower_token")),
    )
    op.create_index(
        op.f("ix_notifications_follower_idea_id"),
        "notifications_follower",
        ["idea_id"],
        unique=False,
    )
    op.create_table(
        "notifications_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("follower_token", sa.String(length=64), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "sent", "failed", name="messagestatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["city_id"],
            ["city.id"],
            name=op.f("fk_notifications_message_city_id_city"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["idea_id"],
            ["idea.id"],
            name=op.f("fk_notifications_message_idea_id_idea"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications_message")),
    )
    op.create_index(
        op.f("ix_notifications_message_city_id"), "notifications_message", ["city_id"], unique=False
    )
    op.create_index(
        "ix_notifications_message_due",
        "notifications_message",
        ["status", "next_attempt_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("notifications_message")
    op.drop_table("notifications_follower")
