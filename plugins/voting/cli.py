"""``innoplat voting``: converting supports stored by 0.1.0 to keyed hashes."""

from __future__ import annotations

import os

import click

from innoplat.core.toolkit import city_options, city_transaction

from . import supports


@click.group("voting")
def voting() -> None:
    """Supports of ideas."""


@voting.command("rekey-supports")
@city_options
def rekey_supports(city: str, database_url: str | None) -> None:
    """Convert supports stored under an unsalted SHA-256 (0.1.0) into keyed hashes.

    Needs INNOPLAT_SECRET_KEY, the web platform's secret. Run once after upgrading; running
    it again changes nothing. Every city of the database is converted.
    """
    secret = os.environ.get("INNOPLAT_SECRET_KEY")
    if not secret:
        raise click.UsageError(
            "set INNOPLAT_SECRET_KEY to the web platform's secret key: supports are keyed with it"
        )
    with city_transaction(city, database_url) as (_platform, session, _row):
        converted = supports.rekey_legacy_supports(session, secret)
    click.echo(f"Converted {converted} supports to keyed hashes.")
