"""The front door: the city's invitation and picture, what became of ideas, and idea cards with
their stage, focus areas and the plugins' counts."""

from __future__ import annotations

import re
import shutil

import pytest
from web_helpers import add_idea

from innoplat.core.config import load_city
from innoplat.core.errors import ConfigError
from innoplat.core.hookspecs import hookimpl
from innoplat.core.services import ideas as idea_service
from innoplat.plugins.comments import discussion
from innoplat.plugins.voting import supports


def text(response) -> str:
    return response.get_data(as_text=True)


def _implement(app, reference: str) -> None:
    platform = app.extensions["innoplat"]
    with platform.transaction() as session:
        idea = idea_service.get_idea(session, reference)
        for stage in ("bedomning", "utveckling", "inford"):
            idea_service.move_idea(session, idea, stage)


def test_the_home_page_opens_with_the_citys_invitation_and_picture(client):
    page = text(client.get("/"))
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S).group(1).strip()
    assert heading == "Har du en idé för Kiruna?"
    assert re.search(r'<img class="hero-image" src="/city/static/hero.svg" alt="Fjäll[^"]+"', page)
    assert 'src="/city/static/wordmark.svg"' in page  # the wordmark in the header
    with client.get("/city/static/hero.svg") as picture:
        assert picture.status_code == 200 and picture.mimetype == "image/svg+xml"
    english = text(client.get("/?lang=en"))
    assert "Do you have an idea for Kiruna?" in english
    assert 'alt="Mountains under the northern lights' in english
    # The grant description is still there, below what happened to ideas.
    assert english.index("Do you have an idea") < english.index("Vinnova-funded")


def test_the_home_page_shows_what_became_of_ideas_before_the_funnel(app, client):
    done = add_idea(app, title="Uppvärmda cykelställ")
    internal = add_idea(app, title="Intern vinterväghållning", visibility="internal")
    _implement(app, done)
    _implement(app, internal)
    add_idea(app, title="Nyss inkommen idé")
    page = text(client.get("/"))
    became = page.index("Idéer som blev verklighet")
    assert became < page.index("Uppvärmda cykelställ") < page.index("Idéer per steg")
    assert "Intern vinterväghållning" not in page  # visitors see public ideas only
    assert page.index("Uppvärmda cykelställ") < page.index("Nyss inkommen idé")


def test_without_implemented_ideas_the_section_is_left_out(client):
    assert "Idéer som blev verklighet" not in text(client.get("/"))


def test_idea_cards_show_the_stage_in_its_colour_focus_areas_supports_and_comments(app, client):
    reference = add_idea(app, title="Lånecyklar vintertid", focus_areas=["stadsomvandling"])
    platform = app.extensions["innoplat"]
    with platform.transaction() as session:
        idea = idea_service.get_idea(session, reference)
        for n in range(3):
            supports.support(session, idea, f"account:{n + 1}")
        discussion.post_comment(session, idea, "Bra idé!", author_name="Kim")
    page = text(client.get("/ideas"))
    start = page.index("Lånecyklar vintertid")
    card = page[start : page.index("</ul>\n</li>", start)]
    assert 'class="stage-badge phase-submitted">Inkommen<' in card
    assert "Stadsomvandlingen" in card
    assert "<li>3 stöd</li>" in card and "<li>1 kommentar</li>" in card
    english = text(client.get("/ideas?lang=en"))
    assert "<li>3 supports</li>" in english and "<li>1 comment</li>" in english


class CardFacts:
    """A plugin adding its own fact to every card."""

    @hookimpl
    def innoplat_idea_card_facts(self, session, ideas):
        return {idea.id: [f"{len(idea.title)} tecken"] for idea in ideas}


def test_a_plugin_adds_facts_to_every_idea_card(make_app):
    app = make_app(extra_plugins=[CardFacts()])
    add_idea(app, title="Tolv tecken!")
    page = text(app.test_client().get("/ideas"))
    assert "<li>12 tecken</li>" in page


@pytest.fixture
def city_copy(tmp_path):
    folder = tmp_path / "kiruna"
    shutil.copytree(load_city("kiruna").folder, folder)
    return folder


def test_a_hero_image_needs_alt_text(city_copy):
    path = city_copy / "city.toml"
    source = path.read_text(encoding="utf-8")
    start = source.index("[theme.hero_alt]")
    end = source.index("[theme.invitation]")
    path.write_text(source[:start] + source[end:], encoding="utf-8")
    with pytest.raises(ConfigError, match=r"theme: .*hero_image needs hero_alt"):
        load_city(city_copy)


def test_a_theme_file_that_does_not_exist_is_named(city_copy):
    (city_copy / "static" / "wordmark.svg").unlink()
    with pytest.raises(ConfigError, match=r"theme\.logo: no file static/wordmark\.svg"):
        load_city(city_copy)
