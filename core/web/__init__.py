"""The city's web platform: ``create_app(city=...)`` builds everything for one city."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request
from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader

from .. import validation
from ..config import CityDefinition
from ..db import default_database_url
from ..errors import DatabaseUnavailable, InnoplatError, StartupFailed
from ..platform import Platform

log = logging.getLogger(__name__)

CORE_TEMPLATES = Path(__file__).parent / "templates"
CORE_STATIC = Path(__file__).parent / "static"


MISSING_SECRET_KEY = (
    "INNOPLAT_SECRET_KEY is not set: set it to a long random value that stays the same across "
    "restarts, e.g. export INNOPLAT_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
)
SECRET_KEY_FILE = "secret_key"


def instance_folder() -> Path:
    """Flask's instance folder: ``INNOPLAT_INSTANCE_PATH``, or ``./instance``.

    Explicit because Flask cannot guess one for a package mapped from core/ (editable install).
    """
    return Path(os.environ.get("INNOPLAT_INSTANCE_PATH") or Path.cwd() / "instance").resolve()


def stored_secret_key(folder: Path | None = None) -> str:
    """The secret key kept in the instance folder, made on first use (for ``innoplat serve``).

    Sessions survive restarts of a local server with no setup; in production the key comes
    from ``INNOPLAT_SECRET_KEY`` instead.
    """
    path = (folder or instance_folder()) / SECRET_KEY_FILE
    if path.is_file() and path.read_text(encoding="ascii").strip():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    key = secrets.token_hex(32)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key


def _defaults() -> dict[str, Any]:
    secure = os.environ.get("INNOPLAT_SECURE_COOKIES", "") in ("1", "true", "yes")
    return {
        "SECRET_KEY": os.environ.get("INNOPLAT_SECRET_KEY"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session: long forms stay valid
        "RATELIMIT_STORAGE_URI": os.environ.get("INNOPLAT_RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": True,
        "INNOPLAT_SUBMIT_LIMIT": os.environ.get("INNOPLAT_SUBMIT_LIMIT", "10 per hour"),
        "INNOPLAT_LOGIN_LIMIT": os.environ.get("INNOPLAT_LOGIN_LIMIT", "10 per 5 minutes"),
        # A request body larger than this gets a 413 page: no form or API call needs more.
        "MAX_CONTENT_LENGTH": int(os.environ.get("INNOPLAT_MAX_CONTENT_LENGTH", 1024 * 1024)),
        "INNOPLAT_STUCK_DAYS": 90,
        "INNOPLAT_FIGURES_CACHE_SECONDS": 30,
        "INNOPLAT_PAGE_SIZE": 20,
        "INNOPLAT_TRANSLATIONS_CACHE": os.environ.get("INNOPLAT_TRANSLATIONS_CACHE"),
        "INNOPLAT_PROXY_FIX": os.environ.get("INNOPLAT_PROXY_FIX", "") in ("1", "true", "yes"),
        # The address links in e-mails and open data point at; required unless testing or debugging.
        "INNOPLAT_BASE_URL": os.environ.get("INNOPLAT_BASE_URL"),
    }


def create_app(
    city: str | Path | CityDefinition | None = None,
    database_url: str | None = None,
    config: dict[str, Any] | None = None,
    *,
    platform: Platform | None = None,
) -> Flask:
    """Build the app for one city: configuration, database, plugin manager, languages, blueprints.

    Per-app state lives in ``app.extensions["innoplat"]`` (a Platform), never in module globals.

    :raises StartupFailed: whatever keeps the app from starting (a city that fails its checks,
        a plugin's error, no secret key, no site address, a database without innoplat's tables
        or with an older schema), with one line saying what to fix. A database that cannot be
        opened at start-up is logged, and its pages answer 503 until it can be.
    """
    opened: Platform | None = None
    try:
        if platform is None:
            city = city or os.environ.get("INNOPLAT_CITY") or "kiruna"
            platform = opened = Platform.open(city, database_url or default_database_url())
            platform.check()
        return _build_app(platform, config)
    except BaseException as error:
        if opened is not None:
            opened.dispose()  # its connections: the app that was to own them never starts
        if isinstance(error, InnoplatError) and not isinstance(error, StartupFailed):
            raise StartupFailed(error) from None
        raise


def _build_app(platform: Platform, config: dict[str, Any] | None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(instance_folder()),
        static_folder=str(CORE_STATIC),
        template_folder=None,
    )
    app.config.update(_defaults())
    app.config.update(config or {})
    if not app.config["SECRET_KEY"]:
        if not (app.testing or app.debug):
            raise StartupFailed(MISSING_SECRET_KEY)
        app.config["SECRET_KEY"] = os.urandom(32).hex()  # tests and the debugger only
    try:
        platform.check_database()  # no innoplat tables, or an older schema: StartupFailed
    except DatabaseUnavailable as error:
        # A server down at start-up may come back: until then every page answers 503.
        log.warning("%s; pages answer 503 until it can be opened", error)
    if app.testing and "INNOPLAT_FIGURES_CACHE_SECONDS" not in (config or {}):
        app.config["INNOPLAT_FIGURES_CACHE_SECONDS"] = 0  # tests see every change at once
    app.extensions["innoplat"] = platform
    platform.writes_by_default = _request_may_write
    if app.config["INNOPLAT_PROXY_FIX"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    from . import (
        auth,
        compare,
        errors,
        federation,
        languages,
        links,
        persons,
        public,
        request_input,
        security,
        submit,
        workgroup,
    )

    request_input.init_app(app)
    # `{% if url is web_address %}`: only http(s) addresses become links, whatever is stored.
    app.jinja_env.tests["web_address"] = validation.is_web_address
    links.init_app(app)
    languages.init_app(app, platform)
    auth.init_app(app)
    security.init_app(app)
    errors.init_app(app)

    app.register_blueprint(public.blueprint)
    app.register_blueprint(submit.blueprint)
    app.register_blueprint(auth.blueprint)
    app.register_blueprint(workgroup.blueprint)
    app.register_blueprint(persons.blueprint)
    from .api import blueprint as api_blueprint

    app.register_blueprint(api_blueprint)
    compare.init_app(app)
    from . import diffusion, evidence

    evidence.init_app(app)
    diffusion.init_app(app)
    federation.init_app(app)
    plugin_blueprints = []
    for blueprints in platform.hooks.innoplat_blueprints(app=app):
        for blueprint in blueprints or []:
            app.register_blueprint(blueprint)
            security.limit_plugin_posts(app, blueprint)
            plugin_blueprints.append(blueprint)
    app.jinja_loader = _template_loader(platform, plugin_blueprints)  # type: ignore[assignment]
    security.limit_views(app)
    public.init_app(app)
    return app


def _request_may_write() -> bool:
    """Outside a GET, HEAD or OPTIONS request a use case may write (a view that writes on
    GET, such as a confirmation link, says so with ``transaction(write=True)``)."""
    return not has_request_context() or request.method not in ("GET", "HEAD", "OPTIONS")


def _template_loader(platform: Platform, plugin_blueprints: list[Any]) -> ChoiceLoader:
    """The one precedence rule: the city's templates, then the plugins' in the city's order, then core's.

    ``innoplat_blueprints`` returns the plugins' blueprints in that order already.
    """
    loaders: list[BaseLoader] = []
    city_templates = platform.city.folder / "templates"
    if city_templates.is_dir():
        loaders.append(FileSystemLoader(str(city_templates)))
    for blueprint in plugin_blueprints:
        if blueprint.jinja_loader is not None:
            loaders.append(blueprint.jinja_loader)
    loaders.append(FileSystemLoader(str(CORE_TEMPLATES)))
    return ChoiceLoader(loaders)
