"""A second instance beside the test's own (a database of its own on the same kind of
server), its web app served on 127.0.0.1, and the command line."""

from __future__ import annotations

import copy
import itertools
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from innoplat.core.platform import Platform
from innoplat.core.services import exchange
from innoplat.core.testing import city_with_plugins, opened_platforms, with_demo_ideas
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


@pytest.fixture(scope="session")
def export_demo_kiruna(sqlite_template, tmp_path_factory) -> Callable[[int, int], dict[str, Any]]:
    """``export_demo_kiruna(ideas, seed)`` → a bundle of Kiruna with synthetic ideas, a copy the
    test may change: a bundle is plain data, so each is made once for the whole run."""
    made: dict[tuple[int, int], dict[str, Any]] = {}

    def export(ideas: int, seed: int) -> dict[str, Any]:
        if (ideas, seed) not in made:
            path = tmp_path_factory.mktemp("kiruna") / "kiruna.sqlite3"
            shutil.copyfile(sqlite_template, path)
            with opened_platforms() as open_platform:
                platform = open_platform(city_with_plugins("kiruna"), f"sqlite:///{path}")
                with_demo_ideas(platform, ideas, seed=seed)
                with platform.transaction() as session:
                    made[ideas, seed] = exchange.export_city(session, platform.city_row(session))
        return copy.deepcopy(made[ideas, seed])

    return export


@pytest.fixture
def make_instance(make_database) -> Iterator[Callable[[str], Platform]]:
    """``make_instance("lund")`` → an initialised platform of that city in a database of its own."""
    with opened_platforms() as open_platform:
        yield lambda city: open_platform(city_with_plugins(city), make_database())


@pytest.fixture
def innoplat(run_cli):
    """``innoplat(*args)`` → the exit code, standard output and standard error of a command."""
    return run_cli


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


@pytest.fixture
def lund(make_instance) -> Platform:
    """Another instance: Lund's own platform, with no peers yet."""
    return make_instance("lund")
