"""Where a sibling publishes its bundle: its ``/api/v1/exchange`` endpoint (peers.py fetches it)."""

from __future__ import annotations

from ...errors import ValidationError

EXCHANGE_PATH = "/api/v1/exchange"


def exchange_url(url: str) -> str:
    """A sibling's address, or its exchange endpoint's: both lead to the endpoint."""
    url = url.strip()
    if not url.startswith(("http://", "https://")):
        raise ValidationError("url", f"{url!r} is not an http:// or https:// address")
    if url.rstrip("/").endswith(EXCHANGE_PATH):
        return url
    return url.rstrip("/") + EXCHANGE_PATH
