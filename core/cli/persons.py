"""``innoplat persons``: answer a data subject's access and erasure requests (GDPR Art. 15, 17)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from ..services import persons
from ..services.serialisation import json_default
from .common import F, city_options, city_transaction

SECRET_ENV = "INNOPLAT_SECRET_KEY"
#: Where an export goes instead of standard output.
OUTPUT_FILE = click.Path(dir_okay=False, writable=True, path_type=Path)


def _secret() -> str:
    secret = os.environ.get(SECRET_ENV)
    if not secret:
        raise click.UsageError(
            f"set {SECRET_ENV} to the web platform's secret key: supports and the audit "
            "trail identify a person by a keyed hash of their address"
        )
    return secret


def _subject(email: str, names: tuple[str, ...]) -> persons.DataSubject:
    return persons.data_subject(email, names=names, secret=_secret())


@click.group("persons")
def persons_group() -> None:
    """A person's data: export everything stored about them, or erase it."""


def _subject_options(func: F) -> F:
    """--email and --name: whom the request is about."""
    func = click.option(
        "--name",
        "names",
        multiple=True,
        help="A name they signed with (repeatable); names on their records are found anyway.",
    )(func)
    return click.option("--email", required=True, help="The person's e-mail address.")(func)


@persons_group.command("export")
@city_options
@_subject_options
@click.option(
    "--output",
    "-o",
    type=OUTPUT_FILE,
    help="Write the JSON document to this file instead of standard output.",
)
def export(
    city: str, database_url: str | None, email: str, names: tuple[str, ...], output: Path | None
) -> None:
    """Everything stored about a person (core and plugins), as one JSON document."""
    subject = _subject(email, names)
    with city_transaction(city, database_url) as (_platform, session, row):
        document = persons.export_personal_data(
            session, row, subject, actor="innoplat persons export"
        )
    text = json.dumps(document, ensure_ascii=False, indent=2, default=json_default) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}.", err=True)


@persons_group.command("erase")
@city_options
@_subject_options
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
def erase(
    city: str, database_url: str | None, email: str, names: tuple[str, ...], yes: bool
) -> None:
    """Remove or anonymise a person everywhere; their ideas stay, attributed anonymously."""
    subject = _subject(email, names)
    if not yes:
        click.confirm(
            f"Erase everything stored about {subject.email} in {city}? This cannot be undone",
            abort=True,
        )
    with city_transaction(city, database_url) as (_platform, session, row):
        changed = persons.erase_personal_data(session, row, subject, actor="innoplat persons erase")
    if not changed:
        click.echo(f"Nothing was stored about {subject.email} in {city}.")
        return
    click.echo(
        f"Erased {subject.email} in {city}: "
        + ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in changed.items())
        + "."
    )


@persons_group.command("expire-contacts")
@city_options
@click.option(
    "--days",
    type=click.IntRange(1, 36500),
    help="Override the city's privacy.contact_retention_days.",
)
def expire_contacts(city: str, database_url: str | None, days: int | None) -> None:
    """Remove personal data kept past its time: submitters' contact details once their idea has
    been closed for the retention period, and what each plugin keeps only for a while (a wish
    to follow whose link was never opened, a follower who never confirmed).

    The period is privacy.contact_retention_days in city.toml. One line per part; all of it is
    removed, or nothing. `innoplat worker` runs it daily; without the worker, run it daily from
    cron or a systemd timer. Running it again changes nothing.
    """
    with city_transaction(city, database_url) as (platform, session, row):
        period = days or platform.city.config.privacy.contact_retention_days
        expiry = persons.expire_personal_data(session, row, retention_days=period)
    for line in expiry.lines():
        click.echo(line)


COMMANDS = [persons_group]
