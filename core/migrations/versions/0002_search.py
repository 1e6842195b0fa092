"""full-text search over ideas

SQLite: an external-content FTS5 table ``idea_search`` over idea title, summary and
description, kept in sync by triggers (so rows bulk-inserted with SQLAlchemy Core are
indexed too). The unicode61 tokenizer keeps diacritics: å, ä and ö are letters of their
own in Swedish, not decorated a and o. Prefix indexes make partial-word searches cheap.

PostgreSQL: a stored generated ``search_vector`` column built with the Swedish text
search configuration (so the Swedish stemmer matches inflections), weighted title (A),
summary (B), description (C), with a GIN index.

Note for later migrations: a SQLite "batch" migration of the idea table copies and drops
it, which drops these triggers too; run the statements of ``SQLITE_TRIGGERS`` again after one.

Revision ID: 0002_search
Revises: 0001_core
"""

from alembic import op

revision = "0002_search"
down_revision = "0001_core"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = {
    "idea_search_insert": """
        CREATE TRIGGER idea_search_insert AFTER INSERT ON idea BEGIN
            INSERT INTO idea_search (rowid, title, summary, description)
            VALUES (new.id, new.title, new.summary, new.description);
        END""",
    "idea_search_delete": """
        CREATE TRIGGER idea_search_delete AFTER DELETE ON idea BEGIN
            INSERT INTO idea_search (idea_search, rowid, title, summary, description)
            VALUES ('delete', old.id, old.title, old.summary, old.description);
        END""",
    "idea_search_update": """
        CREATE TRIGGER idea_search_update AFTER UPDATE OF title, summary, description ON idea
        BEGIN
            INSERT INTO idea_search (idea_search, rowid, title, summary, description)
            VALUES ('delete', old.id, old.title, old.summary, old.description);
            INSERT INTO idea_search (rowid, title, summary, description)
            VALUES (new.id, new.title, new.summary, new.description);
        END""",
}

POSTGRESQL_VECTOR = (
    "setweight(to_tsvector('swedish', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('swedish', coalesce(summary, '')), 'B') || "
    "setweight(to_tsvector('swedish', coalesce(description, '')), 'C')"
)


def create_sqlite_triggers() -> None:
    for name, sql in SQLITE_TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(sql)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE idea_search USING fts5("
            "title, summary, description, content='idea', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 0', prefix='2 3 4')"
        )
        create_sqlite_triggers()
        op.execute("INSERT INTO idea_search (idea_search) VALUES ('rebuild')")
    elif dialect == "postgresql":
        op.execute(
            f"ALTER TABLE idea ADD COLUMN search_vector tsvector "
            f"GENERATED ALWAYS AS ({POSTGRESQL_VECTOR}) STORED"
        )
        op.execute("CREATE INDEX ix_idea_search_vector ON idea USING gin (search_vector)")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS idea_search")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_idea_search_vector")
        op.execute("ALTER TABLE idea DROP COLUMN IF EXISTS search_vector")
