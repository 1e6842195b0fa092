"""Plugins on the web: idea sections, navigation, template context, and template precedence."""

from __future__ import annotations

import shutil

from flask import Blueprint
from flask_babel import lazy_gettext
from jinja2 import DictLoader
from markupsafe import Markup
from web_helpers import add_idea, make_account, sign_in

from innoplat.core.config import load_city
from innoplat.core.hookspecs import hookimpl
from innoplat.core.toolkit import IdeaSection


class SupportCounter:
    """A plugin showing a section on the idea page, a menu entry and a context variable."""

    def __init__(self) -> None:
        self.blueprint = Blueprint("support", __name__)
        self.blueprint.add_url_rule("/support", "index", lambda: "support page")
        # A plugin's own templates: searched after the city's and before core's.
        self.blueprint.jinja_loader = DictLoader({"about.html": "PLUGIN ABOUT {{ campaign }}"})

    @hookimpl
    def innoplat_idea_sections(self, session, idea):
        return [Markup("<section class='support'>Stöd för %s</section>") % idea.reference]

    @hookimpl
    def innoplat_navigation(self, city):
        return [{"endpoint": "support.index", "label": lazy_gettext("Support"), "order": 25}]

    @hookimpl
    def innoplat_template_context(self, city):
        return {"campaign": f"Vinterkampanj {city.slug}"}

    @hookimpl
    def innoplat_blueprints(self, app):
        return [self.blueprint]


class PlacedSections:
    """Sections in every region, contributed out of order: the page puts each in its place."""

    @hookimpl
    def innoplat_idea_sections(self, session, idea):
        def placed(name, region, order):
            return IdeaSection(Markup(f"<p>{name}</p>"), region=region, order=order)

        return [
            placed("STAFF-SCORE", "staff", 10),
            placed("DISCUSSION", "discussion", 10),
            placed("FOLLOW", "actions", 20),
            Markup("<p>BARE-DETAIL</p>"),
            placed("SUPPORT", "actions", 10),
            placed("EARLY-DETAIL", "details", 5),
        ]


class MisplacedSection:
    @hookimpl
    def innoplat_idea_sections(self, session, idea):
        return [IdeaSection(Markup("<p>x</p>"), region="sidebar")]


class BrokenSection:
    @hookimpl
    def innoplat_idea_sections(self, session, idea):
        raise RuntimeError("boom")


def test_plugin_sections_appear_below_the_description(make_app):
    app = make_app(extra_plugins=[SupportCounter()])
    reference = add_idea(app, description="Beskrivningen")
    page = app.test_client().get(f"/ideas/{reference}").get_data(as_text=True)
    assert f"<section class='support'>Stöd för {reference}</section>" in page
    assert page.index("Beskrivningen") < page.index("class='support'")


def test_sections_go_to_their_region_and_order_whatever_order_they_come_in(make_app):
    app = make_app(extra_plugins=[PlacedSections()])
    reference = add_idea(app, description="Beskrivningen")
    client = app.test_client()
    sign_in(client, make_account(app))  # the staff region is the working group's
    page = client.get(f"/ideas/{reference}").get_data(as_text=True)
    order = [
        "SUPPORT",  # actions: support before follow, both before the description
        "FOLLOW",
        "Beskrivningen",
        "EARLY-DETAIL",  # details: by order, a bare fragment has order 100
        "BARE-DETAIL",
        "DISCUSSION",
        "STAFF-SCORE",  # staff: last, after the facts and the stage history
    ]
    positions = [page.index(marker) for marker in order]
    assert positions == sorted(positions), dict(zip(order, positions, strict=True))
    assert page.index('id="timeline-heading"') < page.index("STAFF-SCORE")
    actions = page.split('class="idea-actions"')[1].split('class="idea-main"')[0]
    assert "SUPPORT" in actions and "FOLLOW" in actions and "DISCUSSION" not in actions


def test_the_staff_region_never_reaches_a_visitor_even_if_a_plugin_forgets_to_check(make_app):
    app = make_app(extra_plugins=[PlacedSections()])
    reference = add_idea(app, description="Beskrivningen")
    page = app.test_client().get(f"/ideas/{reference}").get_data(as_text=True)
    assert "SUPPORT" in page and "DISCUSSION" in page
    assert "STAFF-SCORE" not in page and 'class="idea-staff"' not in page


def test_a_page_without_civic_actions_has_no_empty_actions_box(make_app):
    app = make_app(only=["catalogue", "comments"], extra_plugins=[SupportCounter()])
    reference = add_idea(app)
    page = app.test_client().get(f"/ideas/{reference}").get_data(as_text=True)
    assert 'class="idea-actions"' not in page and 'class="idea-staff"' not in page


def test_an_unknown_region_is_the_plugins_error_named_in_the_log(make_app, caplog):
    app = make_app(extra_plugins=[MisplacedSection()])
    reference = add_idea(app)
    response = app.test_client().get(f"/ideas/{reference}")
    assert response.status_code == 500
    assert "MisplacedSection" in caplog.text and "sidebar" in caplog.text


def test_plain_text_from_a_section_hook_is_escaped():
    from innoplat.core.web.idea_sections import arrange

    arranged = arrange([["<script>alert(1)</script>"]])
    assert str(arranged["details"][0].html) == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_plugin_navigation_entries_are_ordered_among_core_ones(make_app):
    client = make_app(extra_plugins=[SupportCounter()]).test_client()
    page = client.get("/").get_data(as_text=True)
    nav = page.split('aria-label="Huvudmeny"')[1].split("</nav>")[0]
    assert (
        nav.index('href="/ideas"') < nav.index('href="/support"') < nav.index('href="/ideas/new"')
    )


def test_plugin_templates_win_over_core_and_context_reaches_them(make_app):
    client = make_app(extra_plugins=[SupportCounter()]).test_client()
    assert client.get("/about").get_data(as_text=True) == "PLUGIN ABOUT Vinterkampanj kiruna"


def test_city_templates_win_over_plugin_templates(make_app, tmp_path):
    folder = tmp_path / "kiruna"
    shutil.copytree(
        load_city("kiruna").folder, folder, ignore=shutil.ignore_patterns("__pycache__")
    )
    (folder / "templates").mkdir()
    (folder / "templates" / "about.html").write_text("CITY ABOUT", encoding="utf-8")
    client = make_app(city=folder, extra_plugins=[SupportCounter()]).test_client()
    assert client.get("/about").get_data(as_text=True) == "CITY ABOUT"


def test_a_failing_plugin_gives_a_friendly_500_and_is_named_in_the_log(make_app, caplog):
    app = make_app(extra_plugins=[BrokenSection()])
    reference = add_idea(app)
    response = app.test_client().get(f"/ideas/{reference}")
    assert response.status_code == 500 and "boom" not in response.get_data(as_text=True)
    assert "BrokenSection" in caplog.text and "innoplat_idea_sections" in caplog.text
