"""Each built-in plugin's own catalogs translate every string it uses, in Swedish and English.

A plugin's catalog travels with it, and the notifications plugin writes e-mails from its
own catalog outside any request: so each catalog must be complete on its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
BUILT_IN = ("voting", "comments", "evaluation", "notifications", "similar_ideas", "opendata")
#: The usual gettext names, and notifications' ``translate(locale, message)`` and ``N_``.
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None, "N_": None, "translate": (2,)}
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}


def _used(plugin: str) -> set[object]:
    found = extract_from_dir(PLUGINS / plugin, METHODS, OPTIONS, keywords=KEYWORDS)
    return {m if isinstance(m, str) else tuple(m) for _f, _l, m, _c, _x in found}


def _translated(plugin: str, locale: str) -> set[object]:
    with (PLUGINS / plugin / "translations" / locale / "LC_MESSAGES" / "messages.po").open(
        "rb"
    ) as handle:
        catalog = read_po(handle)
    done = set()
    for message in catalog:
        strings = message.string if isinstance(message.string, list | tuple) else [message.string]
        if message.id and not message.fuzzy and all(strings):
            done.add(message.id if isinstance(message.id, str) else tuple(message.id))
    return done


@pytest.mark.parametrize("locale", ["sv", "en"])
@pytest.mark.parametrize("plugin", BUILT_IN)
def test_the_plugin_catalog_is_complete(plugin, locale):
    missing = _used(plugin) - _translated(plugin, locale)
    assert not missing, f"plugins/{plugin}/translations/{locale} lacks: {sorted(map(str, missing))}"


def test_an_email_comes_in_swedish_and_in_english():
    from innoplat.plugins.notifications.messages import translate

    assert translate("sv", "Hello,") == "Hej!"
    assert translate("en", "Hello,") == "Hello,"
