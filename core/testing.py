"""pytest fixtures for innoplat and its plugins, shipped as a pytest plugin (entry point ``pytest11``).

A plugin's tests need only a few lines::

    def test_my_plugin_adds_a_page(make_client):
        client = make_client(plugins=["my_plugin"])
        assert client.get("/my-page").status_code == 200

Every fixture that touches a database runs once on SQLite and once on a throw-away
PostgreSQL server started from Debian's binaries. Locally, PostgreSQL tests are skipped
only when no server binaries exist; with CI=true a missing PostgreSQL is a failure.
"""

from __future__ import annotations

import email
import email.policy
import glob
import io
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from .config import CityDefinition, load_city
from .db import upgrade
from .models import Account, City
from .platform import Platform
from .plugins import all_plugins_manager

DATABASES = ("sqlite", "postgresql")
#: The password of the accounts the fixtures make.
PASSWORD = "correct horse battery staple"
#: The day synthetic histories made by ``with_demo_ideas`` end.
DEMO_DAY = datetime(2026, 1, 1)
_counter = itertools.count()


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _postgres_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parent.parent.name)
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


class PostgresServer:
    """A throw-away PostgreSQL server on a Unix socket in a temporary folder."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="innoplat-pg-"))
        self.data = self.folder / "data"
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, text=True)

    def start(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        options = f"-c listen_addresses='' -k {self.folder} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.folder / "log"),
            "start",
        )

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.folder}"

    def execute(self, sql: str) -> None:
        engine = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(sql))
        finally:
            engine.dispose()


def _all_migration_locations() -> list[str]:
    locations: list[str] = []
    for result in all_plugins_manager().hook.innoplat_migration_locations():
        if result:
            locations.extend([result] if isinstance(result, str) else result)
    return locations


@contextmanager
def throwaway_postgresql() -> Iterator[PostgresServer | None]:
    """A running throw-away PostgreSQL server, or None when no server binaries exist.

    For the test fixtures and for scripts such as the benchmarks; stopped and removed on exit.
    """
    bindir = _postgres_bin()
    if bindir is None:
        yield None
        return
    server = PostgresServer(bindir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole test session, with a migrated template database."""
    with throwaway_postgresql() as server:
        if server is None:
            if _in_ci():
                pytest.fail(
                    "CI=true but no PostgreSQL server binaries were found (apt-get install postgresql)"
                )
            pytest.skip("no PostgreSQL server binaries on this machine")
        server.execute("CREATE DATABASE innoplat_template")
        engine = create_engine(server.url("innoplat_template"))
        upgrade(engine, _all_migration_locations())
        engine.dispose()
        yield server


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies instead of migrating again."""
    path = tmp_path_factory.mktemp("innoplat-template") / "template.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine, _all_migration_locations())
    engine.dispose()
    return path


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, migrated database of its own for this test (SQLite, then PostgreSQL)."""
    if request.param == "sqlite":
        path = tmp_path / "innoplat.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgresql_server")
    name = f"innoplat_test_{os.getpid()}_{next(_counter)}"
    server.execute(f"CREATE DATABASE {name} TEMPLATE innoplat_template")
    yield server.url(name)
    server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def innoplat_city() -> str:
    """The city the fixtures build; override it in a conftest.py to test with another city."""
    return "kiruna"


def city_with_plugins(
    city: str | Path | CityDefinition,
    plugins: Sequence[str] = (),
    settings: dict[str, dict[str, Any]] | None = None,
    *,
    without: Sequence[str] = (),
    only: Sequence[str] | None = None,
) -> CityDefinition:
    """A city definition with its plugins changed and plugin settings replaced, for tests.

    :param plugins: plugins enabled after the city's own ones.
    :param without: plugins of the city's list that are left out.
    :param only: the whole list instead of the city's (``plugins`` are still added after it).
    """
    definition = city if isinstance(city, CityDefinition) else load_city(city)
    config = definition.config
    base = list(config.plugins.enabled if only is None else only)
    enabled = [p for p in base if p not in without]
    enabled += [p for p in plugins if p not in enabled]
    plugin_data = {**(config.plugins.model_extra or {}), **(settings or {}), "enabled": enabled}
    new_plugins = type(config.plugins).model_validate(plugin_data)
    return CityDefinition(
        config=config.model_copy(update={"plugins": new_plugins}), folder=definition.folder
    )


@contextmanager
def opened_platforms() -> Iterator[Callable[..., Platform]]:
    """Open platforms (``Platform.open``'s arguments), synchronised; all disposed of at the end."""
    made: list[Platform] = []

    def open_platform(*args: Any, **kwargs: Any) -> Platform:
        platform = Platform.open(*args, **kwargs)
        platform.sync()
        made.append(platform)
        return platform

    try:
        yield open_platform
    finally:
        for platform in made:
            platform.dispose()


@pytest.fixture
def make_platform(database_url: str, innoplat_city: str) -> Iterator[Callable[..., Platform]]:
    """Build a Platform on this test's database: ``make_platform(city=..., plugins=[...], settings={...})``.

    ``plugins`` are enabled after the city's own; ``without=[...]`` leaves some of the city's
    out and ``only=[...]`` replaces its list; ``extra_plugins`` registers plugin objects.
    """
    with opened_platforms() as open_platform:

        def make(
            city: str | Path | CityDefinition | None = None,
            plugins: Sequence[str] = (),
            settings: dict[str, dict[str, Any]] | None = None,
            extra_plugins: Sequence[Any] = (),
            without: Sequence[str] = (),
            only: Sequence[str] | None = None,
        ) -> Platform:
            definition = city_with_plugins(
                city or innoplat_city, plugins, settings, without=without, only=only
            )
            return open_platform(definition, database_url, extra_plugins=list(extra_plugins))

        yield make


