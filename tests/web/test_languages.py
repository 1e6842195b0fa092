"""Languages: choosing the locale, the switcher, Meänkieli on Swedish CLDR data, and overrides."""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from web_helpers import add_idea

from innoplat.core.config import load_city
from innoplat.core.i18n import babel_locale, choose_locale


def html(response) -> str:
    return response.get_data(as_text=True)


def test_swedish_is_the_default(client):
    page = html(client.get("/"))
    assert '<html lang="sv">' in page and "Lämna en idé" in page


def test_accept_language_picks_a_supported_locale(client):
    page = html(client.get("/", headers={"Accept-Language": "de;q=1.0, en-GB;q=0.8"}))
    assert '<html lang="en">' in page and "Submit an idea" in page


def test_an_explicit_choice_wins_and_is_remembered_in_a_cookie(client):
    chosen = client.get("/?lang=fi", headers={"Accept-Language": "en"})
    assert '<html lang="fi">' in html(chosen) and "Jätä idea" in html(chosen)
    cookie = client.get_cookie("innoplat_lang")
    assert cookie.value == "fi" and cookie.http_only and cookie.same_site == "Lax"
    later = client.get("/ideas", headers={"Accept-Language": "en"})
    assert '<html lang="fi">' in html(later)


def test_an_unknown_language_is_ignored(client):
    assert '<html lang="sv">' in html(client.get("/?lang=xx"))
    assert client.get_cookie("innoplat_lang") is None


def test_the_switcher_is_on_every_page_and_keeps_the_page(client):
    page = html(client.get("/ideas?stage=test"))
    for code in ("sv", "en", "se", "fi", "fit"):
        assert f'hreflang="{code}"' in page
    assert 'href="/ideas?stage=test&amp;lang=se"' in page
    assert "Davvisámegiella" in page and "Meänkieli" in page


def test_northern_sami_changes_the_interface(client):
    page = html(client.get("/?lang=se"))
    assert '<html lang="se">' in page and "Buvtte jurdaga" in page


def test_meankieli_has_its_own_messages_but_swedish_dates_and_numbers(app, client):
    add_idea(app, title="Idé i maj", submitted_at=datetime(2026, 5, 4, 12, 0))
    page = html(client.get("/ideas?lang=fit"))
    assert '<html lang="fit">' in page
    assert "Jätä itee" in page  # Meänkieli message
    assert "4 maj 2026" in page  # Swedish CLDR date format
    assert html(client.get("/ideas?lang=en")).count("May 4, 2026") == 1


def test_fit_uses_the_configured_cldr_fallback():
    assert babel_locale("fit", {"fit": "sv"}) == "sv@fit"
    assert babel_locale("fit", {"fit": "fi"}) == "fi@fit"
    assert babel_locale("se") == "se"


def test_locale_choice_order():
    available = ["sv", "en", "fi"]
    assert choose_locale(available, "sv", explicit="en", cookie="fi") == "en"
    assert choose_locale(available, "sv", cookie="fi", accepted=[("en", 1.0)]) == "fi"
    assert choose_locale(available, "sv", accepted=[("fi-FI", 1.0)]) == "fi"
    assert choose_locale(available, "sv", accepted=[("de", 1.0)]) == "sv"


def test_city_content_is_translated_with_fallback_to_the_default(client):
    english = html(client.get("/?lang=en"))
    assert "The urban transformation" in english  # focus area in English
    sami = html(client.get("/?lang=se"))
    assert "Stadsomvandlingen" in sami  # no Sami name: the city's default (Swedish)


def test_error_pages_speak_the_visitors_language(client):
    assert "Page not found" in html(client.get("/nowhere?lang=en"))
    assert "Sivua ei löytynyt" in html(client.get("/nowhere?lang=fi"))


def _city_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "kiruna"
    shutil.copytree(
        load_city("kiruna").folder, folder, ignore=shutil.ignore_patterns("__pycache__")
    )
    return folder


