"""Fetching a sibling's bundle over HTTP from its ``/api/v1/exchange`` endpoint."""

from __future__ import annotations

from ...errors import InnoplatError, ValidationError

EXCHANGE_PATH = "/api/v1/exchange"


def exchange_url(url: str) -> str:
    """A sibling's address, or its exchange endpoint's: both lead to the endpoint."""
    url = url.strip()
    if not url.startswith(("http://", "https://")):
        raise ValidationError("url", f"{url!r} is not an http:// or https:// address")
    if url.rstrip("/").endswith(EXCHANGE_PATH):
        return url
    return url.rstrip("/") + EXCHANGE_PATH


def fetch_bundle(url: str, *, timeout: float = 60.0) -> tuple[str, bytes]:
    """Download a sibling's bundle from its ``/api/v1/exchange`` endpoint.

    :return: the endpoint's URL and the bundle's bytes (not parsed or checked yet: give
        them to ``import_bundle``).
    """
    import requests

    endpoint = exchange_url(url)
    try:
        response = requests.get(endpoint, timeout=timeout, headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        raise InnoplatError(f"cannot fetch {endpoint}: {exc}") from None
    if response.status_code != 200:
        raise InnoplatError(f"{endpoint} answered HTTP {response.status_code}, not a bundle")
    return endpoint, response.content
