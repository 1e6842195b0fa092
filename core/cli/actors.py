"""``innoplat actors``: the organisations of a city's platform."""

from __future__ import annotations

import click

from ..models import OrganisationKind
from ..services import actors as actor_service
from ..services import figures
from .common import city_options, city_transaction, json_option, print_json, print_table


@click.group()
def actors() -> None:
    """Organisations taking part in the platform and its ideas."""


@actors.command("list")
@city_options
@click.option(
    "--kind",
    type=click.Choice([k.value for k in OrganisationKind]),
    help="Only organisations of this kind.",
)
@json_option
def list_(city: str, database_url: str | None, kind: str | None, as_json: bool) -> None:
    """A city's organisations with their kind, platform role and number of ideas."""
    with city_transaction(city, database_url) as (_platform, session, row):
        counts = figures.organisation_idea_counts(session, row, public_only=False)
        found = [
            {
                "key": o.key,
                "name": o.name,
                "kind": o.kind.value,
                "platform_role": o.platform_role,
                "parent": o.parent.key if o.parent else None,
                "website": o.website,
                "ideas": counts.get(o.id, 0),
                "synthetic": o.is_synthetic,
            }
            for o in actor_service.list_organisations(session, row, kind=kind)
        ]
    if as_json:
        print_json(found)
        return
    print_table(
        ["key", "name", "kind", "role", "ideas"],
        [[o["key"], o["name"], o["kind"], o["platform_role"] or "", o["ideas"]] for o in found],
    )
