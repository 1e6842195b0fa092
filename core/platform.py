"""A city's running platform: its configuration, database and plugins, shared by web and CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pluggy
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from . import db
from .config import CityDefinition, load_city
from .errors import PluginError
from .models import City
from .plugins import HOOKS_KEY, Hooks, all_plugins_manager, build_manager
from .services import cities, facts, signing  # facts: its session listeners keep facts current


@dataclass
class Platform:
    """Everything one city's app or command needs; one per app, never a module global."""

    city: CityDefinition
    engine: Engine
    plugins: pluggy.PluginManager
    sessions: sessionmaker[Session]
    #: Whether a transaction opened without saying so may write; the web app answers per request.
    writes_by_default: Callable[[], bool] = field(default=lambda: True)

    @classmethod
    def open(
        cls,
        city: str | Path | CityDefinition,
        database_url: str | None = None,
        *,
        extra_plugins: list[Any] | None = None,
        engine: Engine | None = None,
    ) -> Platform:
        """Load the city, build its plugin manager and connect to its database.

        :param extra_plugins: plugin objects registered beside the enabled ones (tests use this).
        :param engine: an engine shared with other cities' platforms (one install, many cities).
        """
        definition = city if isinstance(city, CityDefinition) else load_city(city)
        manager = build_manager(definition, extra=extra_plugins or [])
        engine = engine or db.make_engine(database_url)
        sessions = db.session_factory(engine, info={HOOKS_KEY: Hooks(manager)})
        return cls(city=definition, engine=engine, plugins=manager, sessions=sessions)

    @property
    def hooks(self) -> Hooks:
        return Hooks(self.plugins)

    @contextmanager
    def transaction(self, *, write: bool | None = None) -> Iterator[Session]:
        """One use case, one transaction.

        :param write: whether the use case writes (on SQLite it then takes the write lock
            first); by default ``writes_by_default()`` decides: yes on the command line,
            no for a web page that is only read (GET).
        """
        may_write = self.writes_by_default() if write is None else write
        with db.transaction(self.sessions, write=may_write) as session:
            yield session

    def migration_locations(self) -> list[str]:
        """Alembic folders of every installed plugin and of this city's own plugins.

        All installed plugins, not only the enabled ones: one database may hold several
        cities, and a revision the database knows must never be missing from the scripts.
        """
        return _locations(
            [
                *all_plugins_manager().hook.innoplat_migration_locations(),
                *self.hooks.innoplat_migration_locations(),
            ]
        )

    def check_database(self) -> None:
        """Whether the database can be opened and holds the schema of this code and of every
        installed plugin, before a use case reads it.

        :raises DatabaseUnavailable: it cannot be opened, with the cause.
        :raises DatabaseNotReady: it has no innoplat tables or an older schema; the message
            names ``innoplat init`` for this city, which creates or upgrades it.
        """
        db.check_schema(self.engine, self.migration_locations(), fix=init_command(self.city.slug))

    def check(self) -> None:
        """Every check of the city that needs no database: its city.toml and plugin settings
        (checked when the platform was opened), the methods its plugins contribute, and its
        local methods' ``maps_to``. ``innoplat cities`` runs the same checks.

        :raises InnoplatError: the first problem, naming the file or plugin and the key.
        """
        check_city(self.city, self.plugins)

    def init(self) -> City:
        """Check the city, then create or upgrade the schema and synchronise the method
        catalogue and the city (idempotent). A city that fails a check leaves the database
        untouched."""
        self.check()
        db.check_upgradable(self.engine, self.migration_locations())
        db.upgrade(self.engine, self.migration_locations())
        with self.transaction() as session:
            # Derived data is computed with this code, once the schema is this code's.
            facts.build_missing(session)
        return self.sync()

    def sync(self) -> City:
        """Synchronise the method catalogue and the city's configuration into the database."""
        with self.transaction() as session:
            cities.sync_catalogue(session, self._method_contributions())
            row = cities.sync_city(session, self.city)
            signing.ensure_key(session, row)
            return row

    def _method_contributions(self) -> cities.Contributions:
        return method_contributions(self.plugins)

    def city_row(self, session: Session) -> City:
        return cities.get_city(session, self.city.slug)

    def dispose(self) -> None:
        self.engine.dispose()


def init_command(slug: str = "SLUG") -> str:
    """The command that creates or upgrades a database for a city, as messages name it."""
    return f"innoplat init --city {slug}"


def installed_migration_locations() -> list[str]:
    """The Alembic folders of every installed plugin (a database may hold several cities)."""
    return _locations(all_plugins_manager().hook.innoplat_migration_locations())


def _locations(results: list[Any]) -> list[str]:
    locations: list[str] = []
    for result in results:
        for location in [result] if isinstance(result, str) else result or []:
            if location not in locations:
                locations.append(location)
    return locations


def method_contributions(manager: pluggy.PluginManager) -> cities.Contributions:
    """Each plugin's methods with the plugin's name, so a bad method names its source."""
    out = []
    for impl in manager.hook.innoplat_methods.get_hookimpls():
        try:
            result = impl.function()
        except Exception as exc:
            raise PluginError(impl.plugin_name, f"failed in innoplat_methods: {exc}") from exc
        if result:
            out.append((impl.plugin_name, list(cast(list[dict[str, Any]], result))))
    return out


def check_city(definition: CityDefinition, manager: pluggy.PluginManager | None = None) -> None:
    """Check a loaded city without a database: its plugins (enabled, installed, their
    settings), the method catalogue they contribute and its local methods' ``maps_to``.

    :raises InnoplatError: the first problem, naming the file or plugin and the key.
    """
    manager = manager or build_manager(definition)
    shared = cities.check_catalogue(method_contributions(manager))
    cities.check_local_methods(definition, shared)
