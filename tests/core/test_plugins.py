"""The plugin system: discovery, per-city enabling, clear errors, and hooks called from services."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from flask import Blueprint
from sqlalchemy import inspect, select

from innoplat.core.config import bundled_cities_folder, load_city
from innoplat.core.errors import PluginError
from innoplat.core.hookspecs import hookimpl
from innoplat.core.models import Idea, Method
from innoplat.core.platform import Platform
from innoplat.core.plugins import build_manager, installed_plugins, settings_problems
from innoplat.core.services import ideas, methods
from innoplat.core.testing import city_with_plugins


class Recorder:
    """A plugin that records every lifecycle event it is told about."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    @hookimpl
    def innoplat_idea_submitted(self, session, idea):
        self.events.append(("submitted", idea.reference))

    @hookimpl
    def innoplat_stage_changed(self, idea, transition):
        self.events.append(("moved", f"{transition.from_stage.key}->{transition.to_stage.key}"))

    @hookimpl
    def innoplat_method_applied(self, idea, application):
        self.events.append(("method", f"{application.method.key}:{application.outcome.value}"))


class Exploding:
    @hookimpl
    def innoplat_idea_submitted(self, session, idea):
        raise RuntimeError("the mail server is on fire")


def test_the_catalogue_is_installed_through_the_entry_point_group():
    assert "catalogue" in installed_plugins()


def test_lifecycle_hooks_are_called_from_the_services(make_platform):
    recorder = Recorder()
    platform = make_platform(extra_plugins=[recorder])
    with platform.transaction() as session:
        idea = ideas.submit_idea(session, platform.city_row(session), title="Värmda cykelbanor")
        ideas.move_idea(session, idea, "bedomning")
        application = methods.apply_method(session, idea, "living_lab")
        methods.record_outcome(session, application, "succeeded")
    assert recorder.events == [
        ("submitted", idea.reference),
        ("moved", "inkommen->bedomning"),
        ("method", "living_lab:ongoing"),
        ("method", "living_lab:succeeded"),
    ]


def test_a_plugin_raising_in_a_hook_is_named_and_nothing_is_stored(make_platform):
    platform = make_platform(extra_plugins=[Exploding()])
    with pytest.raises(PluginError) as error, platform.transaction() as session:
        ideas.submit_idea(session, platform.city_row(session), title="Ska inte sparas")
    assert error.value.plugin == "Exploding"
    assert "innoplat_idea_submitted" in str(error.value) and "the mail server is on fire" in str(
        error.value
    )
    with platform.transaction() as session:
        assert session.scalar(select(Idea).where(Idea.title == "Ska inte sparas")) is None


def test_an_unknown_plugin_name_is_a_clear_error():
    city = city_with_plugins("kiruna", ["votng"])
    with pytest.raises(
        PluginError,
        match="'votng': is enabled in .*city.toml .*but not installed; installed plugins: .*catalogue",
    ):
        build_manager(city)


def test_a_misspelled_hook_is_a_clear_error():
    class Misspelled:
        @hookimpl
        def innoplat_idea_submited(self, idea):
            pass

    with pytest.raises(
        PluginError,
        match="'Misspelled': unknown hook 'innoplat_idea_submited' \\(did you mean 'innoplat_idea_submitted'\\?\\)",
    ):
        build_manager(load_city("kiruna"), extra=[Misspelled()])


class Picky:
    """A plugin with one setting it insists on."""

    @hookimpl
    def innoplat_validate_settings(self, settings):
        if not isinstance(settings.get("threshold"), int):
            return ["threshold: expected a whole number"]
        return []


def test_settings_are_checked_only_for_plugins_the_city_enables():
    city = load_city("kiruna")
    assert settings_problems(build_manager(city, extra=[Picky()]), city) == {}


