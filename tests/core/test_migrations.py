"""The shipped Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select

from innoplat.core.db import alembic_config, upgrade
from innoplat.core.models import Base, FactsVersion
from innoplat.core.services import demo, facts
from innoplat.core.services.facts import FACT_TABLE, METHOD_FACT_TABLE

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 6, 1)
#: The last revision before the per-idea facts (a release of the first wave).
BEFORE = "0008_peer_changes_since"


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


def _facts_of(platform) -> tuple[list, list]:
    with platform.transaction() as session:
        return (
            [tuple(r) for r in session.execute(select(FACT_TABLE).order_by("idea_id"))],
            [
                tuple(r)
                for r in session.execute(select(METHOD_FACT_TABLE).order_by("idea_id", "method"))
            ],
        )


def test_a_database_from_before_the_facts_upgrades_and_gets_them(platform):
    """A city running a release from before migration 0009 upgrades with its ideas, and gets
    the facts the comparison reads — computed after every revision has run, so a migration
    never depends on tables of later revisions (0009 once called the live facts code, which
    writes the figures table of 0010: "no such table: stored_figures")."""
    with platform.transaction() as session:
        demo.load_demo(
            session, platform.city, platform.city_row(session), ideas=30, seed=5, now=NOW
        )
    facts_before = _facts_of(platform)
    assert facts_before[0] and facts_before[1]
    command.downgrade(alembic_config(platform.engine, platform.migration_locations()), BEFORE)
    assert "idea_fact" not in inspect(platform.engine).get_table_names()

    platform.init()

    assert _facts_of(platform) == facts_before
    with platform.transaction() as session:
        city = platform.city_row(session)
        assert session.scalar(select(FactsVersion.token).where(FactsVersion.city_id == city.id))
        assert facts.build_missing(session) == []  # every city has its facts now


def test_migrations_never_call_the_services():
    """A migration runs at its own revision: code written for the newest schema may need
    tables that do not exist yet when it runs."""
    for path in sorted(ROOT.glob("core/migrations/versions/*.py")) + sorted(
        ROOT.glob("plugins/*/migrations/*.py")
    ):
        source = path.read_text(encoding="utf-8")
        assert not re.search(
            r"^\s*(from|import) innoplat\.(core\.)?(services|web|cli)\b", source, re.MULTILINE
        ), f"{path.relative_to(ROOT)} imports the services"
