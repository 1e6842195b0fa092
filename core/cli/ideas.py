"""``innoplat ideas``: list, show, submit and move ideas."""

from __future__ import annotations

from typing import Any

import click

from ..models import Idea, InitiatorKind, OriginChannel, Phase
from ..services import ideas as idea_service
from ..services import serialisation
from ..services.ideas import IdeaFilter, Submitter
from .common import (
    city_options,
    city_transaction,
    enum_option,
    json_option,
    print_json,
    print_table,
)

#: An idea in ``ideas list --json``, in order.
SUMMARY_FIELDS = (
    "reference",
    "title",
    "stage",
    "phase",
    "submitted_at",
    "visibility",
    "synthetic",
)
#: What ``ideas show --json`` adds: every field, staff notes included.
DETAIL_FIELDS = (
    *SUMMARY_FIELDS,
    "city",
    "summary",
    "description",
    "origin_channel",
    "initiator_kind",
    "owner_organisation",
    "focus_areas",
    "sdgs",
    "facet",
    "value_dimensions",
    "reused_from",
    "version",
)


def idea_summary(idea: Idea) -> dict[str, Any]:
    return serialisation.idea(idea, SUMMARY_FIELDS)


def idea_detail(idea: Idea) -> dict[str, Any]:
    return {
        **serialisation.idea(idea, DETAIL_FIELDS),
        "transitions": [serialisation.transition(t) for t in idea.transitions],
        "methods": [serialisation.application(a) for a in idea.method_applications],
        "participations": [serialisation.participation(p) for p in idea.participations],
    }


@click.group()
def ideas() -> None:
    """List, show, submit and move ideas."""


@ideas.command("list")
@city_options
@click.option("--stage", help="Only ideas in this stage (the city's stage key).")
@enum_option("--phase", values=Phase, help="Only ideas in this canonical phase.")
@click.option("--focus-area", help="Only ideas in this focus area.")
@click.option("--sdg", type=click.IntRange(1, 17), help="Only ideas contributing to this UN SDG.")
@click.option("--method", help="Only ideas a method was applied to (shared or local key).")
@click.option("--organisation", help="Only ideas this organisation takes part in.")
@click.option(
    "--search",
    "text",
    help='Full-text search: every word must match (prefixes too); "a phrase", -word, OR.',
)
@click.option(
    "--sort",
    type=click.Choice(list(idea_service.SORTS)),
    default="relevance",
    show_default=True,
    help="relevance: best match first when searching, newest first otherwise.",
)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--offset", default=0, type=click.IntRange(min=0))
@json_option
def list_(
    city: str,
    database_url: str | None,
    limit: int,
    offset: int,
    as_json: bool,
    text: str | None,
    **filters: Any,
) -> None:
    """List a city's ideas, newest first."""
    with city_transaction(city, database_url) as (_platform, session, row):
        wanted = IdeaFilter(text=text, **filters)
        found = idea_service.list_ideas(session, row, wanted, limit=limit, offset=offset)
        total = idea_service.count_ideas(session, row, wanted)
        if as_json:
            print_json({"total": total, "ideas": [idea_summary(i) for i in found]})
            return
        print_table(
            ["reference", "stage", "title"],
            [[i.reference, i.stage.label("en", row.default_locale), i.title] for i in found],
        )
        click.echo(f"{len(found)} of {total} ideas")


@ideas.command("show")
@city_options
@click.argument("reference")
@json_option
def show(city: str, database_url: str | None, reference: str, as_json: bool) -> None:
    """Show one idea with its stage history, methods and participating organisations."""
    with city_transaction(city, database_url) as (_platform, session, row):
        detail = idea_detail(idea_service.get_idea(session, reference, city=row))
    if as_json:
        print_json(detail)
        return
    click.echo(click.style(f"{detail['reference']}  {detail['title']}", bold=True))
    click.echo(f"Stage: {detail['stage']} ({detail['phase']}), version {detail['version']}")
    if detail["summary"]:
        click.echo(detail["summary"])
    click.echo("\nHistory:")
    for t in detail["transitions"]:
        click.echo(f"  {t['at']}  {t['from'] or '—'} → {t['to']}  {t['note']}")
    if detail["methods"]:
        click.echo("Methods:")
        for m in detail["methods"]:
            click.echo(f"  {m['method']}: {m['outcome']} (from {m['started_on']})")
    if detail["participations"]:
        click.echo("Organisations:")
        for p in detail["participations"]:
            click.echo(f"  {p['organisation']} ({p['role']})")


@ideas.command("submit")
@city_options
@click.option("--title", required=True, help="A short title.")
@click.option("--summary", default="", help="One or two sentences.")
@click.option("--description", default="", help="The full description (Markdown).")
@enum_option("--channel", "origin_channel", values=OriginChannel, default="staff")
@enum_option("--initiator", "initiator_kind", values=InitiatorKind, default="staff")
@click.option("--focus-area", "focus_areas", multiple=True, help="A focus area key (repeatable).")
@click.option(
    "--sdg", "sdgs", multiple=True, type=click.IntRange(1, 17), help="A UN SDG number (repeatable)."
)
@click.option("--owner", "owner_organisation", help="The owning organisation's key.")
@click.option(
    "--actor", default="cli", show_default=True, help="Who is submitting, for the audit trail."
)
@json_option
def submit(city: str, database_url: str | None, as_json: bool, **fields: Any) -> None:
    """Submit a new idea to the city's first stage."""
    fields["focus_areas"] = list(fields["focus_areas"])
    fields["sdgs"] = list(fields["sdgs"])
    with city_transaction(city, database_url) as (_platform, session, row):
        idea = idea_service.submit_idea(session, row, submitter=Submitter(), **fields)
        result = idea_summary(idea)
    if as_json:
        print_json(result)
    else:
        click.echo(f"Submitted {result['reference']} to stage {result['stage']}.")


@ideas.command("move")
@city_options
@click.argument("reference")
@click.option(
    "--to", "to", required=True, metavar="STAGE", help="The stage key to move the idea to."
)
@click.option("--note", default="", help="Why: kept in the stage history.")
@click.option(
    "--actor", default="cli", show_default=True, help="Who is moving it, for the audit trail."
)
@click.option(
    "--expect-version", type=int, help="Refuse if the idea changed since you read this version."
)
@json_option
def move(
    city: str,
    database_url: str | None,
    reference: str,
    to: str,
    note: str,
    actor: str,
    expect_version: int | None,
    as_json: bool,
) -> None:
    """Move an idea to another stage; only the city's allowed transitions are accepted."""
    with city_transaction(city, database_url) as (_platform, session, row):
        idea = idea_service.get_idea(session, reference, city=row)
        transition = idea_service.move_idea(
            session, idea, to, note=note, actor=actor, expected_version=expect_version
        )
        result = {
            "reference": idea.reference,
            "from": transition.from_stage.key if transition.from_stage else None,
            "to": transition.to_stage.key,
            "version": idea.version,
        }
    if as_json:
        print_json(result)
    else:
        click.echo(f"Moved {result['reference']} from {result['from']} to {result['to']}.")
