"""Languages: choosing the visitor's locale, and compiling the merged message catalogs.

Precedence is the one rule of docs/hooks.md ("Precedence"): a city's own ``translations/`` override the
plugins' (in the order the city enables them, the first listed winning), which override
core's ``translations/``. The merged catalogs are compiled into a cache folder when an app
starts; ``.mo`` files are build output and never committed.

Meänkieli (``fit``) is not in CLDR. Its messages live in the ``fit`` catalog, but Babel
formats its dates and numbers with the city's configured fallback
(``[locale_fallbacks] fit = "sv"``): the Babel locale is ``sv@fit``, whose CLDR data is
Swedish and whose gettext folder ``sv@fit`` holds the compiled Meänkieli messages.
"""

from __future__ import annotations

import functools
import hashlib
import tempfile
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from .config import CityDefinition

DOMAIN = "messages"
#: Locales whose language is not in CLDR: their Babel locale borrows a CLDR language.
NOT_IN_CLDR = ("fit",)
DEFAULT_FALLBACK = "sv"


def core_translations_folder() -> Path:
    return Path(str(resources.files("innoplat.translations")))


def babel_locale(locale: str, fallbacks: dict[str, str] | None = None) -> str:
    """The Babel locale string for an interface locale: ``fit`` becomes e.g. ``sv@fit``."""
    if locale in NOT_IN_CLDR:
        return f"{(fallbacks or {}).get(locale, DEFAULT_FALLBACK)}@{locale}"
    try:
        Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        return f"{(fallbacks or {}).get(locale, DEFAULT_FALLBACK)}@{locale}"
    return locale


def interface_locale(babel_name: str) -> str:
    """Back from a Babel locale string to the interface locale (``sv@fit`` -> ``fit``)."""
    return babel_name.split("@", 1)[1] if "@" in babel_name else babel_name


def choose_locale(
    available: Sequence[str],
    default: str,
    *,
    explicit: str | None = None,
    cookie: str | None = None,
    accepted: Iterable[tuple[str, float]] = (),
) -> str:
    """The visitor's locale: an explicit choice, then the cookie, then Accept-Language, then the default."""
    for candidate in (explicit, cookie):
        if candidate and candidate in available:
            return candidate
    for value, _quality in accepted:
        tag = value.lower().replace("_", "-")
        if tag in available:
            return tag
        primary = tag.split("-", 1)[0]
        if primary in available:
            return primary
    return default


def catalog_sources(
    city: CityDefinition, plugin_folders: Sequence[Path], locale: str
) -> list[Path]:
    """The .po files merged for one locale, lowest precedence first: core, plugins, city."""
    names = [
        core_translations_folder(),
        *reversed(list(plugin_folders)),
        city.folder / "translations",
    ]
    paths = [folder / locale / "LC_MESSAGES" / f"{DOMAIN}.po" for folder in names]
    return [p for p in paths if p.is_file()]


#: Part of the compiled cache's key: raise it when the merging below changes, so catalogs
#: compiled by an older release are not reused.
CACHE_FORMAT = "2"


def merged_catalog(sources: Sequence[Path], babel_name: str) -> Catalog:
    """One catalog from several .po files; a later file's translation replaces an earlier one."""
    messages: dict[tuple[object, str | None], object] = {}
    for path in sources:
        with path.open("rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            string = message.string
            if isinstance(string, (list, tuple)):
                # A catalog may leave its locale's rarer forms empty (Sami's dual): the forms
                # it gives count, and the general plural stands in for the rest below.
                string = tuple(string)
                while len(string) > 1 and not string[-1]:
                    string = string[:-1]
            # Fuzzy and empty entries are not translations yet: the earlier catalog's stays.
            if not message.id or message.fuzzy or not _translated(string):
                continue
            messages[(message.id, message.context)] = string
    merged = Catalog(locale=babel_name, domain=DOMAIN, fuzzy=False)
    forms = merged.num_plurals
    for (message_id, context), translation in messages.items():
        value: object = translation
        if isinstance(translation, (list, tuple)):
            # The compiled catalog counts with the locale's CLDR plural rule (Northern Sami has
            # one, two and other): a catalog written with fewer forms would leave gettext
            # without a string for some numbers, and it would show the English source. The
            # last form given is the general plural, so it stands in for the missing ones.
            value = (list(translation) + [translation[-1]] * forms)[:forms]
        merged.add(message_id, value, context=context)  # type: ignore[arg-type]
    return merged


def _translated(string: object) -> bool:
    if isinstance(string, (list, tuple)):
        return all(string)
    return bool(string)


def compile_catalogs(
    city: CityDefinition,
    plugin_folders: Sequence[Path],
    *,
    cache_root: Path | None = None,
) -> Path:
    """Compile the merged catalogs of every city locale into a cache folder and return it.

    :param plugin_folders: each enabled plugin's ``translations/`` folder, in the city's order.
    """
    fallbacks = dict(city.config.locale_fallbacks)
    sources = {loc: catalog_sources(city, plugin_folders, loc) for loc in city.config.locales}
    digest = hashlib.sha256(CACHE_FORMAT.encode())
    for locale, paths in sorted(sources.items()):
        digest.update(babel_locale(locale, fallbacks).encode())
        for path in paths:
            digest.update(str(path).encode())
            digest.update(path.read_bytes())
    root = cache_root or Path(tempfile.gettempdir()) / "innoplat-translations"
    folder = root / f"{city.slug}-{digest.hexdigest()[:16]}"
    marker = folder / ".complete"
    if marker.is_file():
        return folder
    for locale, paths in sources.items():
        if not paths:
            continue
        target = folder / babel_locale(locale, fallbacks) / "LC_MESSAGES"
        target.mkdir(parents=True, exist_ok=True)
        catalog = merged_catalog(paths, babel_locale(locale, fallbacks))
        # Write then rename, so a second worker starting at the same time never reads half a file.
        partial = target / f"{DOMAIN}.mo.partial"
        with partial.open("wb") as handle:
            write_mo(handle, catalog)
        partial.replace(target / f"{DOMAIN}.mo")
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("compiled\n")
    return folder


def N_(message: str) -> str:
    """Mark an English msgid for extraction where it is chosen before it is translated."""
    return message


@functools.cache
def _catalog(folder: Path, locale: str) -> dict[str, str]:
    path = folder / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
    }


def translate(message: str, locale: str | None, *, translations: Path | None = None) -> str:
    """An English msgid in ``locale``, outside any web request (services, CLI).

    Pages get the same text through Flask-Babel; this serves code that knows its locale but
    has no request (the comparison's metric labels). ``translations`` is a plugin's
    ``translations/`` folder, looked in before core's catalogs. An unknown msgid or locale
    stays English.
    """
    locale = locale or DEFAULT_FALLBACK
    if translations is not None:
        found = _catalog(translations, locale).get(message)
        if found:
            return found
    return _catalog(core_translations_folder(), locale).get(message, message)
