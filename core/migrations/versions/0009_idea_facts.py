"""per-idea facts for the comparison and the evidence, kept current on every write

``idea_fact`` holds one row per idea — first implementation and closure, days to
implementation, days in pilot, organisation kinds, the stratum (submission year, first focus
area) — and ``idea_method_fact`` the same once per shared method key applied to the idea;
``facts_version`` holds a token per city that changes with its facts (cached figures key on it).
They are derived data (``core/services/facts.py``): this revision only creates the tables.
``innoplat init`` fills them for the ideas already stored once every revision has run
(``facts.build_missing``), with the definition of each fact the code then has: a migration
never calls the live services, which may need tables of later revisions.

Revision ID: 0009_idea_facts
Revises: 0008_peer_changes_since
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_idea_facts"
down_revision = "0008_peer_changes_since"
branch_labels = None
depends_on = None


def _fact_columns() -> list[sa.Column]:
    return [
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column(
            "visibility",
            sa.Enum("public", "internal", name="visibility", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("focus", sa.Integer(), nullable=False),
        sa.Column("implemented_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("days_to_implemented", sa.Float(), nullable=True),
        sa.Column("implemented_day", sa.Integer(), nullable=True),
        sa.Column("closed_day", sa.Integer(), nullable=True),
        sa.Column("pilot_days", sa.Float(), nullable=True),
        sa.Column("kinds", sa.Integer(), nullable=False),
        sa.Column("crossing", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "idea_fact",
        *_fact_columns(),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_idea_fact_city_id_city"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["idea.id"], name=op.f("fk_idea_fact_idea_id_idea"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("idea_id", name=op.f("pk_idea_fact")),
    )
    op.create_index("ix_idea_fact_city_id", "idea_fact", ["city_id"])
    op.create_table(
        "idea_method_fact",
        *_fact_columns(),
        sa.Column("method", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"],
            ["city.id"],
            name=op.f("fk_idea_method_fact_city_id_city"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["idea_id"],
            ["idea.id"],
            name=op.f("fk_idea_method_fact_idea_id_idea"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("idea_id", "method", name=op.f("pk_idea_method_fact")),
    )
    op.create_index("ix_idea_method_fact_city_method", "idea_method_fact", ["city_id", "method"])
    op.create_table(
        "facts_version",
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"],
            ["city.id"],
            name=op.f("fk_facts_version_city_id_city"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("city_id", name=op.f("pk_facts_version")),
    )


def downgrade() -> None:
    op.drop_table("facts_version")
    op.drop_index("ix_idea_method_fact_city_method", table_name="idea_method_fact")
    op.drop_table("idea_method_fact")
    op.drop_index("ix_idea_fact_city_id", table_name="idea_fact")
    op.drop_table("idea_fact")
