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
from .services import cities, signing


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
        locations: list[str] = []
        results = [
            *all_plugins_manager().hook.innoplat_migration_locations(),
            *self.hooks.innoplat_migration_locations(),
        ]
        for result in results:
            for location in [result] if isinstance(result, str) else result or []:
                if location not in locations:
                    locations.append(location)
        return locations

    def init(self) -> City:
        """Create or upgrade the schema, synchronise the method catalogue and the city (idempotent)."""
        db.upgrade(self.engine, self.migration_locations())
        return self.sync()

    def sync(self) -> City:
        """Synchronise the method catalogue and the city's configuration into the database."""
        with self.transaction() as session:
            cities.sync_catalogue(session, self._method_contributions())
            row = cities.sync_city(session, self.city)
            signing.ensure_key(session, row)
            return row

    def _method_contributions(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """Each plugin's methods with the plugin's name, so a bad method names its source."""
        out = []
        for impl in self.plugins.hook.innoplat_methods.get_hookimpls():
            try:
                result = impl.function()
            except Exception as exc:
                raise PluginError(impl.plugin_name, f"failed in innoplat_methods: {exc}") from exc
            if result:
                out.append((impl.plugin_name, list(cast(list[dict[str, Any]], result))))
        return out

    def city_row(self, session: Session) -> City:
        return cities.get_city(session, self.city.slug)

    def dispose(self) -> None:
        self.engine.dispose()
