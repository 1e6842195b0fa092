"""``innoplat methods``: the method catalogue, and applying a method to an idea."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from ..i18n import N_
from ..models import Method, Outcome, localized
from ..services import ideas as idea_service
from ..services import methods as method_service
from .common import Labels, city_options, city_transaction, json_option, print_json, print_table

#: The words of the list and of a method's page in the terminal, in the --lang's language;
#: keys (of methods, categories and phases) stay keys, as the options take them.
HEADINGS = (N_("Key"), N_("Name"), N_("Category"), N_("Phases"))
CATEGORY_AND_PHASES = N_("Category: %(category)s; phases: %(phases)s")
REFERENCE = N_("Reference: %(reference)s")


def method_data(method: Method) -> dict[str, Any]:
    return {
        "key": method.key,
        "shared_key": method.shared_key,
        "local": method.city_id is not None,
        "name": method.name,
        "description": method.description,
        "category": method.category,
        "phases": list(method.phases),
        "guide_steps": list(method.guide_steps),
        "reference": method.reference,
        "source": method.source,
    }


@click.group()
def methods() -> None:
    """The catalogue of innovation methods, and applying them to ideas."""


@methods.command("list")
@city_options
@click.option(
    "--lang", default="en", show_default=True, help="Language of the names and the table's words."
)
@json_option
def list_(city: str, database_url: str | None, lang: str, as_json: bool) -> None:
    """The shared method catalogue and the city's local methods."""
    with city_transaction(city, database_url) as (_platform, session, row):
        found = [method_data(m) for m in method_service.list_methods(session, row)]
        labels = [
            m.label(lang, row.default_locale) for m in method_service.list_methods(session, row)
        ]
    if as_json:
        print_json(found)
        return
    words = Labels(lang)
    print_table(
        [words(heading) for heading in HEADINGS],
        [
            [
                m["key"] + (f" → {m['shared_key']}" if m["local"] else ""),
                label,
                m["category"],
                ", ".join(m["phases"]),
            ]
            for m, label in zip(found, labels, strict=True)
        ],
        lang=lang,
    )


@methods.command("show")
@city_options
@click.argument("key")
@click.option(
    "--lang", default="en", show_default=True, help="Language of the name, description and words."
)
@json_option
def show(city: str, database_url: str | None, key: str, lang: str, as_json: bool) -> None:
    """One method: what it is, where it is used, and a public reference."""
    with city_transaction(city, database_url) as (_platform, session, row):
        method = method_service.get_method(session, key, row)
        data = method_data(method)
        label = method.label(lang, row.default_locale)
        description = localized(method.description, lang, row.default_locale)
    if as_json:
        print_json(data)
        return
    click.echo(click.style(f"{label} ({data['key']})", bold=True))
    words = Labels(lang)
    click.echo(description)
    click.echo(
        words(CATEGORY_AND_PHASES, category=data["category"], phases=", ".join(data["phases"]))
    )
    if data["reference"]:
        click.echo(words(REFERENCE, reference=data["reference"]))


@methods.command("apply")
@city_options
@click.argument("reference")
@click.argument("key")
@click.option(
    "--outcome", type=click.Choice([o.value for o in Outcome]), default="ongoing", show_default=True
)
@click.option(
    "--started", type=click.DateTime(["%Y-%m-%d"]), help="Start date (YYYY-MM-DD; default today)."
)
@click.option("--ended", type=click.DateTime(["%Y-%m-%d"]), help="End date (YYYY-MM-DD).")
@click.option(
    "--organisation",
    "organisations",
    multiple=True,
    help="A participating organisation's key (repeatable).",
)
@click.option("--note", default="", help="What came of it.")
@click.option("--actor", default="cli", show_default=True)
@json_option
def apply(
    city: str,
    database_url: str | None,
    reference: str,
    key: str,
    outcome: str,
    started: Any,
    ended: Any,
    organisations: tuple[str, ...],
    note: str,
    actor: str,
    as_json: bool,
) -> None:
    """Record that method KEY was applied to idea REFERENCE, and with what outcome."""
    with city_transaction(city, database_url) as (_platform, session, row):
        idea = idea_service.get_idea(session, reference, city=row)
        application = method_service.apply_method(
            session,
            idea,
            key,
            outcome=outcome,
            started_on=started.date() if started else None,
            ended_on=ended.date() if ended else None,
            organisations=list(organisations),
            outcome_note=note,
            actor=actor,
        )
        result = {
            "reference": idea.reference,
            "method": application.method.key,
            "outcome": application.outcome.value,
            "started_on": (application.started_on or date.today()).isoformat(),
        }
    if as_json:
        print_json(result)
    else:
        click.echo(f"Applied {result['method']} to {result['reference']} ({result['outcome']}).")
