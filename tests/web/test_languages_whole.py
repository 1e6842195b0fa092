"""Every language whole: a page in one offered language shows no interface sentence of another.

The check uses the catalogs themselves: an English message id (three words or more) on a
Finnish, Sami, Meänkieli or Swedish page is an untranslated string, and so is a Swedish
translation on an English page. City texts are the city's (stage names fall back to Swedish
where no translation is given) and are not interface strings, so they do not count.
"""

from __future__ import annotations

import html
import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from web_helpers import add_idea

ROOT = Path(__file__).resolve().parents[2]
PAGES = [
    "/",
    "/ideas",
    "/ideas/new",
    "/methods",
    "/methods/living_lab",
    "/organisations",
    "/about",
    "/compare",
    "/voting/",
    "/opendata/",
]


def _catalogs(locale: str) -> list[Path]:
    return [
        ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po",
        *sorted((ROOT / "plugins").glob(f"*/translations/{locale}/LC_MESSAGES/messages.po")),
    ]


@cache
def interface(locale: str) -> dict[str, str]:
    """English message id → this locale's translation, for every catalog (core and plugins)."""
    found: dict[str, str] = {}
    for path in _catalogs(locale):
        with path.open("rb") as handle:
            for message in read_po(handle):
                if message.id and isinstance(message.id, str) and isinstance(message.string, str):
                    found[message.id] = message.string
    return found


def _sentences(texts) -> set[str]:
    """Texts of three words or more, without placeholders: these are unmistakably interface."""
    return {
        t
        for t in texts
        if t and "%" not in t and len(t.split()) >= 3 and not re.search(r"[{}<>]", t)
    }


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture
def client_with_ideas(app, client):
    reference = add_idea(app, title="Uppvärmda busshållplatser", summary="Varma väntplatser.")
    return client, reference


@pytest.mark.parametrize("locale", ["sv", "se", "fi", "fit"])
def test_no_english_interface_text_on_pages_in_another_language(client_with_ideas, locale):
    client, reference = client_with_ideas
    ours = interface(locale)
    # Every English message id, whether or not this locale's catalogs know it, unless the
    # translation is the same words (a name, an abbreviation).
    english = _sentences(m for m in interface("en") if ours.get(m) != m)
    for path in [*PAGES, f"/ideas/{reference}"]:
        text = visible_text(
            client.get(f"{path}{'&' if '?' in path else '?'}lang={locale}").get_data(as_text=True)
        )
        shown = sorted(s for s in english if s in text)
        assert not shown, f"{path} in {locale} shows English: {shown[:5]}"


def test_no_swedish_interface_text_on_english_pages(client_with_ideas):
    client, reference = client_with_ideas
    swedish = _sentences(t for m, t in interface("sv").items() if t != m)
    for path in [*PAGES, f"/ideas/{reference}"]:
        text = visible_text(client.get(f"{path}?lang=en").get_data(as_text=True))
        shown = sorted(s for s in swedish if s in text)
        assert not shown, f"{path} in English shows Swedish: {shown[:5]}"
