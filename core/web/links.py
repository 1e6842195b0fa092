"""Absolute URLs of the site's pages, from INNOPLAT_BASE_URL and never from the request's Host."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app

from .. import links

CONFIG_KEY = "INNOPLAT_BASE_URL"
#: Flask's test client talks to this server: links in tests open with it.
TESTING_BASE_URL = "http://localhost"


def init_app(app: Flask) -> None:
    """Check the configured address when the app is built: a missing one stops production at once."""
    configured = app.config.get(CONFIG_KEY)
    if not configured and app.testing:
        configured = TESTING_BASE_URL
    development = bool(app.debug or app.config.get("INNOPLAT_DEVELOPMENT"))
    app.config[CONFIG_KEY] = links.base_url(configured, development=development)


def external_url(endpoint: str, **values: Any) -> str:
    """``url_for(endpoint, _external=True)``, but on the configured address."""
    base = urlsplit(current_app.config[CONFIG_KEY])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def base_url() -> str:
    return str(current_app.config[CONFIG_KEY])
