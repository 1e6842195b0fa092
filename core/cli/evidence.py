"""``innoplat evidence``: time to implementation, adjusted and pooled effects, as a table, CSV or JSON."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from ..services.evidence.analysis import (
    Evidence,
    Row,
    evidence_as_csv,
    evidence_as_json,
    method_evidence,
)
from .common import (
    city_options,
    city_transaction,
    lang_option,
    number,
    percent,
    split_values,
)

POOLED = "pooled_risk_ratio_12m"


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


def _print_table(headers: list[str], table: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(headers)]
    click.echo(
        "  ".join(click.style(h.ljust(w), bold=True) for h, w in zip(headers, widths, strict=True))
    )
    for line in table:
        click.echo("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
    click.echo()


def pooled_rows(rows: list[Row]) -> list[Row]:
    """The pooled rows (one per method, ``city`` None), as they come in the evidence rows."""
    return [r for r in rows if r["metric"] == POOLED]


def print_pooled(rows: list[Row], lang: str) -> None:
    """The methods ranked by their pooled risk ratio, with intervals and heterogeneity."""
    pooled = sorted(
        pooled_rows(rows), key=lambda r: (r["value"] is None, -(r["value"] or 0), r["method"])
    )
    click.echo(click.style("Pooled risk ratio of implementation within 12 months", bold=True))
    _print_table(
        ["method", "risk ratio (95 %)", "prediction", "τ²", "I²", "cities"],
        [
            [
                r["method"],
                _ratio(r, lang) if r["value"] is not None else "not pooled",
                f"{number(r['prediction_low'], lang)}–{number(r['prediction_high'], lang)}"
                if r["prediction_low"] is not None
                else "",
                number(r["tau2"], lang, "#,##0.000") if r["tau2"] is not None else "",
                percent(r["i2"], lang) if r["i2"] is not None else "",
                str(r["n"]),
            ]
            for r in pooled
        ],
    )


NOTHING = "No method was applied to any idea of these cities (in this period)."
CAVEAT = (
    "Observational data: a ratio says how ideas with a method fared, not that the method caused it."
)


def print_evidence(evidence: Evidence, lang: str = "en") -> None:
    """Pooled effects first (the ranking), then per city: incidence and risk ratios."""
    rows = evidence.rows
    if not rows:
        click.echo(NOTHING)
        return
    print_pooled(rows, lang)
    by_key = {(r["city"], r["method"], r["metric"]): r for r in rows}
    pairs = sorted({(r["city"], r["method"]) for r in rows if r["city"] is not None})
    click.echo(click.style("Per city: cumulative incidence of implementation", bold=True))
    headers = ["city", "method", "6 months", "12 months", "24 months", "12 m without"]
    table = [
        [
            city,
            method,
            *(_share(by_key.get((city, method, f"incidence_{m}m")), lang) for m in (6, 12, 24)),
            _share(by_key.get((city, method, "incidence_12m_without")), lang),
        ]
        for city, method in pairs
    ]
    _print_table(headers, table)
    click.echo(click.style("Per city: risk ratio within 12 months", bold=True))
    _print_table(
        ["city", "method", "crude", "adjusted (year, focus area)", "n"],
        [
            [
                city,
                method,
                _ratio(by_key.get((city, method, "crude_risk_ratio_12m")), lang),
                _ratio(by_key.get((city, method, "adjusted_risk_ratio_12m")), lang),
                number(by_key[(city, method, "adjusted_risk_ratio_12m")]["n"], lang, "#,##0"),
            ]
            for city, method in pairs
        ],
    )
    click.echo(f"(low–high): 95 % interval. [n]: ideas still at risk. {CAVEAT}")


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
    with city_transaction(city, database_url) as (_platform, session, _row):
        found = method_evidence(
            session,
            cities=split_values(cities),
            methods=split_values(methods),
            since=since,
            as_of=moment,
            public_only=public_only,
        )
    rows = pooled_rows(found.rows) if pooled_only else found.rows
    if output == "csv":
        click.echo(evidence_as_csv(rows), nl=False)
    elif output == "json":
        click.echo(evidence_as_json(rows))
    elif not pooled_only:
        print_evidence(found, lang)
    elif not rows:
        click.echo(NOTHING)
    else:
        print_pooled(rows, lang)
        click.echo(f"(low–high): 95 % interval. {CAVEAT}")


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
