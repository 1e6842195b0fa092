"""A city's own texts by language (city.toml): organisations' descriptions follow the page's
language and fall back by the one rule — the city's default language, Swedish, English — marked
with the language they are in."""

from __future__ import annotations

import re

from innoplat.core.config import load_city
from innoplat.core.models import localized_in

LTU_SV = "Universitet som stöder Innovationsplattform Kiruna"
LTU_EN = "University supporting Innovationsplattform Kiruna"


def _lead(page: str) -> str:
    """The description under the organisation's name, with its attributes."""
    return re.search(r'<p class="lead"[^>]*>[^<]*</p>', page).group(0)


def test_an_organisation_page_shows_its_description_in_the_pages_language(client):
    english = _lead(client.get("/organisations/ltu?lang=en").get_data(as_text=True))
    swedish = _lead(client.get("/organisations/ltu?lang=sv").get_data(as_text=True))
    assert LTU_EN in english and "lang=" not in english
    assert LTU_SV in swedish and "lang=" not in swedish


def test_a_language_without_the_text_shows_the_default_languages_marked_as_such(client):
    # Kiruna offers Northern Sami but gives its organisations no Sami description (yet).
    sami = _lead(client.get("/organisations/ltu?lang=se").get_data(as_text=True))
    assert LTU_SV in sami and 'lang="sv"' in sami


def test_organisations_follow_the_same_fallback_rule_as_the_citys_other_texts(make_client):
    kiruna = load_city("kiruna")
    organisations = [
        kiruna.config.organisations[0].model_copy(update={"description": {"en": "Only English"}}),
        *kiruna.config.organisations[1:],
    ]
    city = type(kiruna)(
        config=kiruna.config.model_copy(
            update={"organisations": organisations, "description": {"en": "About, in English"}}
        ),
        folder=kiruna.folder,
    )
    client = make_client(city=city)
    key = organisations[0].key
    # No Swedish text: a Swedish page shows the English one, marked English — for the
    # organisation exactly as for the city's own description on the about page.
    organisation = _lead(client.get(f"/organisations/{key}?lang=sv").get_data(as_text=True))
    about = _lead(client.get("/about?lang=sv").get_data(as_text=True))
    assert "Only English" in organisation and 'lang="en"' in organisation
    assert "About, in English" in about and 'lang="en"' in about
    assert localized_in({"en": "Only English"}, "sv", "sv") == ("Only English", "en")


def test_every_bundled_kiruna_organisation_is_described_in_swedish_and_english():
    for organisation in load_city("kiruna").config.organisations:
        assert organisation.description.get("sv") and organisation.description.get("en"), (
            organisation.key
        )


# --- Names of stages, focus areas and methods: the same rule, marked the same way ------------


def test_kirunas_sami_and_meankieli_pages_show_swedish_names_marked_swedish(client):
    # Kiruna names its stages, focus areas and local methods in sv, en and fi only.
    home = client.get("/?lang=se").get_data(as_text=True)
    assert '<span lang="sv">Inkommen</span>' in home
    assert '<span lang="sv">Stadsomvandlingen</span>' in home
    ideas = client.get("/ideas?lang=fit").get_data(as_text=True)
    assert re.search(r'<option value="inkommen"[^>]* lang="sv">Inkommen</option>', ideas)
    methods = client.get("/methods?lang=se").get_data(as_text=True)
    assert '<span lang="sv">Innovationsverkstad</span>' in methods
    compare = client.get("/compare?lang=se").get_data(as_text=True)
    assert '<label for="city-kiruna"><span lang="sv">Innovationsplattform Kiruna</span>' in compare
    assert re.search(r'<label for="method-[^"]+"><span lang="sv">', compare)
    # In a language the city gives, nothing is marked.
    finnish = client.get("/?lang=fi").get_data(as_text=True)
    assert "Saapunut" in finnish and 'lang="sv">Inkommen' not in finnish
    assert '<span lang="sv">' not in client.get("/?lang=sv").get_data(as_text=True)


def test_a_page_title_carries_the_fallen_back_name_without_markup(client):
    page = client.get("/methods/kiruna-innovationsverkstad?lang=se").get_data(as_text=True)
    title = re.search(r"<title>([^<]*)</title>", page)
    assert title and title.group(1).startswith("Innovationsverkstad – ")
    assert '<h1><span lang="sv">Innovationsverkstad</span></h1>' in page


def _finnish_first_kiruna():
    """Kiruna as a city whose default language is Finnish, with names missing in Swedish."""
    kiruna = load_city("kiruna")
    config = kiruna.config
    stages = [
        config.stages[0].model_copy(update={"name": {"fi": "Saapunut", "en": "Submitted"}}),
        *config.stages[1:],
    ]
    areas = [
        config.focus_areas[0].model_copy(update={"name": {"fi": "Kaupunkimuutos", "en": "Change"}}),
        *config.focus_areas[1:],
    ]
    methods = [
        config.methods[0].model_copy(update={"name": {"fi": "Innovaatiopaja", "en": "Workshop"}}),
        *config.methods[1:],
    ]
    updated = config.model_copy(
        update={"default_locale": "fi", "stages": stages, "focus_areas": areas, "methods": methods}
    )
    return type(kiruna)(config=updated, folder=kiruna.folder)


def test_a_name_missing_in_the_pages_language_falls_back_to_the_citys_default_language(
    make_client,
):
    client = make_client(city=_finnish_first_kiruna())
    # Northern Sami and Swedish pages: no such name, so the city's default (Finnish), marked.
    for lang in ("se", "sv"):
        home = client.get(f"/?lang={lang}").get_data(as_text=True)
        assert '<span lang="fi">Saapunut</span>' in home, lang
        assert '<span lang="fi">Kaupunkimuutos</span>' in home, lang
        methods = client.get(f"/methods?lang={lang}").get_data(as_text=True)
        assert '<span lang="fi">Innovaatiopaja</span>' in methods, lang
        ideas = client.get(f"/ideas?lang={lang}").get_data(as_text=True)
        assert re.search(r'<option value="inkommen"[^>]* lang="fi">Saapunut</option>', ideas)
    # Finnish and English pages show their own names, unmarked.
    finnish = client.get("/?lang=fi").get_data(as_text=True)
    assert "Saapunut" in finnish and '<span lang="fi">' not in finnish
    english = client.get("/?lang=en").get_data(as_text=True)
    assert ">Submitted<" in english and '<span lang="fi">' not in english


def test_the_api_resolves_names_by_the_same_rule(make_client):
    client = make_client(city=_finnish_first_kiruna())
    stages = client.get("/api/v1/stages?lang=se").get_json()["items"]
    assert stages[0]["name"] == "Saapunut"
    kiruna_stages = make_client().get("/api/v1/stages?lang=se").get_json()["items"]
    assert kiruna_stages[0]["name"] == "Inkommen"


def test_the_rule_itself():
    assert localized_in({"fi": "Saapunut", "en": "Submitted"}, "se", "fi") == ("Saapunut", "fi")
    assert localized_in({"sv": "Inkommen", "en": "Submitted"}, "se", "fi") == ("Inkommen", "sv")
    assert localized_in({"en": "Submitted"}, "se", "fi") == ("Submitted", "en")
    assert localized_in({"de": "", "nb": "Mottatt"}, "se", "fi") == ("Mottatt", "nb")
    assert localized_in({}, "se", "fi") == ("", None)
