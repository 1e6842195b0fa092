"""organisations have a description by language

``organisation.description`` holds what the organisation is and does, by language, from
``[[organisations]] description`` in city.toml (``innoplat init`` fills it). Existing
organisations start without one.

Revision ID: 0007_organisation_description
Revises: 0006_consent_version
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_organisation_description"
down_revision = "0006_consent_version"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisation") as batch:
        batch.add_column(
            sa.Column("description", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("organisation") as batch:
        batch.drop_column("description")
