"""One precedence rule everywhere: the city first, then plugins in the order it lists them, then core."""

from __future__ import annotations

import shutil

from flask import Blueprint
from jinja2 import DictLoader
from markupsafe import Markup
from web_helpers import add_idea

from innoplat.core.config import load_city
from innoplat.core.toolkit import hookimpl


class Campaign:
    """A plugin with a page template, a context variable and an answer to a first-result hook."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.__name__ = f"campaign_{name}"  # the name it is registered under
        self.mailed: list[str] = []
        self.blueprint = Blueprint(f"campaign_{name}", __name__)
        self.blueprint.jinja_loader = DictLoader({"about.html": f"{name}: {{{{ campaign }}}}"})

    @hookimpl
    def innoplat_template_context(self, city):
        return {"campaign": self.name}

    @hookimpl
    def innoplat_blueprints(self, app):
        return [self.blueprint]

    @hookimpl
    def innoplat_send_mail(self, recipient):
        self.mailed.append(recipient)
        return True


def test_the_first_plugin_wins_for_templates_and_template_context(make_app):
    """Before one rule existed, templates went to the first plugin and the context to the last."""
    client = make_app(extra_plugins=[Campaign("first"), Campaign("second")]).test_client()
    assert client.get("/about").get_data(as_text=True) == "first: first"


def test_the_city_wins_over_every_plugin(make_app, tmp_path):
    folder = tmp_path / "kiruna"
    shutil.copytree(
        load_city("kiruna").folder, folder, ignore=shutil.ignore_patterns("__pycache__")
    )
    (folder / "plugin.py").write_text(
        "from innoplat.core.toolkit import hookimpl\n\n\n"
        "@hookimpl\ndef innoplat_template_context(city):\n    return {'campaign': 'city'}\n",
        encoding="utf-8",
    )
    client = make_app(city=folder, extra_plugins=[Campaign("first")]).test_client()
    assert client.get("/about").get_data(as_text=True) == "first: city"


class Section:
    """A plugin adding one section of the same region and order as every other such plugin."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.__name__ = f"section_{name}"

    @hookimpl
    def innoplat_idea_sections(self, session, idea):
        return [Markup(f'<p class="mark-{self.name}">{self.name}</p>')]


def test_sections_of_equal_place_come_in_the_order_the_plugins_are_listed(make_app):
    """Regions and orders place an idea page's sections; precedence breaks the ties."""

    def sections(names):
        app = make_app(
            only=["catalogue"],
            extra_plugins=[Section(name) for name in names],
            config={"WTF_CSRF_ENABLED": False},
        )
        page = app.test_client().get(f"/ideas/{add_idea(app)}").get_data(as_text=True)
        return sorted(names, key=lambda name: page.index(f'class="mark-{name}"'))

    assert sections(["first", "second"]) == ["first", "second"]
    assert sections(["second", "first"]) == ["second", "first"]


def test_the_civic_actions_come_first_whatever_order_the_city_lists_its_plugins(make_app):
    """Support (region "actions") stands above the discussion even when comments is listed first."""

    def sections(order):
        app = make_app(only=["catalogue", *order], config={"WTF_CSRF_ENABLED": False})
        page = app.test_client().get(f"/ideas/{add_idea(app)}").get_data(as_text=True)
        marks = {"voting": 'class="plugin-voting"', "comments": 'class="plugin-comments"'}
        return sorted(order, key=lambda plugin: page.index(marks[plugin]))

    assert sections(["voting", "comments"]) == ["voting", "comments"]
    assert sections(["comments", "voting"]) == ["voting", "comments"]


def test_a_first_result_hook_is_answered_by_the_first_plugin(make_platform, mail_anna):
    first, second = Campaign("first"), Campaign("second")
    platform = make_platform(only=["catalogue"], extra_plugins=[first, second])
    mail_anna(platform)
    assert (first.mailed, second.mailed) == (["anna@example.org"], [])
