"""``innoplat adopt`` and ``innoplat diffusion``: practices that travel between the cities."""

from __future__ import annotations

import io
import json
from typing import Any

import click

from ..services import diffusion
from ..services.serialisation import timestamp
from ..services.spreadsheets import SafeDictWriter
from .common import city_options, city_transaction

ADOPTION_KEYS = (
    "source_city",
    "source",
    "source_title",
    "source_phase",
    "source_implemented_at",
    "adopting_city",
    "adopted",
    "adopted_at",
    "adopted_phase",
    "adopted_implemented_at",
    "days_to_adoption",
)


def adoption_row(adoption: diffusion.Adoption) -> dict[str, Any]:
    return {
        "source_city": adoption.source_city.slug,
        "source": adoption.source.reference,
        "source_title": adoption.source.title,
        "source_phase": str(adoption.source.phase),
        "source_implemented_at": timestamp(adoption.source_implemented_at),
        "adopting_city": adoption.adopting_city.slug,
        "adopted": adoption.adopted.reference,
        "adopted_at": timestamp(adoption.adopted.submitted_at),
        "adopted_phase": str(adoption.adopted.phase),
        "adopted_implemented_at": timestamp(adoption.adopted_implemented_at),
        "days_to_adoption": round(adoption.days_to_adoption, 1),
    }


@click.command()
@city_options
@click.argument("reference")
@click.option("--title", help="A title of this city's own (default: the source idea's).")
@click.option("--actor", help="Who adopts it, for the audit trail.")
def adopt(
    city: str, database_url: str | None, reference: str, title: str | None, actor: str | None
) -> None:
    """Adopt another city's idea REFERENCE here: a new local idea linked to it (reused_from)."""
    with city_transaction(city, database_url) as (_platform, session, row):
        idea = diffusion.adopt_idea(session, row, reference, title=title, actor=actor)
        click.echo(f"{idea.reference}  {idea.title}  (adopted from {idea.reused_from_reference})")


@click.command("diffusion")
@city_options
@click.option("--all-ideas", is_flag=True, help="Internal ideas too (default: public ideas only).")
@click.option(
    "--format", "output", type=click.Choice(["table", "csv", "json"]), default="table",
    show_default=True,
)  # fmt: skip
def diffusion_command(city: str, database_url: str | None, all_ideas: bool, output: str) -> None:
    """Practices that travel: who adopted what from whom, when, and how far each got."""
    with city_transaction(city, database_url) as (_platform, session, _row):
        rows = [adoption_row(a) for a in diffusion.adoptions(session, public_only=not all_ideas)]
        figures = diffusion.diffusion_figures(session, public_only=not all_ideas)
    if output == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if output == "csv":
        out = io.StringIO()
        writer = SafeDictWriter(out, fieldnames=list(ADOPTION_KEYS), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: "" if r[k] is None else r[k] for k in ADOPTION_KEYS} for r in rows)
        click.echo(out.getvalue(), nl=False)
        return
    if not rows:
        click.echo("No idea has been adopted from another city yet.")
        return
    for r in rows:
        click.echo(
            f"{r['adopting_city']} {r['adopted']} ({r['adopted_phase']}) ← {r['source_city']} "
            f"{r['source']} ({r['source_phase']}), {r['days_to_adoption']:.0f} days later: "
            f"{r['source_title']}"
        )
    click.echo()
    for f in figures:
        median = "–" if f.median_days_to_adoption is None else f"{f.median_days_to_adoption:.0f}"
        click.echo(
            f"{f.city.slug}: {f.adopted_elsewhere} ideas adopted elsewhere "
            f"({f.adoptions_by_others} adoptions, median {median} days); {f.adopted_here} adopted here"
        )


COMMANDS = [adopt, diffusion_command]
