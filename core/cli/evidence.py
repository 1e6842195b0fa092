"""``innoplat evidence``: time to implementation, adjusted and pooled effects, as a table, CSV or JSON."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from ..i18n import N_
from ..services.evidence.analysis import (
    Evidence,
    Row,
    evidence_as_csv,
    evidence_as_json,
    method_evidence,
)
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

POOLED = "pooled_risk_ratio_12m"

POOLED_TITLE = N_("Pooled risk ratio of implementation within 12 months")
INCIDENCE_TITLE = N_("Per city: cumulative incidence of implementation")
RATIO_TITLE = N_("Per city: risk ratio within 12 months")
CITY = N_("City")
CITIES = N_("Cities")
RISK_RATIO = N_("Risk ratio (95 %%)")
PREDICTION = N_("Prediction interval")
NOT_POOLED = N_("not pooled")
MONTHS = N_("%(months)s months")
MONTHS_WITHOUT = N_("%(months)s months without the method")
CRUDE = N_("Crude")
ADJUSTED = N_("Adjusted (year, focus area)")
AT_RISK = N_("[n]: ideas still at risk.")
#: The caveat of the /compare/evidence page, word for word.
CAVEAT = N_(
    "The data are observational: cities choose methods for ideas they already believe in. A "
    "ratio above 1 says that ideas with the method were implemented more often, not that the "
    "method caused it."
)


def _estimate(row: Row | None, show: Callable[[float], str], unit: str = "") -> str | None:
    """A figure with its interval where it has one; None where there is no figure."""
    if row is None or row["value"] is None:
        return None
    text = show(row["value"]) + unit
    if row["low"] is not None and row["high"] is not None:
        text += f" ({show(row['low'])}–{show(row['high'])})"
    return text


def _ratio(row: Row | None, lang: str) -> str:
    return _estimate(row, lambda value: number(value, lang), "×") or "–"


def _share(row: Row | None, lang: str) -> str:
    text = _estimate(row, lambda value: percent(value, lang))
    if row is None or text is None:
        return "–"
    return f"{text} [{number(row['at_risk'], lang, '#,##0')}]"


def _print_table(headers: list[str], table: list[list[str]], lang: str) -> None:
    print_table(headers, table, lang=lang)
    click.echo()


def pooled_rows(rows: list[Row]) -> list[Row]:
    """The pooled rows (one per method, ``city`` None), as they come in the evidence rows."""
    return [r for r in rows if r["metric"] == POOLED]


def print_pooled(rows: list[Row], labels: Labels) -> None:
    """The methods ranked by their pooled risk ratio, with intervals and heterogeneity."""
    lang = labels.lang
    pooled = sorted(
        pooled_rows(rows),
        key=lambda r: (r["value"] is None, -(r["value"] or 0), labels.method(r["method"]).lower()),
    )
    click.echo(click.style(labels(POOLED_TITLE), bold=True))
    _print_table(
        [labels(METHOD), labels(RISK_RATIO), labels(PREDICTION), "τ²", "I²", labels(CITIES)],
        [
            [
                labels.method(r["method"]),
                _ratio(r, lang) if r["value"] is not None else labels(NOT_POOLED),
                f"{number(r['prediction_low'], lang)}–{number(r['prediction_high'], lang)}"
                if r["prediction_low"] is not None
                else "",
                number(r["tau2"], lang, "#,##0.000") if r["tau2"] is not None else "",
                percent(r["i2"], lang) if r["i2"] is not None else "",
                str(r["n"]),
            ]
            for r in pooled
        ],
        lang,
    )


def print_evidence(evidence: Evidence, labels: Labels) -> None:
    """Pooled effects first (the ranking), then per city: incidence and risk ratios."""
    lang = labels.lang
    rows = evidence.rows
    if not rows:
        click.echo(labels(NOTHING_APPLIED))
        return
    print_pooled(rows, labels)
    by_key = {(r["city"], r["method"], r["metric"]): r for r in rows}
    pairs = sorted(
        {(r["city"], r["method"]) for r in rows if r["city"] is not None},
        key=lambda pair: (pair[0], labels.method(pair[1]).lower()),
    )
    click.echo(click.style(labels(INCIDENCE_TITLE), bold=True))
    headers = [
        labels(CITY),
        labels(METHOD),
        *(labels(MONTHS, months=m) for m in (6, 12, 24)),
        labels(MONTHS_WITHOUT, months=12),
    ]
    table = [
        [
            city,
            labels.method(method),
            *(_share(by_key.get((city, method, f"incidence_{m}m")), lang) for m in (6, 12, 24)),
            _share(by_key.get((city, method, "incidence_12m_without")), lang),
        ]
        for city, method in pairs
    ]
    _print_table(headers, table, lang)
    click.echo(click.style(labels(RATIO_TITLE), bold=True))
    _print_table(
        [labels(CITY), labels(METHOD), labels(CRUDE), labels(ADJUSTED), "n"],
        [
            [
                city,
                labels.method(method),
                _ratio(by_key.get((city, method, "crude_risk_ratio_12m")), lang),
                _ratio(by_key.get((city, method, "adjusted_risk_ratio_12m")), lang),
                number(by_key[(city, method, "adjusted_risk_ratio_12m")]["n"], lang, "#,##0"),
            ]
            for city, method in pairs
        ],
        lang,
    )
    click.echo(f"{labels(INTERVAL)} {labels(AT_RISK)} {labels(CAVEAT)}")


def run(
    city: str,
    database_url: str | None,
    cities: tuple[str, ...],
    methods: tuple[str, ...],
    since: str | None,
    as_of: str | None,
    public_only: bool,
    output: str,
    lang: str,
    pooled_only: bool = False,
) -> None:
    """``innoplat evidence``, and ``innoplat compare --pooled`` (``pooled_only``: its pooled rows)."""
    moment = None
    if as_of:
        try:
            moment = datetime.fromisoformat(as_of.strip())
        except ValueError:
            raise click.BadParameter(
                f"{as_of!r} is not a date (YYYY-MM-DD)", param_hint="--as-of"
            ) from None
    with city_transaction(city, database_url) as (_platform, session, row):
        found = method_evidence(
            session,
            cities=split_values(cities),
            methods=split_values(methods),
            since=since,
            as_of=moment,
            public_only=public_only,
        )
        labels = labels_for(
            session,
            lang,
            method_keys=(r["method"] for r in found.rows),
            default_locale=row.default_locale,
        )
    rows = pooled_rows(found.rows) if pooled_only else found.rows
    if output == "csv":
        click.echo(evidence_as_csv(rows), nl=False)
    elif output == "json":
        click.echo(evidence_as_json(rows))
    elif not pooled_only:
        print_evidence(found, labels)
    elif not rows:
        click.echo(labels(NOTHING_APPLIED))
    else:
        print_pooled(rows, labels)
        click.echo(f"{labels(INTERVAL)} {labels(CAVEAT)}")


@click.command()
@city_options
@click.option("--cities", "cities", multiple=True, metavar="SLUGS",
              help="Cities, comma-separated (default: all, peers included).")  # fmt: skip
@click.option("--methods", "methods", multiple=True, metavar="KEYS",
              help="Shared method keys, comma-separated (default: every method applied).")  # fmt: skip
@click.option("--since", metavar="YYYY-MM-DD", help="Only ideas submitted on or after this date.")
@click.option(
    "--as-of",
    "as_of",
    metavar="YYYY-MM-DD",
    help="The data's date for this instance's own city (default: the start of today, UTC); peers use their bundle's.",
)
@click.option("--public-only", is_flag=True, help="Count public ideas only.")
@lang_option
@click.option(
    "--format", "output", type=click.Choice(["table", "csv", "json"]), default="table",
    show_default=True,
)  # fmt: skip
def evidence(**options: Any) -> None:
    """Which methods drive implementation: time to it, adjusted and pooled across cities.

    Per city and method: the cumulative incidence of implementation at 6, 12 and 24 months
    (closure competing, open ideas censored), the crude and the Mantel–Haenszel risk ratio of
    implementation within 12 months; per method the random-effects pooled risk ratio. CSV and
    JSON rows carry the keys of docs/comparing.md ("Evidence").
    """
    run(**options)


COMMANDS = [evidence]
