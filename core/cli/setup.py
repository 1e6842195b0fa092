"""Setting a city up: init, demo data, serving it, and inspecting cities and plugins."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from .. import demo_network
from ..config import city_folders, duplicate_city_folders, find_city_folder, load_city
from ..errors import InnoplatError
from ..platform import check_city
from ..plugins import (
    implemented_hooks,
    installed_plugins,
    new_manager,
    settings_problems,
)
from ..services import demo as demo_service
from .common import (
    city_options,
    count_option,
    json_option,
    open_platform,
    print_json,
    print_table,
)


@click.command()
@city_options
def init(city: str, database_url: str | None) -> None:
    """Create or upgrade the database and synchronise the city's configuration (idempotent)."""
    platform = open_platform(city, database_url, ready=False)
    try:
        row = platform.init()
    finally:
        platform.dispose()
    click.echo(
        f"{row.label('en')} ({row.slug}) is ready: {len(platform.city.config.stages)} stages, "
        f"{len(platform.city.config.organisations)} organisations."
    )


@click.command()
@city_options
@count_option("--ideas", "count", default=2000, help="How many synthetic ideas.")
@click.option(
    "--seed", default=1, show_default=True, type=int, help="The same seed gives the same data."
)
@count_option(
    "--siblings",
    "sibling_ideas",
    default=0,
    metavar="N",
    help="Also import each bundled sibling city's synthetic demo data (N ideas each) as a "
    "read-only peer, as if pulled from its own instance.",
)
def demo(city: str, database_url: str | None, count: int, seed: int, sibling_ideas: int) -> None:
    """Load deterministic synthetic demo data (replacing earlier demo data of the city).

    Runs init first, so it works on an empty database. The data follows the [demo] profile
    in the city's city.toml and is labelled synthetic in the data itself. With --siblings N
    the five sibling cities come too, as peers, so comparisons span six cities at once.
    Plugins' lifecycle hooks are not called: the ideas come with their whole history, and no
    e-mail goes out for them (docs/hooks.md, "Lifecycle events").
    """
    platform = open_platform(city, database_url, ready=False)
    try:
        platform.init()
        with platform.transaction() as session:
            row = platform.city_row(session)
            with click.progressbar(
                length=count,
                label=f"Synthetic ideas for {row.slug}",
                show_pos=True,
                file=sys.stderr,
            ) as bar:
                summary = demo_service.load_demo(
                    session, platform.city, row, ideas=count, seed=seed, progress=bar.update
                )
        peers = []
        if sibling_ideas:
            peers = demo_network.load_sibling_demos(
                platform,
                ideas=sibling_ideas,
                seed=seed,
                progress=lambda slug: click.echo(
                    f"Synthetic demo data of {slug}, imported as a peer", err=True
                ),
            )
    finally:
        platform.dispose()
    click.echo(
        f"Loaded {summary.ideas} synthetic ideas with {summary.transitions} stage transitions, "
        f"{summary.method_applications} method applications and {summary.participations} participations."
    )
    if peers:
        click.echo(
            f"Peers ({len(peers)}, synthetic): "
            + ", ".join(f"{p.slug} ({p.ideas} public ideas)" for p in peers)
            + "."
        )


