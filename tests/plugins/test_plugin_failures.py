"""A plugin that raises inside a hook is named, and the page or command changes nothing."""

from __future__ import annotations

import logging
import shutil

import click
import pytest
from sqlalchemy import func, select

from innoplat.core.config import bundled_cities_folder
from innoplat.core.errors import PluginError
from innoplat.core.hookspecs import hookimpl
from innoplat.core.models import AuditEvent, Idea
from innoplat.core.services.comparison import compare_methods


class RefusingPlugin:
    """Raises when an idea is submitted, after core has written the idea in the transaction."""

    @hookimpl
    def innoplat_idea_submitted(self, session, idea):
        raise RuntimeError("the idea register is down")


class BrokenMetrics:
    @hookimpl
    def innoplat_comparison_metrics(self):
        raise KeyError("weights")


def _stored(platform) -> tuple[int, int]:
    with platform.transaction() as session:
        ideas = session.scalar(select(func.count()).select_from(Idea))
        events = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.entity_type == "idea")
        )
        return ideas, events


def test_the_web_shows_an_error_page_and_stores_nothing(make_app, caplog):
    """The submission form answers 500 with the error page; the log names the plugin."""
    app = make_app(config={"WTF_CSRF_ENABLED": False}, extra_plugins=[RefusingPlugin()])
    client = app.test_client()
    with caplog.at_level(logging.ERROR):
        response = client.post(
            "/ideas/new?lang=en",
            data={"title": "Uppvärmda busshållplatser", "send": "1", "initiator_kind": "citizen"},
        )
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert (
        "Something went wrong" in page and "Traceback" not in page and "idea register" not in page
    )
    assert "plugin 'RefusingPlugin': failed in innoplat_idea_submitted" in caplog.text
    assert _stored(app.extensions["innoplat"]) == (0, 0)


def test_the_command_line_prints_one_clear_line_and_stores_nothing(
    platform, database_url, tmp_path, run_cli
):
    """A city's local plugin.py raising in a hook: exit 1, the plugin named, no idea written."""
    folder = tmp_path / "kiruna"
    shutil.copytree(
        bundled_cities_folder() / "kiruna", folder, ignore=shutil.ignore_patterns("__pycache__")
    )
    (folder / "plugin.py").write_text(
        "from innoplat.core.hookspecs import hookimpl\n\n\n"
        "@hookimpl\n"
        "def innoplat_idea_submitted(session, idea):\n"
        "    raise RuntimeError('the idea register is down')\n",
        encoding="utf-8",
    )
    code, out, err = run_cli(
        "ideas", "submit", "--city", str(folder), "--db", database_url, "--title", "Ny idé"
    )
    assert code == 1
    assert err.strip() == (
        "Error: plugin 'city:kiruna': failed in innoplat_idea_submitted: RuntimeError: the idea register is down"
    )
    assert "Traceback" not in out + err
    assert _stored(platform) == (0, 0)


def test_a_failing_metrics_hook_is_named(make_platform):
    platform = make_platform(extra_plugins=[BrokenMetrics()])
    with pytest.raises(PluginError) as error, platform.transaction() as session:
        compare_methods(session)
    assert error.value.plugin == "BrokenMetrics"
    assert "failed in innoplat_comparison_metrics: KeyError" in str(error.value)


class Greeting:
    """A plugin contributing a command to the ``innoplat`` command line."""

    @hookimpl
    def innoplat_cli_commands(self):
        @click.command("greet")
        @click.argument("name")
        def greet(name: str) -> None:
            """Say hello."""
            click.echo(f"Hej {name}!")

        return [greet]


def test_a_plugin_command_joins_the_command_line(monkeypatch, run_cli):
    from innoplat.core import cli as command_line
    from innoplat.core.plugins import all_plugins_manager

    def with_greeting():
        manager = all_plugins_manager()
        manager.register(Greeting(), name="greeting")
        return manager

    monkeypatch.setattr(command_line, "all_plugins_manager", with_greeting)
    monkeypatch.delitem(command_line.cli.commands, "greet", raising=False)
    try:
        assert run_cli("greet", "Kiruna")[:2] == (0, "Hej Kiruna!\n")
        assert "greet" in run_cli("--help")[1]
    finally:
        command_line.cli.commands.pop("greet", None)
