"""A database that is not ready (never initialised, behind the code, unreachable) is one line
saying what is wrong and what to run, from every command that reads it and from the web app."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from innoplat.core import db
from innoplat.core.errors import StartupFailed
from innoplat.core.platform import Platform, installed_migration_locations
from innoplat.core.testing import free_port
from innoplat.core.web import create_app

#: Representative commands that read the database: the catalogue, figures, an export, the
#: server, and a plugin's command (it opens the platform through the toolkit).
COMMANDS = [
    ("methods", "list"),
    ("compare",),
    ("export",),
    ("ideas", "list"),
    ("serve",),
    ("notifications", "outbox"),
]
INIT = "innoplat init --city kiruna"
APP_CONFIG = {"SECRET_KEY": "k" * 32, "INNOPLAT_BASE_URL": "https://innovation.kiruna.example"}


def _shown(url: str) -> str:
    """A database as the messages name it: a SQLite file by its path, a server by its URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=True)


def _behind(url: str) -> str:
    """The database one core revision back, as an innoplat before the newest migration left it."""
    engine = create_engine(url)
    try:
        config = db.alembic_config(engine, installed_migration_locations())
        command.downgrade(config, "0010_stored_figures@-1")
    finally:
        engine.dispose()
    return url


def _ahead(url: str) -> str:
    """The database as a newer innoplat left it: at a revision this code does not know."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE alembic_version SET version_num = '0099_from_the_future' "
                    "WHERE version_num = '0010_stored_figures'"
                )
            )
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="module")
def unready(tmp_path_factory, sqlite_template, request) -> dict[str, tuple[str, str]]:
    """Each kind of database that is not ready: its URL and the one line every command says."""
    folder = tmp_path_factory.mktemp("unready")
    missing = folder / "never-made.sqlite3"
    empty = folder / "empty.sqlite3"
    sqlite3.connect(empty).execute("CREATE TABLE notes (body TEXT)").connection.close()
    old, new = folder / "old.sqlite3", folder / "new.sqlite3"
    shutil.copyfile(sqlite_template, old)
    shutil.copyfile(sqlite_template, new)
    no_folder = folder / "no-such-folder" / "innoplat.sqlite3"
    port = free_port()
    refused = f"postgresql://nobody:secret@127.0.0.1:{port}/innoplat"
    cases = {
        "missing file": (
            f"sqlite:///{missing}",
            f"Error: the database {missing} does not exist yet (run: {INIT})",
        ),
        "empty file": (
            f"sqlite:///{empty}",
            f"Error: the database {empty} has no innoplat tables yet (run: {INIT})",
        ),
        "older schema": (
            _behind(f"sqlite:///{old}"),
            f"Error: the database {old} is behind this innoplat: its schema lacks revision "
            f"0010_stored_figures (run: {INIT} to upgrade it)",
        ),
        "newer schema": (
            _ahead(f"sqlite:///{new}"),
            f"Error: the database {new} was upgraded by a newer innoplat or by a plugin not "
            "installed here (unknown revision 0099_from_the_future): install that version or plugin",
        ),
        "missing folder": (
            f"sqlite:///{no_folder}",
            f"Error: cannot open the database {no_folder}: the folder {no_folder.parent} does not exist",
        ),
        # libpq words the refusal itself; the test checks what innoplat puts around it.
        "server refuses": (
            refused,
            f"Error: cannot open the database postgresql://nobody:***@127.0.0.1:{port}/innoplat: "
            f'connection failed: connection to server at "127.0.0.1", port {port} failed: '
            "Connection refused",
        ),
    }
    server = request.getfixturevalue("postgresql_server")
    for name, make in (("postgresql empty", None), ("postgresql older schema", _behind)):
        database = f"innoplat_unready_{name.split()[-1]}"
        template = "" if make is None else " TEMPLATE innoplat_template"
        server.execute(f"CREATE DATABASE {database}{template}")
        url = server.url(database) if make is None else make(server.url(database))
        cases[name] = (
            url,
            f"Error: the database {_shown(url)} has no innoplat tables yet (run: {INIT})"
            if make is None
            else f"Error: the database {_shown(url)} is behind this innoplat: its schema lacks "
            f"revision 0010_stored_figures (run: {INIT} to upgrade it)",
        )
    return cases


CASES = [
    "missing file",
    "empty file",
    "older schema",
    "newer schema",
    "missing folder",
    "server refuses",
    "postgresql empty",
    "postgresql older schema",
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_command_says_in_one_line_what_is_wrong_with_the_database(
    run_cli, unready, case, args, monkeypatch, tmp_path
):
    monkeypatch.setenv("INNOPLAT_INSTANCE_PATH", str(tmp_path))  # serve's secret key file
    url, line = unready[case]
    code, out, err = run_cli(*args, "--city", "kiruna", "--db", url)
    assert code == 1
    assert "Traceback" not in err and "Serving" not in out
    assert err.endswith("\n") and err.count("\n") == 1
    assert err.rstrip("\n") == line


def test_a_read_never_makes_the_sqlite_file_it_says_is_missing(run_cli, unready):
    url, _ = unready["missing file"]
    assert run_cli("methods", "list", "--db", url)[0] == 1
    assert not Path(make_url(url).database).exists()


@pytest.mark.parametrize("kind", ["missing file", "empty", "older schema"])
def test_running_what_the_message_says_makes_the_command_work(run_cli, tmp_path, kind):
    path = tmp_path / "innoplat.sqlite3"
    url = f"sqlite:///{path}"
    if kind == "empty":
        sqlite3.connect(path).close()
    elif kind == "older schema":
        Platform.open("kiruna", url).init()
        _behind(url)
    code, _, err = run_cli("methods", "list", "--db", url)
    assert code == 1 and f"(run: {INIT}" in err
    assert run_cli(*INIT.split()[1:], "--db", url)[0] == 0
    code, out, _ = run_cli("methods", "list", "--db", url)
    assert code == 0 and "living_lab" in out


def test_init_into_a_folder_that_does_not_exist_is_one_line(run_cli, tmp_path):
    path = tmp_path / "nowhere" / "innoplat.sqlite3"
    code, _, err = run_cli("init", "--db", f"sqlite:///{path}")
    assert code == 1
    assert (
        err == f"Error: cannot open the database {path}: the folder {path.parent} does not exist\n"
    )


def test_init_refuses_a_database_of_a_newer_innoplat_in_one_line(run_cli, unready):
    url, line = unready["newer schema"]
    code, _, err = run_cli("init", "--db", url)
    assert (code, err) == (1, line + "\n")


def test_a_database_error_during_a_command_is_one_line(run_cli, database_url, monkeypatch):
    """Whatever the database says after the checks, the user reads its first line only."""
    from sqlalchemy.exc import OperationalError

    from innoplat.core.services import methods

    def locked(*args, **kwargs):
        raise OperationalError(
            "SELECT method.id FROM method", {}, Exception("database is locked\nmore")
        )

    monkeypatch.setattr(methods, "list_methods", locked)
    run_cli("init", "--db", database_url)
    code, _, err = run_cli("methods", "list", "--db", database_url)
    assert (code, err) == (
        1,
        "Error: the database failed: database is locked "
        "(set INNOPLAT_DEBUG=1 to see the traceback)\n",
    )


@pytest.mark.parametrize(
    "case",
    ["missing file", "empty file", "older schema", "postgresql empty", "postgresql older schema"],
)
def test_the_web_app_refuses_to_start_on_a_database_that_is_not_ready(unready, case):
    url, line = unready[case]
    with pytest.raises(StartupFailed) as failed:
        create_app(city="kiruna", database_url=url, config=APP_CONFIG)
    assert f"Error: {failed.value}" == line


@pytest.mark.parametrize("case", ["missing folder", "server refuses"])
def test_the_web_app_answers_503_while_the_database_cannot_be_opened(
    unready, case, tmp_path, monkeypatch, caplog
):
    monkeypatch.setenv("INNOPLAT_INSTANCE_PATH", str(tmp_path))
    url, line = unready[case]
    app = create_app(city="kiruna", database_url=url, config=APP_CONFIG)
    try:
        assert line.removeprefix("Error: ") in caplog.text  # said once at start-up
        for path in ("/ideas?lang=en", "/api/v1/figures"):
            response = app.test_client().get(path)
            assert response.status_code == 503
            assert "Traceback" not in response.get_data(as_text=True)
    finally:
        app.extensions["innoplat"].dispose()


def test_tables_gone_after_start_up_are_a_503_not_a_500(app, database_url):
    """PostgreSQL reports a missing table as a ProgrammingError, SQLite as an OperationalError."""
    with app.extensions["innoplat"].engine.begin() as connection:
        connection.execute(text("ALTER TABLE city RENAME TO city_gone"))
    response = app.test_client().get("/ideas?lang=en")
    assert response.status_code == 503
    assert "temporarily unavailable" in response.get_data(as_text=True)
    response = app.test_client().get("/api/v1/ideas")
    assert response.status_code == 503
    assert response.get_json()["error"]["message"].startswith("the database is unavailable")


def test_the_revisions_read_without_alembic_are_alembics():
    """The heads innoplat compares a database with are the ones Alembic upgrades it to."""
    from alembic.script import ScriptDirectory

    locations = tuple(installed_migration_locations())
    known, heads = db.migration_revisions(locations)
    config = db.alembic_config(create_engine("sqlite://"), locations)
    scripts = ScriptDirectory.from_config(config)
    assert heads == frozenset(scripts.get_heads())
    assert known == frozenset(s.revision for s in scripts.walk_revisions("base", "heads"))
    assert "0010_stored_figures" in heads and "0001_core" in known - heads


def test_a_ready_database_passes_the_check(platform):
    platform.check_database()
