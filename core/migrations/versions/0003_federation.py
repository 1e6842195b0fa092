"""federation: each city's signing key, and the peers an instance keeps in sync with

Revision ID: 0003_federation
Revises: 0002_search
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_federation"
down_revision = "0002_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("private_key", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"],
            ["city.id"],
            name=op.f("fk_signing_key_city_id_city"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_key")),
        sa.UniqueConstraint("city_id", name=op.f("uq_signing_key_city_id")),
    )
    op.create_table(
        "peer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("city_slug", sa.String(length=40), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=True),
        sa.Column("etag", sa.String(length=200), nullable=True),
        sa.Column("last_modified", sa.String(length=64), nullable=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("synced_at", sa.DateTime(), nullable=True),
        sa.Column("last_result", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_peer")),
        sa.UniqueConstraint("url", name=op.f("uq_peer_url")),
        sa.UniqueConstraint("city_slug", name=op.f("uq_peer_city_slug")),
    )


def downgrade() -> None:
    op.drop_table("peer")
    op.drop_table("signing_key")
