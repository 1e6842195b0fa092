"""The shipped Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from innoplat.core.db import upgrade
from innoplat.core.models import Base


def _model_differences(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            diffs = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    # Database-only objects (full-text search tables, generated search columns, indexes over
    # expressions) are not in the models; anything the models have must be in the migrations.
    return [
        d
        for d in diffs
        if not (
            isinstance(d, tuple)
            and (
                d[0] in ("remove_table", "remove_index")
                or (d[0] == "remove_column" and d[3].computed is not None)
            )
        )
    ]


def test_migrations_match_the_models(database_url):
    assert _model_differences(database_url) == []


def test_upgrading_twice_changes_nothing(platform):
    platform.init()
    tables = set(inspect(platform.engine).get_table_names())
    platform.init()
    assert set(inspect(platform.engine).get_table_names()) == tables
    assert {
        "idea",
        "stage_transition",
        "method_application",
        "participation",
        "audit_event",
    } <= tables


def test_a_new_sqlite_file_is_created_and_migrated(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    upgrade(engine)
    assert "idea" in inspect(engine).get_table_names()
    engine.dispose()
