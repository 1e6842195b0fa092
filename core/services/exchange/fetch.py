"""Where a sibling publishes its bundle: its ``/api/v1/exchange`` endpoint (peers.py fetches it),
and how a partial bundle is asked for (``?since=``) and offered (the ``Innoplat-Changes`` header)."""

from __future__ import annotations

from datetime import UTC, datetime

from ...errors import ValidationError
from ..serialisation import timestamp

EXCHANGE_PATH = "/api/v1/exchange"
#: The response header by which a publisher says it serves partial bundles (``?since=``).
CHANGES_HEADER = "Innoplat-Changes"
CHANGES_OFFERED = "since"


def exchange_url(url: str) -> str:
    """A sibling's address, or its exchange endpoint's: both lead to the endpoint."""
    url = url.strip()
    if not url.startswith(("http://", "https://")):
        raise ValidationError("url", f"{url!r} is not an http:// or https:// address")
    if url.rstrip("/").endswith(EXCHANGE_PATH):
        return url
    return url.rstrip("/") + EXCHANGE_PATH


def parse_since(text: str, field: str = "since") -> datetime:
    """A moment given as ISO 8601 (``2026-01-31T12:00:00Z``; an offset is converted to UTC,
    none means UTC), as the naive UTC datetime the database stores."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(
            field, f"{text!r} is not a UTC time such as 2026-01-31T12:00:00Z"
        ) from None
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first year
            raise ValidationError(field, f"{text!r} is out of range") from None
    return moment


def since_text(moment: datetime) -> str:
    """A moment as the ``since`` parameter carries it (UTC, microseconds, ``Z``)."""
    return timestamp(moment, exact=True)
