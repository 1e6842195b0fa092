"""What the command-line modules share: the --city/--db options, output as tables or JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

import click
from babel.numbers import format_decimal, format_percent
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..config import KNOWN_LOCALES
from ..db import default_database_url
from ..i18n import N_, babel_locale, translate
from ..models import City, Method
from ..platform import Platform
from ..services.serialisation import json_default

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


def split_values(values: Sequence[str]) -> list[str] | None:
    """``--cities a,b --cities c`` → [a, b, c]; nothing given → None (all)."""
    found = [v.strip() for value in values for v in value.split(",") if v.strip()]
    return found or None


def lang_option(func: F) -> F:
    """--lang: the language of a human-readable table: its words, names and numbers."""
    return click.option(
        "--lang",
        type=click.Choice(KNOWN_LOCALES),
        default="en",
        show_default=True,
        help="Language of the table: its headings and notes, the names of methods and metrics, "
        "and its numbers (0,042 and 42 % in sv; 0.042 and 42% in en). CSV and JSON are "
        "language-neutral and the same in every language.",
    )(func)


#: Said by `innoplat compare` and `innoplat evidence` when no row has a figure.
NOTHING_APPLIED = N_("No method was applied to any idea of these cities (in this period).")
#: The method column's heading, and the note under every table of figures with intervals.
METHOD = N_("Method")
INTERVAL = N_("(low–high): 95 %% interval.")
#: What a table without rows says, in its reader's language.
NONE = N_("(none)")


@dataclass(frozen=True)
class Labels:
    """A human-readable table's words in its reader's language (``--lang``).

    Called with an English msgid marked with ``N_`` (a literal % written %%), it gives the text
    in ``lang`` with its ``%(name)s`` filled in. A method reads as its name in ``lang`` with its
    key after it (the key is what ``--methods`` takes, and no word in any language). Cities keep
    their slugs, as ``--cities`` takes them: a slug is the place's name (kiruna), whereas a
    city's name is its platform's, long and no clearer in a column heading.
    """

    lang: str
    methods: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, message: str, **params: Any) -> str:
        return translate(message, self.lang) % params

    def method(self, key: str) -> str:
        return self.methods.get(key, key)


def labels_for(
    session: Session, lang: str, *, method_keys: Iterable[str], default_locale: str
) -> Labels:
    """The methods' names by the pages' rule (``localized_in``); ``default_locale`` is that of
    the --city, as on its pages. A method without a name in the shared catalogue stays its key."""
    keys = sorted(set(method_keys))
    found = session.scalars(select(Method).where(Method.key.in_(keys), Method.city_id.is_(None)))
    names = {m.key: m.label(lang, default_locale) for m in found}
    return Labels(
        lang,
        methods={k: f"{names[k]} ({k})" if names.get(k, k) != k else k for k in keys},
    )


def number(value: float, lang: str, pattern: str = "#,##0.00") -> str:
    """A number in the language's notation (Babel), for the human-readable tables."""
    return format_decimal(value, format=pattern, locale=babel_locale(lang))


def percent(value: float, lang: str) -> str:
    return format_percent(value, locale=babel_locale(lang))


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(
        func
    )


def enum_option(*names: str, values: type[Enum], **attrs: Any) -> Callable[[F], F]:
    """An option taking one of an enumeration's values, its default shown in the help."""
    return click.option(
        *names, type=click.Choice([v.value for v in values]), show_default=True, **attrs
    )


def count_option(*names: str, default: int, minimum: int = 0, **attrs: Any) -> Callable[[F], F]:
    """A whole-number option (how many, how often) with its default shown in the help."""
    return click.option(
        *names, default=default, show_default=True, type=click.IntRange(min=minimum), **attrs
    )


def open_platform(city: str, database_url: str | None, *, ready: bool = True) -> Platform:
    """The city's platform for a command, its database checked first (``ready``): one that
    cannot be opened, has no innoplat tables or an older schema is one line saying so and
    what to run, not the first query's error. Only commands that make the schema pass
    ``ready=False``."""
    platform = Platform.open(city, database_url or default_database_url())
    if ready:
        try:
            platform.check_database()
        except BaseException:
            platform.dispose()
            raise
    return platform


@contextmanager
def city_transaction(
    city: str, database_url: str | None
) -> Iterator[tuple[Platform, Session, City]]:
    """One command, one transaction: all of it is stored, or none of it (the database checked
    first, as ``open_platform`` does)."""
    platform = open_platform(city, database_url)
    try:
        with platform.transaction() as session:
            yield platform, session, platform.city_row(session)
    finally:
        platform.dispose()


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=json_default))


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, lang: str = "en") -> None:
    """A plain aligned table that reads well in any terminal; without rows it says "(none)" in
    ``lang``, the language of a command's ``--lang`` (the headers come translated)."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    click.echo(
        "  ".join(click.style(h.ljust(w), bold=True) for h, w in zip(headers, widths, strict=True))
    )
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    if not rows:
        click.echo(translate(NONE, lang))
