"""Rules every stored record follows, whether it is made here or imported from a sibling.

The exchange importer (exchange/validate.py) and the services that create data (ideas.py,
methods.py) check the same rules, so an instance never holds, and never exports, data its
siblings would refuse: text both databases store alike, and times that are not ahead of the
clock beyond a stated tolerance.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ..errors import ValidationError
from ..models import utcnow

#: How far a time may lie ahead of the clock: clocks of two machines differ a little; an
#: hour ahead is an error (a wrong clock, local time written as UTC), not a skew.
CLOCK_TOLERANCE = timedelta(hours=1)


def check_text(value: str, field: str) -> str:
    """Text both databases store alike: no NUL character, no lone UTF-16 surrogate."""
    if "\x00" in value:
        raise ValidationError(field, "contains a NUL character (\\u0000)")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(field, "contains a lone UTF-16 surrogate: not text") from None
    return value


def time_text(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds") + "Z"


def check_not_future(value: datetime, field: str, *, now: datetime | None = None) -> datetime:
    """A time (naive UTC, as stored) no more than ``CLOCK_TOLERANCE`` ahead of the clock."""
    naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    now = now or utcnow()
    if naive > now + CLOCK_TOLERANCE:
        raise ValidationError(
            field,
            f"{time_text(naive)} lies in the future (the clock says {time_text(now)}; "
            f"tolerance {CLOCK_TOLERANCE.total_seconds() / 3600:g} hour)",
        )
    return value


def timestamp(value: datetime | None) -> str | None:
    """A time as the API, the CLI and open data show it: UTC, ISO 8601 to the second, ``Z``.

    Stored times are naive UTC; an aware time is converted. Exchange bundles keep
    microseconds (:func:`time_text`) so that a round trip loses nothing.
    """
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"
