"""``innoplat compare``: how each method fared in each city, as a table, CSV or JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from ..errors import ValidationError
from ..i18n import N_
from ..services import comparison
from ..services.comparison import Metric, Row, rows_as_csv, rows_as_json
from . import evidence
from .common import (
    INTERVAL,
    METHOD,
    NOTHING_APPLIED,
    Labels,
    city_options,
    city_transaction,
    labels_for,
    lang_option,
    number,
    percent,
    print_table,
    split_values,
)

SMALL_MARK = "*"

#: A metric's unit as its heading names it (the words of the /compare page).
UNITS = {
    "share": N_("share of ideas"),
    "ratio": N_("ratio"),
    "days": N_("days"),
    "ideas": N_("ideas"),
    "kinds": N_("organisation kinds"),
}
DAYS = N_("%(days)s d")
SMALL = N_("%(mark)s fewer than %(n)s ideas.")


def format_figure(value: Any, unit: str, lang: str = "en") -> str:
    """A value as a reader of ``lang`` expects it: shares in percent, ratios with ×, days whole."""
    if value is None:
        return "–"
    if unit == "share":
        return percent(value, lang)
    if unit == "ratio":
        return f"{number(value, lang)}×"
    if unit == "days":
        return Labels(lang)(DAYS, days=number(value, lang, "#,##0"))
    if unit == "ideas":
        return number(value, lang, "#,##0")
    return number(value, lang)


def format_cell(row: Row, unit: str, lang: str = "en") -> str:
    text = format_figure(row["value"], unit, lang)
    if row["low"] is not None and row["high"] is not None:
        low, high = (format_figure(row[k], unit, lang) for k in ("low", "high"))
        text += f" ({low}–{high})"
    return text + (SMALL_MARK if row["small_sample"] else "")


def print_pivot(
    rows: Sequence[Row],
    metrics: Sequence[Metric],
    cities: Sequence[str],
    labels: Labels | None = None,
) -> None:
    """One block per metric: a line per method, a column per city, in the labels' language."""
    labels = labels or Labels("en")
    lang = labels.lang
    if not rows:
        click.echo(labels(NOTHING_APPLIED))
        return
    shown_cities = [c for c in cities if any(r["city"] == c for r in rows)]
    for metric in metrics:
        cells: dict[tuple[str, str], str] = {
            (r["method"], r["city"]): format_cell(r, metric.unit, lang)
            for r in rows
            if r["metric"] == metric.key
        }
        if not cells:
            continue
        methods = sorted({m for m, _c in cells}, key=lambda m: labels.method(m).lower())
        headers = [labels(METHOD), *shown_cities]
        table = [
            [labels.method(m), *[cells.get((m, c), "") for c in shown_cities]] for m in methods
        ]
        unit = labels(UNITS[metric.unit]) if metric.unit in UNITS else metric.unit
        click.echo(click.style(f"{metric.label_for(lang)} ({metric.key}, {unit})", bold=True))
        print_table(headers, table, lang=lang)
        click.echo()
    click.echo(f"{labels(INTERVAL)} {labels(SMALL, mark=SMALL_MARK, n=comparison.SMALL_SAMPLE)}")


@click.command()
@city_options
@click.option(
    "--cities",
    "cities",
    multiple=True,
    metavar="SLUGS",
    help="Cities to compare, comma-separated (default: all, peers included).",
)
@click.option(
    "--methods",
    "methods",
    multiple=True,
    metavar="KEYS",
    help="Shared method keys, comma-separated (default: every method applied).",
)
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    metavar="KEYS",
    help="Metric keys, comma-separated or repeated (default: all).",
)
@click.option("--since", metavar="YYYY-MM-DD", help="Only ideas submitted on or after this date.")
@click.option(
    "--staff-view",
    is_flag=True,
    help="Count the --city's internal ideas too and add the metrics for staff only "
    "(the city's staff view; the default gives the public figures).",
)
@click.option(
    "--pooled",
    is_flag=True,
    help="The pooled risk ratio of implementation within 12 months per method across the "
    "cities (random effects): the pooled rows of `innoplat evidence --public-only` and "
    "/api/v1/evidence.",
)
@click.option(
    "--as-of",
    "as_of",
    metavar="YYYY-MM-DD",
    help="With --pooled: the data's date for this instance's own city (default: the start of today, UTC).",
)
@lang_option
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
def compare(
    city: str,
    database_url: str | None,
    cities: tuple[str, ...],
    methods: tuple[str, ...],
    metrics: tuple[str, ...],
    since: str | None,
    staff_view: bool,
    pooled: bool,
    as_of: str | None,
    lang: str,
    output: str,
) -> None:
    """How each method fared in each city: share implemented, lift, time, collaboration.

    CSV and JSON rows carry the keys city, method, metric, value, low, high, n,
    small_sample (see docs/comparing.md). Public ideas only, as on the public page and
    the API, unless --staff-view. With --pooled: the methods pooled across the cities, with
    the keys of docs/comparing.md ("Evidence").
    """
    if pooled:
        for given, name in ((metrics, "--metric"), (staff_view, "--staff-view")):
            if given:
                raise ValidationError(
                    name,
                    "does not go with --pooled (the pooled figure is one metric, from public ideas)",
                )
        evidence.run(
            city, database_url, cities, methods, since, as_of, True, output, lang, pooled_only=True
        )
        return
    if as_of:
        raise ValidationError("--as-of", "goes with --pooled only")
    with city_transaction(city, database_url) as (_platform, session, row):
        result = comparison.compare(
            session,
            cities=split_values(cities),
            methods=split_values(methods),
            since=since,
            metrics=split_values(metrics),
            staff_of=row if staff_view else None,
        )
        labels = labels_for(
            session,
            lang,
            method_keys=(r["method"] for r in result.rows),
            default_locale=row.default_locale,
        )
    if output == "csv":
        click.echo(rows_as_csv(result.rows), nl=False)
    elif output == "json":
        click.echo(rows_as_json(result.rows))
    else:
        print_pivot(result.rows, result.metrics, [c.slug for c in result.cities], labels)


COMMANDS = [compare]