@click.command()
@city_options
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug", is_flag=True, help="Flask's debugger and reloader (never in production).")
@click.option(
    "--sites",
    type=click.Path(exists=True, dir_okay=False),
    envvar="INNOPLAT_SITES",
    help="Serve several cities from one process, as a sites file names them (docs/deploying.md).",
)
def serve(
    city: str, database_url: str | None, host: str, port: int, debug: bool, sites: str | None
) -> None:
    """Serve the city's web platform with Flask's development server.

    In production run gunicorn instead: gunicorn 'innoplat.core.web:create_app(city="kiruna")'
    (several cities: gunicorn 'innoplat.core.web.sites:create_sites_app("sites.toml")').
    """
    from ..web import create_app, instance_folder, stored_secret_key

    if not sites:
        # The development server says at once what is wrong with the database (the app alone
        # starts without it, answering 503 until a server that is down comes back).
        open_platform(city, database_url).dispose()
    shown_host = "localhost" if host in ("0.0.0.0", "127.0.0.1", "::") else host
    # Flask's development server: links point at it unless INNOPLAT_BASE_URL says otherwise.
    config = {
        "INNOPLAT_BASE_URL": os.environ.get("INNOPLAT_BASE_URL") or f"http://{shown_host}:{port}"
    }
    if not os.environ.get("INNOPLAT_SECRET_KEY"):
        config["SECRET_KEY"] = stored_secret_key()
        click.echo(
            f"Secret key: {instance_folder() / 'secret_key'} (set INNOPLAT_SECRET_KEY in production)"
        )
    if sites:
        from werkzeug.serving import run_simple

        from ..web.sites import create_sites_app, load_sites

        loaded = load_sites(sites)
        dispatcher = create_sites_app(loaded, database_url, config)
        for site in loaded.sites:
            where = [f"http://{h}:{port}/" for h in site.hosts]
            where += [f"http://{host}:{port}{site.prefix}/"] if site.prefix else []
            state = dispatcher.problems.get(site.slug)
            click.echo(
                f"{site.slug}: {', '.join(where)}" + (f" — NOT SERVED: {state}" if state else "")
            )
        click.echo("(Ctrl+C to stop)")
        run_simple(host, port, dispatcher, use_debugger=debug, use_reloader=debug, threaded=True)
        return

    app = create_app(city=city, database_url=database_url, config=config)
    click.echo(
        f"Serving {app.extensions['innoplat'].city.slug} on http://{host}:{port}/ (Ctrl+C to stop)"
    )
    app.run(host=host, port=port, debug=debug, use_reloader=debug)


@click.command()
@json_option
def cities(as_json: bool) -> None:
    """The configured cities, and whether each passes every check `innoplat init` runs first.

    The city.toml, its plugins and their settings, the methods they contribute, and each
    local method's maps_to: what init refuses before it touches the database.
    """
    rows: list[dict[str, Any]] = []
    duplicates = duplicate_city_folders()
    for slug, folder in city_folders().items():
        try:
            if slug in duplicates:
                find_city_folder(slug)  # refuses an ambiguous slug, naming its folders
            definition = load_city(folder)
            check_city(definition)
            rows.append(
                {
                    "city": slug,
                    "name": definition.config.name.get("en", slug),
                    "valid": True,
                    "problem": None,
                    "folder": str(folder),
                }
            )
        except InnoplatError as exc:
            rows.append(
                {
                    "city": slug,
                    "name": "",
                    "valid": False,
                    "problem": str(exc),
                    "folder": str(folder),
                }
            )
    if as_json:
        print_json(rows)
        return
    print_table(
        ["city", "name", "valid", "problem"],
        [[r["city"], r["name"], "yes" if r["valid"] else "NO", r["problem"] or ""] for r in rows],
    )
    if not all(r["valid"] for r in rows):
        raise click.exceptions.Exit(1)


@click.command()
@click.option(
    "--city",
    envvar="INNOPLAT_CITY",
    metavar="SLUG",
    help="Also show which plugins this city enables, and any settings error.",
)
@json_option
def plugins(city: str | None, as_json: bool) -> None:
    """Installed plugins, whether a city enables them, and the hooks each implements."""
    definition = load_city(city) if city else None
    rows = []
    for name, entry_point in installed_plugins().items():
        manager = new_manager()
        state, problem = "installed", ""
        try:
            plugin = entry_point.load()
            manager.register(plugin, name=name)
            hooks = implemented_hooks(manager, plugin)
        except Exception as exc:
            hooks, state, problem = [], "broken", f"{type(exc).__name__}: {exc}"
        if definition is not None and state != "broken":
            if name in definition.config.plugins.enabled:
                state = "enabled"
                found = settings_problems(manager, definition).get(name)
                if found:
                    state, problem = "misconfigured", "; ".join(found)
            else:
                state = "disabled"
        rows.append(
            {
                "plugin": name,
                "module": entry_point.value,
                "state": state,
                "hooks": hooks,
                "problem": problem,
            }
        )
    if definition is not None:
        for name in definition.config.plugins.enabled:
            if name not in installed_plugins():
                rows.append(
                    {
                        "plugin": name,
                        "module": "",
                        "state": "missing",
                        "hooks": [],
                        "problem": "enabled in city.toml but not installed",
                    }
                )
    if as_json:
        print_json(rows)
        return
    print_table(
        ["plugin", "state", "hooks", "problem"],
        [[r["plugin"], r["state"], ", ".join(r["hooks"]), r["problem"]] for r in rows],
    )


COMMANDS = [init, demo, serve, cities, plugins]
