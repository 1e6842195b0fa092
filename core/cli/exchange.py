"""``innoplat export`` / ``import`` / ``pull``: moving exchange bundles between instances."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy import inspect

from .. import db
from ..errors import InnoplatError
from ..services import cities as city_service
from ..services import exchange, peers, signing

_db_option: Any = click.option(
    "--db",
    "database_url",
    envvar="INNOPLAT_DATABASE_URL",
    metavar="URL",
    help="Database URL (default: a SQLite file innoplat.sqlite3 here; postgresql://… for PostgreSQL).",
)


def _sessions(database_url: str | None):  # type: ignore[no-untyped-def]
    engine = db.make_engine(database_url or db.default_database_url())
    if not inspect(engine).has_table("city"):
        engine.dispose()
        raise InnoplatError(
            "this database has no innoplat tables yet (run: innoplat init --city SLUG)"
        )
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
    """Write a city's public data as an exchange bundle (docs/exchange.md): no personal data."""
    engine, sessions = _sessions(database_url)
    try:
        with db.transaction(sessions) as session:
            row = city_service.get_city(session, city)
            bundle = exchange.export_city(session, row)
            # Only the instance's own city is signed: a peer's bundle is its publisher's word.
            key = None if row.is_peer else signing.ensure_key(session, row)
    finally:
        engine.dispose()
    text = exchange.dumps(bundle, pretty=pretty)
    if output == "-":
        click.echo(text)
        return
    Path(output).write_text(text + "\n", encoding="utf-8")
    signed = ""
    if key is not None:
        signed = f", signed in {signing.write_sidecar(key, city, Path(output))}"
    click.echo(
        f"Exported {city}: {len(bundle['ideas'])} public ideas to {output}{signed}.", err=True
    )


def _check_signature(sessions: Any, bundle: Any, bundle_file: str, public_key: str | None) -> None:
    city = bundle.get("city") if isinstance(bundle, dict) else None
    slug = city.get("slug") if isinstance(city, dict) else None
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
    """
    text = sys.stdin.buffer.read() if bundle_file == "-" else Path(bundle_file).read_bytes()
    bundle = exchange.loads(text, source=bundle_file)
    engine, sessions = _sessions(database_url)
    try:
        if not unsigned:
            _check_signature(sessions, bundle, bundle_file, public_key)
        with db.transaction(sessions) as session:
            result = exchange.import_bundle(
                session,
                bundle,
                source=str(Path(bundle_file).resolve()) if bundle_file != "-" else "stdin",
            )
            _report(result, bundle_file)
    finally:
        engine.dispose()


COMMANDS = [export, import_]