def test_enabled_plugin_settings_are_validated(monkeypatch):
    fake = type(
        "EntryPoint", (), {"name": "picky", "value": "tests.picky", "load": lambda self: Picky()}
    )()
    monkeypatch.setattr(
        "innoplat.core.plugins.installed_plugins", lambda: {**installed_plugins(), "picky": fake}
    )
    city = city_with_plugins("kiruna", ["picky"], {"picky": {"threshold": "high"}})
    with pytest.raises(
        PluginError,
        match=r"'picky': .*city.toml: plugins\.picky\.threshold: expected a whole number",
    ):
        build_manager(city)
    build_manager(city_with_plugins("kiruna", ["picky"], {"picky": {"threshold": 3}}))


def test_a_plugin_contributes_methods_to_the_catalogue(make_platform, db_session):
    class ExtraMethods:
        @hookimpl
        def innoplat_methods(self):
            return [
                {
                    "key": "walkshop",
                    "name": {"sv": "Trygghetsvandring", "en": "Safety walk"},
                    "category": "co_creation",
                    "phases": ["screening"],
                }
            ]

    make_platform(extra_plugins=[ExtraMethods()])
    method = db_session.scalar(select(Method).where(Method.key == "walkshop"))
    assert (
        method is not None
        and method.label("en") == "Safety walk"
        and method.source == "ExtraMethods"
    )


def test_a_city_folder_may_hold_its_own_plugin(tmp_path, make_platform):
    folder = tmp_path / "kiruna"
    shutil.copytree(bundled_cities_folder() / "kiruna", folder)
    (folder / "plugin.py").write_text(
        textwrap.dedent(
            """
            from innoplat.core.hookspecs import hookimpl

            SEEN = []

            @hookimpl
            def innoplat_idea_submitted(idea):
                SEEN.append(idea.title)
            """
        )
    )
    platform = make_platform(city=folder)
    assert platform.plugins.get_plugin("city:kiruna") is not None
    with platform.transaction() as session:
        ideas.submit_idea(session, platform.city_row(session), title="Lokal idé")
    assert platform.plugins.get_plugin("city:kiruna").SEEN == ["Lokal idé"]


def test_a_plugin_brings_its_own_tables_through_a_migration_branch(tmp_path, make_platform):
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "0001_badges.py").write_text(
        textwrap.dedent(
            """
            import sqlalchemy as sa
            from alembic import op

            revision = "badges_0001"
            down_revision = None
            branch_labels = ("badges",)
            depends_on = "0001_core"

            def upgrade():
                op.create_table("badge", sa.Column("id", sa.Integer, primary_key=True), sa.Column("idea_id", sa.Integer, sa.ForeignKey("idea.id")))

            def downgrade():
                op.drop_table("badge")
            """
        )
    )

    class Badges:
        @hookimpl
        def innoplat_migration_locations(self):
            return str(versions)

    platform = make_platform(extra_plugins=[Badges()])
    platform.init()
    assert "badge" in inspect(platform.engine).get_table_names()


def test_a_plugin_adds_pages_through_a_blueprint(make_client):
    class Page:
        @hookimpl
        def innoplat_blueprints(self, app):
            blueprint = Blueprint("hello", __name__, root_path=str(Path(__file__).parent))
            blueprint.add_url_rule("/hello", "hello", lambda: "Hej från ett tillägg")
            return [blueprint]

    client = make_client(extra_plugins=[Page()])
    assert client.get("/hello").get_data(as_text=True) == "Hej från ett tillägg"


def test_each_platform_has_its_own_plugin_manager(make_platform):
    first = make_platform(extra_plugins=[Recorder()])
    second = make_platform()
    assert first.plugins is not second.plugins
    assert not any(isinstance(p, Recorder) for p in second.plugins.get_plugins())


def test_platform_open_reports_plugin_problems_before_touching_the_database(tmp_path):
    with pytest.raises(PluginError):
        Platform.open(
            city_with_plugins("kiruna", ["no_such_plugin"]), f"sqlite:///{tmp_path / 'x.sqlite3'}"
        )
    assert not (tmp_path / "x.sqlite3").exists()


def test_cities_folder_path_is_accepted(tmp_path):
    folder = tmp_path / "mystad"
    shutil.copytree(bundled_cities_folder() / "kiruna", folder)
    assert load_city(Path(folder)).slug == "kiruna"
