"""Database engines, sessions and schema migrations (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import ast
import functools
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Engine, Table, create_engine, event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from .errors import DatabaseNotReady, DatabaseUnavailable, InnoplatError, NotFound

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

DEFAULT_DATABASE_FILE = "innoplat.sqlite3"

Row = TypeVar("Row")


def default_database_url() -> str:
    url = os.environ.get("INNOPLAT_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{Path.cwd() / DEFAULT_DATABASE_FILE}"


def normalise_url(url: str) -> str:
    """Accept the plain ``postgresql://`` form users copy around; use psycopg 3 for it."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


#: How long a SQLite write waits for another writer's transaction to end before giving up.
SQLITE_BUSY_TIMEOUT_MS = 15_000
#: The execution option that makes a SQLite transaction begin with ``BEGIN IMMEDIATE``.
BEGIN_MODE = "innoplat_sqlite_begin"
# SQLite errors after which a pooled connection is no use any more: a file opened while it was
# read-only stays read-only for that connection, even once the file is writable again.
_SQLITE_STALE_CONNECTION = ("SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_NOTADB")


def _pool_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Enough pooled connections for a threaded server's concurrent requests (20 clients and more)."""
    size = int(os.environ.get("INNOPLAT_DATABASE_POOL_SIZE", "10"))
    return {"pool_size": size, "max_overflow": 2 * size, "pool_timeout": 30, **kwargs}


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    url = normalise_url(url or default_database_url())
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InnoplatError(
            f"not a database URL: {url!r} (e.g. sqlite:///innoplat.sqlite3)"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        in_memory = parsed.database in (None, "", ":memory:")
        engine = create_engine(url, **(kwargs if in_memory else _pool_options(kwargs)))
        _sqlite_transactions(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        # pre-ping: a connection the server dropped (restart, failover, idle timeout) is
        # replaced at checkout instead of failing the request that draws it.
        return create_engine(url, pool_pre_ping=True, **_pool_options(kwargs))
    raise InnoplatError(
        f"unsupported database {parsed.get_backend_name()!r}: use SQLite or PostgreSQL"
    )


def _sqlite_transactions(engine: Engine) -> None:
    """WAL, a busy timeout, and transactions that begin the way the use case needs.

    SQLAlchemy's documented pysqlite recipe: the driver's own transaction handling is
    switched off and innoplat emits BEGIN itself. A use case that writes begins with
    ``BEGIN IMMEDIATE``, taking the write lock before its first read: a deferred transaction
    that reads, then writes after another writer committed, fails with "database is locked"
    at once, whatever the busy timeout.
    """

    @event.listens_for(engine, "connect")
    def connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    # Writers of this process queue on a lock, woken the moment it is free; SQLite's busy
    # handler (which still arbitrates between processes) polls with sleeps of up to 100 ms.
    writer = threading.Lock()

    @event.listens_for(engine, "begin")
    def begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(BEGIN_MODE, "DEFERRED")
        # The pool record's dict, read now: once a connection is invalidated, reading
        # ``connection.info`` would open a new one.
        info = connection.info
        if mode == "IMMEDIATE" and writer.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            info[_WRITER] = writer
        try:
            connection.exec_driver_sql(f"BEGIN {mode}")
        except BaseException:
            _release_writer(info)
            raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def end(connection: Connection) -> None:
        if not connection.invalidated:  # an invalidated one was released by the pool event
            _release_writer(connection.info)

    @event.listens_for(engine.pool, "checkin")
    @event.listens_for(engine.pool, "invalidate")
    def returned(_dbapi_connection: Any, record: Any, *_args: Any) -> None:
        if record is not None:
            _release_writer(record.info)

    @event.listens_for(engine, "handle_error")
    def stale_connection(context: ExceptionContext) -> None:
        name = getattr(context.original_exception, "sqlite_errorname", "") or ""
        if name.startswith(_SQLITE_STALE_CONNECTION):
            context.is_disconnect = True  # the pool drops it; the next checkout opens afresh


_WRITER = "innoplat_sqlite_writer"


def _release_writer(info: dict[Any, Any]) -> None:
    lock = info.pop(_WRITER, None)
    if lock is not None:
        lock.release()


def is_stale_snapshot(error: BaseException) -> bool:
    """Whether a write failed because another connection wrote since this transaction read.

    SQLite says so (SQLITE_BUSY_SNAPSHOT) when a transaction begun without the write lock
    tries to write; for a versioned record that is an edit conflict, not an outage.
    """
    original = getattr(error, "orig", None)
    return getattr(original, "sqlite_errorname", None) == "SQLITE_BUSY_SNAPSHOT"


def is_unique_violation(error: BaseException) -> bool:
    """Whether a write lost a race for a unique value (another transaction inserted it first)."""
    original = getattr(error, "orig", None)
    if getattr(original, "sqlstate", None) == "23505":  # PostgreSQL unique_violation
        return True
    name = getattr(original, "sqlite_errorname", None)
    return name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")


def insert(session: Session, table: Table) -> Any:
    """An INSERT with ``on_conflict_do_nothing/do_update`` for the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def get_owned(session: Session, model: type[Row], ident: int, missing: str, **owner: int) -> Row:
    """The row with this id if it belongs where ``owner`` says (``idea_id=idea.id``), else NotFound.

    An id from an address is only trusted together with its parent: another idea's or another
    city's row answers as if it did not exist.
    """
    row = session.get(model, ident)
    if row is None or any(getattr(row, column) != value for column, value in owner.items()):
        raise NotFound(missing)
    return row


def session_factory(engine: Engine, info: dict[str, Any] | None = None) -> sessionmaker[Session]:
    """Sessions for one platform; ``info`` carries the platform's plugin hooks to the services."""
    return sessionmaker(engine, expire_on_commit=False, info=info or {})


@contextmanager
def transaction(factory: sessionmaker[Session], *, write: bool = True) -> Iterator[Session]:
    """One use case, one transaction: committed if the block succeeds, rolled back otherwise.

    ``write=False`` is for use cases that only read: on SQLite they do not take the write
    lock, so pages are read while ideas are being submitted.
    """
    with factory() as session, session.begin():
        if write:
            session.connection(execution_options={BEGIN_MODE: "IMMEDIATE"})
        yield session


def _version_locations(extra_locations: Iterable[str]) -> list[str]:
    """Core's migration folder, then the plugins' (one Alembic history with a branch each)."""
    return [str(Path(__file__).parent / "migrations" / "versions"), *extra_locations]


def alembic_config(engine: Engine, extra_locations: Iterable[str] = ()) -> AlembicConfig:
    # Imported here: alembic (with mako and pygments) is needed only to migrate, and
    # every command and worker would otherwise carry it.
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.set_main_option("version_locations", " ".join(_version_locations(extra_locations)))
    config.set_main_option("path_separator", "space")
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, extra_locations: Iterable[str] = ()) -> None:
    """Create or upgrade the schema to the newest revision of core and every plugin branch."""
    from alembic import command

    command.upgrade(alembic_config(engine, extra_locations), "heads")


#: The table in which Alembic records the revisions a database's schema is at.
VERSION_TABLE = "alembic_version"


def database_name(url: str | URL) -> str:
    """How a message names a database: a SQLite file by its path, a server's by its URL
    (without the password)."""
    parsed = make_url(normalise_url(url) if isinstance(url, str) else url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    # As users write it: postgresql://…, not the driver innoplat chose (postgresql+psycopg).
    return parsed.set(drivername=parsed.get_backend_name()).render_as_string(hide_password=True)


def _sqlite_file(engine: Engine) -> Path | None:
    """The file of a SQLite database (None: in memory, or a ``file:`` URI left to SQLite)."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.query.get("uri") or str(url.database).startswith("file:"):
        return None
    return Path(str(url.database))


def check_connection(engine: Engine) -> None:
    """Open the database once.

    :raises DatabaseUnavailable: one line naming the database and why it cannot be opened (a
        SQLite file whose folder does not exist, where SQLite says only "unable to open
        database file"; a server that refuses, with the driver's first line).
    """
    name = database_name(engine.url)
    path = _sqlite_file(engine)
    if path is not None and not path.absolute().parent.is_dir():
        raise DatabaseUnavailable(
            f"cannot open the database {name}: the folder {path.absolute().parent} does not exist"
        )
    try:
        with engine.connect():
            pass
    except DBAPIError as error:
        raise DatabaseUnavailable(
            f"cannot open the database {name}: {driver_message(error)}"
        ) from None


def driver_message(error: BaseException) -> str:
    """The first line of what the database driver said (SQLAlchemy adds the statement and a
    link after it; psycopg adds hints on further lines)."""
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return lines[0].strip() if lines else type(original).__name__


def schema_revisions(engine: Engine) -> frozenset[str] | None:
    """The revisions the database's schema is at, as Alembic recorded them; None when the
    database has no innoplat tables (Alembic's table is the first thing ``upgrade`` makes)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        found = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
        return frozenset(found) or None


@functools.cache
def migration_revisions(
    extra_locations: tuple[str, ...] = (),
) -> tuple[frozenset[str], frozenset[str]]:
    """Every revision of the migration scripts in core's and these folders, and their heads
    (the revisions ``upgrade`` brings a database to).

    Read from the scripts' ``revision``, ``down_revision`` and ``depends_on`` assignments
    without importing alembic (with mako and pygments about 6 MiB in every command and web
    worker that only reads; migrating imports it). A head is a revision that no other one
    names as its down revision or dependency, Alembic's rule. A script whose names are not
    plain literals is left to Alembic itself, which then reads every script.
    """
    revisions: dict[str, set[str]] = {}
    for folder in _version_locations(extra_locations):
        for script in sorted(Path(folder).glob("*.py")):
            if script.name == "__init__.py" or script.name.startswith(".#"):
                continue
            found = _script_revision(script)
            if found is None:
                return _alembic_revisions(extra_locations)
            revision, below = found
            revisions[revision] = below
    below_any = set().union(*revisions.values()) if revisions else set()
    return frozenset(revisions), frozenset(set(revisions) - below_any)


def _script_revision(script: Path) -> tuple[str, set[str]] | None:
    """A script's revision and the revisions it names below it, or None if not plain literals."""
    names = ("revision", "down_revision", "depends_on")
    values: dict[str, Any] = {}
    try:
        tree = ast.parse(script.read_text(encoding="utf-8"), str(script))
        for node in tree.body:
            target: ast.expr
            value: ast.expr
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target = node.target
                value = node.value
            else:
                continue
            if isinstance(target, ast.Name) and target.id in names:
                values[target.id] = ast.literal_eval(value)
    except (SyntaxError, ValueError, OSError):
        return None
    revision = values.get("revision")
    if not isinstance(revision, str):
        return None
    below: set[str] = set()
    for name in ("down_revision", "depends_on"):
        named = values.get(name)
        if isinstance(named, str):
            below.add(named)
        elif isinstance(named, list | tuple):
            below.update(str(v) for v in named)
        elif named is not None:
            return None
    return revision, below


def _alembic_revisions(extra_locations: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(
        alembic_config(create_engine("sqlite://"), extra_locations)
    )
    every = frozenset(s.revision for s in scripts.walk_revisions("base", "heads"))
    return every, frozenset(scripts.get_heads())


def check_schema(engine: Engine, extra_locations: Iterable[str] = (), *, fix: str) -> None:
    """Whether the database holds the schema this code's migrations make, before a use case
    reads it.

    :param fix: the command that creates or upgrades the schema, named in the messages.
    :raises DatabaseUnavailable: it cannot be opened (:func:`check_connection`).
    :raises DatabaseNotReady: one line saying what is wrong and what to run: the SQLite file
        does not exist yet, the database has no innoplat tables, or its schema is at an older
        revision (or at one these scripts do not know: a newer innoplat or another plugin).
    """
    name = database_name(engine.url)
    path = _sqlite_file(engine)
    if path is not None and path.absolute().parent.is_dir() and not path.exists():
        raise DatabaseNotReady(f"the database {name} does not exist yet (run: {fix})")
    recorded = _recorded_revisions(engine)
    if recorded is None:
        raise DatabaseNotReady(f"the database {name} has no innoplat tables yet (run: {fix})")
    known, heads = migration_revisions(tuple(extra_locations))
    if recorded == heads:
        return
    _refuse_unknown(name, recorded - known)
    lacking = sorted(heads - recorded) or sorted(heads)
    raise DatabaseNotReady(
        f"the database {name} is behind this innoplat: its schema lacks revision "
        f"{', '.join(lacking)} (run: {fix} to upgrade it)"
    )


def check_upgradable(engine: Engine, extra_locations: Iterable[str] = ()) -> None:
    """Before ``upgrade``: the database opens and records no revision these scripts do not
    know (Alembic would stop with "Can't locate revision").

    :raises DatabaseUnavailable: it cannot be opened.
    :raises DatabaseNotReady: it is at a revision of a newer innoplat or another plugin.
    """
    recorded = _recorded_revisions(engine)
    if recorded is not None:
        known, _heads = migration_revisions(tuple(extra_locations))
        _refuse_unknown(database_name(engine.url), recorded - known)


def _recorded_revisions(engine: Engine) -> frozenset[str] | None:
    check_connection(engine)
    try:
        return schema_revisions(engine)
    except DBAPIError as error:
        raise DatabaseUnavailable(
            f"cannot read the database {database_name(engine.url)}: {driver_message(error)}"
        ) from None


def _refuse_unknown(name: str, unknown: frozenset[str]) -> None:
    if unknown:
        raise DatabaseNotReady(
            f"the database {name} was upgraded by a newer innoplat or by a plugin not installed "
            f"here (unknown revision {', '.join(sorted(unknown))}): install that version or plugin"
        )


def is_missing_schema(error: BaseException) -> bool:
    """Whether a statement failed because a table or column it names does not exist: the
    database lost its tables or was never upgraded since the app started."""
    original = getattr(error, "orig", None)
    if getattr(original, "sqlstate", None) in ("42P01", "42703"):  # undefined table, column
        return True
    return str(original).startswith(("no such table", "no such column"))
