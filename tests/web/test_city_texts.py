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
