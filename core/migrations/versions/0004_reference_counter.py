"""idea reference counters: one row per city and year

Idea references (KIR-2026-0042) were allocated as ``max() + 1``, which collides when two
ideas are submitted at once. The counter row is taken atomically instead. Existing
databases start each counter at the highest number already given out.

Revision ID: 0004_reference_counter
Revises: 0003_federation
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_reference_counter"
down_revision = "0003_federation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    counter = op.create_table(
        "idea_reference_counter",
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"],
            ["city.id"],
            name=op.f("fk_idea_reference_counter_city_id_city"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("city_id", "year", name=op.f("pk_idea_reference_counter")),
    )
    idea = sa.table("idea", sa.column("city_id", sa.Integer()), sa.column("reference", sa.String()))
    highest: dict[tuple[int, int], int] = {}
    for city_id, reference in op.get_bind().execute(sa.select(idea.c.city_id, idea.c.reference)):
        _prefix, year, number = (reference.rsplit("-", 2) + ["", ""])[:3]
        if year.isdigit() and number.isdigit():
            key = (city_id, int(year))
            highest[key] = max(highest.get(key, 0), int(number))
    if highest:
        op.bulk_insert(
            counter,
            [
                {"city_id": city_id, "year": year, "last_number": number}
                for (city_id, year), number in sorted(highest.items())
            ],
        )


def downgrade() -> None:
    op.drop_table("idea_reference_counter")
