"""A city's own texts on pages: picked by the one rule and marked when they fell back.

Every text a city gives by language in city.toml (its name and description, stages, focus
areas, methods, organisations' descriptions, the theme's invitation and picture text) and
every name a plugin's settings give by language reaches a page through ``page_text``: the
page's language, then the city's default language, then Swedish, English, any
(``models.localized_in``). A text in another language than the page's renders inside
``<span lang="xx">``, so a screen reader pronounces it in its own language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from ..models import Localized, localized_in
from .current import platform
from .languages import current_locale


@dataclass(frozen=True)
class PageText:
    """A city's text as a page shows it; ``lang`` is set only when it is not the page's language.

    ``{{ text }}`` in a template gives the text, inside ``<span lang="xx">`` when it fell back.
    Where markup cannot go (``<title>``, ``<option>``, attributes) use ``text.text`` and put
    ``text.attribute`` on the element.
    """

    text: str
    lang: str | None = None

    def __str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        return bool(self.text)

    def __html__(self) -> Markup:
        if self.lang:
            return Markup('<span lang="{}">{}</span>').format(self.lang, self.text)
        return escape(self.text)

    @property
    def attribute(self) -> Markup:
        """`` lang="xx"`` for the element holding the text when it fell back, else nothing."""
        return Markup(' lang="{}"').format(self.lang) if self.lang else Markup("")


def for_page(found: Localized) -> PageText:
    """A picked text for this page: its language kept only when it is not the page's."""
    return PageText(found.text, found.lang if found.lang != current_locale() else None)


def page_text(values: Mapping[str, Any] | None, default_locale: str | None = None) -> PageText:
    """A text by language for this page, by the one rule (``default_locale``: the city's)."""
    default = default_locale or platform().city.config.default_locale
    return for_page(localized_in(dict(values or {}), current_locale(), default))


def name(thing: Any) -> PageText:
    """The name of a stage, focus area, method, city or plugin-defined thing for this page.

    A city's name falls back to its own default language; anything else to the default
    language of the city whose page this is. Without any name, its key.
    """
    default = getattr(thing, "default_locale", None) or platform().city.config.default_locale
    found = localized_in(thing.name, current_locale(), default)
    if not found.text:
        return PageText(str(getattr(thing, "key", None) or getattr(thing, "slug", "")))
    return for_page(found)


def choice(key: str, thing: Any) -> tuple[str, str, dict[str, str]]:
    """A select option (value, label, attributes) for WTForms naming ``thing`` for this page."""
    shown = name(thing)
    return key, shown.text, ({"lang": shown.lang} if shown.lang else {})
