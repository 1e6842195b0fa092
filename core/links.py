"""Links that leave the site (in e-mails, open data, API documents): built from the configured address.

Never from the request's Host header: anyone can send ``Host: evil.example``, and a link
mailed out or published must point at the platform, not at whoever asked.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from .errors import ConfigError

BASE_URL_ENV = "INNOPLAT_BASE_URL"
#: Where ``innoplat serve`` and the tests are reached when no address is configured.
DEVELOPMENT_BASE_URL = "http://localhost:5000"


def checked_base_url(value: str, source: str = BASE_URL_ENV) -> str:
    """The address without a trailing slash; ConfigError naming ``source`` if it is not one."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(
            source,
            "",
            f"expected the address citizens open the platform at, such as "
            f"https://innovation.kiruna.se (got {value!r})",
        )
    return value.strip().rstrip("/")


def base_url(
    configured: str | None = None, *, development: bool = False, source: str = BASE_URL_ENV
) -> str:
    """The site's address: the given value, else INNOPLAT_BASE_URL, else (development only) localhost.

    :raises ConfigError: in production when neither is set, with one line saying what to set.
    """
    value = configured or os.environ.get(BASE_URL_ENV)
    if value:
        return checked_base_url(value, source)
    if development:
        return DEVELOPMENT_BASE_URL
    raise ConfigError(
        BASE_URL_ENV,
        "",
        "is not set: set it to the address citizens open the platform at, e.g. "
        "INNOPLAT_BASE_URL=https://innovation.kiruna.se (links in e-mails and open data are built from it)",
    )
