"""The web side of languages: Flask-Babel, the visitor's locale, and the language switcher."""

from __future__ import annotations

import inspect
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

from babel import Locale
from flask import Flask, current_app, g, has_request_context, request
from flask.typing import ResponseReturnValue
from flask_babel import Babel

from ..i18n import babel_locale, choose_locale, compile_catalogs
from ..platform import Platform
from .current import platform as _platform

COOKIE = "innoplat_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

#: Each locale's own name for itself, shown in the switcher (Babel has no name for Meänkieli).
NATIVE_NAMES = {
    "sv": "Svenska",
    "en": "English",
    "se": "Davvisámegiella",
    "fi": "Suomi",
    "fit": "Meänkieli",
}


def plugin_translation_folders(platform: Platform) -> list[Path]:
    """Each enabled plugin's ``translations/`` folder, in the order the city enables them."""
    folders = []
    for name in platform.city.config.plugins.enabled:
        plugin = platform.plugins.get_plugin(name)
        module = plugin if isinstance(plugin, ModuleType) else inspect.getmodule(plugin)
        if module is None or not getattr(module, "__file__", None):
            continue
        folder = Path(module.__file__).parent / "translations"  # type: ignore[arg-type]
        if folder.is_dir():
            folders.append(folder)
    return folders


def init_app(app: Flask, platform: Platform) -> None:
    city = platform.city.config
    cache = app.config.get("INNOPLAT_TRANSLATIONS_CACHE")
    compiled = compile_catalogs(
        platform.city,
        plugin_translation_folders(platform),
        cache_root=Path(cache) if cache else None,
    )
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    app.config["BABEL_DEFAULT_LOCALE"] = babel_locale(city.default_locale, city.locale_fallbacks)
    app.config["BABEL_DEFAULT_TIMEZONE"] = city.timezone
    Babel(app, locale_selector=_babel_locale)
    app.before_request(_choose)
    app.after_request(_remember)
    app.context_processor(_context)


def current_locale() -> str:
    """The interface locale of this request (``fit``, not ``sv@fit``)."""
    if has_request_context() and "locale" in g:
        return str(g.locale)
    return _platform().city.config.default_locale


def _choose() -> None:
    city = _platform().city.config
    explicit = request.args.get("lang")
    g.locale = choose_locale(
        city.locales,
        city.default_locale,
        explicit=explicit,
        cookie=request.cookies.get(COOKIE),
        accepted=request.accept_languages,
    )
    g.explicit_locale = explicit if explicit in city.locales else None


def _babel_locale() -> str:
    city = _platform().city.config
    return babel_locale(current_locale(), city.locale_fallbacks)


def _remember(response: Any) -> ResponseReturnValue:
    chosen = g.get("explicit_locale")
    if chosen:
        response.set_cookie(
            COOKIE,
            chosen,
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=current_app.session_interface.get_cookie_secure(current_app),  # as the session's
        )
    return response


def switch_url(locale: str) -> str:
    """This page in another language: the current URL with ``lang`` replaced."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    args.append(("lang", locale))
    return f"{request.path}?{urlencode(args)}"


def native_name(locale: str) -> str:
    if locale in NATIVE_NAMES:
        return NATIVE_NAMES[locale]
    return (Locale.parse(locale).get_display_name(locale) or locale).capitalize()


def _context() -> dict[str, Any]:
    city = _platform().city.config
    return {
        "locale": current_locale(),
        "languages": [(loc, native_name(loc)) for loc in city.locales],
        "switch_url": switch_url,
    }
