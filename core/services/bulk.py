"""Writing many rows at once: the one bulk writer of the exchange importer and the demo generator.

SQLAlchemy's ORM and Core inserts prepare parameters row by row; an import or a demo load
writes millions of rows, so rows go to the driver directly: ``COPY … FROM STDIN`` on
PostgreSQL, ``executemany`` in chunks on SQLite, always through the session's connection and
inside its transaction (a failure later in the use case still leaves nothing).

Values are those of the columns: strings for enums, ``datetime``/``date`` objects or their ISO
text (``2026-01-02T03:04:05.123456Z``), lists and dicts for JSON columns. Primary keys are
reserved up front (:func:`reserve_ids`) so children can point at their parents without a
round trip per row.

On SQLite an idea insert also feeds the full-text search index through a trigger that
tokenises the text row by row; :func:`search_index_deferred` suspends that trigger during a
bulk load and indexes the new ideas with one statement at the end.
"""

from __future__ import annotations

import gc
import json
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Table, func, select, text
from sqlalchemy.orm import Session

CHUNK = 5_000
#: The SQLite trigger that indexes an inserted idea (core/migrations/versions/0002_search.py).
_SEARCH_TRIGGER = "idea_search_insert"


def _sqlite_datetime(value: Any) -> Any:
    """A time as SQLAlchemy stores it in SQLite (``2026-01-02 03:04:05.123456``)."""
    if isinstance(value, str):
        if len(value) == 27 and value[10] == "T" and value[26] == "Z":  # the bundles' form
            return value[:10] + " " + value[11:26]
        if "T" in value:
            day, time = value.removesuffix("Z").split("T")
            seconds, _, fraction = time.partition(".")
            return f"{day} {seconds}.{fraction.ljust(6, '0')}"
        return value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _sqlite_date(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Formats:
    """How values of each kind of column are handed to this connection's driver.

    For callers that build row tuples themselves (:func:`insert_tuples`): each function takes
    the value as :func:`insert_rows` would (never None: nulls are passed as they are).
    """

    datetime: Callable[[Any], Any]
    date: Callable[[Any], Any]
    json: Callable[[Any], Any]


def formats(session: Session) -> Formats:
    if session.get_bind().dialect.name == "postgresql":
        # COPY parses times and dates from objects or ISO text itself.
        return Formats(datetime=_same, date=_same, json=_json)
    return Formats(datetime=_sqlite_datetime, date=_sqlite_date, json=_json)


def _converter(column_type: Any, dialect: str) -> Callable[[Any], Any] | None:
    """How a value is handed to the driver for a column (None: as it is)."""
    if isinstance(column_type, JSON):
        return _json
    if dialect == "postgresql":
        return None  # COPY parses times and dates from objects or ISO text itself
    if isinstance(column_type, DateTime):
        return _sqlite_datetime
    if isinstance(column_type, Date):
        return _sqlite_date
    if isinstance(column_type, Boolean):
        return int
    return None


def _chunks(rows: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def insert_rows(session: Session, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Insert plain rows (dicts with the same keys, in the same order); returns how many.

    ``rows`` may be a generator: it is consumed chunk by chunk, never held whole.
    """
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return 0
    columns = list(first)
    dialect = session.get_bind().dialect.name
    getter = operator.itemgetter(*columns)
    single = len(columns) == 1
    conversions = [
        (i, f)
        for i, c in enumerate(columns)
        if (f := _converter(table.c[c].type, dialect)) is not None
    ]

    def values(chunk: Iterable[dict[str, Any]]) -> Iterator[Any]:
        for row in chunk:
            value = (getter(row),) if single else getter(row)
            if conversions:
                converted = list(value)
                for i, convert in conversions:
                    if converted[i] is not None:
                        converted[i] = convert(converted[i])
                value = tuple(converted)
            yield value

    return insert_tuples(session, table, columns, values(_prepend(first, iterator)))


def insert_tuples(
    session: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert rows given as tuples in the order of ``columns``, each value already in the
    driver's form (see :func:`formats`); returns how many. The fast path of bulk loads.

    ``rows`` may be a generator: it is consumed as it goes, never held whole.
    """
    connection = session.connection()
    count = 0
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        assert driver is not None
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[attr-defined]
            write = copy.write_row
            for value in rows:
                write(value)
                count += 1
        return count
    statement = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for chunk in _chunks(rows):
            cursor.executemany(statement, chunk)
            count += len(chunk)
    finally:
        cursor.close()
    return count


def _prepend(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


def reserve_ids(session: Session, table: Table, count: int) -> list[int]:
    """Primary keys for ``count`` new rows, so children can point at them without RETURNING.

    PostgreSQL hands them out from the table's sequence (safe beside other writers); SQLite
    allows one writer at a time and this transaction already holds the write lock once it
    has written (callers reserve after their first write, or hold it through BEGIN IMMEDIATE).
    """
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(table.name, "id")
        return list(
            session.scalars(
                select(func.nextval(sequence)).select_from(func.generate_series(1, count))
            )
        )
    start = (session.scalar(select(func.max(table.c.id))) or 0) + 1
    return list(range(start, start + count))


def insert_with_ids(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows with reserved primary keys (set as ``row["id"]``); returns the keys in order."""
    ids = reserve_ids(session, table, len(rows))
    for row, row_id in zip(rows, ids, strict=True):
        row["id"] = row_id
    insert_rows(session, table, rows)
    return ids


def advance_sequences(session: Session, tables: Iterable[Table]) -> None:
    """After inserting explicit ids chosen without the sequence, PostgreSQL's must move past them."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table.name}))"
            )
        )


@contextmanager
def search_index_deferred(session: Session, city_id: int) -> Iterator[None]:
    """Index the ideas a bulk load inserts once, at the end, instead of row by row.

    SQLite only (PostgreSQL's search vector is a generated column, computed as each row is
    copied). The trigger is dropped and re-created inside the caller's transaction, so a
    failed load rolls the schema change back with the rows; other connections never see the
    table without it, since SQLite lets one writer at a time hold the database.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    definition = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (_SEARCH_TRIGGER,)
    ).scalar()
    if definition is None:  # a database without the search feature
        yield
        return
    start = (session.scalar(text("SELECT max(id) FROM idea")) or 0) + 1
    connection.exec_driver_sql(f"DROP TRIGGER {_SEARCH_TRIGGER}")
    yield
    connection.exec_driver_sql(definition)
    # In id order (``+city_id`` keeps the planner off the city indexes): FTS5 appends rows
    # in ascending rowid order about four times as fast as in the order of another index.
    connection.exec_driver_sql(
        "INSERT INTO idea_search (rowid, title, summary, description) "
        "SELECT id, title, summary, description FROM idea WHERE id >= ? AND +city_id = ? "
        "ORDER BY id",
        (start, city_id),
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for a bulk load.

    A load allocates a few containers per row (a record's dict and lists), which reference
    counting frees as soon as their batch is written; the cyclic collector would still walk
    the surviving ones (the batch, the per-idea state of the checks) again and again: a
    fifth of the CPU time of importing a 9,241-idea bundle, with the same peak memory.
    Whether the collector was on is restored at the end, and it then collects whatever
    cycles were left meanwhile.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
