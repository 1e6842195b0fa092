"""One install, many cities: one WSGI application serving several cities' platforms.

A sites file (TOML) names the cities and how each is reached — by host name, by a path
prefix for hosts without DNS of their own (``/kiruna/…``), or both::

    database_url = "postgresql://innoplat@/innoplat"   # optional: INNOPLAT_DATABASE_URL

    [cities.kiruna]
    hosts = ["innovation.kiruna.example"]
    prefix = "/kiruna"

    [cities.lund]
    hosts = ["future.lund.example"]
    base_url = "https://future.lund.example"   # optional: where its e-mails' links point

A city without hosts is reached at ``/<slug>``. Each city is its own Flask app (its own
plugin manager, so only its enabled plugins are ever called; its theme, templates,
languages and translations), over one database engine shared by all. Sessions, sign-ins,
CSRF tokens and rate limits are per city: each city's cookies have their own names and
paths, and its session is signed with a key derived for that city, so a Kiruna cookie means
nothing on Lund's pages. A city whose ``city.toml`` is broken answers 503 with a plain page,
and the others are served as usual.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.exceptions import NotFound, ServiceUnavailable
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.wrappers import Request

from .. import db
from ..config import read_toml
from ..errors import ConfigError, InnoplatError, StartupFailed
from ..links import BASE_URL_ENV, checked_base_url
from ..platform import Platform

log = logging.getLogger("innoplat.sites")


@dataclass(frozen=True)
class Site:
    slug: str
    hosts: tuple[str, ...] = ()
    prefix: str | None = None
    #: A folder holding the city's city.toml (default: the slug, looked up as usual).
    folder: str | None = None
    #: The address links in the city's e-mails and open data point at (see ``base_url_of``).
    base_url: str | None = None


@dataclass(frozen=True)
class Sites:
    sites: tuple[Site, ...]
    database_url: str | None = None
    source: str = "sites"


def load_sites(path: str | Path) -> Sites:
    """Read a sites file; every mistake is a ConfigError naming the file and the key."""
    path = Path(path)
    shown = str(path)
    return parse_sites(read_toml(path, shown), shown)


def parse_sites(raw: dict[str, Any], shown: str = "sites") -> Sites:
    unknown = set(raw) - {"database_url", "cities"}
    if unknown:
        raise ConfigError(shown, sorted(unknown)[0], "unknown key (expected database_url, cities)")
    cities = raw.get("cities")
    if not isinstance(cities, dict) or not cities:
        raise ConfigError(shown, "cities", "name at least one city: [cities.<slug>]")
    sites: list[Site] = []
    seen_hosts: dict[str, str] = {}
    seen_prefixes: dict[str, str] = {}
    for slug, entry in cities.items():
        where = f"cities.{slug}"
        if not isinstance(entry, dict):
            raise ConfigError(shown, where, "expected a table with hosts and/or prefix")
        extra = set(entry) - {"hosts", "prefix", "folder", "base_url"}
        if extra:
            raise ConfigError(shown, f"{where}.{sorted(extra)[0]}", "unknown key")
        hosts = entry.get("hosts", [])
        if not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts):
            raise ConfigError(shown, f"{where}.hosts", "expected a list of host names")
        prefix = entry.get("prefix")
        if prefix is None and not hosts:
            prefix = f"/{slug}"
        if prefix is not None:
            if not isinstance(prefix, str) or not prefix.startswith("/") or prefix == "/":
                raise ConfigError(shown, f"{where}.prefix", "expected a path such as /kiruna")
            prefix = prefix.rstrip("/")
            if prefix in seen_prefixes:
                raise ConfigError(shown, f"{where}.prefix", f"also used by {seen_prefixes[prefix]}")
            seen_prefixes[prefix] = slug
        for host in hosts:
            key = host.lower()
            if key in seen_hosts:
                raise ConfigError(shown, f"{where}.hosts", f"{host} is also {seen_hosts[key]}'s")
            seen_hosts[key] = slug
        folder = entry.get("folder")
        if folder is not None and not isinstance(folder, str):
            raise ConfigError(shown, f"{where}.folder", "expected a folder path")
        base_url = entry.get("base_url")
        if base_url is not None:
            base_url = checked_base_url(str(base_url), f"{shown}: {where}.base_url")
        sites.append(Site(slug, tuple(h.lower() for h in hosts), prefix, folder, base_url))
    url = raw.get("database_url")
    if url is not None and not isinstance(url, str):
        raise ConfigError(shown, "database_url", "expected a database URL")
    return Sites(tuple(sites), url, shown)


def city_secret(secret: str | bytes, slug: str) -> str:
    """The key a city's sessions are signed with, derived from the install's secret."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, f"innoplat-city:{slug}".encode(), hashlib.sha256).hexdigest()


