"""Figures kept in the database: a new worker reads them, a write retires them, a reader that
cannot write still answers."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlalchemy import func, select, text

from innoplat.core.models import Idea, StoredFigures
from innoplat.core.services import comparison, demo, facts
from innoplat.core.services.evidence import analysis

AS_OF = datetime(2026, 6, 1)


@pytest.fixture
def demo_city(platform):
    with platform.transaction() as session:
        city = platform.city_row(session)
        demo.load_demo(session, platform.city, city, ideas=60, seed=5, now=AS_OF)
    facts.clear_cache()
    return platform


def _stored(platform) -> int:
    with platform.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(StoredFigures)) or 0)


def _refuse_to_count(monkeypatch) -> None:
    """Counting from the facts fails from now on: figures can only come from a cache."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("counted again")

    monkeypatch.setattr(comparison, "core_figures_statement", refuse)
    monkeypatch.setattr(analysis, "_statements", refuse)


def test_a_new_process_reads_the_figures_another_computed(demo_city, monkeypatch):
    with demo_city.transaction() as session:
        rows = comparison.compare_methods(session)
        evidence = analysis.method_evidence(session, as_of=AS_OF).rows
    assert rows and evidence
    assert _stored(demo_city) > 2  # the comparison, the submission years, evidence per year

    facts.clear_cache()  # what a worker started now has in memory: nothing
    _refuse_to_count(monkeypatch)
    with demo_city.transaction(write=False) as session:
        assert comparison.compare_methods(session) == rows
        assert analysis.method_evidence(session, as_of=AS_OF).rows == evidence


def test_a_write_retires_the_city_figures_in_its_own_transaction(demo_city):
    with demo_city.transaction() as session:
        before = comparison.compare_methods(session)
    assert _stored(demo_city) == 1
    with demo_city.transaction() as session:
        idea = session.scalars(
            select(Idea).where(Idea.visibility == "public").order_by(Idea.id)
        ).first()
        idea.visibility = "internal"  # one idea fewer in the public figures
    assert _stored(demo_city) == 0
    facts.clear_cache()
    with demo_city.transaction() as session:
        after = comparison.compare_methods(session)
    counted = {(r["city"], r["method"], r["metric"]): r["n"] for r in before}
    assert sum(r["n"] for r in after if r["metric"] == "ideas_with_method") < sum(
        n for (_c, _m, metric), n in counted.items() if metric == "ideas_with_method"
    )


def test_a_page_that_cannot_write_now_still_answers(demo_city, database_url):
    """A reader that cannot write now answers with what it computed and leaves storing the
    figures to a later reader: on SQLite, while another transaction holds the write lock (it
    does not wait for it); on PostgreSQL, in a read-only transaction."""
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with demo_city.transaction() as session:
            session.get(Idea, session.scalar(select(Idea.id)))  # holds SQLite's write lock
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=writer)
    on_sqlite = database_url.startswith("sqlite")
    if on_sqlite:
        thread.start()
    try:
        assert not on_sqlite or holding.wait(30)
        with demo_city.transaction(write=False) as session:
            if not on_sqlite:
                session.execute(text("SET TRANSACTION READ ONLY"))
            rows = comparison.compare_methods(session)
            assert session.scalar(select(func.count(Idea.id))) == 60  # still usable
    finally:
        release.set()
        if on_sqlite:
            thread.join()
    assert rows
    assert _stored(demo_city) == 0
    facts.clear_cache()
    with demo_city.transaction(write=False) as session:  # nobody in the way: kept this time
        assert comparison.compare_methods(session) == rows
    assert _stored(demo_city) == 1


def _stored_years(platform) -> dict[int, str]:
    """The years whose evidence is stored, with the token it was stored under."""
    with platform.transaction() as session:
        query = select(StoredFigures.part, StoredFigures.token).where(
            StoredFigures.part.isnot(None)
        )
        return {year: token for year, token in session.execute(query).tuples()}


def test_a_write_keeps_the_evidence_of_the_years_it_left_alone(demo_city):
    with demo_city.transaction() as session:
        evidence = analysis.method_evidence(session, as_of=AS_OF, public_only=True).rows
    years = _stored_years(demo_city)
    assert len(years) > 2
    with demo_city.transaction() as session:
        idea = session.scalars(select(Idea).order_by(Idea.id)).first()
        changed = idea.submitted_at.year
        idea.visibility = "internal" if idea.visibility == "public" else "public"
    # the other years' counts stay as they were stored (not even rewritten), still valid
    assert _stored_years(demo_city) == {y: t for y, t in years.items() if y != changed}

    facts.clear_cache()
    with demo_city.transaction() as session:
        kept = analysis.method_evidence(session, as_of=AS_OF, public_only=True).rows
    facts.clear_cache()
    with demo_city.transaction() as session:
        facts.clear_cache(session)
        fresh = analysis.method_evidence(session, as_of=AS_OF, public_only=True).rows
    assert kept == fresh  # the carried-over years and the recounted one: exact
    assert kept != evidence  # and the figures did change (one idea fewer or more counted)
