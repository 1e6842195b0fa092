"""The ``innoplat`` command: every use case from the terminal, with ``--json`` for tools."""

from __future__ import annotations

import os
import sys

import click
from sqlalchemy.exc import DBAPIError

from ..db import driver_message
from ..errors import InnoplatError
from ..plugins import all_plugins_manager
from . import (
    actors,
    compare,
    diffusion,
    evidence,
    exchange,
    ideas,
    methods,
    peers,
    persons,
    scaffold,
    setup,
    users,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="innoplat")
def cli() -> None:
    """innoplat: municipal innovation platforms — ideas, methods, and how they compare across cities.

    Commands that work on a city take --city SLUG (or INNOPLAT_CITY) and --db URL
    (or INNOPLAT_DATABASE_URL; a SQLite file in the current folder by default).
    """


for command in (
    *setup.COMMANDS,
    ideas.ideas,
    methods.methods,
    actors.actors,
    users.users,
    *persons.COMMANDS,
    *compare.COMMANDS,
    *evidence.COMMANDS,
    *diffusion.COMMANDS,
    *exchange.COMMANDS,
    *peers.COMMANDS,
    scaffold.new_plugin,
):
    cli.add_command(command)


def _add_plugin_commands() -> None:
    for commands in all_plugins_manager().hook.innoplat_cli_commands():
        for command in commands or []:
            cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """Entry point: errors are one clear line on stderr and exit status 1, never a traceback
    nor a multi-line dump (a database error says only the driver's first line)."""
    try:
        _add_plugin_commands()
        code = cli.main(args=argv, prog_name="innoplat", standalone_mode=False)
        # Without standalone mode, click returns the code of a command's Exit instead of exiting.
        if isinstance(code, int) and code:
            sys.exit(code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except InnoplatError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Interrupted; the current change was rolled back.", err=True)
        sys.exit(130)
    except DBAPIError as exc:  # the database failed during the command (checked before it)
        if os.environ.get("INNOPLAT_DEBUG") == "1":
            raise
        click.echo(f"Error: the database failed: {driver_message(exc)}{DEBUG_HINT}", err=True)
        sys.exit(1)
    except Exception as exc:  # the last line of defence: still no traceback for a user
        if os.environ.get("INNOPLAT_DEBUG") == "1":
            raise
        message = driver_message(exc)
        click.echo(f"Error: unexpected {type(exc).__name__}: {message}{DEBUG_HINT}", err=True)
        sys.exit(1)


#: Said after an error innoplat did not foresee, on the same line.
DEBUG_HINT = " (set INNOPLAT_DEBUG=1 to see the traceback)"
