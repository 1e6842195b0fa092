"""cities' figures kept in the database while their facts do not change

``stored_figures`` holds, per city and set of parameters, the counts the comparison and the
evidence last computed from the city's facts, with the facts version token they were computed
under (``part``: the submission year, for figures counted per year, valid under that year's
token in ``facts_year_version``). Every worker and command
reads them instead of counting 100,000 ideas again; a write that changes a city's facts
deletes its rows in the same transaction (only the changed years' for figures per year). Derived data: the table
starts empty and fills as figures are asked for.

Revision ID: 0010_stored_figures
Revises: 0009_idea_facts
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_stored_figures"
down_revision = "0009_idea_facts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "facts_year_version",
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"],
            ["city.id"],
            name=op.f("fk_facts_year_version_city_id_city"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("city_id", "year", name=op.f("pk_facts_year_version")),
    )
    # Every year a city has facts for gets a token (nothing is stored under any yet).
    op.execute(
        "INSERT INTO facts_year_version (city_id, year, token) "
        "SELECT DISTINCT city_id, year, 'initial' FROM idea_fact"
    )
    op.create_table(
        "stored_figures",
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("part", sa.Integer(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"],
            ["city.id"],
            name=op.f("fk_stored_figures_city_id_city"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("city_id", "key", name=op.f("pk_stored_figures")),
    )
    # A city's first and last submission year, read whenever its facts changed.
    op.create_index("ix_idea_fact_city_year", "idea_fact", ["city_id", "year"])


def downgrade() -> None:
    op.drop_index("ix_idea_fact_city_year", table_name="idea_fact")
    op.drop_table("stored_figures")
    op.drop_table("facts_year_version")