def test_a_city_overrides_any_string_and_any_template(make_app, tmp_path):
    folder = _city_copy(tmp_path)
    messages = folder / "translations" / "sv" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    (messages / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Submit an idea"\nmsgstr "Tyck till!"\n',
        encoding="utf-8",
    )
    (folder / "templates").mkdir()
    (folder / "templates" / "about.html").write_text(
        '{% extends "base.html" %}{% block title %}Om Kiruna{% endblock %}{% block main %}<h1>Kirunas egen sida</h1>{% endblock %}',
        encoding="utf-8",
    )
    app = make_app(city=folder, config={"INNOPLAT_TRANSLATIONS_CACHE": str(tmp_path / "cache")})
    client = app.test_client()
    assert "Tyck till!" in html(client.get("/"))
    assert "Kirunas egen sida" in html(client.get("/about"))
    assert "Lämna en idé" not in html(client.get("/"))


def _po(folder: Path, locale: str, entries: dict[str, str]) -> None:
    target = folder / locale / "LC_MESSAGES"
    target.mkdir(parents=True, exist_ok=True)
    body = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n'
    for key, value in entries.items():
        body += f'\nmsgid "{key}"\nmsgstr "{value}"\n'
    (target / "messages.po").write_text(body, encoding="utf-8")


def test_catalogs_merge_core_then_plugins_then_the_city(tmp_path):
    """One precedence rule: the city overrides plugins, the first-listed plugin overrides later ones and core."""
    from babel.support import Translations

    from innoplat.core.i18n import compile_catalogs

    folder = _city_copy(tmp_path)
    _po(folder / "translations", "sv", {"Ideas": "Stadens idéer"})
    first, second = tmp_path / "first", tmp_path / "second"
    _po(first, "sv", {"Ideas": "Första pluginet", "Methods": "Första pluginets metoder"})
    _po(
        second,
        "sv",
        {"Methods": "Andra pluginets metoder", "Organisations": "Andra pluginets organisationer"},
    )
    compiled = compile_catalogs(load_city(folder), [first, second], cache_root=tmp_path / "cache")
    sv = Translations.load(str(compiled), ["sv"])
    assert sv.gettext("Ideas") == "Stadens idéer"
    assert sv.gettext("Methods") == "Första pluginets metoder"
    assert sv.gettext("Organisations") == "Andra pluginets organisationer"
    assert sv.gettext("Submit an idea") == "Lämna en idé"  # core
    fit = Translations.load(str(compiled), ["sv@fit"])
    assert fit.gettext("Submit an idea") == "Jätä itee"
    assert not list(
        Path(__file__).parents[2].joinpath("translations").rglob("*.mo")
    )  # build output stays out of the tree


@pytest.mark.parametrize("locale", ["sv", "en", "se", "fi", "fit"])
def test_every_main_page_renders_in_every_language(app, locale):
    reference = add_idea(app, title="Idé på alla språk", description="*Text*")
    client = app.test_client()
    for url in (
        "/",
        "/ideas",
        "/ideas?q=idé",
        f"/ideas/{reference}",
        "/ideas/new",
        "/organisations",
        "/organisations/ltu",
        "/methods",
        "/methods/living_lab",
        "/about",
        "/login",
    ):
        response = client.get(f"{url}{'&' if '?' in url else '?'}lang={locale}")
        assert response.status_code == 200, (url, locale)
        assert f'<html lang="{locale}">' in response.get_data(as_text=True)


def test_northern_sami_counts_past_two_in_sami(app, client):
    """CLDR gives Sami three plural forms (one, two, other): counts above two stay in Sami."""
    for n in range(3):
        add_idea(app, title=f"Idé {n}")
    page = client.get("/ideas?lang=se").get_data(as_text=True)
    assert "3 jurdaga gávdnojedje." in page
    assert "ideas found" not in page


def test_a_catalog_with_fewer_plural_forms_than_the_locale_falls_back_to_its_plural():
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    from innoplat.core.i18n import merged_catalog

    source = Catalog(locale="se")
    source.add(("%(num)d idea", "%(num)d ideas"), ("%(num)d jurdda", "%(num)d jurdaga"))
    path = Path(tempfile.mkdtemp()) / "messages.po"
    with path.open("wb") as handle:
        write_po(handle, source)
    merged = merged_catalog([path], "se")
    assert merged.num_plurals == 3
    assert list(merged.get("%(num)d idea").string) == [
        "%(num)d jurdda",
        "%(num)d jurdaga",
        "%(num)d jurdaga",
    ]
