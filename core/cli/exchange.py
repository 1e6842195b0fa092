"""``innoplat export`` / ``import`` / ``pull``: moving exchange bundles between instances."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import click

from .. import db
from ..errors import InnoplatError
from ..platform import init_command, installed_migration_locations
from ..services import cities as city_service
from ..services import exchange, peers, signing

_db_option: Any = click.option(
    "--db",
    "database_url",
    envvar="INNOPLAT_DATABASE_URL",
    metavar="URL",
    help="Database URL (default: a SQLite file innoplat.sqlite3 here; postgresql://… for PostgreSQL).",
)


def _sessions(database_url: str | None, city: str = "SLUG"):  # type: ignore[no-untyped-def]
    """The database's engine and sessions, once it is checked (as ``city_transaction`` does)."""
    engine = db.make_engine(database_url or db.default_database_url())
    try:
        db.check_schema(engine, installed_migration_locations(), fix=init_command(city))
    except InnoplatError:
        engine.dispose()
        raise
    return engine, db.session_factory(engine)


def _report(result: exchange.PeerImport, source: str) -> None:
    label = result.city.label("en")
    if result.action == "unchanged":
        click.echo(
            f"{label} ({result.city.slug}) is already up to date with {source}; nothing changed."
        )
    else:
        click.echo(
            f"{result.action.capitalize()} {label} ({result.city.slug}) as a read-only peer from "
            f"{source}: {result.ideas} public ideas."
        )
    if result.redacted:
        click.echo(
            f"Personal data (e-mail addresses, phone numbers, personal identity numbers) was "
            f"redacted from {result.redacted} texts.",
            err=True,
        )


def _bar(length: int, label: str) -> Any:
    """A progress bar on standard error when it is a terminal; nothing in scripts and logs."""
    if not sys.stderr.isatty():
        return nullcontext(SimpleNamespace(update=lambda n: None))
    return click.progressbar(length=length, label=label, show_pos=True, file=sys.stderr)


@click.command("export")
@click.option(
    "--city",
    envvar="INNOPLAT_CITY",
    default="kiruna",
    show_default=True,
    metavar="SLUG",
    help="The city to export (this instance's own, or a peer).",
)
@_db_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    default="-",
    show_default=True,
    help="The bundle file ('-': standard output).",
)
@click.option("--pretty", is_flag=True, help="Indent the JSON for reading.")
def export(city: str, database_url: str | None, output: str, pretty: bool) -> None:
    """Write a city's public data as an exchange bundle (docs/exchange.md): no personal data.

    The bundle is written as the database is read, in constant memory; a file that cannot
    be completed (a record that breaks a rule) is removed again.
    """
    engine, sessions = _sessions(database_url, city)
    target = Path(output)
    try:
        with db.transaction(sessions) as session:
            row = city_service.get_city(session, city)
            # Only the instance's own city is signed: a peer's bundle is its publisher's word.
            key = None if row.is_peer else signing.ensure_key(session, row)
            total = exchange.count_public_ideas(session, row)
            if output == "-":
                exchange.write_bundle(session, row, sys.stdout, pretty=pretty)
                return
            try:
                with (
                    target.open("w", encoding="utf-8") as out,
                    _bar(total, f"Exporting {row.slug}") as bar,
                ):
                    exchange.write_bundle(session, row, out, pretty=pretty, progress=bar.update)
            except BaseException:
                target.unlink(missing_ok=True)
                raise
    finally:
        engine.dispose()
    signed = ""
    if key is not None:
        signed = f", signed in {signing.write_sidecar(key, city, target)}"
    click.echo(f"Exported {city}: {total} public ideas to {output}{signed}.", err=True)


def _check_signature(
    sessions: Any, slug: str | None, bundle_file: str, public_key: str | None
) -> None:
    if public_key is None:
        with db.transaction(sessions) as session:
            public_key = peers.pinned_key(session, str(slug))
    if public_key is None:
        raise InnoplatError(
            f"{bundle_file}: no key to check its signature against ({slug} is not a peer here): "
            "add it with innoplat peers add URL, give its key with --key, or pass --unsigned"
        )
    if bundle_file == "-":
        raise InnoplatError(
            "a bundle on standard input has no signature beside it: "
            "import the file with its .sig, or pass --unsigned"
        )
    signing.verify_file(signing.check_public_key(public_key), Path(bundle_file))


def _slug_of(path: Path) -> str | None:
    """The city a bundle file is of, read from its first fields only."""
    with path.open("rb") as stream:
        for kind, key, value in exchange.items(stream, name=str(path)):
            if kind != "field":
                return None
            if key == "city":
                return value.get("slug") if isinstance(value, dict) else None
    return None


@click.command("import")
@click.argument("bundle_file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@_db_option
@click.option(
    "--key",
    "public_key",
    metavar="BASE64",
    help="The publisher's public key to check the signature against (default: the key "
    "pinned by innoplat peers add).",
)
@click.option("--unsigned", is_flag=True, help="Import without checking who signed the bundle.")
def import_(
    bundle_file: str, database_url: str | None, public_key: str | None, unsigned: bool
) -> None:
    """Import a sibling's bundle as a read-only peer city (a newer bundle updates it).

    The bundle's signature (BUNDLE_FILE.sig beside it, written by innoplat export) must match
    the key pinned for its city, or the key given with --key; --unsigned skips the check.
    The file is read once, record by record, and written in batches inside one
    transaction: a refused record leaves the database as it was.
    """
    engine, sessions = _sessions(database_url)
    source = str(Path(bundle_file).resolve()) if bundle_file != "-" else "stdin"
    try:
        if not unsigned:
            slug = None if bundle_file == "-" else _slug_of(Path(bundle_file))
            _check_signature(sessions, slug, bundle_file, public_key)
        with db.transaction(sessions) as session:
            if bundle_file == "-":
                result = exchange.import_bundle(
                    session, sys.stdin.buffer, source=source, name=bundle_file
                )
            else:
                size = Path(bundle_file).stat().st_size
                with (
                    Path(bundle_file).open("rb") as stream,
                    _bar(size, f"Importing {Path(bundle_file).name} (bytes)") as bar,
                ):
                    result = exchange.import_bundle(
                        session, stream, source=source, name=bundle_file, progress=bar.update
                    )
            _report(result, bundle_file)
    finally:
        engine.dispose()


COMMANDS = [export, import_]
