"""A second instance beside the test's own: a database of its own on the same kind of server."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator

import pytest

from innoplat.core.platform import Platform
from innoplat.core.testing import city_with_plugins

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
