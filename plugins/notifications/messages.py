"""Texts of the e-mails in the recipient's language, from this plugin's own Babel catalogs.

E-mails are written outside any web request (in a hook, or by the sender on the command
line), so they cannot use Flask-Babel's request locale: each message picks its catalog here.
"""

from __future__ import annotations

import functools
from gettext import NullTranslations
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

TRANSLATIONS = Path(__file__).with_name("translations")


def available_locales() -> list[str]:
    return sorted(p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))


@functools.cache
def catalog(locale: str) -> NullTranslations:
    """The plugin's catalog for ``locale``, compiled in memory from its .po file."""
    path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    if not path.is_file():
        return NullTranslations()
    with path.open("rb") as handle:
        po = read_po(handle, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, po)
    compiled.seek(0)
    return Translations(fp=compiled)


def message_locale(wanted: str | None, city_default: str) -> str:
    """The recipient's language if we have a catalog for it, else the city's, else English."""
    locales = available_locales()
    for candidate in (wanted, city_default):
        if candidate and candidate in locales:
            return candidate
    return "en"


def N_(message: str) -> str:
    """Mark a message for extraction where it is chosen before it is translated."""
    return message


def translate(locale: str, message: str, **values: object) -> str:
    """``message`` in ``locale``, with ``%(name)s`` placeholders filled from ``values``."""
    text = catalog(locale).gettext(message)
    return text % values if values else text