def base_url_of(site: Site, config: dict[str, Any] | None = None) -> str | None:
    """Where a city's links point: never the request's Host header, always configuration.

    Its ``base_url`` in the sites file; else ``https://`` and its first host name; else the
    install's address (``INNOPLAT_BASE_URL``, or the development server's) and its prefix.
    None leaves the decision to ``create_app`` (an error in production).
    """
    if site.base_url:
        return site.base_url
    if site.hosts:
        return f"https://{site.hosts[0]}"
    root = (config or {}).get(BASE_URL_ENV) or os.environ.get(BASE_URL_ENV)
    if not root and (config or {}).get("TESTING"):
        root = "http://localhost"
    return root.rstrip("/") + (site.prefix or "") if root else None


def city_config(site: Site) -> dict[str, Any]:
    """Per-city cookie names and paths, rate-limit key prefix."""
    path = site.prefix or "/"
    return {
        "SESSION_COOKIE_NAME": f"innoplat_session_{site.slug}",
        "SESSION_COOKIE_PATH": path,
        "REMEMBER_COOKIE_NAME": f"innoplat_remember_{site.slug}",
        "REMEMBER_COOKIE_PATH": path,
        "RATELIMIT_KEY_PREFIX": f"innoplat:{site.slug}",
    }


@dataclass
class CityDispatcher:
    """The WSGI application: by host name first, then by path prefix."""

    apps: dict[str, Any]
    by_host: dict[str, str]
    by_prefix: DispatcherMiddleware
    problems: dict[str, str] = field(default_factory=dict)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        host = Request(environ).host.lower().rsplit(":", 1)[0] if environ.get("HTTP_HOST") else ""
        slug = self.by_host.get(host)
        if slug is not None:
            return self.apps[slug](environ, start_response)
        return self.by_prefix(environ, start_response)


def _unavailable(slug: str) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        return ServiceUnavailable(
            f"The platform of {slug} is not available right now; other cities are not affected."
        )(environ, start_response)

    return app


def _not_found(environ: dict[str, Any], start_response: Any) -> Any:
    return NotFound("No city is served at this address.")(environ, start_response)


def create_sites_app(
    sites: str | Path | Sites,
    database_url: str | None = None,
    config: dict[str, Any] | None = None,
) -> CityDispatcher:
    """Build one app per city of the sites file and dispatch requests among them.

    Usable by gunicorn: ``gunicorn 'innoplat.core.web.sites:create_sites_app("sites.toml")'``.
    A city that cannot start is answered with a 503 page (``problems`` says why); a broken
    sites file or a missing secret key raises :class:`StartupFailed`, as ``create_app`` does.
    """
    from . import MISSING_SECRET_KEY, create_app

    try:
        loaded = sites if isinstance(sites, Sites) else load_sites(sites)
    except InnoplatError as error:
        raise StartupFailed(error) from None
    url = database_url or loaded.database_url or db.default_database_url()
    engine = db.make_engine(url)
    secret = (config or {}).get("SECRET_KEY") or os.environ.get("INNOPLAT_SECRET_KEY")
    if not secret:
        if not (config or {}).get("TESTING"):
            raise StartupFailed(MISSING_SECRET_KEY)  # as create_app: never a key per process
        secret = os.urandom(32)
    apps: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for site in loaded.sites:
        try:
            platform = Platform.open(site.folder or site.slug, engine=engine)
            app: Any = create_app(
                platform=platform,
                config={
                    **(config or {}),
                    **city_config(site),
                    "SECRET_KEY": city_secret(secret, site.slug),
                    BASE_URL_ENV: base_url_of(site, config),
                },
            )
        except Exception as exc:  # one broken city never takes the others down
            problems[site.slug] = str(exc)
            log.error("city %s is not served: %s", site.slug, exc)
            app = _unavailable(site.slug)
        apps[site.slug] = app
    by_host = {host: site.slug for site in loaded.sites for host in site.hosts}
    mounts = {site.prefix: apps[site.slug] for site in loaded.sites if site.prefix}
    return CityDispatcher(apps, by_host, DispatcherMiddleware(_not_found, mounts), problems)


def flask_apps(dispatcher: CityDispatcher) -> dict[str, Flask]:
    """The cities' Flask apps (those that started), by slug."""
    return {slug: app for slug, app in dispatcher.apps.items() if isinstance(app, Flask)}