def with_demo_ideas(
    platform: Platform, ideas: int, *, seed: int = 1, now: datetime | None = None
) -> Platform:
    """The platform with ``ideas`` synthetic ideas in its city, the same ones for the same seed.

    ``now`` is the day the history ends (default: a fixed day, so every run sees the same ideas).
    """
    from .services import demo

    with platform.transaction() as session:
        demo.load_demo(
            session,
            platform.city,
            platform.city_row(session),
            ideas=ideas,
            seed=seed,
            now=now or DEMO_DAY,
        )
    return platform


@pytest.fixture
def platform(make_platform: Callable[..., Platform]) -> Platform:
    """The city's Platform (configuration, database, plugins), initialised."""
    return make_platform()


@pytest.fixture
def db_session(platform: Platform) -> Iterator[Session]:
    """A session on the platform's database; what a test leaves uncommitted is rolled back."""
    with platform.sessions() as session:
        yield session
        session.rollback()


@pytest.fixture
def city(platform: Platform, db_session: Session) -> City:
    """The city's row in the database."""
    return platform.city_row(db_session)


@pytest.fixture
def make_app(make_platform: Callable[..., Platform]) -> Callable[..., Any]:
    """Build a Flask app: ``make_app(plugins=[...], settings={...}, config={...})``."""
    from .web import create_app

    def make(config: dict[str, Any] | None = None, **platform_options: Any) -> Any:
        platform = make_platform(**platform_options)
        return create_app(platform=platform, config={"TESTING": True, **(config or {})})

    return make


@pytest.fixture
def app(make_app: Callable[..., Any]) -> Any:
    """The city's Flask app in testing mode."""
    return make_app()


@pytest.fixture
def client(app: Any) -> Any:
    """A test client of the city's app."""
    return app.test_client()


@pytest.fixture
def make_client(make_app: Callable[..., Any]) -> Callable[..., Any]:
    """A test client of an app built with options: ``make_client(plugins=["voting"])``."""

    def make(**options: Any) -> Any:
        return make_app(**options).test_client()

    return make


@pytest.fixture
def run_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[int, str, str]]:
    """Run ``innoplat ARGS`` in this process, typing ``input``: ``code, out, err = run_cli(…)``."""
    from .cli import main

    def run(*args: str, input: str = "") -> tuple[int, str, str]:
        capsys.readouterr()
        monkeypatch.setattr("sys.stdin", io.StringIO(input))
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def add_account(
    platform: Platform, role: str, *, email: str, name: str, password: str = PASSWORD
) -> Account:
    """A staff account with ``role`` in the platform's city, made in a transaction of its own."""
    from .services import accounts

    with platform.transaction() as session:
        return accounts.create_account(
            session,
            platform.city_row(session),
            email=email,
            name=name,
            password=password,
            role=role,
        )


@pytest.fixture
def sign_in() -> Callable[..., int]:
    """Sign a test client in as a new staff account: ``sign_in(client, role="coordinator")``.

    Creates the account with that role (admin, coordinator or member) in the client's city
    and returns its id; the client's next requests are made as that account.
    """
    made = itertools.count(1)

    def do(client: Any, role: str = "member", email: str | None = None) -> int:
        platform = client.application.extensions["innoplat"]
        email = email or f"{role}{next(made)}@{platform.city.slug}.example"
        account = add_account(platform, role, email=email, name=f"Test {role}")
        account_id, generation = account.id, account.session_generation
        with client.session_transaction() as browser:
            # Flask-Login's session keys: the account id with its session generation, and a
            # fresh sign-in.
            browser["_user_id"] = f"{account_id}.{generation}"
            browser["_fresh"] = True
        return account_id

    return do


# --------------------------------------------------------------------------- e-mail


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it receives.

    ``url`` is what ``INNOPLAT_SMTP_URL`` or a plugin's ``smtp_url`` setting expects;
    ``stop()`` and ``start()`` again on the same port let a test check retries.
    """

    host = "127.0.0.1"

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        #: Received messages, parsed (``message["Subject"]``, ``message.get_content()``).
        self.messages: list[email.message.EmailMessage] = []
        #: The SMTP envelope recipients of each received message, in the same order.
        self.recipients: list[list[str]] = []
        #: Addresses the server refuses for good (``550``), as a real server refuses unknown users.
        self.refused: set[str] = set()
        self._controller: Any = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> SmtpServer:
        from aiosmtpd.controller import Controller

        server = self

        class Collect:
            async def handle_RCPT(
                self, _server: Any, _session: Any, envelope: Any, address: str, _options: Any
            ) -> str:
                if address.lower() in server.refused:
                    return "550 5.1.1 No such user here"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
                raw = envelope.original_content or envelope.content
                server.messages.append(email.message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]
                server.recipients.append(list(envelope.rcpt_tos))
                return "250 Message accepted for delivery"

        self._controller = Controller(Collect(), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 5.0) -> list[email.message.EmailMessage]:
        """The messages once at least ``count`` arrived (the server stores them on its own thread)."""
        import time

        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.messages)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A running local SMTP server: point a plugin at ``smtp_server.url``, read ``smtp_server.messages``."""
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()
