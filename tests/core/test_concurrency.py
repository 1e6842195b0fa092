"""Use cases that run at the same moment neither fail nor collide, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic import command
from sqlalchemy import select, text

from innoplat.core import db
from innoplat.core.errors import ValidationError
from innoplat.core.models import IdeaReferenceCounter
from innoplat.core.services import actors, demo, ideas

CLIENTS = 8


def _at_once(count: int, work):
    """Run ``work(i)`` on ``count`` threads released together; the results (or errors) in order."""
    barrier = threading.Barrier(count)

    def run(i: int):
        barrier.wait()
        try:
            return work(i)
        except Exception as error:  # noqa: BLE001 - the test reports every failure
            return error

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_simultaneous_submissions_get_distinct_consecutive_references(platform):
    """Eight citizens send an idea at the same moment: eight ideas, numbered 1 to 8, no error."""

    def submit(i: int) -> str:
        with platform.transaction() as session:
            city = platform.city_row(session)
            return ideas.submit_idea(session, city, title=f"Idé nummer {i}").reference

    references = _at_once(CLIENTS, submit)
    errors = [r for r in references if isinstance(r, Exception)]
    assert errors == []
    year = references[0].split("-")[1]
    assert sorted(references) == [f"KIR-{year}-{n:04d}" for n in range(1, CLIENTS + 1)]


def test_a_rolled_back_submission_gives_its_number_back(platform):
    with pytest.raises(RuntimeError), platform.transaction() as session:
        ideas.submit_idea(session, platform.city_row(session), title="Ångrad")
        raise RuntimeError("the request failed after the idea was written")
    with platform.transaction() as session:
        reference = ideas.submit_idea(session, platform.city_row(session), title="Kvar").reference
    assert reference.endswith("-0001")


def test_numbering_continues_after_ideas_stored_before_the_counter_existed(platform):
    """A database upgraded from before the counters numbers on from its highest reference."""
    with platform.transaction() as session:
        city = platform.city_row(session)
        old = [ideas.submit_idea(session, city, title=f"Gammal {i}") for i in range(3)]
    command.downgrade(
        db.alembic_config(platform.engine, platform.migration_locations()),
        "0004_reference_counter@-1",
    )
    command.upgrade(db.alembic_config(platform.engine, platform.migration_locations()), "heads")
    year = old[0].submitted_at.year
    with platform.transaction() as session:
        city = platform.city_row(session)
        counter = session.get(IdeaReferenceCounter, (city.id, year))
        assert counter is not None and counter.last_number == 3
        assert ideas.submit_idea(session, city, title="Ny").reference == f"KIR-{year}-0004"


def test_numbering_recovers_when_the_counter_row_is_missing(platform):
    with platform.transaction() as session:
        city = platform.city_row(session)
        ideas.submit_idea(session, city, title="Första")
        session.execute(text("DELETE FROM idea_reference_counter"))
        assert ideas.submit_idea(session, city, title="Andra").reference.endswith("-0002")


def test_demo_data_loaded_while_citizens_submit_takes_its_own_numbers(platform):
    with platform.transaction() as session:
        city = platform.city_row(session)
        demo.load_demo(session, platform.city, city, ideas=40, seed=3)
    with platform.transaction() as session:
        city = platform.city_row(session)
        fresh = ideas.submit_idea(session, city, title="Efter demon")
        references = list(session.scalars(select(ideas.Idea.reference)))
    assert len(references) == len(set(references)) == 41
    assert fresh.reference in references


def test_two_staff_creating_the_same_organisation_at_once_get_a_field_error(platform):
    def create(i: int):
        with platform.transaction() as session:
            city = platform.city_row(session)
            return actors.add_organisation(
                session, city, key="samma-forening", name=f"Förening {i}", kind="civil_society"
            ).key

    results = _at_once(2, create)
    assert sorted(type(r).__name__ for r in results) == ["ValidationError", "str"]
    error = next(r for r in results if isinstance(r, ValidationError))
    assert error.field == "key"
