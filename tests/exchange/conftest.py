"""A second instance beside the test's own (a database of its own on the same kind of
server), its web app served on 127.0.0.1, and the command line."""

from __future__ import annotations

import itertools
import os
import shutil
import threading
from collections.abc import Callable, Iterator

import pytest
from werkzeug.serving import make_server

from innoplat.core.cli import main
from innoplat.core.platform import Platform
from innoplat.core.testing import city_with_plugins
from innoplat.core.web import create_app

_counter = itertools.count()


@pytest.fixture
def make_database(
    request: pytest.FixtureRequest, database_url: str, tmp_path
) -> Iterator[Callable[[], str]]:
    """``make_database()`` → the URL of another empty, migrated database of the test's kind."""
    dropped: list[str] = []

    def make() -> str:
        n = next(_counter)
        if database_url.startswith("sqlite"):
            path = tmp_path / f"other-{n}.sqlite3"
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
            return f"sqlite:///{path}"
        server = request.getfixturevalue("postgresql_server")
        name = f"innoplat_other_{os.getpid()}_{n}"
        server.execute(f"CREATE DATABASE {name} TEMPLATE innoplat_template")
        dropped.append(name)
        return server.url(name)

    yield make
    for name in dropped:
        request.getfixturevalue("postgresql_server").execute(
            f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )


@pytest.fixture
def make_instance(make_database) -> Iterator[Callable[[str], Platform]]:
    """``make_instance("lund")`` → an initialised platform of that city in a database of its own."""
    made: list[Platform] = []

    def make(city: str) -> Platform:
        platform = Platform.open(city_with_plugins(city), make_database())
        platform.sync()
        made.append(platform)
        return platform

    yield make
    for platform in made:
        platform.dispose()


@pytest.fixture
def innoplat(capsys):
    """``innoplat(*args)`` → the exit code, standard output and standard error of a command."""

    def run(*args: str) -> tuple[int, str, str]:
        code = 0
        try:
            main(list(args))
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def serve_platform() -> Iterator[Callable[..., str]]:
    """``serve_platform(platform)`` → the base URL of its web app on 127.0.0.1."""
    servers = []

    def start(platform, app=None) -> str:
        app = app or create_app(platform=platform, config={"TESTING": True})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
