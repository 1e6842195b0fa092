"""What the command-line modules share: the --city/--db options, output as tables or JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from sqlalchemy.orm import Session

from ..db import default_database_url
from ..models import City
from ..platform import Platform

F = TypeVar("F", bound=Callable[..., Any])


def city_options(func: F) -> F:
    """--city and --db, read from INNOPLAT_CITY and INNOPLAT_DATABASE_URL too."""
    func = click.option(
        "--db",
        "database_url",
        envvar="INNOPLAT_DATABASE_URL",
        metavar="URL",
        help="Database URL (default: a SQLite file innoplat.sqlite3 here; postgresql://… for PostgreSQL).",
    )(func)
    func = click.option(
        "--city",
        envvar="INNOPLAT_CITY",
        default="kiruna",
        show_default=True,
        metavar="SLUG",
        help="The city (a slug such as kiruna, or a folder holding a city.toml).",
    )(func)
    return func


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(
        func
    )


def open_platform(city: str, database_url: str | None) -> Platform:
    return Platform.open(city, database_url or default_database_url())


@contextmanager
def city_transaction(
    city: str, database_url: str | None
) -> Iterator[tuple[Platform, Session, City]]:
    """One command, one transaction: all of it is stored, or none of it."""
    platform = open_platform(city, database_url)
    try:
        with platform.transaction() as session:
            yield platform, session, platform.city_row(session)
    finally:
        platform.dispose()


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain aligned table that reads well in any terminal."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    click.echo(
        "  ".join(click.style(h.ljust(w), bold=True) for h, w in zip(headers, widths, strict=True))
    )
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    if not rows:
        click.echo("(none)")
