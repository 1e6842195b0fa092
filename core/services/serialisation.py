"""Records as JSON-ready values: the one timestamp format, and ideas in each of their shapes.

Every time the platform writes — in the API, the CLI, open data, a person's data export and
an exchange bundle — is UTC in ISO 8601 with a ``Z``: :func:`timestamp`. Stored times are
naive UTC; an aware time is converted first. Exchange bundles keep microseconds
(``exact=True``) so that a round trip loses nothing; everything else shows whole seconds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import overload


@overload
def timestamp(value: datetime, *, exact: bool = False) -> str: ...
@overload
def timestamp(value: None, *, exact: bool = False) -> None: ...
@overload
def timestamp(value: datetime | None, *, exact: bool = False) -> str | None: ...
def timestamp(value: datetime | None, *, exact: bool = False) -> str | None:
    """A time as the platform writes it: UTC, ISO 8601 to the second (``exact``: the
    microsecond), ``Z``; None stays None."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds" if exact else "seconds") + "Z"


def day(value: date | None) -> str | None:
    """A date as ISO 8601 (``2026-03-01``); None stays None."""
    return value.isoformat() if value else None
